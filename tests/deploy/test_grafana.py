"""Grafana provisioning (deploy/grafana/): every ClickHouse panel's SQL, with the plugin's macros expanded
as grafana-clickhouse-datasource expands them, runs as the read-only BI user ``bi`` against the real engine
(the development endpoint over chdb, after ``migrate``, with rows); every Prometheus panel names metrics
the code defines."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import clickhouse_connect
import pytest
import yaml

from schemas.access import BI_OBJECTS
from schemas.migrate import migrate
from tests.devch.helpers import Endpoint

REPO = Path(__file__).resolve().parents[2]
GRAFANA = REPO / "deploy" / "grafana"
CLICKHOUSE_UID, PROMETHEUS_UID = "adpulse-clickhouse", "adpulse-prometheus"
NOW = datetime.now(UTC).replace(microsecond=0)
RANGE = (NOW - timedelta(days=2), NOW + timedelta(minutes=10))
INTERVAL_S = 300


def _dt(t: datetime) -> str:
    return f"toDateTime({int(t.timestamp())})"


def _dt64(t: datetime) -> str:
    return f"fromUnixTimestamp64Milli({int(t.timestamp() * 1000)})"


def _date(t: datetime) -> str:
    return f"toDate('{t.date().isoformat()}')"


def expand(sql: str, start: datetime, end: datetime, interval_s: int, database: str = "adpulse") -> str:
    """The plugin's macros (pkg/macros/macros.go of grafana-clickhouse-datasource v4) and the dashboards'
    constant variable ``database``."""

    def one(match: re.Match[str]) -> str:
        name, arg = match.group(1), (match.group(2) or "").strip()
        simple = {
            "fromTime": _dt(start), "toTime": _dt(end), "fromTime_ms": _dt64(start), "toTime_ms": _dt64(end),
            "interval_s": str(max(interval_s, 1)),
        }  # fmt: skip
        if name in simple:
            return simple[name]
        if name == "timeFilter":
            return f"{arg} >= {_dt(start)} AND {arg} <= {_dt(end)}"
        if name == "timeFilter_ms":
            return f"{arg} >= {_dt64(start)} AND {arg} <= {_dt64(end)}"
        if name == "dateFilter":
            return f"{arg} >= {_date(start)} AND {arg} <= {_date(end)}"
        if name == "timeInterval":
            return f"toStartOfInterval(toDateTime({arg}), INTERVAL {max(interval_s, 1)} second)"
        if name == "timeInterval_ms":
            return f"toStartOfInterval(toDateTime64({arg}, 3), INTERVAL {max(interval_s, 1) * 1000} millisecond)"
        raise AssertionError(f"macro $__{name} is not expanded by this test")

    sql = sql.replace("${database}", database).replace("$database", database)
    sql = re.sub(r"\$__(\w+)(?:\(([^()]*)\))?", one, sql)
    assert "$" not in sql, sql
    return sql


def dashboards() -> dict[str, Any]:
    return {p.name: json.loads(p.read_text()) for p in sorted((GRAFANA / "dashboards").glob("*.json"))}


def panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for panel in board["panels"]:
        found += [panel, *panel.get("panels", [])]
    return [p for p in found if p["type"] != "row"]


def targets(uid: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{name}: {panel['title']}", target)
        for name, board in dashboards().items()
        for panel in panels(board)
        for target in panel["targets"]
        if target["datasource"]["uid"] == uid
    ]


def test_provisioning_names_the_fixed_uids_and_the_bi_user():
    (clickhouse, prometheus) = yaml.safe_load((GRAFANA / "provisioning/datasources/adpulse.yaml").read_text())[
        "datasources"
    ]
    assert (clickhouse["uid"], clickhouse["type"]) == (CLICKHOUSE_UID, "grafana-clickhouse-datasource")
    assert clickhouse["jsonData"]["username"] == "bi" and clickhouse["jsonData"]["protocol"] == "http"
    assert (prometheus["uid"], prometheus["type"]) == (PROMETHEUS_UID, "prometheus")
    (provider,) = yaml.safe_load((GRAFANA / "provisioning/dashboards/adpulse.yaml").read_text())["providers"]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
    used = {t["datasource"]["uid"] for board in dashboards().values() for p in panels(board) for t in p["targets"]}
    assert used == {CLICKHOUSE_UID, PROMETHEUS_UID}
    ids = [[p["id"] for p in board["panels"]] for board in dashboards().values()]
    assert all(len(i) == len(set(i)) for i in ids)
    assert {board["uid"] for board in dashboards().values()} == {"adpulse-kpis", "adpulse-operations"}


def test_panels_read_only_what_the_bi_role_may_read():
    for title, target in targets(CLICKHOUSE_UID):
        tables = set(re.findall(r"\$\{database\}\.(\w+)", target["rawSql"]))
        assert tables and tables <= set(BI_OBJECTS), (title, tables)


def test_macro_expansion_matches_the_plugin():
    start, end = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), datetime(2026, 1, 3, tzinfo=UTC)
    sql = "SELECT $__timeInterval(t) FROM ${database}.x WHERE $__timeFilter(t) AND d >= $__fromTime_ms"
    assert expand(sql, start, end, 60) == (
        "SELECT toStartOfInterval(toDateTime(t), INTERVAL 60 second) FROM adpulse.x "
        "WHERE t >= toDateTime(1767323045) AND t <= toDateTime(1767398400) "
        "AND d >= fromUnixTimestamp64Milli(1767323045000)"
    )


@pytest.fixture(scope="module")
def bi(tmp_path_factory):
    endpoint = Endpoint(tmp_path_factory.mktemp("grafana") / "ch", "--readonly-user", "bi")
    admin = clickhouse_connect.get_client(dsn=endpoint.dsn(), autogenerate_session_id=False)
    try:
        migrate(admin, "adpulse")
        cols = ["event_id", "event_type", "received_at", "occurred_at", "ad_id", "campaign_id", "source"]
        cols += ["impressions", "clicks", "conversions", "cost", "revenue"]

        def row(kind, at, ad, campaign, source, imp, clk, conv, cost, revenue):
            return [uuid.uuid4(), kind, at, at, ad, campaign, source, imp, clk, conv, Decimal(cost), Decimal(revenue)]

        hour_ago, yesterday = NOW - timedelta(hours=1), NOW - timedelta(days=1)
        rows = [row("impression", hour_ago, "ad-1", "spring", "google", 1, 0, 0, "0.01", "0") for _ in range(50)]
        rows += [row("click", hour_ago, "ad-1", "spring", "google", 0, 1, 0, "0.50", "0") for _ in range(10)]
        rows += [row("conversion", hour_ago, "ad-1", "spring", "google", 0, 0, 1, "0", "12.00") for _ in range(2)]
        rows += [row("click", yesterday, "ad-2", "autumn", "facebook", 0, 1, 0, "1.00", "0") for _ in range(4)]
        rows += [row("conversion", yesterday, "ad-2", "autumn", "facebook", 0, 0, 1, "0", "1.00")]
        rows += [row("click", NOW - timedelta(days=5), "ad-3", "old", "bing", 0, 1, 0, "9", "0")]  # out of range
        admin.insert("adpulse.events", rows, column_names=cols)
        client = clickhouse_connect.get_client(dsn=endpoint.dsn("adpulse", "bi"), autogenerate_session_id=False)
        yield client
        client.close()
    finally:
        admin.close()
        endpoint.stop()


def run(client: Any, sql: str) -> list[dict[str, Any]]:
    result = client.query(expand(sql, *RANGE, INTERVAL_S))
    return [dict(zip(result.column_names, r, strict=True)) for r in result.result_rows]


def has_bot_columns(client: Any) -> bool:
    names = client.query("SELECT name FROM system.columns WHERE database = 'adpulse' AND table = 'kpi_facts'")
    return "bot_clicks" in {r[0] for r in names.result_rows}


@pytest.mark.parametrize(("title", "target"), targets(CLICKHOUSE_UID), ids=lambda v: v if isinstance(v, str) else "")
def test_every_clickhouse_panel_runs_as_the_bi_user(bi, title, target):
    if "bot_clicks" in target["rawSql"]:
        assert has_bot_columns(bi), "issue 11's bot_clicks is a column of kpi_facts (migration 0006)"
    rows = run(bi, target["rawSql"])
    assert rows, f"{title}: no rows over data in its time range"
    if target["format"] == 0:
        assert "time" in rows[0], f"{title}: a time series needs a time column"
        assert all(RANGE[0] - timedelta(seconds=INTERVAL_S) <= r["time"].replace(tzinfo=UTC) <= RANGE[1] for r in rows)


def test_kpi_panels_agree_with_the_kpi_views(bi):
    """Grafana recomputes ratios from sums over its time range; over the same data they equal the views'."""
    (top,) = [t for title, t in targets(CLICKHOUSE_UID) if title.endswith("Top ads by ROI")]
    shown = {r["ad_id"]: r for r in run(bi, top["rawSql"])}
    assert list(shown) == ["ad-1", "ad-2"]  # ad-3 is out of the time range
    result = bi.query(
        "SELECT ad_id, clicks, conversions, cost, revenue, roi FROM adpulse.ad_kpis WHERE ad_id != 'ad-3'"
    )
    for ad_id, clicks, conversions, cost, revenue, roi in result.result_rows:
        panel = shown[ad_id]
        assert (panel["clicks"], panel["conversions"], panel["cost"], panel["revenue"]) == (
            clicks, conversions, cost, revenue)  # fmt: skip
        assert panel["roi"] == pytest.approx(float(roi), rel=1e-6)
    (total_clicks,) = [t for title, t in targets(CLICKHOUSE_UID) if title.endswith(": Clicks")]
    assert run(bi, total_clicks["rawSql"]) == [{"value": 14}]
    (volume,) = [t for title, t in targets(CLICKHOUSE_UID) if title.endswith("Ingestion volume by event type")]
    counts: dict[str, int] = {}
    for r in run(bi, volume["rawSql"]):
        counts[r["event_type"]] = counts.get(r["event_type"], 0) + r["events"]
    assert counts == {"impression": 50, "click": 14, "conversion": 3}


