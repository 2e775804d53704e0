"""GA4 Measurement Protocol payloads, field by field against the documented shape."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, urlsplit

import orjson

from deliver import ga4
from deliver.config import GA4Target
from tests.deliver.helpers import NOW_MS, conversion

EXT_HASH = hashlib.sha256(b"ext-42").hexdigest()


def test_ga4_payload_matches_the_measurement_protocol_and_passes_validation() -> None:
    target = GA4Target(measurement_id="G-ABC123XYZ", api_secret="ga-secret-1")
    sent = ga4.request(conversion(), target, "http://127.0.0.1:9")
    parts = urlsplit(sent.url)
    assert parts.path == "/mp/collect"
    assert parse_qs(parts.query) == {"measurement_id": ["G-ABC123XYZ"], "api_secret": ["ga-secret-1"]}
    body = orjson.loads(sent.body)
    assert body == {
        "client_id": "1234567890.1700000000",
        "timestamp_micros": (NOW_MS - 60_000) * 1000,
        "events": [{"name": "purchase", "params": {"transaction_id": "T-1", "value": 12.5, "currency": "EUR"}}],
    }
    assert ga4.validate(body) == {"validationMessages": []}
    debug = ga4.request(conversion(), target, "http://127.0.0.1:9", debug=True)
    assert urlsplit(debug.url).path == "/debug/mp/collect"


def test_ga4_validation_answers_in_the_debug_endpoint_format() -> None:
    body = {"client_id": "", "events": [{"name": "_bad", "params": {"currency": "dollars"}}]}
    messages = ga4.validate(body)["validationMessages"]
    assert {(m["fieldPath"], m["validationCode"]) for m in messages} == {
        ("client_id", "VALUE_REQUIRED"),
        ("events[0].name", "NAME_INVALID"),
        ("events[0].params.currency", "VALUE_INVALID"),
    }
    assert all(set(m) == {"fieldPath", "description", "validationCode"} for m in messages)
    assert (
        ga4.validate({"client_id": "1.2", "events": [{"name": "session_start"}]})["validationMessages"][0][
            "validationCode"
        ]
        == "NAME_RESERVED"
    )


def test_ga_client_id_from_the_ga_cookie() -> None:
    assert ga4.client_id_from_cookie("GA1.1.1234567890.1700000000") == "1234567890.1700000000"
    assert ga4.client_id_from_cookie("GA1.2.99.1") == "99.1"
    assert ga4.client_id_from_cookie("1234.5678") == "1234.5678"
    assert ga4.client_id_from_cookie("v-7f3a") == ""
