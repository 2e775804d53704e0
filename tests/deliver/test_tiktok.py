"""TikTok Events API payloads, field by field against the documented shape."""

from __future__ import annotations

import hashlib

import orjson

from deliver import tiktok
from deliver.config import TikTokTarget
from tests.deliver.helpers import NOW_MS, conversion

EXT_HASH = hashlib.sha256(b"ext-42").hexdigest()


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
