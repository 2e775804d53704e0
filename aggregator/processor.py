"""Pure transform: a Kafka message value -> a validated event -> an ``events`` table row.

No Kafka, no ClickHouse, no clock: tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
from pydantic import ValidationError

from schemas.events import ConversionStatus, Event, EventType

# Column order of the rows this module builds (the ``events`` table, migration 0001).
COLUMNS: tuple[str, ...] = (
    "event_id", "event_type", "received_at", "ad_id", "campaign_id", "source", "medium",
    "utm_campaign", "utm_term", "utm_content", "utm_id", "click_id", "cost", "payout", "currency",
    "txid", "status", "url", "impressions", "clicks", "conversions", "revenue",
)  # fmt: skip

_ZERO = Decimal(0)
_COUNTED_STATUSES = (ConversionStatus.APPROVED, ConversionStatus.PENDING)


class InvalidMessage(ValueError):
    """The message cannot become an event: it goes to the dead-letter topic with this reason."""


@dataclass(frozen=True)
class ClickDimensions:
    """What a conversion inherits from the click that earned it."""

    ad_id: str
    campaign_id: str
    source: str
    medium: str

    @classmethod
    def of(cls, click: Event) -> ClickDimensions:
        return cls(click.ad_id, click.campaign_id, click.source, click.medium)


def decode(value: bytes | None) -> Event:
    if value is None:
        raise InvalidMessage("empty message")
    try:
        return Event.model_validate(orjson.loads(value))
    except orjson.JSONDecodeError as exc:
        raise InvalidMessage(f"not JSON: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise InvalidMessage(f"{field}: {first['msg']}") from None


def to_row(event: Event, click: ClickDimensions | None = None) -> list[Any]:
    """The ``events`` row of ``event``; a conversion takes its ad dimensions from ``click``."""
    impressions = clicks = conversions = 0
    revenue = _ZERO
    ad_id, campaign_id, source, medium = event.ad_id, event.campaign_id, event.source, event.medium
    if event.event_type is EventType.IMPRESSION:
        impressions = 1
    elif event.event_type is EventType.CLICK:
        clicks = 1
    elif event.event_type is EventType.CONVERSION:
        if click is not None:
            ad_id, campaign_id, source, medium = click.ad_id, click.campaign_id, click.source, click.medium
        if event.status in _COUNTED_STATUSES:
            conversions = 1
            revenue = event.payout or _ZERO
    return [
        event.event_id,
        event.event_type.value,
        datetime.fromtimestamp(event.received_at_ms / 1000, tz=UTC),
        ad_id,
        campaign_id,
        source,
        medium,
        event.utm_campaign,
        event.utm_term,
        event.utm_content,
        event.utm_id,
        event.click_id,
        event.cost or _ZERO,
        event.payout or _ZERO,
        event.currency,
        event.txid,
        event.status.value if event.status else "",
        event.url,
        impressions,
        clicks,
        conversions,
        revenue,
    ]