METRIC_DEFINITION = re.compile(r"\b(Counter|Gauge|Histogram|Summary)\(\s*\"(adpulse_\w+)\"")
# Defined on another branch that lands separately: allowed missing only while its module does not exist.
ELSEWHERE = {"adpulse_deliver": REPO / "deliver" / "metrics.py"}


def defined_metrics() -> set[str]:
    names: set[str] = set()
    for path in REPO.glob("**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts:
            continue
        for kind, name in METRIC_DEFINITION.findall(path.read_text(errors="replace")):
            base = name.removesuffix("_total")
            if kind == "Counter":
                names |= {base + "_total"}
            elif kind in ("Histogram", "Summary"):
                names |= {name, f"{name}_bucket", f"{name}_sum", f"{name}_count"}
            else:
                names.add(name)
    return names


def test_every_prometheus_metric_a_panel_uses_is_defined_in_the_code():
    defined = defined_metrics()
    assert "adpulse_aggregator_insert_seconds_bucket" in defined and "adpulse_events_published_total" in defined
    used = {name for _, t in targets(PROMETHEUS_UID) for name in re.findall(r"\badpulse_\w+", t["expr"])}
    missing = set()
    for name in used - defined:
        module = next((path for prefix, path in ELSEWHERE.items() if name.startswith(prefix)), None)
        if module is None or module.exists():
            missing.add(name)
    assert not missing, f"panels use metrics no code defines: {sorted(missing)}"
    assert len(used) >= 15
