"""Do-nothing apps serving the pixel's GIF and headers through granian, for ``make bench``'s ceiling:
what any Python app behind granian can reach on this box, per interface (RSGI, ASGI), beside nginx.

    python -m loadtests.noop rsgi|asgi PORT   (one worker, uvloop, HTTP/1 only, as ``adpulse api``)
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from app.responses import GIF, NO_CACHE

GIF_HEADERS = [("content-type", "image/gif"), *((name.lower(), value) for name, value in NO_CACHE.items())]

_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(k.encode(), v.encode()) for k, v in GIF_HEADERS] + [(b"content-length", str(len(GIF)).encode())],
}
_BODY = {"type": "http.response.body", "body": GIF}


async def asgi(
    scope: MutableMapping[str, Any],
    receive: Callable[[], Awaitable[Any]],
    send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
) -> None:
    if scope["type"] == "http":
        await send(_START)
        await send(_BODY)


async def rsgi(scope: Any, proto: Any) -> None:
    proto.response_bytes(200, GIF_HEADERS, GIF)


def main() -> None:
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces, Loops

    interface, port = sys.argv[1], int(sys.argv[2])
    Granian(f"loadtests.noop:{interface}", address="127.0.0.1", port=port, interface=Interfaces(interface),
            workers=1, loop=Loops.uvloop, http=HTTPModes.http1, websockets=False, log_access=False).serve()  # fmt: skip


if __name__ == "__main__":
    main()
