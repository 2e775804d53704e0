"""Apply the numbered migrations in ``schemas/migrations`` and record each in ``<db>.schema_migrations``.

Idempotent: an applied migration is skipped; every statement is itself ``IF NOT EXISTS``/``OR REPLACE``
so a migration interrupted half-way is safely re-run.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from schemas import migrations

log = logging.getLogger(__name__)
_MODULE = re.compile(r"^m(\d{4})_(\w+)$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: Callable[[str], list[str]]


def discover() -> list[Migration]:
    found: list[Migration] = []
    for info in pkgutil.iter_modules(migrations.__path__):
        match = _MODULE.match(info.name)
        if not match:
            continue
        module = importlib.import_module(f"{migrations.__name__}.{info.name}")
        found.append(Migration(int(match.group(1)), match.group(2), module.statements))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"duplicate migration numbers: {versions}")
    return found


def applied_versions(client: Any, db: str) -> set[int]:
    result = client.query(f"SELECT version FROM {db}.schema_migrations FINAL")  # noqa: S608 - db from config
    return {int(row[0]) for row in result.result_rows}


def migrate(client: Any, db: str) -> list[Migration]:
    """Bring ``db`` up to date through ``client`` (connected to any database). Returns what was applied."""
    client.command(f"CREATE DATABASE IF NOT EXISTS {db}")
    client.command(
        f"""CREATE TABLE IF NOT EXISTS {db}.schema_migrations (
            version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
        ) ENGINE = ReplacingMergeTree ORDER BY version"""
    )
    done = applied_versions(client, db)
    applied: list[Migration] = []
    for migration in discover():
        if migration.version in done:
            continue
        log.info("applying migration %04d_%s", migration.version, migration.name)
        for statement in migration.statements(db):
            client.command(statement)
        client.insert(
            f"{db}.schema_migrations", [[migration.version, migration.name]], column_names=["version", "name"]
        )
        applied.append(migration)
    return applied
