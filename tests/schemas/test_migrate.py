"""Migrations and KPI views on the real embedded ClickHouse engine (in this process)."""

from decimal import Decimal

import clickhouse_connect
import pytest

from schemas.migrate import discover, migrate


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    path = tmp_path_factory.mktemp("chdb")
    client = clickhouse_connect.get_client(dsn=f"chdb://{path}")
    yield client
    client.close()


def test_migrations_are_numbered_uniquely():
    versions = [m.version for m in discover()]
    assert versions == sorted(set(versions)) and versions[0] == 1


def test_migrate_is_idempotent_and_recorded(client):
    first = migrate(client, "kpitest")
    assert [m.version for m in first] == [m.version for m in discover()]
    assert migrate(client, "kpitest") == []
    recorded = client.query("SELECT version FROM kpitest.schema_migrations FINAL ORDER BY version").result_rows
    assert [r[0] for r in recorded] == [m.version for m in discover()]


def _insert(client, rows):
    cols = ["event_id", "event_type", "received_at", "ad_id", "campaign_id", "source"]
    cols += ["impressions", "clicks", "conversions", "cost", "revenue"]
    client.insert("kpitest.events", rows, column_names=cols)


def test_ad_kpis_sums_then_divides_and_nulls_zero_denominators(client):
    import uuid
    from datetime import UTC, datetime

    now = datetime(2026, 1, 1, tzinfo=UTC)

    def row(kind, ad, imp, clk, conv, cost, rev):
        return [str(uuid.uuid4()), kind, now, ad, "c", "g", imp, clk, conv, Decimal(cost), Decimal(rev)]

    rows = [row("impression", "A", 1, 0, 0, "0.010", "0") for _ in range(200)]
    rows += [row("click", "A", 0, 1, 0, "0.50", "0") for _ in range(4)]
    rows += [row("conversion", "A", 0, 0, 1, "0", "30.00")]
    rows += [row("impression", "B", 1, 0, 0, "0", "0")]
    _insert(client, rows)
    result = client.query("SELECT * FROM kpitest.ad_kpis ORDER BY ad_id")
    a, b = (dict(zip(result.column_names, r, strict=True)) for r in result.result_rows)
    assert (a["impressions"], a["clicks"], a["conversions"]) == (200, 4, 1)
    assert (a["cost"], a["revenue"]) == (Decimal("4.000000"), Decimal("30.000000"))
    assert a["ctr"] == pytest.approx(0.02)
    assert a["cr"] == pytest.approx(0.25)
    assert (a["cpc"], a["cpm"], a["cpa"], a["epc"]) == (Decimal("1"), Decimal("20"), Decimal("4"), Decimal("7.5"))
    assert (a["roas"], a["roi"]) == (Decimal("7.5"), Decimal("6.5"))
    # B: no clicks, no cost -> every ratio over them is NULL, not 0 and not an error.
    assert (b["ctr"], b["cpc"], b["cr"], b["cpa"], b["roas"], b["roi"]) == (0.0, None, None, None, None, None)
    assert b["cpm"] == Decimal(0)


def test_0002_upgrades_a_database_holding_data_in_place(client):
    """A database at migration 0001 with rows in it: 0002 keeps every row, and clicks and conversions
    written afterwards carry the sub-ids and external_id through the re-created views."""
    import uuid
    from datetime import UTC, datetime

    assert [m.version for m in migrate(client, "upg", upto=1)] == [1]  # as the previous release left it
    now = datetime(2026, 1, 1, tzinfo=UTC)
    cols = ["event_id", "event_type", "received_at", "ad_id", "campaign_id", "source", "click_id", "clicks"]
    client.insert("upg.events", [[str(uuid.uuid4()), "click", now, "A", "c1", "src", "clk-old", 1]], column_names=cols)
    applied = migrate(client, "upg")
    assert [m.version for m in applied] == [m.version for m in discover() if m.version > 1]
    client.insert(
        "upg.events",
        [[str(uuid.uuid4()), "click", now, "A", "c1", "src", "clk-new", 1, "zone7", "site9", "ext-1", "v1"]],
        column_names=[*cols, "sub1", "sub5", "external_id", "visitor_id"],
    )
    rows = client.query("SELECT click_id, sub1, sub5, external_id FROM upg.clicks FINAL ORDER BY click_id")
    assert rows.result_rows == [("clk-new", "zone7", "site9", "ext-1"), ("clk-old", "", "", "")]
    assert client.query("SELECT count() FROM upg.events").result_rows == [(2,)]
    assert client.query("SELECT sum(clicks) FROM upg.ad_kpis").result_rows == [(2,)]
