import logging

import httpx
from fastapi import FastAPI

from adpulse.logs import REQUEST_ID
from app.request_id import RequestIdMiddleware, request_id


def make_app(seen: list[str | None]) -> RequestIdMiddleware:
    app = FastAPI()

    @app.get("/work")
    async def work() -> dict[str, str | None]:
        seen.append(REQUEST_ID.get())
        logging.getLogger("adpulse.test").warning("working")
        return {"rid": REQUEST_ID.get()}

    return RequestIdMiddleware(app)


async def test_supplied_id_is_used_logged_and_echoed():
    seen: list[str | None] = []
    transport = httpx.ASGITransport(app=make_app(seen))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/work", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert response.json() == {"rid": "abc-123"} and seen == ["abc-123"]
    assert REQUEST_ID.get() is None  # reset after the request


async def test_missing_or_unsafe_id_is_replaced_by_a_new_one():
    seen: list[str | None] = []
    transport = httpx.ASGITransport(app=make_app(seen))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        first = await client.get("/work")
        second = await client.get("/work", headers={"X-Request-ID": "bad id\twith spaces"})
        long = await client.get("/work", headers={"X-Request-ID": "a" * 129})
    ids = [r.headers["x-request-id"] for r in (first, second, long)]
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    assert len(set(ids)) == 3 and seen == ids


def test_request_id_parsing():
    assert request_id([(b"x-request-id", b"proxy:1.2_x-Y")]) == "proxy:1.2_x-Y"
    assert len(request_id([(b"x-request-id", b"")])) == 32
    assert len(request_id([])) == 32
