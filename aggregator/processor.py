"""Decoding: a Kafka message value -> a validated event (pure; no Kafka, no ClickHouse, no clock).

Two kinds of message travel on ``adpulse.events``: an event the API already built (:class:`Event`, one
JSON object), and a batch of raw pixel hits (:class:`RawHit`, NDJSON, marked by a header, see
``schemas.hits``). The aggregator hands hit batches to ClickHouse as they are (``ingest.hitsql``);
decoding them here is the Python reading of the same rules (tests require both to agree, and
``adpulse replay-dlq`` and the tests use it).
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError

from ingest.enrich import Traits
from ingest.errors import FieldError
from ingest.hits import HitContext, browser_event
from ingest.query import parse_params
from schemas import hits as hits_codec
from schemas.events import Event, EventType, RawHit


class InvalidMessage(ValueError):
    """The message cannot become an event: it goes to the dead-letter topic with this reason."""


class RejectedHit(ValueError):
    """A raw hit that breaks an ingest rule: it goes to the rejects topic, like the API's own rejects."""

    def __init__(self, hit: RawHit, error: FieldError) -> None:
        super().__init__(f"{error.field}: {error.reason}")
        self.hit = hit
        self.error = error

    def record(self) -> dict[str, Any]:
        return {
            "event_type": "reject",
            "endpoint": self.hit.endpoint,
            "field": self.error.field,
            "reason": self.error.reason,
            "received_at_ms": self.hit.received_at_ms,
            "query": self.hit.query[:2048],
        }


class DroppedHit(ValueError):
    """A hit the privacy rules say not to record (``dnt=1``)."""


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"


def _from_hit(hit: RawHit, honour_dnt: bool) -> Event:
    try:
        params = parse_params(hit.query.encode("latin-1"))
        if honour_dnt and params.get("dnt") == "1":
            raise DroppedHit("dnt=1")
        traits = Traits(hit.device, hit.os, hit.browser, hit.country, hit.asn)
        ctx = HitContext(hit.received_at_ms, hit.user_agent, hit.client_ip, hit.referrer, hit.visitor_id, traits)
        event = browser_event(EventType.IMPRESSION, params, ctx, minted_id=hit.event_id)
    except FieldError as exc:
        raise RejectedHit(hit, exc) from None
    try:
        return Event.model_validate(event)
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0])
        raise RejectedHit(hit, FieldError(field, exc.errors()[0]["msg"])) from None


Outcome = Event | InvalidMessage | RejectedHit | DroppedHit


def _one(line: bytes, hit: bool, honour_dnt: bool) -> Event:
    try:
        payload = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise InvalidMessage(f"not JSON: {exc}") from None
    try:
        if hit:
            return _from_hit(RawHit.model_validate(payload), honour_dnt)
        return Event.model_validate(payload)
    except ValidationError as exc:
        raise InvalidMessage(_first_error(exc)) from None


def decode_all(value: bytes | None, *, hits: bool = False, honour_dnt: bool = True) -> list[Outcome]:
    """Every event a message carries (one event, or a batch of raw hits: ``hits``, told by the message's
    header, see ``schemas.hits``), or why each line failed."""
    if not value:
        return [InvalidMessage("empty message")]
    lines = value.split(b"\n") if hits else [value]
    outcomes: list[Outcome] = []
    for index, line in enumerate(lines):
        try:
            outcomes.append(_one(line, hits, honour_dnt))
        except InvalidMessage as exc:
            outcomes.append(InvalidMessage(f"line {index}: {exc}") if len(lines) > 1 else exc)
        except (RejectedHit, DroppedHit) as exc:
            outcomes.append(exc)
    return outcomes


def decode(value: bytes | None, *, hits: bool = False, honour_dnt: bool = True) -> Event:
    """The single event of a message, or raise why not."""
    outcomes = decode_all(value, hits=hits, honour_dnt=honour_dnt)
    if len(outcomes) != 1:
        raise InvalidMessage(f"expected one event, the message carries {len(outcomes)}")
    if isinstance(outcomes[0], Exception):
        raise outcomes[0]
    return outcomes[0]


def undecodable_hits(values: list[bytes]) -> dict[int, str]:
    """Which hit messages (by index) Python cannot decode, and why: the slow path, run only after
    ClickHouse refused a batch's hits."""
    found: dict[int, str] = {}
    for index, value in enumerate(values):
        try:
            hits_codec.decode(value)
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            found[index] = f"hit message: {str(exc)[:500]}"
    return found
