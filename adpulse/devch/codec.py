"""Request bodies as ``Content-Encoding`` says: identity, gzip, deflate, lz4 (frame format), zstd.

clickhouse-connect compresses each insert block on its own, so an lz4 or zstd body is a sequence of
frames (one per block of about 1-2 MB); every frame is decoded, and a body cut inside one is refused.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import lz4.frame
import zstandard

from adpulse.devch.errors import BadRequest

_CHUNK = 1 << 20
_DECODERS: dict[str, Callable[[], Any]] = {
    "gzip": lambda: zlib.decompressobj(wbits=31),
    "x-gzip": lambda: zlib.decompressobj(wbits=31),
    "deflate": lambda: zlib.decompressobj(wbits=15),
    "lz4": lz4.frame.LZ4FrameDecompressor,
    "zstd": lambda: zstandard.ZstdDecompressor().decompressobj(),
}


def too_large(limit: int) -> BadRequest:
    return BadRequest(f"Request body larger than {limit} bytes (limit of this development endpoint)", 307, 413)


def decode(body: bytes, encoding: str, limit: int) -> bytes:
    """The body decoded, at most ``limit`` bytes (else 413); an unknown encoding is 415, a bad body 400."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    new = _DECODERS.get(encoding)
    if new is None:
        raise BadRequest(f"Unsupported Content-Encoding {encoding!r} (supported: gzip, deflate, lz4, zstd)", 89, 415)
    out = bytearray()
    decoder, fresh = new(), True
    try:
        for start in range(0, len(body), _CHUNK):
            pending = body[start : start + _CHUNK]
            while pending:
                out += decoder.decompress(pending)
                fresh = False
                if len(out) > limit:
                    raise too_large(limit)
                if decoder.eof:  # end of a frame (member): what follows starts the next one
                    pending, decoder, fresh = decoder.unused_data, new(), True
                else:
                    pending = b""
    except (zlib.error, zstandard.ZstdError, RuntimeError) as exc:
        raise BadRequest(f"Cannot decompress the request body ({encoding}): {exc}", 271, 400) from exc
    if not fresh:
        raise BadRequest(f"Cannot decompress the request body ({encoding}): it ends inside a frame", 271, 400)
    return bytes(out)
