"""The aggregator's outbox: which rows it writes become conversions to deliver onward.

Every row that leaves a conversion state (``state_version > 0``: a conversion whose status applied,
or the "to" half of an attribution move when the click arrived after its conversion) becomes one
:class:`deliver.message.Conversion` on ``adpulse.deliveries``. Rows that change nothing (a late
``pending``, the "from" half of a move) do not.

Published *after the rows are built and before they are inserted*, with acks=all: a crash after
publishing and before the insert re-reads the same messages, rebuilds the same rows and publishes
them again (the deliverer's idempotency keys make that harmless); publishing after the insert would
lose the conversions of a crash between the two, since the rebuilt batch then sees them as
duplicates and writes (and publishes) nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from aiokafka import AIOKafkaProducer

from aggregator.rows import Row
from deliver.message import CLICK_FIELDS, ClickInfo, Conversion
from schemas.events import Event, EventType


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def _click_info(event: Event) -> ClickInfo:
    fields = {name: getattr(event, name) for name in CLICK_FIELDS}
    fields["page_url"] = event.url or event.page_url  # a click's landing page
    return ClickInfo(received_at_ms=event.received_at_ms, **fields)


def conversions(events: Sequence[Event], rows: Sequence[Row]) -> list[Conversion]:
    """The conversion states among ``rows``, with their click when ``events`` (the batch) holds it."""
    clicks: dict[str, ClickInfo] = {}
    for event in events:
        if event.event_type is EventType.CLICK and event.click_id and event.click_id not in clicks:
            clicks[event.click_id] = _click_info(event)
    out = []
    for row in rows:
        version = int(row["state_version"])
        if version <= 0:
            continue
        click_id = row["click_id"]
        out.append(
            Conversion(
                network=row["network"], conversion_key=row["conversion_key"], txid=row["txid"],
                click_id=click_id, status=row["status"], payout=row["payout"],
                currency=row["currency"], ad_id=row["ad_id"], campaign_id=row["campaign_id"],
                source=row["source"], medium=row["medium"],
                converted_at_ms=_ms(row["occurred_at"]), state_version=version,
                click=clicks.get(click_id) if click_id else None,
            )
        )  # fmt: skip
    return out


async def publish(producer: AIOKafkaProducer, topic: str, events: Sequence[Event], rows: Sequence[Row]) -> int:
    """Publish the batch's conversion states and wait for every ack; returns how many."""
    found = conversions(events, rows)
    futures = [await producer.send(topic, item.model_dump_json().encode(), key=item.kafka_key) for item in found]
    for future in futures:
        await future
    return len(found)
