"""The request side of bulk imports (``POST /v1/costs``, ``POST /v1/fx-rates``): the caller's key, then
a non-empty JSON array of at most ``limit`` items; anything else is the answer to send back."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.responses import JSONResponse

from app.batch import authorised
from app.responses import rejected, unauthorized
from ingest.errors import FieldError


async def import_items(
    request: Request, endpoint: str, keys: list[str], *, limit: int, unit: str
) -> list[Any] | Response:
    """The items to import, or the error answer: 401 without a valid key, 422 naming ``body`` for what is
    not a non-empty JSON array, 413 for more than ``limit`` items (``unit`` names them in the reason)."""
    if not authorised(request, keys):
        return unauthorized()
    try:
        items = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return rejected(endpoint, FieldError("body", "not valid JSON"))
    if not isinstance(items, list) or not items:
        return rejected(endpoint, FieldError("body", "expected a non-empty JSON array"))
    if len(items) > limit:
        return JSONResponse({"error": "too_large", "field": "body", "reason": f"more than {limit} {unit}"}, 413)
    return items
