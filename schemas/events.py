"""The event as it travels on Kafka (topic ``adpulse.events``), wire version 1.

One JSON object per message (orjson), produced by ``ingest`` and consumed by ``aggregator``; its JSON
Schema is exported to ``schemas/jsonschema/event.v1.json`` (``adpulse schema``) and checked in tests.
Money travels as decimal strings, never floats; times are UTC epoch milliseconds.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

WIRE_VERSION = 1

Money = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6)]
ShortText = Annotated[str, Field(max_length=256)]
UrlText = Annotated[str, Field(max_length=2048)]
CurrencyCode = Annotated[str, Field(pattern=r"^([A-Z]{3})?$")]
# Enrichment of a browser request (``ingest.enrich``): device class, ua-parser's OS and browser families,
# ISO 3166-1 alpha-2 country and the address's ASN; empty (0) when unknown or server-side.
DeviceClass = Literal["", "desktop", "mobile", "tablet", "other"]
Family = Annotated[str, Field(max_length=64)]
CountryCode = Annotated[str, Field(pattern=r"^([A-Z]{2})?$")]
Asn = Annotated[int, Field(ge=0, le=4_294_967_295)]
TRAITS: tuple[str, ...] = ("device", "os", "browser", "country")

SUB_IDS: tuple[str, ...] = ("sub1", "sub2", "sub3", "sub4", "sub5")

# Advertising platforms' own click ids, carried from the landing URL or the click into the event.
PLATFORM_CLICK_IDS: tuple[str, ...] = (
    "gclid", "gbraid", "wbraid", "fbclid", "msclkid", "ttclid", "twclid", "li_fat_id", "epik",
)  # fmt: skip


class EventType(StrEnum):
    IMPRESSION = "impression"
    CLICK = "click"
    PAGE_VIEW = "page_view"
    CONVERSION = "conversion"
    CUSTOM = "custom"


class ConversionStatus(StrEnum):
    APPROVED = "approved"
    PENDING = "pending"
    REJECTED = "rejected"
    REVERSED = "reversed"


class RawHit(BaseModel):
    """A pixel hit as the API forwards it: the raw query string and request context, unparsed.

    The API answers the GIF without parsing (the hot path); ClickHouse turns the hit into an event
    with the same ingest rules (``ingest.hitsql``), or records it in ``hit_rejects`` with the reason.
    Its wire codec is ``schemas.hits``. ``event_id`` is final: derived from the sender's ``eid`` when
    the query has one (``ingest.rawhit``), else a fresh UUIDv7.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    v: int = WIRE_VERSION
    kind: Literal["hit"]
    endpoint: Literal["/i"]
    event_id: Annotated[str, Field(min_length=32, max_length=36)]
    received_at_ms: Annotated[int, Field(ge=0)]
    query: Annotated[str, Field(max_length=8192)]
    user_agent: Annotated[str, Field(max_length=512)] = ""
    client_ip: Annotated[str, Field(max_length=64)] = ""
    referrer: Annotated[str, Field(max_length=2048)] = ""
    # The tracking domain's first-party visitor cookie (adpulse_vid), when the request carried one.
    visitor_id: Annotated[str, Field(max_length=64)] = ""
    # The API's enrichment of the request (``ingest.enrich``); ClickHouse copies it into the event.
    device: DeviceClass = ""
    os: Family = ""
    browser: Family = ""
    country: CountryCode = ""
    asn: Asn = 0


class Event(BaseModel):
    """An accepted event. ``event_id`` is stable: a resend of the same event carries the same id."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    v: int = WIRE_VERSION
    event_id: Annotated[str, Field(min_length=32, max_length=36)]
    event_type: EventType
    event_name: ShortText = ""
    received_at_ms: Annotated[int, Field(ge=0)]
    occurred_at_ms: Annotated[int, Field(ge=0)] | None = None

    # Ad dimensions: the ad is ad_id else utm_content, the campaign campaign_id else utm_campaign.
    ad_id: ShortText = ""
    adset_id: ShortText = ""
    campaign_id: ShortText = ""
    source: ShortText = ""
    medium: ShortText = ""
    utm_campaign: ShortText = ""
    utm_term: ShortText = ""
    utm_content: ShortText = ""
    utm_id: ShortText = ""

    gclid: ShortText = ""
    gbraid: ShortText = ""
    wbraid: ShortText = ""
    fbclid: ShortText = ""
    msclkid: ShortText = ""
    ttclid: ShortText = ""
    twclid: ShortText = ""
    li_fat_id: ShortText = ""
    epik: ShortText = ""

    # Sub-ids a traffic source passes (zone, placement, site, creative...) and the source's own click id
    # (filled by its macro on /c); conversions inherit them from their click like the ad dimensions.
    sub1: ShortText = ""
    sub2: ShortText = ""
    sub3: ShortText = ""
    sub4: ShortText = ""
    sub5: ShortText = ""
    external_id: ShortText = ""
    # First-party visitor id (the tracking domain's cookie or the snippet's id); empty when unknown.
    visitor_id: ShortText = ""

    click_id: ShortText = ""
    cost: Money | None = None
    cost_currency: CurrencyCode = ""

    network: ShortText = ""
    txid: ShortText = ""
    status: ConversionStatus | None = None
    payout: Money | None = None
    currency: CurrencyCode = ""

    url: UrlText = ""  # click: the landing page redirected to
    page_url: UrlText = ""
    referrer: UrlText = ""
    user_agent: Annotated[str, Field(max_length=512)] = ""
    client_ip: Annotated[str, Field(max_length=64)] = ""  # truncated (IPv4 /24, IPv6 /48) at ingest
    consent: bool | None = None  # the page's consent switch; None when the page did not say
    # Enrichment (``ingest.enrich``), set by the API on browser events; conversions inherit the click's.
    device: DeviceClass = ""
    os: Family = ""
    browser: Family = ""
    country: CountryCode = ""
    asn: Asn = 0

    @property
    def conversion_key(self) -> str:
        """A conversion's identity within its network: the txid, else one conversion per click."""
        return self.txid or f"click:{self.click_id}"
