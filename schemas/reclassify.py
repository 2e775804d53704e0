"""``adpulse reclassify --from DATE --to DATE``: re-apply the current bot rules to past traffic and rebuild
the KPI rollups of those UTC days from ``events``, so every KPI is exact under the new rules (issue 11).

1. ``events.bot_reason`` of every browser event received in the range is recomputed by ``ingest.bots.sql``
   (the rules the pixel-hit parse uses, tested equal to the Python the aggregator uses) from the raw
   inputs kept on the row (user agent, truncated IP); a ``velocity`` tag stays when no rule matches (the
   count of a minute is not re-run). Conversions are never classified.
2. ``kpi_rollup`` (and through its view ``kpi_rollup_ads``) and ``kpi_visitors`` lose their rows of those
   days and are rebuilt from ``events`` with the rollup views' own SELECTs (``schemas.traffic``): the
   15-minute buckets and the UTC days of the range hold only events received in it.

Run it with the aggregators stopped, as a migration: rows written while the days are rebuilt could be
counted twice or not at all. Every value from the command line is a bound parameter.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from ingest import bots
from schemas import traffic

# Event types that are never classified (server-side conversions and the aggregator's attribution moves).
UNCLASSIFIED = ("conversion", "attribution")
_SYNC = {"mutations_sync": 2}


def bounds(start: date, end: date) -> dict[str, Any]:
    """The range's parameters: [start 00:00 UTC, the day after end 00:00 UTC)."""
    if end < start:
        raise ValueError("--to is before --from")
    return {
        "t_from": datetime.combine(start, time(0), tzinfo=UTC).replace(tzinfo=None),
        "t_to": datetime.combine(end + timedelta(days=1), time(0), tzinfo=UTC).replace(tzinfo=None),
        "d_from": start,
        "d_to": end,
    }


_EVENTS = "received_at >= {t_from:DateTime('UTC')} AND received_at < {t_to:DateTime('UTC')}"
_BUCKETS = "bucket >= {t_from:DateTime('UTC')} AND bucket < {t_to:DateTime('UTC')}"
_DAYS = "utc_day >= {d_from:Date} AND utc_day <= {d_to:Date}"


def statements(db: str, lists: bots.OperatorLists) -> list[str]:
    """The statements, in order (parameters from :func:`bounds`)."""
    rules = bots.sql(lists, "substringUTF8(user_agent, 1, 512)", "client_ip", "asn")
    kept = ", ".join(f"'{t}'" for t in UNCLASSIFIED)
    new_reason = f"if(({rules}) = '' AND bot_reason = '{bots.VELOCITY}', '{bots.VELOCITY}', {rules})"
    return [
        f"ALTER TABLE {db}.events UPDATE bot_reason = {new_reason} WHERE {_EVENTS} AND event_type NOT IN ({kept})",
        f"ALTER TABLE {db}.kpi_rollup DELETE WHERE {_BUCKETS}",
        f"ALTER TABLE {db}.kpi_rollup_ads DELETE WHERE {_BUCKETS}",
        f"ALTER TABLE {db}.kpi_visitors DELETE WHERE {_DAYS}",
        # kpi_rollup_ads is fed by its view from these inserts into kpi_rollup.
        f"INSERT INTO {db}.kpi_rollup {traffic.rollup_cost_side(db, _EVENTS, traffic.ALL_DIMS)}",
        f"INSERT INTO {db}.kpi_rollup {traffic.rollup_revenue_side(db, _EVENTS, traffic.ALL_DIMS)}",
        f"INSERT INTO {db}.kpi_visitors {traffic.visitors(db, _EVENTS, traffic.ALL_DIMS)}",
    ]


def changed(client: Any, db: str, lists: bots.OperatorLists, start: date, end: date) -> dict[str, int]:
    """How many browser events of the range would change reason, per new reason (a dry run)."""
    rules = bots.sql(lists, "substringUTF8(user_agent, 1, 512)", "client_ip", "asn")
    kept = ", ".join(f"'{t}'" for t in UNCLASSIFIED)
    sql = (
        f"SELECT r, count() FROM (SELECT bot_reason, if(({rules}) = '' AND bot_reason = '{bots.VELOCITY}', "
        f"'{bots.VELOCITY}', {rules}) AS r FROM {db}.events WHERE {_EVENTS} AND event_type NOT IN ({kept})) "
        "WHERE r != bot_reason GROUP BY r ORDER BY r"
    )
    result = client.query(sql, parameters=bounds(start, end))
    return {str(reason): int(n) for reason, n in result.result_rows}


def run(client: Any, db: str, lists: bots.OperatorLists, start: date, end: date) -> dict[str, int]:
    """Reclassify and rebuild; returns what changed (new reason -> events)."""
    parameters = bounds(start, end)
    moved = changed(client, db, lists, start, end)
    for statement in statements(db, lists):
        client.command(statement, parameters=parameters, settings=_SYNC)
    return moved
