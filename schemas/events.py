"""The event as it travels on Kafka (topic ``adpulse.events``), version 1.

One JSON object per message (orjson), produced by ``ingest`` and consumed by ``aggregator``.
Money travels as decimal strings, never floats; times are UTC epoch milliseconds.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

WIRE_VERSION = 1

Money = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6)]
ShortText = Annotated[str, Field(max_length=256)]


class EventType(StrEnum):
    IMPRESSION = "impression"
    CLICK = "click"
    CONVERSION = "conversion"
    PAGE_VIEW = "page_view"


class ConversionStatus(StrEnum):
    APPROVED = "approved"
    PENDING = "pending"
    REJECTED = "rejected"
    REVERSED = "reversed"


class Event(BaseModel):
    """An accepted event. ``event_id`` is stable: a resend of the same event carries the same id."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    v: int = WIRE_VERSION
    event_id: Annotated[str, Field(min_length=32, max_length=36)]
    event_type: EventType
    received_at_ms: Annotated[int, Field(ge=0)]

    ad_id: ShortText = ""
    campaign_id: ShortText = ""
    source: ShortText = ""
    medium: ShortText = ""
    utm_campaign: ShortText = ""
    utm_term: ShortText = ""
    utm_content: ShortText = ""
    utm_id: ShortText = ""

    click_id: ShortText = ""
    cost: Money | None = None

    payout: Money | None = None
    currency: Annotated[str, Field(max_length=3)] = ""
    network: ShortText = ""
    txid: ShortText = ""
    status: ConversionStatus | None = None

    url: Annotated[str, Field(max_length=2048)] = ""

    @property
    def conversion_key(self) -> str:
        """A conversion's identity within its network: the txid, else one conversion per click."""
        return self.txid or f"click:{self.click_id}"
