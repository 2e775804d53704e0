"""Turn request parameters into events (pure functions: no I/O, no clock; ``now_ms`` is passed in)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from ingest.errors import FieldError
from ingest.ids import derived_id, new_id
from schemas.events import ConversionStatus, EventType

MAX_VALUE_LEN = 256
MAX_URL_LEN = 2048
MAX_MONEY = Decimal("1000000000")  # 1e9 per event: anything above is a bug or an attack
_MONEY_QUANTUM = Decimal("0.000001")

_STATUS_ALIASES: dict[str, ConversionStatus] = {
    "": ConversionStatus.APPROVED,
    "approved": ConversionStatus.APPROVED,
    "approve": ConversionStatus.APPROVED,
    "confirmed": ConversionStatus.APPROVED,
    "1": ConversionStatus.APPROVED,
    "pending": ConversionStatus.PENDING,
    "hold": ConversionStatus.PENDING,
    "2": ConversionStatus.PENDING,
    "rejected": ConversionStatus.REJECTED,
    "declined": ConversionStatus.REJECTED,
    "3": ConversionStatus.REJECTED,
    "reversed": ConversionStatus.REVERSED,
    "chargeback": ConversionStatus.REVERSED,
    "refund": ConversionStatus.REVERSED,
}


def text(params: Mapping[str, str], name: str, limit: int = MAX_VALUE_LEN) -> str:
    value = params.get(name, "").strip()
    if len(value) > limit:
        raise FieldError(name, f"longer than {limit} characters")
    return value


def money(params: Mapping[str, str], name: str) -> str | None:
    """A non-negative decimal amount as a canonical string (6 decimals), or None when absent."""
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise FieldError(name, "not a decimal number") from None
    if not value.is_finite():
        raise FieldError(name, "not a finite number")
    if value < 0:
        raise FieldError(name, "must not be negative")
    if value > MAX_MONEY:
        raise FieldError(name, f"larger than {MAX_MONEY}")
    return str(value.quantize(_MONEY_QUANTUM))


def ad_dimensions(params: Mapping[str, str]) -> dict[str, str]:
    """Ad identity is ``ad_id`` else ``utm_content``; campaign is ``campaign_id`` else ``utm_campaign``."""
    utm_content = text(params, "utm_content")
    utm_campaign = text(params, "utm_campaign")
    return {
        "ad_id": text(params, "ad_id") or utm_content,
        "campaign_id": text(params, "campaign_id") or utm_campaign,
        "source": text(params, "utm_source").lower(),
        "medium": text(params, "utm_medium").lower(),
        "utm_campaign": utm_campaign,
        "utm_term": text(params, "utm_term"),
        "utm_content": utm_content,
        "utm_id": text(params, "utm_id"),
    }


def _event_id(kind: EventType, params: Mapping[str, str]) -> str:
    eid = text(params, "eid")
    return derived_id(kind.value, eid) if eid else new_id()


def impression(params: Mapping[str, str], now_ms: int) -> dict[str, Any]:
    event: dict[str, Any] = {
        "v": 1,
        "event_id": _event_id(EventType.IMPRESSION, params),
        "event_type": EventType.IMPRESSION.value,
        "received_at_ms": now_ms,
        **ad_dimensions(params),
    }
    cost = money(params, "cost")
    if cost is not None:
        event["cost"] = cost
    return event


def click(params: Mapping[str, str], now_ms: int, click_id: str, url: str) -> dict[str, Any]:
    event = impression(params, now_ms)
    event["event_id"] = derived_id(EventType.CLICK.value, click_id)
    event["event_type"] = EventType.CLICK.value
    event["click_id"] = click_id
    event["url"] = url
    return event


def conversion_status(params: Mapping[str, str]) -> ConversionStatus:
    raw = text(params, "status").lower()
    try:
        return _STATUS_ALIASES[raw]
    except KeyError:
        raise FieldError("status", f"unknown status {raw!r}") from None


def conversion(params: Mapping[str, str], now_ms: int, network: str = "default") -> dict[str, Any]:
    click_id = text(params, "click_id")
    if not click_id:
        raise FieldError("click_id", "required")
    txid = text(params, "txid")
    status = conversion_status(params)
    currency = text(params, "currency", limit=3).upper()
    if currency and (len(currency) != 3 or not currency.isalpha()):
        raise FieldError("currency", "expected a 3-letter ISO 4217 code")
    payout = money(params, "payout")
    # A resend of the same (network, txid, status, payout) is the same event; without txid, one per click.
    identity = txid or f"click:{click_id}"
    event: dict[str, Any] = {
        "v": 1,
        "event_id": derived_id(EventType.CONVERSION.value, network, identity, status.value, payout or ""),
        "event_type": EventType.CONVERSION.value,
        "received_at_ms": now_ms,
        "click_id": click_id,
        "network": network,
        "txid": txid,
        "status": status.value,
        "currency": currency,
    }
    if payout is not None:
        event["payout"] = payout
    return event
