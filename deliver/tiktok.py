"""TikTok Events API (web), v1.3: ``POST {base}/event/track/`` with the ``Access-Token`` header.

Shape (TikTok "Events API 2.0"): ``{"event_source": "web", "event_source_id": <pixel code>,
"data": [{"event", "event_time", "event_id", "user": {"ttclid", "external_id", "ip", "user_agent"},
"properties": {"value", "currency", "order_id"}, "page": {"url"}}]}``. ``event_id`` is the order id,
the same value the browser pixel passes as ``event_id`` so TikTok deduplicates the two; ``external_id``
is SHA-256 hashed as TikTok requires.
"""

from __future__ import annotations

from typing import Any

import orjson

from deliver.config import TikTokTarget
from deliver.hashing import sha256_id
from deliver.message import Conversion
from deliver.meta import event_id
from deliver.request import Request


def has_match_keys(conversion: Conversion) -> bool:
    click = conversion.click
    return click is not None and bool(click.ttclid or click.external_id)


def event(conversion: Conversion, target: TikTokTarget) -> dict[str, Any]:
    click = conversion.click
    user: dict[str, Any] = {}
    if click is not None:
        if click.ttclid:
            user["ttclid"] = click.ttclid
        if click.external_id:
            user["external_id"] = sha256_id(click.external_id)
        if click.client_ip:
            user["ip"] = click.client_ip
        if click.user_agent:
            user["user_agent"] = click.user_agent
    properties: dict[str, Any] = {"value": float(conversion.payout), "order_id": event_id(conversion)}
    if conversion.currency:
        properties["currency"] = conversion.currency
    body: dict[str, Any] = {
        "event": target.event,
        "event_time": conversion.converted_at_ms // 1000,
        "event_id": event_id(conversion),
        "user": user,
        "properties": properties,
    }
    if click is not None and click.page_url:
        body["page"] = {"url": click.page_url}
    return body


def request(conversion: Conversion, target: TikTokTarget, base_url: str) -> Request:
    payload: dict[str, Any] = {
        "event_source": "web",
        "event_source_id": target.pixel_code,
        "data": [event(conversion, target)],
    }
    if target.test_event_code:
        payload["test_event_code"] = target.test_event_code
    return Request(
        "POST",
        f"{base_url.rstrip('/')}/event/track/",
        orjson.dumps(payload),
        {"Content-Type": "application/json", "Access-Token": target.access_token.get_secret_value()},
    )
