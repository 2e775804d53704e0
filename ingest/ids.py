"""Stable event ids: UUIDv7 minted at ingest, or derived (UUIDv5) from the sender's own id so a
resend of the same hit maps to the same event id."""

from __future__ import annotations

import uuid

import uuid_utils

# Fixed namespace for adpulse's derived ids. Never change it: ids already stored depend on it.
NAMESPACE = uuid.UUID("5d0f4c1e-7a0b-4b5e-9f0e-6a1d2c3b4a59")


def new_id() -> str:
    """A fresh, time-ordered UUIDv7."""
    return str(uuid_utils.uuid7())


def derived_id(*parts: str) -> str:
    """A UUIDv5 from the sender's identifiers (event type, eid or network + txid, ...)."""
    return str(uuid.uuid5(NAMESPACE, "\x1f".join(parts)))


def new_click_id() -> str:
    """Click ids go into landing-page URLs: 32 lowercase hex characters of a UUIDv7."""
    return uuid_utils.uuid7().hex
