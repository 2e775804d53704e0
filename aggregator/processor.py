"""Decoding: a Kafka message value -> a validated event (pure; no Kafka, no ClickHouse, no clock).

Two kinds of message travel on ``adpulse.events``: events the API already built (:class:`Event`), and
raw pixel hits (:class:`RawHit`) that the API forwarded unparsed, which become events here through the
same ingest rules as every other endpoint.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError

from ingest.errors import FieldError
from ingest.hits import HitContext, browser_event
from ingest.query import parse_params
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
        ctx = HitContext(hit.received_at_ms, hit.user_agent, hit.client_ip, hit.referrer)
        event = browser_event(EventType.IMPRESSION, params, ctx, minted_id=hit.event_id)
    except FieldError as exc:
        raise RejectedHit(hit, exc) from None
    try:
        return Event.model_validate(event)
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0])
        raise RejectedHit(hit, FieldError(field, exc.errors()[0]["msg"])) from None


def decode(value: bytes | None, *, honour_dnt: bool = True) -> Event:
    if value is None:
        raise InvalidMessage("empty message")
    try:
        payload = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise InvalidMessage(f"not JSON: {exc}") from None
    try:
        if isinstance(payload, dict) and payload.get("kind") == "hit":
            return _from_hit(RawHit.model_validate(payload), honour_dnt)
        return Event.model_validate(payload)
    except ValidationError as exc:
        raise InvalidMessage(_first_error(exc)) from None
