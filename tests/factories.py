"""Events as the API would publish them, for tests of the aggregator (through the real ingest code)."""

from __future__ import annotations

from typing import Any

import orjson

from aggregator.processor import decode
from ingest import hits
from schemas.events import Event, EventType


def impression(params: dict[str, str], now_ms: int) -> dict[str, Any]:
    return hits.browser_event(EventType.IMPRESSION, params, hits.HitContext(now_ms))


def click(params: dict[str, str], now_ms: int, click_id: str, url: str = "https://shop.example.com/") -> dict[str, Any]:
    return hits.click(params, hits.HitContext(now_ms), click_id, url)


def conversion(params: dict[str, str], now_ms: int, network: str = "default") -> dict[str, Any]:
    return hits.conversion(params, hits.HitContext(now_ms), network=network)


def wire(event: dict[str, Any]) -> Event:
    """Through the wire format and the aggregator's decoder, as Kafka would carry it."""
    return decode(orjson.dumps(event))
