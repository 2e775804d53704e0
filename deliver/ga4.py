"""GA4 Measurement Protocol: ``POST {base}/mp/collect?measurement_id=...&api_secret=...``.

Body: ``{"client_id", "timestamp_micros", "events": [{"name", "params": {"transaction_id", "value",
"currency"}}]}``. ``client_id`` is the GA client id read from the ``_ga`` cookie (``GA1.1.<random>.<ts>``
-> ``<random>.<ts>``, :func:`client_id_from_cookie`); without one the conversion is not sent (GA would
count a new user). ``transaction_id`` is the order id: GA deduplicates purchases by it.

:func:`validate` applies the checks of GA's validation server (``/debug/mp/collect``) and answers in its
format (``{"validationMessages": [{"fieldPath", "description", "validationCode"}]}``); a request that
fails them is dead-lettered instead of silently dropped by GA (the collect endpoint answers 204 always).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import orjson

from deliver.config import GA4Target
from deliver.message import Conversion
from deliver.meta import event_id
from deliver.request import Request

_GA_COOKIE = re.compile(r"^GA\d+\.\d+\.(\d+\.\d+)$")
_CLIENT_ID = re.compile(r"^\d+\.\d+$")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_RESERVED_EVENTS = frozenset({
    "ad_activeview", "ad_click", "ad_exposure", "ad_query", "ad_reward", "adunit_exposure", "app_clear_data",
    "app_exception", "app_install", "app_remove", "app_store_refund", "app_update", "app_upgrade",
    "dynamic_link_app_open", "dynamic_link_app_update", "dynamic_link_first_open", "error", "first_open",
    "first_visit", "in_app_purchase", "notification_dismiss", "notification_foreground", "notification_open",
    "notification_receive", "os_update", "session_start", "session_start_with_rollout", "user_engagement",
})  # fmt: skip
_RESERVED_PREFIXES = ("_", "firebase_", "ga_", "google_", "gtag.")
_MAX_EVENTS = 25


def client_id_from_cookie(value: str) -> str:
    """``GA1.1.1234567890.1700000000`` -> ``1234567890.1700000000``; an already bare id is kept; else ''."""
    value = value.strip()
    match = _GA_COOKIE.match(value)
    if match:
        return match.group(1)
    return value if _CLIENT_ID.match(value) else ""


def client_id(conversion: Conversion) -> str:
    return client_id_from_cookie(conversion.click.visitor_id) if conversion.click is not None else ""


def payload(conversion: Conversion, target: GA4Target) -> dict[str, Any]:
    params: dict[str, Any] = {"transaction_id": event_id(conversion), "value": float(conversion.payout)}
    if conversion.currency:
        params["currency"] = conversion.currency
    return {
        "client_id": client_id(conversion),
        "timestamp_micros": conversion.converted_at_ms * 1000,
        "events": [{"name": target.event_name, "params": params}],
    }


def _message(path: str, description: str, code: str) -> dict[str, str]:
    return {"fieldPath": path, "description": description, "validationCode": code}


def validate(body: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    """The validation server's answer for ``body`` (an empty list when valid)."""
    messages = []
    if not body.get("client_id"):
        messages.append(_message("client_id", "client_id is required", "VALUE_REQUIRED"))
    events = body.get("events") or []
    if not events:
        messages.append(_message("events", "at least one event is required", "VALUE_REQUIRED"))
    if len(events) > _MAX_EVENTS:
        messages.append(_message("events", f"at most {_MAX_EVENTS} events", "EXCEEDED_MAX_ENTITIES"))
    for index, item in enumerate(events):
        name = str(item.get("name", ""))
        if not _NAME.match(name) or len(name) > 40:
            messages.append(_message(f"events[{index}].name", f"invalid event name [{name}]", "NAME_INVALID"))
        elif name in _RESERVED_EVENTS or name.startswith(_RESERVED_PREFIXES):
            messages.append(_message(f"events[{index}].name", f"event name [{name}] is reserved", "NAME_RESERVED"))
        for key, value in (item.get("params") or {}).items():
            if not _NAME.match(key) or len(key) > 40:
                messages.append(_message(f"events[{index}].params.{key}", "invalid param name", "NAME_INVALID"))
            if key == "currency" and not re.fullmatch(r"[A-Z]{3}", str(value)):
                messages.append(_message(f"events[{index}].params.currency", "not ISO 4217", "VALUE_INVALID"))
    return {"validationMessages": messages}


def request(conversion: Conversion, target: GA4Target, base_url: str, *, debug: bool = False) -> Request:
    query = urlencode({"measurement_id": target.measurement_id, "api_secret": target.api_secret.get_secret_value()})
    path = "/debug/mp/collect" if debug else "/mp/collect"
    return Request(
        "POST",
        f"{base_url.rstrip('/')}{path}?{query}",
        orjson.dumps(payload(conversion, target)),
        {"Content-Type": "application/json"},
    )
