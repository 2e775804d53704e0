"""Every ingest endpoint over real HTTP, the produced message read back from the real broker."""

from __future__ import annotations

import time
import uuid
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import pytest

from tests.integration.kafka_read import find

pytestmark = pytest.mark.integration
EVENTS = "adpulse.events"


def wait_rows(query, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not (rows := query()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return rows


def auth_failures(stack, network):
    prefix = f'adpulse_postback_auth_failures_total{{network="{network}"}} '
    lines = [line for line in httpx.get(f"{stack.api}/metrics").text.splitlines() if line.startswith(prefix)]
    return float(lines[0].rsplit(" ", 1)[1]) if lines else 0.0


def marker() -> str:
    return uuid.uuid4().hex[:10]


def test_pixel_publishes_the_impression_with_its_context(stack):
    m = marker()
    response = httpx.get(f"{stack.api}/i", params={"utm_content": m, "utm_source": "Google", "cost": "0.002"},
                         headers={"User-Agent": "UA-test", "Referer": "https://news.example/a"})  # fmt: skip
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-cache, no-store, must-revalidate, max-age=0"
    assert response.headers["pragma"] == "no-cache"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "1970" in response.headers["expires"]
    # Forwarded raw (parsed by the aggregator), with the IP already truncated before Kafka.
    (hit,) = find(stack.kafka_bootstrap, EVENTS, lambda e: f"utm_content={m}" in e.get("query", ""))
    assert (hit["kind"], hit["user_agent"], hit["referrer"], hit["client_ip"]) == ("hit", "UA-test",
                                                                                   "https://news.example/a",
                                                                                   "127.0.0.0")  # fmt: skip
    with stack.clickhouse() as ch:
        sql = "SELECT source, cost, client_ip FROM adpulse.events WHERE ad_id = {m:String}"
        rows = wait_rows(lambda: ch.query(sql, parameters={"m": m}).result_rows)
    assert rows == [("google", Decimal("0.002"), "127.0.0.0")]


def test_invalid_pixel_hit_still_gets_the_gif_and_goes_to_rejects(stack):
    m = marker()
    response = httpx.get(f"{stack.api}/i", params={"ad_id": m, "cost": "-3"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/gif"
    # The pixel forwards hits raw; ClickHouse applies the ingest rules and records the reject.
    with stack.clickhouse() as ch:
        sql = "SELECT endpoint, field, reason FROM adpulse.hit_rejects WHERE position(query, {m:String}) > 0"
        rows = wait_rows(lambda: ch.query(sql, parameters={"m": m}).result_rows)
    assert rows == [("/i", "cost", "must not be negative")]


def test_oversize_pixel_url_still_gets_the_gif(stack):
    response = httpx.get(f"{stack.api}/i", params={"ad_id": "x" * 9000})
    assert response.status_code == 200
    assert response.content.startswith(b"GIF89a")
    assert 'adpulse_requests_rejected_total{endpoint="/i",field="url"}' in httpx.get(f"{stack.api}/metrics").text


def test_beacon_answers_204_and_publishes(stack):
    m = marker()
    response = httpx.post(f"{stack.api}/e", data={"type": "custom", "event": "signup", "utm_campaign": m})
    assert response.status_code == 204
    (event,) = find(stack.kafka_bootstrap, EVENTS, lambda e: e.get("campaign_id") == m)
    assert (event["event_type"], event["event_name"]) == ("custom", "signup")


def test_snippet_is_cacheable_javascript(stack):
    response = httpx.get(f"{stack.api}/t.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    assert "max-age=3600" in response.headers["cache-control"]
    assert b"sendBeacon" in response.content


def test_click_carries_cost_and_platform_ids_and_redirects(stack):
    m = marker()
    response = httpx.get(f"{stack.api}/c", params={"ad_id": m, "cost": "0.40", "gclid": "GCL", "utm_source": "google",
                                                    "url": "https://a.example.org/p?sku=9"})  # fmt: skip
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    query = parse_qs(location.query)
    assert location.netloc == "a.example.org"
    assert query["sku"] == ["9"]
    assert query["gclid"] == ["GCL"]
    click_id = query["subid"][0]  # the configured click-id parameter for *.example.org
    (event,) = find(stack.kafka_bootstrap, EVENTS, lambda e: e.get("ad_id") == m)
    assert (event["event_type"], event["click_id"], event["cost"], event["gclid"]) == ("click", click_id,
                                                                                      "0.400000", "GCL")  # fmt: skip


@pytest.mark.parametrize(
    "url",
    ["https://evil.com/", "//evil.com", "https:evil.com", "https://shop.example.com@evil.com/",
     "https://evil.com\\@shop.example.com", "https://shop%2Eexample.com/", "https://sh\u043ep.example.com/"],
)  # fmt: skip
def test_click_refuses_open_redirects(stack, url):
    response = httpx.get(f"{stack.api}/c", params={"ad_id": "x", "url": url})
    assert response.status_code == 400
    assert response.json()["field"] == "url"
    assert "location" not in response.headers


def test_postback_aliases_json_body_and_duplicate(stack):
    m = marker()
    body = {"clickid": "k-" + m, "amount": 12.5, "order_id": "O-" + m, "cur": "eur", "status": "approved"}
    first = httpx.post(f"{stack.api}/postback", json=body)
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "accepted"
    again = httpx.post(f"{stack.api}/postback", json=body)
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate", "event_id": first.json()["event_id"]}
    (event,) = find(stack.kafka_bootstrap, EVENTS, lambda e: e.get("txid") == "O-" + m)
    assert (event["click_id"], event["payout"], event["currency"], event["network"]) == ("k-" + m, "12.500000",
                                                                                         "EUR", "default")  # fmt: skip


def test_postback_token_per_network(stack):
    params = {"subid": "k1", "payout": "3", "txid": "T-" + marker(), "status": "2"}
    failures_before = auth_failures(stack, "cake")
    assert httpx.get(f"{stack.api}/postback/cake", params=params).status_code == 403
    assert httpx.get(f"{stack.api}/postback/cake/wrong-token", params=params).status_code == 403
    ok = httpx.get(f"{stack.api}/postback/cake/cake-secret-1", params=params)
    assert ok.status_code == 200, ok.text
    (event,) = find(stack.kafka_bootstrap, EVENTS, lambda e: e.get("txid") == params["txid"])
    assert (event["network"], event["status"]) == ("cake", "pending")  # "2" is pending in cake's words
    assert httpx.get(f"{stack.api}/postback", params={**params, "network": "nope"}).status_code == 404
    assert auth_failures(stack, "cake") == failures_before + 2


@pytest.mark.parametrize(
    ("params", "field"),
    [({"click_id": "{clickid}", "payout": "1"}, "click_id"), ({"click_id": "k", "payout": "%%PAYOUT%%"}, "payout"),
     ({"click_id": "k", "txid": "[txid]"}, "txid"), ({"click_id": "k", "currency": "ZZZ"}, "currency"),
     ({"click_id": "k", "payout": "abc"}, "payout"), ({"click_id": "bad id"}, "click_id")],
)  # fmt: skip
def test_postback_bad_input_is_422_naming_the_field(stack, params, field):
    response = httpx.get(f"{stack.api}/postback", params=params)
    assert response.status_code == 422
    assert response.json()["field"] == field


def test_postback_rejects_non_utf8(stack):
    response = httpx.get(f"{stack.api}/postback?click_id=%FF%FE")
    assert response.status_code == 422
    assert response.json()["field"] == "click_id"


def test_batch_ndjson_and_array_with_per_event_results(stack):
    m = marker()
    items = [
        {"type": "impression", "ad_id": m, "eid": "b1"},
        {"type": "conversion", "click_id": "k-" + m, "payout": "5", "txid": "B-" + m},
        {"type": "page_view", "ad_id": m, "cost": "-1"},
        {"type": "nonsense"},
    ]
    ndjson = b"\n".join(orjson.dumps(i) for i in items)
    response = httpx.post(f"{stack.api}/v1/events", content=ndjson, headers={"Content-Type": "application/x-ndjson"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (2, 2)
    assert [r["status"] for r in body["results"]] == ["accepted", "accepted", "rejected", "rejected"]
    assert (body["results"][2]["field"], body["results"][3]["field"]) == ("cost", "type")
    found = find(stack.kafka_bootstrap, EVENTS, lambda e: e.get("ad_id") == m or e.get("txid") == "B-" + m, want=2)
    assert sorted(e["event_type"] for e in found) == ["conversion", "impression"]
    array = httpx.post(f"{stack.api}/v1/events", json=items[:1])
    assert array.json()["results"][0]["event_id"] == body["results"][0]["event_id"]  # same eid -> same event


def test_batch_limits(stack):
    too_many = [{"type": "impression", "ad_id": "x"}] * 1001
    assert httpx.post(f"{stack.api}/v1/events", json=too_many).status_code == 413
    huge = b"[" + b" " * (1024 * 1024 + 10) + b"]"
    response = httpx.post(f"{stack.api}/v1/events", content=huge, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["field"] == "body"
    assert httpx.post(f"{stack.api}/v1/events", content=b"{not json").status_code == 422


def test_oversize_headers_and_urls_elsewhere(stack):
    assert httpx.get(f"{stack.api}/postback", params={"click_id": "k" * 9000}).status_code == 414
    assert httpx.get(f"{stack.api}/healthz", headers={"X-Big": "a" * 17000}).status_code == 431


def test_postback_signature_and_source_address(stack):
    import hashlib
    import hmac

    query = f"click_id=k-sig&payout=4&txid=S-{marker()}"
    sig = hmac.new(b"signed-network-secret", query.encode(), hashlib.sha256).hexdigest()
    assert httpx.get(f"{stack.api}/postback/signed?{query}").status_code == 403
    assert httpx.get(f"{stack.api}/postback/signed?{query}&sig={'0' * 64}").json()["field"] == "sig"
    tampered = query.replace("payout=4", "payout=400")
    assert httpx.get(f"{stack.api}/postback/signed?{tampered}&sig={sig}").status_code == 403
    assert httpx.get(f"{stack.api}/postback/signed?{query}&sig={sig}").status_code == 200
    refused = httpx.get(f"{stack.api}/postback/office", params={"click_id": "k", "txid": "x"})
    assert (refused.status_code, refused.json()["field"]) == (403, "client_ip")
