"""Wire codec of raw pixel hits (:class:`schemas.events.RawHit`): the one module the writer (the API's
publisher) and the readers (the aggregator, the ClickHouse ingest table) use.

A Kafka message of hits is NDJSON, one hit per line, on the events topic, marked by the header
``adpulse-kind: hits`` (never told apart by sniffing its bytes). ClickHouse reads such a message as
it is (``FORMAT JSONEachRow`` into ``hits_in``, migration 0005): the line's keys are ``STRUCTURE``'s.

The query string travels as text: bytes outside ASCII are percent-encoded (``%E9``), which decodes to
the same parameter bytes in Python (``ingest.query``) and in ClickHouse (``decodeURLFormComponent``),
where a JSON ``\\u00e9`` would have become two UTF-8 bytes in ClickHouse.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from schemas.events import RawHit

HEADER = "adpulse-kind"
HITS = b"hits"
HEADERS: list[tuple[str, bytes]] = [(HEADER, HITS)]

# ClickHouse names and types of a hit line (input() structure and the hits_in table).
STRUCTURE: tuple[tuple[str, str], ...] = (
    ("v", "UInt8"),
    ("kind", "String"),
    ("endpoint", "String"),
    ("event_id", "String"),
    ("received_at_ms", "Int64"),
    ("query", "String"),
    ("user_agent", "String"),
    ("client_ip", "String"),
    ("referrer", "String"),
    ("visitor_id", "String"),
    # The API's enrichment (``ingest.enrich``, migration 0007); absent in older lines (defaults).
    ("device", "String"),
    ("os", "String"),
    ("browser", "String"),
    ("country", "String"),
    ("asn", "UInt32"),
)


def is_hits(headers: Iterable[tuple[str, bytes]] | None) -> bool:
    """Whether a Kafka message (by its headers) is a batch of raw hits."""
    return any(name == HEADER and value == HITS for name, value in headers or ())


def query_text(query: bytes) -> str:
    """The raw query string as JSON-safe text: ASCII kept, other bytes percent-encoded."""
    if query.isascii():
        return query.decode("ascii")
    return "".join(chr(b) if b < 0x80 else f"%{b:02X}" for b in query)


def encode(hit: dict[str, Any]) -> bytes:
    """One hit line (no newline)."""
    return orjson.dumps(hit)


def join(lines: Iterable[bytes]) -> bytes:
    return b"\n".join(lines)


def stream(messages: Iterable[bytes]) -> Iterator[bytes]:
    """Messages as one NDJSON body, chunk by chunk (an HTTP client streams it; nothing is joined)."""
    for index, message in enumerate(messages):
        if index:
            yield b"\n"
        yield message


def lines(value: bytes) -> list[bytes]:
    return [line for line in value.split(b"\n") if line]


def decode(value: bytes) -> list[RawHit]:
    """Every hit of a message, validated (the Python reader; the aggregator hands the bytes to ClickHouse)."""
    return [RawHit.model_validate_json(line) for line in lines(value)]


def count(value: bytes) -> int:
    """Hits in a message without decoding it."""
    return value.count(b"\n") + 1 if value else 0
