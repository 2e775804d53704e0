"""The client's address, one rule for every endpoint (pixel, beacon, click, postback).

Behind a trusted proxy (``ADPULSE_TRUST_FORWARDED``) it is the first entry of ``X-Forwarded-For``;
otherwise, or when that header is absent or empty, the address of the connection's peer. Never trust
the header without the setting: any client can send it.
"""

from __future__ import annotations


def client_ip(forwarded: str | None, peer: str, *, trust_forwarded: bool) -> str:
    if trust_forwarded and forwarded:
        first = forwarded.split(",", 1)[0].strip()
        if first:
            return first
    return peer


def peer_host(address: str) -> str:
    """The host of a ``host:port`` peer address as an RSGI server gives it (``[v6]:port`` for IPv6)."""
    if address.startswith("["):
        return address[1 : address.find("]")] if "]" in address else address
    host, sep, port = address.rpartition(":")
    return host if sep and port.isdigit() and ":" not in host else address
