"""Which written rows become conversions to deliver: statuses that applied and late-attribution moves."""

from __future__ import annotations

from decimal import Decimal

import orjson

from aggregator.attribution import AdDimensions, ConversionState
from aggregator.outbox import conversions
from aggregator.processor import decode
from aggregator.transform import Known, build
from schemas.events import ConversionStatus, Event
from tests import factories

T0 = 1_767_225_600_000
WINDOW = 30 * 86_400_000
DIMS = {"ad_id": "ad1", "campaign_id": "camp1", "utm_source": "pop", "utm_medium": "cpc"}


def click(**extra: str) -> Event:
    event = factories.click({**DIMS}, T0, "k1", "https://shop.example.com/lp")
    event.update(extra)
    return decode(orjson.dumps(event))


def conv(t: int = T0 + 1000, **query: str) -> Event:
    return decode(orjson.dumps(factories.conversion({"click_id": "k1", "txid": "T1", **query}, t)))


def test_a_conversion_with_its_click_in_the_batch_carries_the_click() -> None:
    events = [click(sub1="zone9", external_id="ext-1", fbclid="FbC1d"), conv(payout="5", currency="USD")]
    out = conversions(events, build(events, Known(), WINDOW).rows)
    assert len(out) == 1
    item = out[0]
    assert (item.source, item.ad_id, item.status, item.payout, item.txid) == (
        "pop",
        "ad1",
        "approved",
        Decimal(5),
        "T1",
    )
    assert item.click is not None
    assert (item.click.sub1, item.click.external_id, item.click.fbclid) == ("zone9", "ext-1", "FbC1d")
    assert item.click.received_at_ms == T0 and item.click.page_url == "https://shop.example.com/lp"
    assert item.converted_at_ms == T0 + 1000 and item.state_version == 1


def test_status_changes_each_publish_and_a_late_pending_does_not() -> None:
    events = [click(), conv(status="approved"), conv(status="reversed"), conv(status="pending")]
    out = conversions(events, build(events, Known(), WINDOW).rows)
    assert [(c.status.value, c.state_version) for c in out] == [("approved", 1), ("reversed", 2)]


def test_a_late_click_publishes_the_conversion_it_attributes() -> None:
    first = [conv(status="approved")]
    early = conversions(first, build(first, Known(), WINDOW).rows)
    assert [(c.source, c.click) for c in early] == [("", None)]  # nothing to deliver to yet
    waiting = ConversionState(
        network="default", conversion_key="T1", txid="T1", click_id="k1", status=ConversionStatus.APPROVED,
        payout=Decimal(5), currency="USD", dims=AdDimensions("", "", "", ""), received_at_ms=T0 + 1000, version=1,
    )  # fmt: skip
    second = [click(sub1="z2")]
    late = conversions(second, build(second, Known(waiting=[waiting]), WINDOW).rows)
    assert len(late) == 1
    assert (late[0].source, late[0].status.value, late[0].state_version) == ("pop", "approved", 2)
    assert late[0].click is not None and late[0].click.sub1 == "z2"


def test_non_conversion_rows_publish_nothing() -> None:
    events = [click()]
    assert conversions(events, build(events, Known(), WINDOW).rows) == []
