"""A conversion to deliver, as it travels on ``adpulse.deliveries`` (JSON, one per conversion state).

The aggregator's outbox publishes one for every conversion state it writes (a new status, or a move to
an ad when the click arrived after the conversion). ``click`` carries what the conversion inherits from
its click when the click was in the same batch; otherwise it is ``None`` and the deliverer reads the
click from ClickHouse by ``click_id``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from schemas.events import ConversionStatus, ShortText

WIRE_VERSION = 1


class ClickInfo(BaseModel):
    """What the click knew about the visitor and the traffic source."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    received_at_ms: Annotated[int, Field(ge=0)] = 0
    adset_id: ShortText = ""
    sub1: ShortText = ""
    sub2: ShortText = ""
    sub3: ShortText = ""
    sub4: ShortText = ""
    sub5: ShortText = ""
    external_id: ShortText = ""
    visitor_id: ShortText = ""
    gclid: ShortText = ""
    gbraid: ShortText = ""
    wbraid: ShortText = ""
    fbclid: ShortText = ""
    msclkid: ShortText = ""
    ttclid: ShortText = ""
    user_agent: Annotated[str, Field(max_length=512)] = ""
    client_ip: Annotated[str, Field(max_length=64)] = ""
    page_url: Annotated[str, Field(max_length=2048)] = ""


CLICK_FIELDS: tuple[str, ...] = tuple(name for name in ClickInfo.model_fields if name != "received_at_ms")


class Conversion(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    v: int = WIRE_VERSION
    network: ShortText
    conversion_key: ShortText
    txid: ShortText = ""
    click_id: ShortText = ""
    status: ConversionStatus
    payout: Decimal = Decimal(0)
    currency: ShortText = ""
    ad_id: ShortText = ""
    campaign_id: ShortText = ""
    source: ShortText = ""
    medium: ShortText = ""
    converted_at_ms: Annotated[int, Field(ge=0)]
    state_version: Annotated[int, Field(ge=1)]
    click: ClickInfo | None = None

    @property
    def kafka_key(self) -> bytes:
        """One conversion's states stay in order on one partition."""
        return f"{self.network}\x1f{self.conversion_key}".encode()
