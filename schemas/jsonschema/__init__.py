"""JSON Schemas of the wire formats, versioned: ``event.v<N>.json`` is generated from ``schemas.events``.

Regenerate with ``adpulse schema`` after changing the model; tests fail when the file and the model differ.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from schemas.events import WIRE_VERSION, Event

HERE = Path(__file__).parent


def event_schema() -> dict[str, Any]:
    schema = Event.model_json_schema(mode="serialization")  # what the wire carries: money as strings
    schema["$id"] = f"https://adpulse.dev/schemas/event.v{WIRE_VERSION}.json"
    schema["title"] = f"adpulse event, wire version {WIRE_VERSION}"
    return schema


def path() -> Path:
    return HERE / f"event.v{WIRE_VERSION}.json"


def write() -> Path:
    target = path()
    target.write_bytes(orjson.dumps(event_schema(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n")
    return target
