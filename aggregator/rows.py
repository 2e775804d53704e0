"""Rows of the ``events`` table (migrations 0001-0003), in ``COLUMNS`` order."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from aggregator.attribution import NOTHING, AdDimensions, Contribution, ConversionState
from schemas.events import PLATFORM_CLICK_IDS, SUB_IDS, Event, EventType

COLUMNS: tuple[str, ...] = (
    "event_id", "event_type", "event_name", "received_at", "occurred_at",
    "ad_id", "adset_id", "campaign_id", "source", "medium",
    "utm_campaign", "utm_term", "utm_content", "utm_id", *PLATFORM_CLICK_IDS,
    "click_id", "network", "txid", "conversion_key", "status",
    "cost", "cost_currency", "payout", "currency",
    "url", "page_url", "referrer", "user_agent", "client_ip", "consent",
    "impressions", "clicks", "conversions", "conversions_pending", "revenue", "revenue_pending",
    "state_version",
    *SUB_IDS, "external_id", "visitor_id", "fx_date",
)  # fmt: skip

_ZERO = Decimal(0)
_NO_CLICK_IDS = [""] * len(PLATFORM_CLICK_IDS)


def _time(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def fx_day(event: Event) -> date:
    """The UTC day whose FX rate converts an event's money: the day it occurred (else was received)."""
    return _time(event.received_at_ms if event.occurred_at_ms is None else event.occurred_at_ms).date()


def event_row(event: Event) -> list[Any]:
    """An impression, click, page view or custom event: counts itself and its cost."""
    received = _time(event.received_at_ms)
    subs = [getattr(event, name) for name in SUB_IDS]
    return [
        event.event_id, event.event_type.value, event.event_name, received,
        received if event.occurred_at_ms is None else _time(event.occurred_at_ms),
        event.ad_id, event.adset_id, event.campaign_id, event.source, event.medium,
        event.utm_campaign, event.utm_term, event.utm_content, event.utm_id,
        *(getattr(event, name) for name in PLATFORM_CLICK_IDS),
        event.click_id, "", "", "", "",
        event.cost or _ZERO, event.cost_currency, _ZERO, "",
        event.url, event.page_url, event.referrer, event.user_agent, event.client_ip, event.consent,
        1 if event.event_type is EventType.IMPRESSION else 0,
        1 if event.event_type is EventType.CLICK else 0,
        0, 0, _ZERO, _ZERO, 0,
        *subs, event.external_id, event.visitor_id, fx_day(event),
    ]  # fmt: skip


def state_row(
    event_id: str,
    event_type: str,
    state: ConversionState,
    dims: AdDimensions,
    delta: Contribution = NOTHING,
    *,
    state_version: int,
    event: Event | None = None,
) -> list[Any]:
    """A conversion or an attribution move: what it adds to ``dims``' KPIs, and the state it leaves.

    Status, payout and times are the ``event``'s when one caused the row, else the state's; the sub-ids and
    ``external_id`` are the attributed click's (``dims``), the FX day the conversion's own.
    """
    received = _time(event.received_at_ms if event else state.received_at_ms)
    occurred = _time(event.occurred_at_ms) if event and event.occurred_at_ms is not None else received
    return [
        event_id, event_type, event.event_name if event else "", received, occurred,
        dims.ad_id, dims.adset_id, dims.campaign_id, dims.source, dims.medium,
        "", "", "", "", *_NO_CLICK_IDS,
        state.click_id, state.network, state.txid, state.conversion_key,
        (event.status or state.status).value if event else state.status.value,
        _ZERO, "", (event.payout or _ZERO) if event else state.payout, state.currency,
        *((event.url, event.page_url, event.referrer, event.user_agent, event.client_ip, event.consent)
          if event else ("", "", "", "", "", None)),
        0, 0, delta.conversions, delta.conversions_pending, delta.revenue, delta.revenue_pending,
        state_version,
        dims.sub1, dims.sub2, dims.sub3, dims.sub4, dims.sub5, dims.external_id,
        event.visitor_id if event else "", state.fx_date or occurred.date(),
    ]  # fmt: skip
