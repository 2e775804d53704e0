"""Rows of the ``events`` table (migrations 0001-0007), built by column name.

A row is a dict from column name to value; ``COLUMNS`` is the insert's column list and every row has
exactly those keys (``_DEFAULTS`` gives each its neutral value, a builder sets what it knows). Adding
a column means adding it to ``_DEFAULTS`` and setting it where it has a value.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from aggregator.attribution import NOTHING, AdDimensions, Contribution, ConversionState
from schemas.events import PLATFORM_CLICK_IDS, SUB_IDS, TRAITS, Event, EventType

Row = dict[str, Any]

_ZERO = Decimal(0)
_EPOCH = datetime.fromtimestamp(0, tz=UTC)
_TEXT = (
    "event_name", "ad_id", "adset_id", "campaign_id", "source", "medium",
    "utm_campaign", "utm_term", "utm_content", "utm_id", *PLATFORM_CLICK_IDS,
    "click_id", "network", "txid", "conversion_key", "status", "cost_currency", "currency",
    "url", "page_url", "referrer", "user_agent", "client_ip",
    *SUB_IDS, "external_id", "visitor_id", *TRAITS,
)  # fmt: skip
_COUNTS = ("impressions", "clicks", "conversions", "conversions_pending", "state_version")
_MONEY = ("cost", "payout", "revenue", "revenue_pending")

_DEFAULTS: Row = {
    "event_id": "", "event_type": "", "received_at": _EPOCH, "occurred_at": _EPOCH, "consent": None,
    "fx_date": _EPOCH.date(), "bot_reason": "", "bot_click": 0, "asn": 0,
    **dict.fromkeys(_TEXT, ""), **dict.fromkeys(_COUNTS, 0), **dict.fromkeys(_MONEY, _ZERO),
}  # fmt: skip
COLUMNS: tuple[str, ...] = tuple(_DEFAULTS)
_URL_FIELDS = ("url", "page_url", "referrer", "user_agent", "client_ip", "consent")
# What a conversion inherits from its click besides the ad: sub-ids and the source's id (migration 0002),
# the visitor's device, OS, browser and country (0007).
_INHERITED = (*SUB_IDS, "external_id", *TRAITS)


def _time(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def fx_day(event: Event) -> date:
    """The UTC day whose FX rate converts an event's money: the day it occurred (else was received)."""
    return _time(event.received_at_ms if event.occurred_at_ms is None else event.occurred_at_ms).date()


def positional(rows: list[Row]) -> list[list[Any]]:
    """Rows in ``COLUMNS`` order, for the insert."""
    return [[row[name] for name in COLUMNS] for row in rows]


def event_row(event: Event, bot_reason: str = "") -> Row:
    """An impression, click, page view or custom event: counts itself and its cost (as a bot's when
    ``bot_reason`` is set: migration 0006's rollups keep them apart)."""
    received = _time(event.received_at_ms)
    return {
        **_DEFAULTS,
        "event_id": event.event_id, "event_type": event.event_type.value, "event_name": event.event_name,
        "received_at": received,
        "occurred_at": received if event.occurred_at_ms is None else _time(event.occurred_at_ms),
        "ad_id": event.ad_id, "adset_id": event.adset_id, "campaign_id": event.campaign_id,
        "source": event.source, "medium": event.medium,
        "utm_campaign": event.utm_campaign, "utm_term": event.utm_term, "utm_content": event.utm_content,
        "utm_id": event.utm_id,
        **{name: getattr(event, name) for name in PLATFORM_CLICK_IDS},
        "click_id": event.click_id, "cost": event.cost or _ZERO, "cost_currency": event.cost_currency,
        **{name: getattr(event, name) for name in _URL_FIELDS},
        "impressions": 1 if event.event_type is EventType.IMPRESSION else 0,
        "clicks": 1 if event.event_type is EventType.CLICK else 0,
        **{name: getattr(event, name) for name in _INHERITED},
        "visitor_id": event.visitor_id,
        "asn": event.asn,
        "fx_date": fx_day(event),
        "bot_reason": bot_reason,
    }  # fmt: skip


def state_row(
    event_id: str,
    event_type: str,
    state: ConversionState,
    dims: AdDimensions,
    delta: Contribution = NOTHING,
    *,
    state_version: int,
    event: Event | None = None,
) -> Row:
    """A conversion or an attribution move: what it adds to ``dims``' KPIs, and the state it leaves.

    Status, payout and times are the ``event``'s when one caused the row, else the state's; the sub-ids and
    ``external_id`` are the attributed click's (``dims``), the FX day the conversion's own.
    """
    received = _time(event.received_at_ms if event else state.received_at_ms)
    occurred = _time(event.occurred_at_ms) if event and event.occurred_at_ms is not None else received
    row: Row = {
        **_DEFAULTS,
        "event_id": event_id, "event_type": event_type, "event_name": event.event_name if event else "",
        "received_at": received, "occurred_at": occurred,
        "ad_id": dims.ad_id, "adset_id": dims.adset_id, "campaign_id": dims.campaign_id,
        "source": dims.source, "medium": dims.medium,
        "click_id": state.click_id, "network": state.network, "txid": state.txid,
        "conversion_key": state.conversion_key,
        "status": (event.status or state.status).value if event else state.status.value,
        "payout": (event.payout or _ZERO) if event else state.payout, "currency": state.currency,
        "conversions": delta.conversions, "conversions_pending": delta.conversions_pending,
        "revenue": delta.revenue, "revenue_pending": delta.revenue_pending,
        "state_version": state_version,
        **{name: getattr(dims, name) for name in _INHERITED},
        "fx_date": state.fx_date or occurred.date(),
        "bot_click": 1 if state.bot_click else 0,
    }  # fmt: skip
    if event is not None:
        row.update({name: getattr(event, name) for name in _URL_FIELDS})
        row["visitor_id"] = event.visitor_id
    return row
