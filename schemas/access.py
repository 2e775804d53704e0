"""Who may read what in ClickHouse. BI tools get a read-only role on the KPI views and the anonymised
events, nothing else. ``bi_grants`` is the DDL for a ClickHouse server (``adpulse bi-grants``); the
development endpoint enforces the same list for its read-only user (``--readonly-user``)."""

from __future__ import annotations

BI_OBJECTS = (
    "ad_kpis", "campaign_kpis", "source_kpis", "ad_kpis_hourly", "ad_kpis_daily", "kpi_facts",
    "events_anonymised", "cost_imports", "kpi_sub_ids_daily", "fx_rates",
)  # fmt: skip
# Catalog tables BI tools read to list databases, tables and columns.
CATALOG = ("system.one", "system.databases", "system.tables", "system.columns", "system.functions", "system.settings")


def bi_tables(db: str) -> frozenset[str]:
    return frozenset({f"{db}.{name}" for name in BI_OBJECTS} | set(CATALOG))


def bi_grants(db: str, role: str = "adpulse_bi", user: str = "bi") -> list[str]:
    """DDL for a ClickHouse server (run as an administrator; set the password yourself)."""
    statements = [f"CREATE ROLE IF NOT EXISTS {role}"]
    statements += [f"GRANT SELECT ON {db}.{name} TO {role}" for name in BI_OBJECTS]
    statements += [
        f"CREATE USER IF NOT EXISTS {user} IDENTIFIED WITH sha256_password BY 'CHANGE-ME' "
        f"DEFAULT ROLE {role} SETTINGS readonly = 1",
        f"GRANT {role} TO {user}",
    ]
    return statements
