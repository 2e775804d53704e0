"""Decoding: a Kafka message value -> a validated event (pure; no Kafka, no ClickHouse, no clock)."""

from __future__ import annotations

import orjson
from pydantic import ValidationError

from schemas.events import Event


class InvalidMessage(ValueError):
    """The message cannot become an event: it goes to the dead-letter topic with this reason."""


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
