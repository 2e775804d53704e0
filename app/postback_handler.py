"""A conversion postback, framework-free: what was sent -> the answer. Served both by the RSGI front
door (``app.fastpostback``, the hot path) and by the documented FastAPI routes (``app.postback``).

Order of checks: unknown network (404), unreadable query or body (422), authenticity (403: source
address, token, signature), bad or unresolved values (422 naming the field), then Kafka (200 only after
acks=all, 503 + Retry-After when it does not acknowledge). A resend answers 200 ``"duplicate"``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from app.inbound import parse_body
from app.responses import RETRY_AFTER_S
from app.services import Services
from ingest.errors import FieldError
from ingest.hits import HitContext, conversion
from ingest.metrics import POSTBACK_AUTH_FAILURES, REQUESTS_REJECTED
from ingest.networks import DEFAULT_NETWORK, NetworkConfig
from ingest.publisher import PublishUnavailable
from ingest.query import parse_params

log = logging.getLogger("app.postback")
UNAVAILABLE = {"error": "unavailable", "reason": "event store unavailable, retry later"}


@dataclass(frozen=True)
class Postback:
    network: str | None  # from the path; None: the query's ``network`` parameter, else "default"
    path_token: str | None
    raw_query: bytes
    body: bytes | None  # None for GET
    content_type: str
    signature: str | None  # the X-Adpulse-Signature header
    ip: str  # app.client_ip
    # Request headers (lower-case names): a preset network may send its secret in one (ingest/presets.py).
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)


def _rejected(error: FieldError) -> Answer:
    REQUESTS_REJECTED.labels("/postback", error.field).inc()
    return Answer(422, error.as_json())


def _refusal(pb: Postback, config: NetworkConfig, token: str | None) -> tuple[str, str] | None:
    """Why a postback is not authentic, as (field, reason), or None."""
    if not config.ip_ok(pb.ip):
        return "client_ip", "source address not allowed for this network"
    if not config.token_ok(token):
        return "token", "missing or wrong token"
    if not config.signature_ok(pb.raw_query, pb.signature):
        return "sig", "missing or wrong signature"
    return None


async def handle(svc: Services, pb: Postback) -> Answer:
    query_error: FieldError | None = None
    try:
        params = parse_params(pb.raw_query)
    except FieldError as exc:
        params, query_error = {}, exc
    network = pb.network if pb.network is not None else params.get("network", DEFAULT_NETWORK)
    config = svc.settings.networks.get(network)
    if config is None:
        return Answer(404, {"error": "unknown_network", "field": "network", "reason": network[:64]})
    preset = config.preset_rules
    try:
        if query_error is not None:
            raise query_error
        if pb.body is not None:
            params.update(parse_body(pb.body, pb.content_type, nested=preset is not None))
    except FieldError as exc:
        return _rejected(exc)
    token = pb.path_token or params.pop("token", None)
    if preset is not None:  # the network's own names, status words and secret (ingest/presets.py)
        token = token or preset.token(pb.headers, params)
        params = preset.translate(params)
    refusal = _refusal(pb, config, token)
    if refusal is not None:
        where, reason = refusal
        POSTBACK_AUTH_FAILURES.labels(network).inc()
        log.warning("postback refused for network %s: %s", network[:64], reason)  # never the secret itself
        return Answer(403, {"error": "forbidden", "field": where, "reason": reason})
    for name in ("token", "sig", "network"):
        params.pop(name, None)
    try:
        event = conversion(params, HitContext(svc.clock.now_ms()), network=network, statuses=config.status_words())
    except FieldError as exc:
        return _rejected(exc)
    event_id = event["event_id"]
    if svc.duplicates.recent(event_id):
        return Answer(200, {"status": "duplicate", "event_id": event_id})
    # Ask ClickHouse while Kafka acknowledges: publishing a duplicate is harmless (the aggregator drops
    # it), so the answer waits for Kafka, and for ClickHouse's opinion only a short while more.
    stored = asyncio.create_task(svc.duplicates.stored(event_id))
    try:
        await svc.publisher.publish(svc.settings.topic_events, event, key=event["click_id"])
    except PublishUnavailable:
        stored.cancel()
        return Answer(503, UNAVAILABLE, {"Retry-After": RETRY_AFTER_S})
    svc.duplicates.remember(event_id)
    status = "duplicate" if await svc.duplicates.settled(stored, svc.settings.postback_duplicate_wait_s) else "accepted"
    return Answer(200, {"status": status, "event_id": event_id})
