"""Reports on the real embedded engine: read-time FX conversion, unconverted, cost imports, unique clicks,
and the BI views and GET /v1/kpis's SQL (one builder) giving the same answers on the same data."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import clickhouse_connect
import pytest

from app.kpi_request import parse, sql
from schemas.migrate import migrate
from schemas.options import SchemaOptions
from schemas.reporting import Money

DB = "rep"
D0 = datetime(2026, 3, 10, 12, tzinfo=UTC)
COLS = ["event_id", "event_type", "received_at", "occurred_at", "fx_date", "ad_id", "campaign_id", "source",
        "sub1", "impressions", "clicks", "conversions", "cost", "cost_currency", "revenue", "currency",
        "visitor_id", "client_ip", "user_agent"]  # fmt: skip


def ev(kind, at, ad="A", *, sub1="", cost="0", cost_currency="", revenue="0", currency="", visitor="", ip="", ua=""):
    return [str(uuid.uuid4()), kind, at, at, at.date(), ad, "camp", "src", sub1,
            int(kind == "impression"), int(kind == "click"), int(kind == "conversion"),
            Decimal(cost), cost_currency, Decimal(revenue), currency, visitor, ip, ua]  # fmt: skip


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    client = clickhouse_connect.get_client(dsn=f"chdb://{tmp_path_factory.mktemp('chdb')}")
    migrate(client, DB, SchemaOptions(reporting_currency="USD", fx_max_age_days=7))
    rows = [
        ev("impression", D0, cost="1", cost_currency="EUR"),
        ev("click", D0, sub1="z1", visitor="v1"),
        ev("click", D0 + timedelta(minutes=5), sub1="z1", visitor="v1"),  # same visitor, same day
        ev("click", D0 + timedelta(days=1), sub1="z1", visitor="v1"),  # same visitor, next day
        ev("click", D0, sub1="z2", ip="203.0.113.0", ua="UA"),  # no id: IP + user agent
        ev("click", D0, sub1="z2", ip="203.0.113.0", ua="UA"),
        ev("conversion", D0, sub1="z1", revenue="10", currency="EUR"),
        ev("conversion", D0, sub1="z1", revenue="10", currency="USD"),
        ev("conversion", D0, sub1="z2", revenue="1000", currency="JPY"),
        ev("conversion", D0, sub1="z2", revenue="5", currency="GBP"),  # never a rate
        ev("conversion", D0 + timedelta(days=9), sub1="z2", revenue="10", currency="EUR"),  # rate too old
    ]
    client.insert(f"{DB}.events", rows, column_names=COLS)
    client.insert(f"{DB}.fx_rates", [[D0.date() - timedelta(days=1), "EUR", Decimal("1.1")],
                                     [D0.date(), "JPY", Decimal("0.0067")]],
                  column_names=["date", "currency", "rate"])  # fmt: skip
    yield client
    client.close()


def query(client, text, params=None):
    result = client.query(text, parameters=params or {})
    return [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]


def api(client, **params):
    req = parse({k: str(v) for k, v in params.items()}, "USD")
    rows_sql, totals_sql, bound = sql(DB, req, Money("USD", 7))
    return query(client, rows_sql, bound), query(client, totals_sql, bound)[0]


def test_money_is_converted_at_the_latest_rate_within_the_max_age(client):
    (row,) = query(client, f"SELECT * FROM {DB}.ad_kpis")
    # cost 1 EUR at the previous day's 1.1; revenue 10 EUR * 1.1 + 10 USD + 1000 JPY * 0.0067.
    assert (row["cost"], row["revenue"]) == (Decimal("1.1"), Decimal("27.7"))
    # 5 GBP (no rate) and 10 EUR nine days after the last EUR rate: left out and counted.
    assert row["unconverted"] == 2
    assert (row["clicks"], row["unique_clicks"]) == (5, 3)  # v1 on two days, the IP + user agent once


def test_a_rate_arriving_later_corrects_past_kpis(client):
    client.insert(f"{DB}.fx_rates", [[D0.date(), "GBP", Decimal("1.25")]], column_names=["date", "currency", "rate"])
    (row,) = query(client, f"SELECT revenue, unconverted FROM {DB}.ad_kpis")
    assert (row["revenue"], row["unconverted"]) == (Decimal("33.95"), 1)
    client.command(f"DELETE FROM {DB}.fx_rates WHERE currency = 'GBP'")  # leave the module's data as it was


def test_views_and_the_api_query_agree(client):
    view = query(client, f"SELECT * FROM {DB}.ad_kpis")
    rows, totals = api(client, group_by="ad_id,campaign_id,source")
    assert rows == view
    assert totals == {k: v for k, v in view[0].items() if k not in ("ad_id", "campaign_id", "source")}
    daily = query(client, f"SELECT * EXCEPT (campaign_id, source) FROM {DB}.ad_kpis_daily ORDER BY day")
    assert api(client, group_by="day,ad_id")[0] == daily


def test_group_by_sub1_with_a_date_range_and_a_filter(client):
    rows, totals = api(client, group_by="sub1", sub1="z2", **{"from": "2026-03-10", "to": "2026-03-10"})
    (z2,) = rows
    assert (z2["sub1"], z2["clicks"], z2["unique_clicks"], z2["conversions"]) == ("z2", 2, 1, 2)
    assert (z2["revenue"], z2["unconverted"]) == (Decimal("6.7"), 1)
    assert totals["clicks"] == 2
    everything, _ = api(client, group_by="sub1")
    assert [r["sub1"] for r in everything] == ["", "z1", "z2"]


def test_day_in_a_half_hour_time_zone(client):
    # 12:00 UTC is 17:30 in Kolkata (same day); a click at 20:00 UTC would be the next local day.
    client.insert(f"{DB}.events", [ev("click", D0.replace(hour=20), ad="K", visitor="k")], column_names=COLS)
    rows, _ = api(client, group_by="day", ad_id="K", tz="Asia/Kolkata")
    assert [(r["day"], r["clicks"]) for r in rows] == [(date(2026, 3, 11), 1)]
    rows, _ = api(client, group_by="hour", ad_id="K", tz="Asia/Kolkata")
    (hour,) = [r["hour"] for r in rows]  # 01:00 in Kolkata, 19:30 UTC (the API shows it in tz)
    assert (hour if hour.tzinfo else hour.replace(tzinfo=UTC)) == datetime(2026, 3, 10, 19, 30, tzinfo=UTC)


def test_imported_cost_replaces_the_event_cost_of_its_day(client):
    client.insert(f"{DB}.events", [ev("click", D0, ad="C", cost="0.5", cost_currency="USD", visitor="c")],
                  column_names=COLS)  # fmt: skip
    before, _ = api(client, ad_id="C")
    assert before[0]["cost"] == Decimal("0.5")
    client.insert(
        f"{DB}.cost_imports",
        [["C", "camp", "src", "day", D0.replace(hour=0), Decimal(40), "JPY"]],
        column_names=["ad_id", "campaign_id", "source", "granularity", "period_start", "cost", "currency"],
    )
    after, _ = api(client, ad_id="C")
    assert (after[0]["cost"], after[0]["unconverted"]) == (Decimal("0.268"), 0)  # 40 JPY * 0.0067
