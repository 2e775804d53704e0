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


def test_0003_upgrades_a_database_holding_data_at_0002_in_place(client):
    """Events, a click, a conversion and an imported cost at 0002: after 0003 every KPI is still there (the
    rollup back-filled from events), conversions inherit sub-ids through the re-created views, and money
    in other currencies waits for its rate."""
    import uuid
    from datetime import UTC, datetime

    assert [m.version for m in migrate(client, "upg3", upto=2)] == [1, 2]
    now = datetime(2026, 1, 1, 10, tzinfo=UTC)
    cols = ["event_id", "event_type", "received_at", "occurred_at", "ad_id", "campaign_id", "source", "click_id",
            "sub1", "external_id", "impressions", "clicks", "conversions", "cost", "revenue", "currency",
            "state_version", "network", "conversion_key"]  # fmt: skip
    old = [
        [str(uuid.uuid4()), "impression", now, now, "A", "c1", "src", "", "", "", 1, 0, 0, Decimal("0.5"),
         Decimal(0), "", 0, "", ""],
        [str(uuid.uuid4()), "click", now, now, "A", "c1", "src", "clk-1", "z1", "ext", 0, 1, 0, Decimal(0),
         Decimal(0), "", 0, "", ""],
        [str(uuid.uuid4()), "conversion", now, now, "A", "c1", "src", "clk-1", "z1", "ext", 0, 0, 1, Decimal(0),
         Decimal(12), "", 1, "default", "T1"],
        [str(uuid.uuid4()), "conversion", now, now, "A", "c1", "src", "clk-1", "z1", "ext", 0, 0, 1, Decimal(0),
         Decimal(30), "EUR", 1, "default", "T2"],
    ]  # fmt: skip
    client.insert("upg3.events", old, column_names=cols)
    client.insert(
        "upg3.cost_imports",
        [["B", "c2", "src", "day", now.replace(hour=0), Decimal(7), ""]],
        column_names=["ad_id", "campaign_id", "source", "granularity", "period_start", "cost", "currency"],
    )
    before = client.query("SELECT ad_id, impressions, clicks, conversions, cost FROM upg3.ad_kpis ORDER BY ad_id")

    assert [m.version for m in migrate(client, "upg3", upto=3)] == [3]
    assert client.query("SELECT count() FROM upg3.events").result_rows == [(4,)]
    after = client.query("SELECT ad_id, impressions, clicks, conversions, cost FROM upg3.ad_kpis ORDER BY ad_id")
    assert after.result_rows == before.result_rows
    kpi = client.query("SELECT revenue, unconverted FROM upg3.ad_kpis WHERE ad_id = 'A'").result_rows
    assert kpi == [(Decimal(12), 1)]  # the EUR payout waits for a rate: counted, not summed as USD
    client.insert("upg3.fx_rates", [[now.date(), "EUR", Decimal("1.1")]], column_names=["date", "currency", "rate"])
    assert client.query("SELECT revenue FROM upg3.ad_kpis WHERE ad_id = 'A'").result_rows == [(Decimal(45),)]
    assert client.query("SELECT count() FROM system.tables WHERE database = 'upg3' AND name = 'kpi_minute'"
                        ).result_rows == [(0,)]  # fmt: skip
    by_sub = client.query("SELECT sub1, clicks, conversions FROM upg3.kpi_sub_ids_daily WHERE campaign_id = 'c1'")
    assert sorted(by_sub.result_rows) == [("", 0, 0), ("z1", 1, 2)]
    # Re-running changes nothing (the back-fill is not repeated).
    assert migrate(client, "upg3", upto=3) == []
    assert client.query("SELECT sum(clicks) FROM upg3.ad_kpis").result_rows == [(1,)]


