"""HTTP -> Kafka -> aggregator -> ClickHouse -> ad_kpis, all real: the walking skeleton end to end."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

pytestmark = pytest.mark.integration


def _kpis(stack, ad_id):
    with stack.clickhouse() as client:
        result = client.query("SELECT * FROM adpulse.ad_kpis WHERE ad_id = {ad:String}", parameters={"ad": ad_id})
    return [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]


def _wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def test_pixel_answers_the_gif_uncached(stack):
    response = httpx.get(f"{stack.api}/i", params={"ad_id": "gif-check"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/gif"
    assert len(response.content) == 43 and response.content.startswith(b"GIF89a")
    assert "no-store" in response.headers["cache-control"]


def test_click_redirect_refuses_hosts_off_the_allowlist(stack):
    response = httpx.get(f"{stack.api}/c", params={"ad_id": "x", "url": "https://evil.com/"})
    assert response.status_code == 400
    assert response.json()["field"] == "url"


def test_postback_without_click_id_names_the_field(stack):
    response = httpx.get(f"{stack.api}/postback", params={"payout": "5"})
    assert response.status_code == 422
    assert response.json()["field"] == "click_id"


def test_readyz_sees_kafka_and_clickhouse(stack):
    response = httpx.get(f"{stack.api}/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "kafka": True, "clickhouse": True}


def test_events_become_exact_kpis(stack):
    ad = f"ad-{uuid.uuid4().hex[:8]}"
    dims = {"ad_id": ad, "campaign_id": "spring", "utm_source": "Google", "utm_medium": "cpc"}
    with httpx.Client(base_url=stack.api) as http:
        for _ in range(40):
            assert http.get("/i", params={**dims, "cost": "0.05"}).status_code == 200
        click_ids = []
        for _ in range(8):
            response = http.get(
                "/c",
                params={**dims, "cost": "0.25", "url": "https://shop.example.com/landing?sku=1"},
            )
            assert response.status_code == 302
            location = urlsplit(response.headers["location"])
            assert location.netloc == "shop.example.com"
            query = parse_qs(location.query)
            assert query["sku"] == ["1"] and query["utm_source"] == ["Google"]
            click_ids.append(query["click_id"][0])
        assert len(set(click_ids)) == 8
        # Two approved conversions, one rejected (counts nothing).
        for click_id, txid, status in [(click_ids[0], "T1", "approved"), (click_ids[3], "T2", "approved")]:
            response = http.get(
                "/postback",
                params={"click_id": click_id, "payout": "12.50", "txid": txid, "currency": "usd", "status": status},
            )
            assert response.status_code == 200, response.text
        response = http.post(
            "/postback", data={"click_id": click_ids[5], "payout": "99", "txid": "T3", "status": "rejected"}
        )
        assert response.status_code == 200, response.text
    answered = time.monotonic()

    def complete():
        rows = _kpis(stack, ad)
        return rows if rows and rows[0]["impressions"] == 40 and rows[0]["conversions"] == 2 else None

    rows = _wait_for(complete)
    print(f"\nlast answer -> visible in ad_kpis: {time.monotonic() - answered:.2f}s")
    assert rows, f"KPIs incomplete: {_kpis(stack, ad)}"
    (kpi,) = rows
    assert (kpi["campaign_id"], kpi["source"]) == ("spring", "google")
    assert (kpi["impressions"], kpi["clicks"], kpi["conversions"]) == (40, 8, 2)
    assert kpi["cost"] == Decimal("4.00")  # 40 * 0.05 + 8 * 0.25
    assert kpi["revenue"] == Decimal("25.00")
    assert kpi["ctr"] == pytest.approx(8 / 40)
    assert kpi["cr"] == pytest.approx(2 / 8)
    assert kpi["cpa"] == Decimal("2.00")
    assert kpi["roas"] == Decimal("6.25")
    assert kpi["cpc"] == Decimal("0.50")

    # The API's own KPI endpoint reads the same view.
    body = httpx.get(f"{stack.api}/v1/kpis", params={"group_by": "ad_id"}).json()
    (mine,) = [row for row in body["rows"] if row["ad_id"] == ad]
    assert (mine["impressions"], mine["conversions"], Decimal(mine["revenue"])) == (40, 2, Decimal("25"))


def test_bi_user_reads_kpis_and_nothing_else(stack):
    import clickhouse_connect
    from clickhouse_connect.driver.exceptions import DatabaseError

    bi = clickhouse_connect.get_client(dsn=stack.clickhouse_url.replace("default:@", "bi:any@"),
                                       autogenerate_session_id=False)  # fmt: skip
    assert bi.query("SELECT count() FROM adpulse.ad_kpis").result_rows[0][0] >= 0
    assert bi.query("SELECT count() FROM events_anonymised", settings={"database": "adpulse"}).result_rows
    for forbidden in ("SELECT client_ip FROM adpulse.events", "SELECT * FROM adpulse.clicks",
                      "SELECT * FROM file('/etc/passwd')",
                      "SELECT 1 FROM adpulse.ad_kpis WHERE ad_id IN (SELECT ad_id FROM adpulse.events)"):  # fmt: skip
        with pytest.raises(DatabaseError) as info:
            bi.query(forbidden)
        assert info.value.code == 497, forbidden
    with pytest.raises(DatabaseError) as info:
        bi.command("INSERT INTO adpulse.cost_imports (ad_id) VALUES ('x')")
    assert info.value.code in (164, 497)
    bi.close()
