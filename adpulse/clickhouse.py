"""One way to reach ClickHouse, whatever the URL: a server over HTTP(S) or the embedded engine.

``http(s)://user:pass@host:port/db`` talks to a ClickHouse server (or the local stack's development
endpoint); ``chdb:///data/dir`` runs the engine inside this process (one process per directory).
Both return a clickhouse-connect client with the same API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import clickhouse_connect

DEFAULT_DATABASE = "adpulse"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


@dataclass(frozen=True)
class ClickHouseTarget:
    url: str
    database: str

    @property
    def embedded(self) -> bool:
        return self.url.startswith("chdb:")


def parse_target(url: str) -> ClickHouseTarget:
    parts = urlsplit(url)
    if parts.scheme == "chdb":
        database = parse_qs(parts.query).get("database", [DEFAULT_DATABASE])[0]
    else:
        database = unquote(parts.path.strip("/")) or DEFAULT_DATABASE
    if not _IDENTIFIER.match(database):
        raise ValueError(f"ClickHouse database name must be an identifier, got {database!r}")
    return ClickHouseTarget(url=url, database=database)


def connect(target: ClickHouseTarget, *, database: str | None = None, **kwargs: Any) -> Any:
    """A clickhouse-connect client for ``target``; ``database`` overrides the URL's (e.g. ``default``)."""
    db = database or target.database
    if target.embedded:
        path = urlsplit(target.url).path
        return clickhouse_connect.get_client(dsn=f"chdb://{path}", database=db, **kwargs)
    parts = urlsplit(target.url)
    return clickhouse_connect.get_client(
        interface=parts.scheme,
        host=parts.hostname,
        port=parts.port or (8443 if parts.scheme == "https" else 8123),
        username=unquote(parts.username or "default"),
        password=unquote(parts.password or ""),
        database=db,
        compress=kwargs.pop("compress", False),
        autogenerate_session_id=False,  # no server-side sessions: clients are shared across threads
        **kwargs,
    )