def test_0006_upgrades_a_database_holding_data_at_0005_in_place_and_reclassify_tags_the_old_traffic(client):
    """Hits and a click stored at 0005 (nothing classified then): after 0006 every KPI is what it was, new
    hits are classified by the parse view, and ``reclassify`` tags the old traffic, moving it exactly."""
    import time
    import uuid
    from datetime import UTC, datetime

    from ingest import bots
    from ingest.rawhit import raw_hit
    from schemas import hits as codec
    from schemas import reclassify

    googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    chrome = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
    )
    now_ms = int(time.time() * 1000)

    def hits(ad, *agents):
        lines = [
            codec.encode(raw_hit(f"ad_id={ad}&cost=0.5".encode(), ua, "198.51.100.0", "", now_ms)[0]) for ua in agents
        ]
        client.raw_insert(
            "upg6.hits_in", insert_block=codec.join(lines), fmt="JSONEachRow", settings={"async_insert": 0}
        )

    assert [m.version for m in migrate(client, "upg6", upto=5)] == [1, 2, 3, 4, 5]
    hits("A", googlebot, chrome)
    now = datetime.fromtimestamp(now_ms / 1000, tz=UTC)
    client.insert(
        "upg6.events",
        [[str(uuid.uuid4()), "click", now, now, "A", "clk-6", googlebot, "198.51.100.0", 1]],
        column_names=["event_id", "event_type", "received_at", "occurred_at", "ad_id", "click_id", "user_agent",
                      "client_ip", "clicks"],
    )  # fmt: skip
    kpis = "SELECT ad_id, impressions, clicks, cost FROM upg6.ad_kpis ORDER BY ad_id"
    before = client.query(kpis).result_rows
    assert before == [("A", 2, 1, Decimal(1))]

    assert [m.version for m in migrate(client, "upg6", upto=6)] == [6]
    assert client.query(kpis).result_rows == before  # nothing classified retroactively by the upgrade
    assert client.query("SELECT bot_impressions, bot_clicks FROM upg6.ad_kpis").result_rows == [(0, 0)]
    hits("B", googlebot, chrome)  # new hits: classified by the re-created parse view
    assert client.query("SELECT impressions, bot_impressions FROM upg6.ad_kpis WHERE ad_id = 'B'").result_rows == [
        (1, 1)
    ]
    assert migrate(client, "upg6", upto=6) == []
    # 0007 (enrichment) in place: the rollup gains the trait dimensions, every KPI stays as it was.
    at6 = client.query("SELECT * FROM upg6.ad_kpis ORDER BY ad_id").result_rows
    assert [m.version for m in migrate(client, "upg6")] == [7]
    assert client.query("SELECT * FROM upg6.ad_kpis ORDER BY ad_id").result_rows == at6
    sorting = client.query("SELECT sorting_key FROM system.tables WHERE database = 'upg6' AND name = 'kpi_rollup'")
    assert sorting.result_rows[0][0].endswith("fx_date, country, device, os, browser")

    day = now.date()
    moved = reclassify.run(client, "upg6", bots.OperatorLists(), day, day)
    assert moved == {"ua_crawler": 2}  # A's Googlebot hit and click
    after = client.query("SELECT ad_id, impressions, clicks, cost, bot_impressions, bot_clicks FROM upg6.ad_kpis "
                         "ORDER BY ad_id").result_rows  # fmt: skip
    assert after == [("A", 1, 0, Decimal("0.5"), 1, 1), ("B", 1, 0, Decimal("0.5"), 1, 0)]


class _Recording:
    """The client, with the DDL it is sent recorded."""

    def __init__(self, client):
        self.client, self.commands = client, []

    def command(self, sql):
        self.commands.append(sql)
        return self.client.command(sql)

    def __getattr__(self, name):
        return getattr(self.client, name)


def test_every_run_views_are_re_created_only_when_their_definition_changes(client):
    """A migrate that changes nothing runs no DDL on the views: 0006's every_run drops and re-creates the
    pixel-hit views, and hits inserted meanwhile would be stored nowhere (tests/schemas/test_migrate_live.py)."""
    from schemas.migrate import bootstrap_statements, ttl_statements
    from schemas.options import SchemaOptions

    migrate(client, "evr")
    again = _Recording(client)
    assert migrate(again, "evr") == []
    assert again.commands == [*bootstrap_statements("evr"), *ttl_statements("evr", SchemaOptions())]

    blocked = SchemaOptions(block_ips=("192.0.2.0/24",))
    changed = _Recording(client)
    migrate(changed, "evr", blocked)
    assert "DROP VIEW IF EXISTS evr.hits_parse_mv" in changed.commands  # the new list is baked in
    assert "DROP VIEW IF EXISTS evr.kpi_rollup_cost_mv" not in changed.commands  # 0006's own statements are not
    view = client.query("SELECT as_select FROM system.tables WHERE database = 'evr' AND name = 'hits_parse_mv'")
    assert "192.0.2.0/24" in view.result_rows[0][0]
    same = _Recording(client)
    migrate(same, "evr", blocked)
    assert not any("VIEW" in sql for sql in same.commands)

    # A new currency re-creates 0003's KPI views, then 0006's again over them (with the bot measures).
    euro = SchemaOptions(reporting_currency="EUR", block_ips=("192.0.2.0/24",))
    both = _Recording(client)
    migrate(both, "evr", euro)
    assert sum(sql.startswith("CREATE OR REPLACE VIEW evr.ad_kpis ") for sql in both.commands) == 2
    assert "bot_clicks" in client.query("SELECT * FROM evr.ad_kpis LIMIT 0").column_names
