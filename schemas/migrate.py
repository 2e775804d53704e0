"""Apply the numbered migrations in ``schemas/migrations`` and record each in ``<db>.schema_migrations``.

Idempotent: an applied migration is skipped; every statement is itself ``IF NOT EXISTS``/``OR REPLACE``
so a migration interrupted half-way is safely re-run. Retention options (TTLs) are re-applied on every
run. A migration's ``every_run`` statements (views baking in settings such as the reporting currency or
the bot lists) are re-applied when they differ from the ones last applied (their fingerprint is kept in
``<db>.schema_every_run``), so changing those settings needs no new migration, and a ``migrate`` that
changes nothing runs no DDL on the views: 0006's ``every_run`` drops and re-creates the pixel-hit views,
and a hit batch inserted into the ``Null`` table ``hits_in`` while they are missing is acknowledged and
stored nowhere (found by ``make chaos``, whose restarts run ``migrate`` while an aggregator writes).
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from schemas import migrations
from schemas.options import SchemaOptions

log = logging.getLogger(__name__)
# One statement in, the statements that run instead out (the cluster rewrite); default: itself.
Rewrite = Callable[[str], list[str]]
_MODULE = re.compile(r"^m(\d{4})_(\w+)$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: Callable[[str, SchemaOptions], list[str]]
    # Statements re-applied on every run once the migration is in (views that bake in settings).
    every_run: Callable[[str, SchemaOptions], list[str]] | None = None


def discover() -> list[Migration]:
    found: list[Migration] = []
    for info in pkgutil.iter_modules(migrations.__path__):
        match = _MODULE.match(info.name)
        if not match:
            continue
        module = importlib.import_module(f"{migrations.__name__}.{info.name}")
        found.append(
            Migration(int(match.group(1)), match.group(2), module.statements, getattr(module, "every_run", None))
        )
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"duplicate migration numbers: {versions}")
    return found


def applied_versions(client: Any, db: str) -> set[int]:
    result = client.query(f"SELECT version FROM {db}.schema_migrations FINAL")  # noqa: S608 - db from config
    return {int(row[0]) for row in result.result_rows}


def every_run_fingerprints(client: Any, db: str) -> dict[int, str]:
    """Per migration version, the fingerprint of the ``every_run`` statements last applied."""
    sql = f"SELECT version, argMax(fingerprint, applied_at) FROM {db}.schema_every_run GROUP BY version"  # noqa: S608
    return {int(row[0]): str(row[1]) for row in client.query(sql).result_rows}


def fingerprint(statements: list[str]) -> str:
    return hashlib.sha256("\n;\n".join(statements).encode()).hexdigest()


def ttl_statements(db: str, options: SchemaOptions) -> list[str]:
    events_ttl = f"toDateTime(received_at) + INTERVAL {options.events_ttl_days} DAY"
    dedup_ttl = (
        f"toDateTime(received_at) + INTERVAL {options.dedup_window_days} DAY "
        "WHERE event_type IN ('impression', 'click', 'page_view')"
    )
    return [
        f"ALTER TABLE {db}.events MODIFY TTL {events_ttl}",
        f"ALTER TABLE {db}.clicks MODIFY TTL {events_ttl}",
        f"ALTER TABLE {db}.event_ids MODIFY TTL {dedup_ttl}",
    ]


def bootstrap_statements(db: str) -> list[str]:
    """The database and the table that records applied migrations."""
    return [
        f"CREATE DATABASE IF NOT EXISTS {db}",
        f"""CREATE TABLE IF NOT EXISTS {db}.schema_migrations (
            version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
        ) ENGINE = ReplacingMergeTree ORDER BY version""",
        f"""CREATE TABLE IF NOT EXISTS {db}.schema_every_run (
            version UInt32, fingerprint String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
        ) ENGINE = ReplacingMergeTree(applied_at) ORDER BY version""",
    ]


def all_statements(db: str, options: SchemaOptions) -> list[str]:
    """Every statement a migration from scratch runs, in order (what a cluster rewrite must place)."""
    statements = bootstrap_statements(db)
    for migration in discover():
        statements += migration.statements(db, options)
    return statements + ttl_statements(db, options)


def plan(db: str, options: SchemaOptions, rewrite: Rewrite | None = None) -> list[tuple[str, list[str]]]:
    """What ``migrate`` runs on an empty database, labelled by step (``adpulse migrate --dry-run``)."""
    rewrite = rewrite or _verbatim
    steps = [("bootstrap", bootstrap_statements(db))]
    steps += [(f"{m.version:04d}_{m.name}", m.statements(db, options)) for m in discover()]
    steps.append(("retention (every run)", ttl_statements(db, options)))
    return [(label, [out for s in statements for out in rewrite(s)]) for label, statements in steps]


def _run(client: Any, statements: list[str]) -> None:
    for sql in statements:
        client.command(sql)


def _verbatim(statement: str) -> list[str]:
    return [statement]


def migrate(
    client: Any,
    db: str,
    options: SchemaOptions | None = None,
    *,
    upto: int | None = None,
    rewrite: Rewrite | None = None,
) -> list[Migration]:
    """Bring ``db`` up to date (or up to version ``upto``) through ``client`` (connected to any database).
    ``rewrite`` turns each statement into the statements that run instead (``schemas.cluster``); without
    it every statement runs exactly as its migration wrote it. Returns what was applied."""
    options = options or SchemaOptions()
    rewrite = rewrite or _verbatim
    for statement in bootstrap_statements(db):
        for sql in rewrite(statement):
            client.command(sql)
    done = applied_versions(client, db)
    applied: list[Migration] = []
    for migration in discover():
        if migration.version in done or (upto is not None and migration.version > upto):
            continue
        log.info("applying migration %04d_%s", migration.version, migration.name)
        for statement in migration.statements(db, options):
            for sql in rewrite(statement):
                client.command(sql)
        client.insert(
            f"{db}.schema_migrations", [[migration.version, migration.name]], column_names=["version", "name"]
        )
        applied.append(migration)
    for statement in ttl_statements(db, options):
        for sql in rewrite(statement):
            client.command(sql)
    done |= {m.version for m in applied}
    last = every_run_fingerprints(client, db)
    ran: dict[int, str] = {}  # version -> fingerprint of the every_run statements applied by this call
    rerun = False  # whether an older migration's every_run ran again below
    for migration in discover():
        if migration.version not in done or migration.every_run is None:
            continue
        statements = [sql for statement in migration.every_run(db, options) for sql in rewrite(statement)]
        current = fingerprint(statements)
        # After an older one's every_run ran again, the newer ones run again too (0003's KPI views over
        # 0006's, which add the bot measures: the newest definition goes last).
        if migration in applied:  # its every_run ran among its statements just now
            if rerun:
                _run(client, statements)
        elif rerun or last.get(migration.version) != current:
            log.info("re-applying the every_run statements of migration %04d_%s", migration.version, migration.name)
            _run(client, statements)
            rerun = True
        else:
            continue
        ran[migration.version] = current
    if ran:
        client.insert(
            f"{db}.schema_every_run", [[v, f] for v, f in ran.items()], column_names=["version", "fingerprint"]
        )
    return applied
