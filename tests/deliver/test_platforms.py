"""Meta, TikTok and GA4 payloads, field by field against the shapes their documentation gives."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, urlsplit

import orjson

from deliver import ga4, meta, tiktok
from deliver.config import GA4Target, MetaTarget, TikTokTarget
from tests.deliver.helpers import CLICK_MS, NOW_MS, conversion

EXT_HASH = hashlib.sha256(b"ext-42").hexdigest()


def test_meta_event_matches_the_conversions_api_shape() -> None:
    target = MetaTarget(pixel_id="1234567890", access_token="EAAB-token-x", test_event_code="TEST1")
    sent = meta.request(conversion(), target, "http://127.0.0.1:9/v21.0/")
    assert sent.method == "POST"
    parts = urlsplit(sent.url)
    assert parts.path == "/v21.0/1234567890/events"
    assert parse_qs(parts.query) == {"access_token": ["EAAB-token-x"]}
    assert "EAAB-token-x" not in sent.log_url
    assert orjson.loads(sent.body) == {
        "data": [
            {
                "event_name": "Purchase",
                "event_time": (NOW_MS - 60_000) // 1000,
                "event_id": "T-1",
                "action_source": "website",
                "event_source_url": "https://shop.example.com/landing",
                "user_data": {
                    "fbc": f"fb.1.{CLICK_MS}.IwAR2F4-dbP0l7Mn1IawQQ",
                    "external_id": [EXT_HASH],
                    "client_ip_address": "203.0.113.0",
                    "client_user_agent": "Mozilla/5.0",
                },
                "custom_data": {"value": 12.5, "currency": "EUR", "order_id": "T-1"},
            }
        ],
        "test_event_code": "TEST1",
    }


def test_meta_fbc_keeps_the_fbclid_case_and_uses_the_click_time_in_ms() -> None:
    assert meta.fbc("IwAR2F4-AbC", 1_700_000_000_123) == "fb.1.1700000000123.IwAR2F4-AbC"


def test_meta_age_limit_is_seven_days() -> None:
    seven_days = 7 * 86_400_000
    assert not meta.too_old(conversion(converted_at_ms=NOW_MS - seven_days), NOW_MS, 7)
    assert meta.too_old(conversion(converted_at_ms=NOW_MS - seven_days - 1), NOW_MS, 7)


def test_meta_event_id_falls_back_to_the_conversion_key() -> None:
    assert meta.event_id(conversion(txid="", conversion_key="click:c1")) == "click:c1"


def test_tiktok_event_matches_the_events_api_shape() -> None:
    target = TikTokTarget(pixel_code="C4ABCDEFGHIJ12345", access_token="tt-token-123")
    sent = tiktok.request(conversion(), target, "http://127.0.0.1:9/open_api/v1.3")
    assert sent.url == "http://127.0.0.1:9/open_api/v1.3/event/track/"
    assert sent.headers["Access-Token"] == "tt-token-123"
    assert orjson.loads(sent.body) == {
        "event_source": "web",
        "event_source_id": "C4ABCDEFGHIJ12345",
        "data": [
            {
                "event": "CompletePayment",
                "event_time": (NOW_MS - 60_000) // 1000,
                "event_id": "T-1",
                "user": {
                    "ttclid": "E.C.P.abc",
                    "external_id": EXT_HASH,
                    "ip": "203.0.113.0",
                    "user_agent": "Mozilla/5.0",
                },
                "properties": {"value": 12.5, "currency": "EUR", "order_id": "T-1"},
                "page": {"url": "https://shop.example.com/landing"},
            }
        ],
    }


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
