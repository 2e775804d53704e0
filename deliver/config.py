"""What to deliver where: per-source postback templates and per-platform targets (read once at start).

``ADPULSE_SOURCE_POSTBACKS`` is JSON keyed by the click's normalised ``utm_source``::

    {"propellerads": {"url": "https://postback.example/?visitor_id={external_id}&payout={payout}",
                      "statuses": ["approved", "reversed"], "status_map": {"reversed": "rejected"},
                      "payout_percent": 80}}

A template naming a macro that does not exist refuses the configuration at start. Platform targets
(Meta, TikTok, GA4) are keyed by source, or by ``campaign:<campaign_id>`` which wins over the source.
Tokens are ``SecretStr``: they come from the environment, and never appear in a repr, a log line or
the delivery log.
"""

from __future__ import annotations

from decimal import Decimal
from string import Formatter
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from schemas.events import ConversionStatus

MACROS: tuple[str, ...] = (
    "click_id", "external_id", "txid", "status", "payout", "currency",
    "sub1", "sub2", "sub3", "sub4", "sub5", "ad_id", "adset_id", "campaign_id",
    "gclid", "fbclid", "ttclid", "msclkid",
)  # fmt: skip


def template_macros(template: str) -> list[str]:
    """The macro names a template uses, or ValueError naming what is wrong with it."""
    try:
        parsed = list(Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"bad template {template!r}: {exc}") from None
    names = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in MACROS:
            raise ValueError(f"unknown macro {{{name}}} in {template!r}; known macros: {', '.join(MACROS)}")
        if spec or conversion:
            raise ValueError(f"macro {{{name}}} takes no format spec or conversion in {template!r}")
        names.append(name)
    return names


class SourcePostback(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str = Field(min_length=8, max_length=4096)
    method: Literal["GET", "POST"] = "GET"
    statuses: list[ConversionStatus] = Field(default_factory=lambda: [ConversionStatus.APPROVED], min_length=1)
    status_map: dict[ConversionStatus, str] = Field(default_factory=dict)
    payout_percent: Decimal = Field(default=Decimal(100), ge=0, le=1000)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"postback URL must start with http:// or https://, got {value[:40]!r}")
        template_macros(value)
        return value


class MetaTarget(BaseModel):
    """Meta Conversions API: one dataset (pixel) and its system-user access token."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pixel_id: str = Field(pattern=r"^[0-9]{5,20}$")
    access_token: SecretStr = Field(min_length=8)
    event_name: str = Field(default="Purchase", min_length=1, max_length=64)
    statuses: list[ConversionStatus] = Field(default_factory=lambda: [ConversionStatus.APPROVED], min_length=1)
    test_event_code: str | None = Field(default=None, max_length=64)


class TikTokTarget(BaseModel):
    """TikTok Events API (web): the pixel code and the Events API access token."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pixel_code: str = Field(pattern=r"^[A-Z0-9]{10,40}$")
    access_token: SecretStr = Field(min_length=8)
    event: str = Field(default="CompletePayment", min_length=1, max_length=64)
    statuses: list[ConversionStatus] = Field(default_factory=lambda: [ConversionStatus.APPROVED], min_length=1)
    test_event_code: str | None = Field(default=None, max_length=64)


class GA4Target(BaseModel):
    """GA4 Measurement Protocol: the web stream's measurement id and an API secret of that stream."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    measurement_id: str = Field(pattern=r"^G-[A-Z0-9]{4,20}$")
    api_secret: SecretStr = Field(min_length=8)
    event_name: str = Field(default="purchase", pattern=r"^[A-Za-z][A-Za-z0-9_]{0,39}$")
    statuses: list[ConversionStatus] = Field(default_factory=lambda: [ConversionStatus.APPROVED], min_length=1)


T = TypeVar("T")


def pick_target(targets: dict[str, T], source: str, campaign_id: str) -> T | None:
    """The target for a conversion: ``campaign:<id>`` first, then the source."""
    if campaign_id and f"campaign:{campaign_id}" in targets:
        return targets[f"campaign:{campaign_id}"]
    return targets.get(source) if source else None
