"""The RSGI front door (app.frontdoor) over real HTTP: what it answers itself matches the documented
routes, and what it hands to the FastAPI app (through app.asgi_bridge) is answered as before."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx
import pytest

from tests.integration.kafka_read import find

pytestmark = pytest.mark.integration


def test_documented_routes_stay_in_openapi(stack):
    paths = httpx.get(f"{stack.api}/openapi.json").json()["paths"]
    for path in ("/i", "/postback", "/postback/{network}", "/postback/{network}/{token}", "/v1/events", "/c"):
        assert path in paths
    assert set(paths["/postback/{network}/{token}"]) == {"get", "post"}
    assert httpx.get(f"{stack.api}/docs").status_code == 200


def test_postback_form_body_carries_the_token_and_resend_is_duplicate(stack):
    tx = uuid.uuid4().hex
    body = {"clickid": f"k{tx[:8]}", "amount": "3.10", "cur": "EUR", "order_id": tx, "token": "cake-secret-1"}
    first = httpx.post(f"{stack.api}/postback/cake", data=body)
    assert first.status_code == 200, first.text
    assert first.headers["content-type"] == "application/json"
    assert first.json()["status"] == "accepted"
    again = httpx.post(f"{stack.api}/postback/cake", data=body)
    assert again.json() == {"status": "duplicate", "event_id": first.json()["event_id"]}
    (event,) = find(stack.kafka_bootstrap, "adpulse.events", lambda e: e.get("txid") == tx)
    assert (event["network"], Decimal(event["payout"]), event["currency"]) == ("cake", Decimal("3.10"), "EUR")


def test_chunked_postback_body_over_the_limit_is_413(stack):
    def chunks():
        for _ in range(80):
            yield b"x" * 1024

    response = httpx.post(f"{stack.api}/postback", content=chunks(), headers={"content-type": "text/plain"})
    assert response.status_code == 413
    assert response.json()["field"] == "body"


def test_what_the_front_door_does_not_take_is_answered_by_the_app(stack):
    assert httpx.put(f"{stack.api}/postback", params={"click_id": "k"}).status_code == 405
    assert httpx.get(f"{stack.api}/postback/a/b/c").status_code == 404
    assert httpx.get(f"{stack.api}/healthz").json() == {"status": "ok"}
    assert httpx.post(f"{stack.api}/v1/kpis").status_code == 405


def test_forwarded_for_is_ignored_unless_trusted(stack):
    m = uuid.uuid4().hex[:10]
    response = httpx.get(f"{stack.api}/i", params={"utm_content": m}, headers={"X-Forwarded-For": "203.0.113.9"})
    assert response.status_code == 200
    (hit,) = find(stack.kafka_bootstrap, "adpulse.events", lambda e: f"utm_content={m}" in e.get("query", ""))
    assert hit["client_ip"] == "127.0.0.0"  # the peer, not the header (ADPULSE_TRUST_FORWARDED is off)
