"""Meta Conversions API: one server event per conversion status, deduplicated with the browser pixel.

Shape (Meta "Conversions API parameters"): ``POST {base}/{pixel_id}/events?access_token=...`` with
``{"data": [{"event_name", "event_time", "event_id", "action_source", "event_source_url",
"user_data": {"fbc", "external_id", "client_ip_address", "client_user_agent"},
"custom_data": {"value", "currency", "order_id"}}]}``.

- ``event_id`` is the order id (txid, else the conversion key): pass the same value as ``eventID`` to
  ``fbq('track', 'Purchase', {...}, {eventID: ...})`` and Meta keeps one of the two.
- ``fbc`` is built from the click's fbclid as Meta specifies: ``fb.1.<click time, ms>.<fbclid>`` (the
  fbclid unmodified, case kept).
- ``event_time`` older than 7 days is refused by Meta: such conversions are not sent (:func:`too_old`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import orjson

from deliver.config import MetaTarget
from deliver.hashing import sha256_id
from deliver.message import Conversion
from deliver.request import Request

_DAY_MS = 86_400_000


def fbc(fbclid: str, click_at_ms: int) -> str:
    return f"fb.1.{click_at_ms}.{fbclid}"


def event_id(conversion: Conversion) -> str:
    return conversion.txid or conversion.conversion_key


def too_old(conversion: Conversion, now_ms: int, max_age_days: int) -> bool:
    return now_ms - conversion.converted_at_ms > max_age_days * _DAY_MS


def has_match_keys(conversion: Conversion) -> bool:
    click = conversion.click
    return click is not None and bool(click.fbclid or click.external_id)


def event(conversion: Conversion, target: MetaTarget) -> dict[str, Any]:
    click = conversion.click
    user: dict[str, Any] = {}
    if click is not None:
        if click.fbclid:
            user["fbc"] = fbc(click.fbclid, click.received_at_ms)
        if click.external_id:
            user["external_id"] = [sha256_id(click.external_id)]
        if click.client_ip:
            user["client_ip_address"] = click.client_ip
        if click.user_agent:
            user["client_user_agent"] = click.user_agent
    custom: dict[str, Any] = {"value": float(conversion.payout), "order_id": event_id(conversion)}
    if conversion.currency:
        custom["currency"] = conversion.currency
    body: dict[str, Any] = {
        "event_name": target.event_name,
        "event_time": conversion.converted_at_ms // 1000,
        "event_id": event_id(conversion),
        "action_source": "website",
        "user_data": user,
        "custom_data": custom,
    }
    if click is not None and click.page_url:
        body["event_source_url"] = click.page_url
    return body


def request(conversion: Conversion, target: MetaTarget, base_url: str) -> Request:
    payload: dict[str, Any] = {"data": [event(conversion, target)]}
    if target.test_event_code:
        payload["test_event_code"] = target.test_event_code
    query = urlencode({"access_token": target.access_token.get_secret_value()})
    return Request(
        "POST",
        f"{base_url.rstrip('/')}/{target.pixel_id}/events?{query}",
        orjson.dumps(payload),
        {"Content-Type": "application/json"},
    )
