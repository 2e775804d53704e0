"""Fuzzing the running API over real HTTP: arbitrary parameters and bodies on every endpoint, zero 5xx."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.integration

KEYS = st.one_of(st.sampled_from(["click_id", "subid", "payout", "amount", "txid", "status", "currency", "ts",
                                  "ad_id", "utm_source", "cost", "url", "type", "event", "page_url", "eid",
                                  "network", "token", "group_by", "limit"]), st.text(max_size=40))  # fmt: skip
ODD = ["{clickid}", "-1", "1e999", "NaN", "https://evil.com/", "https://shop.example.com/x", "pending", "\x00"]
VALUES = st.one_of(st.text(max_size=200), st.sampled_from(ODD))
PARAMS = st.dictionaries(KEYS, VALUES, max_size=8)
ENDPOINTS = st.sampled_from([("GET", "/i"), ("GET", "/e"), ("POST", "/e"), ("GET", "/c"), ("GET", "/postback"),
                             ("POST", "/postback"), ("GET", "/postback/cake"), ("GET", "/v1/kpis")])  # fmt: skip
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(ENDPOINTS, PARAMS, st.sampled_from(["query", "form", "json"]))
def test_no_5xx_on_parameters(stack, endpoint, params, how):
    method, path = endpoint
    url = f"{stack.api}{path}"
    if how == "query" or method == "GET":
        response = httpx.request(method, url, params=params, timeout=10)
    elif how == "json":
        response = httpx.request(method, url, json=params, timeout=10)
    else:
        response = httpx.request(method, url, data=params, timeout=10)
    assert response.status_code < 500, (method, path, params, response.text)


@FUZZ
@given(st.one_of(st.binary(max_size=2000), st.lists(st.dictionaries(KEYS, VALUES, max_size=6), max_size=5).map(
    lambda items: b"\n".join(httpx.Request("POST", "/", json=i).content for i in items))))  # fmt: skip
def test_no_5xx_on_batch_bodies(stack, body):
    response = httpx.post(f"{stack.api}/v1/events", content=body, headers={"Content-Type": "application/x-ndjson"},
                          timeout=10)  # fmt: skip
    assert response.status_code < 500, (body[:200], response.text)
    costs = httpx.post(f"{stack.api}/v1/costs", content=body, timeout=10)
    assert costs.status_code < 500, (body[:200], costs.text)
