"""Meta Conversions API payloads, field by field against the documented shape."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, urlsplit

import orjson

from deliver import meta
from deliver.config import MetaTarget
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
