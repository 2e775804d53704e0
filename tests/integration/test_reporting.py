"""Issue 9 on the real stack: one reporting currency, FX rates, sub-ids, unique clicks, reports by any
dimension (HTTP -> Kafka -> aggregator -> ClickHouse -> GET /v1/kpis)."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

pytestmark = pytest.mark.integration
ECB = Path(__file__).parents[1] / "fixtures" / "ecb"
LANDING = "https://shop.example.com/landing"


def wait_for(predicate, timeout=45.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def kpis(stack, **params):
    response = httpx.get(f"{stack.api}/v1/kpis", params=params, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def one_row(stack, **params):
    rows = kpis(stack, **params)["rows"]
    return rows[0] if len(rows) == 1 else None


def click(http, **params):
    response = http.get("/c", params={"url": LANDING, **params})
    assert response.status_code == 302, response.text
    return parse_qs(urlsplit(response.headers["location"]).query)["click_id"][0], response


def postback(http, click_id, txid, payout, currency):
    params = {"click_id": click_id, "txid": txid, "payout": payout, "currency": currency}
    response = http.get("/postback", params=params)
    assert response.status_code == 200, response.text


def post_rates(stack, items):
    response = httpx.post(f"{stack.api}/v1/fx-rates", json=items, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def today():
    return datetime.now(UTC).date()


def test_postbacks_in_eur_usd_jpy_give_revenue_in_the_reporting_currency_to_the_cent(stack):
    ad = f"fx-{uuid.uuid4().hex[:8]}"
    days = [today() - timedelta(days=1), today()]  # whatever side of midnight the conversions land
    post_rates(stack, [{"date": d.isoformat(), "currency": c, "rate": r} for d in days
                       for c, r in (("EUR", "1.0842"), ("JPY", "0.006712"))])  # fmt: skip
    with httpx.Client(base_url=stack.api) as http:
        click_id, _ = click(http, ad_id=ad, campaign_id="fx")
        for txid, payout, currency in (("E", "10", "EUR"), ("U", "10", "USD"), ("J", "1000", "JPY")):
            postback(http, click_id, f"{ad}-{txid}", payout, currency)
    row = wait_for(lambda: (r := one_row(stack, ad_id=ad)) and r["conversions"] == 3 and r)
    assert row, kpis(stack, ad_id=ad)
    # 10 * 1.0842 + 10 + 1000 * 0.006712 = 10.842 + 10 + 6.712
    assert Decimal(row["revenue"]).quantize(Decimal("0.01")) == Decimal("27.55")
    assert Decimal(row["revenue"]) == Decimal("27.554")
    assert row["unconverted"] == 0
    body = kpis(stack, ad_id=ad)
    assert body["currency"] == "USD" and body["group_by"] == ["ad_id"]
    # The BI view converts the same way.
    with stack.clickhouse() as client:
        view = client.query("SELECT revenue FROM adpulse.ad_kpis WHERE ad_id = {a:String}", parameters={"a": ad})
    assert view.result_rows == [(Decimal("27.554"),)]
    # The originals stay in events.
    with stack.clickhouse() as client:
        originals = client.query(
            "SELECT currency, payout FROM adpulse.events WHERE event_type = 'conversion' AND ad_id = {a:String} "
            "ORDER BY currency",
            parameters={"a": ad},
        ).result_rows
    assert originals == [("EUR", Decimal(10)), ("JPY", Decimal(1000)), ("USD", Decimal(10))]


def test_a_currency_without_rate_is_unconverted_until_its_rate_arrives(stack):
    ad = f"nr-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=stack.api) as http:
        click_id, _ = click(http, ad_id=ad)
        postback(http, click_id, f"{ad}-1", "20", "USD")
        postback(http, click_id, f"{ad}-2", "50", "BRL")  # no BRL rate anywhere yet
    row = wait_for(lambda: (r := one_row(stack, ad_id=ad)) and r["conversions"] == 2 and r)
    assert row, kpis(stack, ad_id=ad)
    assert (Decimal(row["revenue"]), row["unconverted"]) == (Decimal(20), 1)
    post_rates(stack, [{"date": d.isoformat(), "currency": "BRL", "rate": "0.1869"}
                       for d in (today() - timedelta(days=1), today())])  # fmt: skip
    row = one_row(stack, ad_id=ad)
    assert (Decimal(row["revenue"]), row["unconverted"]) == (Decimal("29.345"), 0)  # 20 + 50 * 0.1869


def test_the_ecb_file_imported_gives_the_cross_rates_computed_by_hand(stack):
    env = {**stack.env, "ADPULSE_CLICKHOUSE_URL": stack.clickhouse_url}
    for name in ("eurofxref-hist.csv", "eurofxref-daily.xml"):
        done = subprocess.run([sys.executable, "-m", "adpulse.cli", "fx-import", str(ECB / name)],
                              env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr
    listed = httpx.get(f"{stack.api}/v1/fx-rates", params={"from": "2025-11-20", "to": "2025-11-21"}).json()
    rates = {(r["date"], r["currency"]): Decimal(r["rate"]) for r in listed["rates"]}
    assert listed["currency"] == "USD"
    assert rates[("2025-11-21", "EUR")] == Decimal("1.1512")
    assert rates[("2025-11-21", "JPY")] == Decimal("0.006328056288")  # 1.1512 / 181.92
    assert rates[("2025-11-21", "GBP")] == Decimal("1.309178579145")  # 1.1512 / 0.87933
    assert rates[("2025-11-20", "JPY")] == Decimal("0.006360628619")  # 1.1535 / 181.35
    assert ("2025-11-19", "JPY") not in rates  # outside from..to
    bad = subprocess.run([sys.executable, "-m", "adpulse.cli", "fx-import", str(ECB / "missing.csv")],
                         env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert bad.returncode == 2 and "missing.csv" in bad.stderr


def test_fx_rates_api_refuses_a_bad_item_naming_the_field(stack):
    response = httpx.post(f"{stack.api}/v1/fx-rates", json=[
        {"date": "2026-01-01", "currency": "EUR", "rate": "1.1"},
        {"date": "2026-01-01", "currency": "EUR", "rate": "-3"},
    ])  # fmt: skip
    assert response.status_code == 422
    assert (response.json()["field"], response.json()["index"]) == ("rate", 1)


def test_a_conversion_inherits_its_clicks_sub_ids_and_external_id(stack):
    ad = f"sub-{uuid.uuid4().hex[:8]}"
    subs = {f"sub{i}": f"{ad}-s{i}" for i in range(1, 6)}
    with httpx.Client(base_url=stack.api) as http:
        click_id, response = click(http, ad_id=ad, external_id="SRC-CLICK-77", **subs)
        postback(http, click_id, f"{ad}-t", "7", "USD")
    carried = parse_qs(urlsplit(response.headers["location"]).query)
    assert carried["sub1"] == [subs["sub1"]]  # the landing page sees the sub-ids too

    def conversion_row():
        with stack.clickhouse() as client:
            rows = client.query(
                "SELECT sub1, sub2, sub3, sub4, sub5, external_id FROM adpulse.events "
                "WHERE event_type = 'conversion' AND ad_id = {a:String}",
                parameters={"a": ad},
            ).result_rows
        return rows[0] if rows else None

    assert wait_for(conversion_row) == (*subs.values(), "SRC-CLICK-77")
    row = wait_for(lambda: one_row(stack, group_by="sub3", sub3=subs["sub3"]))
    assert (row["sub3"], row["clicks"], row["conversions"], Decimal(row["revenue"])) == (subs["sub3"], 1, 1, Decimal(7))


def test_repeated_clicks_of_one_visitor_count_once_in_unique_clicks(stack):
    ad = f"uq-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=stack.api) as http:
        _, first = click(http, ad_id=ad)
        cookie = first.headers["set-cookie"]
        assert cookie.startswith("adpulse_vid=") and "HttpOnly" in cookie and "SameSite=None" in cookie
        assert "Secure" not in cookie  # plain http here
        visitor = cookie.split(";")[0].split("=", 1)[1]
        for _ in range(3):  # the same browser: its cookie comes back
            _, again = click(http, ad_id=ad, **{})
            assert again.headers["set-cookie"].startswith(f"adpulse_vid={visitor}")
        click(http, ad_id=ad, vid="snippet-visitor-2")  # another visitor, by the snippet's id
        click(http, ad_id=ad, vid="snippet-visitor-2")
    row = wait_for(lambda: (r := one_row(stack, ad_id=ad)) and r["clicks"] == 6 and r)
    assert row, kpis(stack, ad_id=ad)
    # The first click came without a cookie: its visitor is the IP + user agent (counted apart from the
    # cookie it was given), then the cookie's visitor, then the snippet's.
    assert row["unique_clicks"] == 3


def test_group_by_campaign_and_sub1_with_dates_and_a_filter_then_csv_equals_json(stack):
    source = f"src{uuid.uuid4().hex[:8]}"
    plan = [("camp-a", "zone1", 3), ("camp-a", "zone2", 1), ("camp-b", "zone1", 2)]
    with httpx.Client(base_url=stack.api) as http:
        for campaign, zone, n in plan:
            for i in range(n):
                click_id, _ = click(http, ad_id=f"{source}-ad", campaign_id=campaign, sub1=zone, utm_source=source,
                                    vid=f"{campaign}-{zone}-{i}")  # fmt: skip
            postback(http, click_id, f"{source}-{campaign}-{zone}", "2.50", "USD")
        click(http, ad_id="elsewhere", campaign_id="camp-a", sub1="zone1", utm_source="other")  # filtered out
    params = {"group_by": "campaign_id,sub1", "from": (today() - timedelta(days=1)).isoformat(),
              "to": (today() + timedelta(days=1)).isoformat(), "tz": "Asia/Kolkata", "source": source}  # fmt: skip
    # Rows and totals are two queries: wait until both have seen every conversion (a response taken while the
    # last ones land can have them in the totals only).
    body = wait_for(
        lambda: (
            (b := kpis(stack, **params))
            and b["totals"]["conversions"] == 3
            and sum(r["conversions"] for r in b["rows"]) == 3
            and b
        )
    )
    assert body, kpis(stack, **params)
    got = [(r["campaign_id"], r["sub1"], r["clicks"], r["unique_clicks"], r["conversions"], r["revenue"])
           for r in body["rows"]]  # fmt: skip
    assert got == [("camp-a", "zone1", 3, 3, 1, "2.500000"), ("camp-a", "zone2", 1, 1, 1, "2.500000"),
                   ("camp-b", "zone1", 2, 2, 1, "2.500000")]  # fmt: skip
    totals = body["totals"]
    assert (totals["clicks"], totals["unique_clicks"], totals["conversions"], totals["revenue"]) == (
        6,
        6,
        3,
        "7.500000",
    )
    assert totals["cr"] == pytest.approx(0.5)
    assert (body["from"], body["tz"], body["currency"]) == (params["from"], "Asia/Kolkata", "USD")
    # Ordered by a measure, limited.
    top = kpis(stack, **params, order_by="-clicks", limit=1)
    assert [(r["campaign_id"], r["sub1"]) for r in top["rows"]] == [("camp-a", "zone1")]
    assert top["totals"] == totals  # totals cover every row, not just the page
    # A range before today holds none of it.
    past = kpis(stack, **{**params, "from": "2020-01-01", "to": "2020-01-31"})
    assert past["rows"] == [] and past["totals"]["clicks"] == 0
    # CSV: same columns, same values.
    response = httpx.get(f"{stack.api}/v1/kpis", params={**params, "format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.text)))
    assert table[0] == list(body["rows"][0])
    as_text = [["" if v is None else str(v) for v in row.values()] for row in body["rows"]]
    assert table[1:] == as_text


def test_kpi_request_errors_name_the_parameter(stack):
    for params, field in (({"group_by": "ad_id,planet"}, "group_by"), ({"tz": "Mars/Base"}, "tz"),
                          ({"from": "2026-02-30"}, "from"), ({"colour": "red"}, "colour"),
                          ({"order_by": "nonsense"}, "order_by"), ({"format": "xml"}, "format")):  # fmt: skip
        response = httpx.get(f"{stack.api}/v1/kpis", params=params)
        assert response.status_code == 422, params
        assert response.json()["field"] == field


def test_the_pixel_and_the_beacon_carry_the_visitor_id(stack):
    ad = f"vid-{uuid.uuid4().hex[:8]}"
    assert httpx.get(f"{stack.api}/i", params={"ad_id": ad, "sub1": "z"},
                     headers={"Cookie": "other=1; adpulse_vid=cookie-visitor"}).status_code == 200  # fmt: skip
    assert httpx.get(f"{stack.api}/e", params={"type": "page_view", "ad_id": ad, "vid": "snippet-visitor"},
                     headers={"Cookie": "adpulse_vid=cookie-visitor"}).status_code == 204  # fmt: skip

    def stored():
        with stack.clickhouse() as client:
            return client.query(
                "SELECT event_type, visitor_id, sub1 FROM adpulse.events WHERE ad_id = {a:String} ORDER BY event_type",
                parameters={"a": ad},
            ).result_rows

    rows = wait_for(lambda: len(stored()) == 2 and stored())
    assert rows == [("impression", "cookie-visitor", "z"), ("page_view", "snippet-visitor", "")]
