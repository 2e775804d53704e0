"""Rows of the ``events`` table (migration 0001), in column order."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aggregator.attribution import NOTHING, AdDimensions, Contribution, ConversionState
from schemas.events import Event, EventType

COLUMNS: tuple[str, ...] = (
    "event_id", "event_type", "received_at", "ad_id", "campaign_id", "source", "medium",
    "utm_campaign", "utm_term", "utm_content", "utm_id", "click_id", "network", "txid", "conversion_key",
    "status", "cost", "payout", "currency", "url",
    "impressions", "clicks", "conversions", "conversions_pending", "revenue", "revenue_pending",
    "state_version",
)  # fmt: skip

_ZERO = Decimal(0)


def _time(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def event_row(event: Event) -> list[Any]:
    """An impression, click or page view: counts itself and its cost."""
    return [
        event.event_id, event.event_type.value, _time(event.received_at_ms),
        event.ad_id, event.campaign_id, event.source, event.medium,
        event.utm_campaign, event.utm_term, event.utm_content, event.utm_id,
        event.click_id, "", "", "", "", event.cost or _ZERO, _ZERO, event.currency, event.url,
        1 if event.event_type is EventType.IMPRESSION else 0,
        1 if event.event_type is EventType.CLICK else 0,
        0, 0, _ZERO, _ZERO, 0,
    ]  # fmt: skip


def state_row(
    event_id: str,
    event_type: str,
    state: ConversionState,
    dims: AdDimensions,
    delta: Contribution = NOTHING,
    *,
    state_version: int,
    received_at_ms: int | None = None,
    status: str | None = None,
    payout: Decimal | None = None,
) -> list[Any]:
    """A conversion or an attribution move: what it adds to ``dims``' KPIs, and the state it leaves.

    ``received_at_ms``, ``status`` and ``payout`` default to the state's own.
    """
    return [
        event_id, event_type, _time(state.received_at_ms if received_at_ms is None else received_at_ms),
        dims.ad_id, dims.campaign_id, dims.source, dims.medium,
        "", "", "", "",
        state.click_id, state.network, state.txid, state.conversion_key,
        state.status.value if status is None else status, _ZERO,
        state.payout if payout is None else payout, state.currency, "",
        0, 0, delta.conversions, delta.conversions_pending, delta.revenue, delta.revenue_pending,
        state_version,
    ]  # fmt: skip
