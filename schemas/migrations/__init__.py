"""Numbered ClickHouse migrations. Each module ``mNNNN_<name>.py`` exposes ``statements(db) -> list[str]``.

Migrations are append-only: a shipped migration is never edited; a change is a new number.
"""
