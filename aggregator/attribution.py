"""Conversions: last-click attribution and the status lifecycle, as pure functions over known state.

A conversion's *contribution* to the KPIs depends on its status: approved counts in ``conversions`` and
``revenue``, pending in ``conversions_pending`` and ``revenue_pending``, rejected and reversed count
nothing. Each conversion event writes the *difference* between the new contribution and the previous
one, so a pending -> approved -> reversed history nets out exactly, and the history stays in ``events``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from schemas.events import ConversionStatus, Event

_ZERO = Decimal(0)
_FINAL = (ConversionStatus.REJECTED, ConversionStatus.REVERSED, ConversionStatus.APPROVED)


@dataclass(frozen=True)
class AdDimensions:
    """What a conversion inherits from the click that earned it: the ad dimensions, the sub-ids, the
    traffic source's own click id (``external_id``) and the visitor's traits (``ingest.enrich``)."""

    ad_id: str
    campaign_id: str
    source: str
    medium: str
    adset_id: str = ""
    sub1: str = ""
    sub2: str = ""
    sub3: str = ""
    sub4: str = ""
    sub5: str = ""
    external_id: str = ""
    device: str = ""
    os: str = ""
    browser: str = ""
    country: str = ""

    @classmethod
    def of(cls, event: Event) -> AdDimensions:
        return cls(
            event.ad_id, event.campaign_id, event.source, event.medium, event.adset_id,
            event.sub1, event.sub2, event.sub3, event.sub4, event.sub5, event.external_id,
            event.device, event.os, event.browser, event.country,
        )  # fmt: skip


UNATTRIBUTED = AdDimensions("", "", "", "")


@dataclass(frozen=True)
class Click:
    dims: AdDimensions
    received_at_ms: int
    bot: bool = False  # the click is tagged as a bot's (issue 11)


@dataclass(frozen=True)
class Contribution:
    conversions: int = 0
    conversions_pending: int = 0
    revenue: Decimal = _ZERO
    revenue_pending: Decimal = _ZERO

    def minus(self, other: Contribution) -> Contribution:
        return Contribution(
            self.conversions - other.conversions,
            self.conversions_pending - other.conversions_pending,
            self.revenue - other.revenue,
            self.revenue_pending - other.revenue_pending,
        )

    def negated(self) -> Contribution:
        return Contribution().minus(self)


NOTHING = Contribution()


@dataclass(frozen=True)
class ConversionState:
    """The latest state of one conversion (network, conversion_key), as stored in ``conversions``."""

    network: str
    conversion_key: str
    txid: str
    click_id: str
    status: ConversionStatus
    payout: Decimal
    currency: str
    dims: AdDimensions
    received_at_ms: int
    version: int
    # The day whose FX rate converts this conversion's money: its first event's UTC day, kept through
    # status changes and attribution moves so that its signed rows always net out in one currency and day.
    fx_date: date | None = None
    # Attributed to a bot-tagged click (issue 11): still counts, and in ``bot_conversions`` too. Set when
    # the conversion is attributed, kept through status changes, so its signed rows net out.
    bot_click: bool = False

    @property
    def attributed(self) -> bool:
        return self.dims != UNATTRIBUTED

    def contribution(self) -> Contribution:
        if self.status is ConversionStatus.APPROVED:
            return Contribution(conversions=1, revenue=self.payout)
        if self.status is ConversionStatus.PENDING:
            return Contribution(conversions_pending=1, revenue_pending=self.payout)
        return NOTHING

    def moved_to(self, dims: AdDimensions, bot_click: bool = False) -> ConversionState:
        return replace(self, dims=dims, version=self.version + 1, bot_click=bot_click)


def applies(previous: ConversionStatus | None, new: ConversionStatus) -> bool:
    """Whether a status update changes the state: a late ``pending`` never undoes a decision."""
    return not (new is ConversionStatus.PENDING and previous in _FINAL)


def attribute(
    click: Click | None, conversion_at_ms: int, window_ms: int, current: AdDimensions = UNATTRIBUTED
) -> AdDimensions:
    """Last-click attribution: the click's ad when the click is known and within the window.

    A conversion already attributed keeps its ad (the click id names one click). The window is measured
    either way round: a click may reach us after the conversion that followed it.
    """
    if current != UNATTRIBUTED:
        return current
    if click is None or abs(conversion_at_ms - click.received_at_ms) > window_ms:
        return UNATTRIBUTED
    return click.dims
