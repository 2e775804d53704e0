"""Build wire events (``schemas.events.Event`` as dicts) from request parameters. Pure: no I/O, no clock.

Parameter precedence for ad dimensions and click ids: an explicit parameter wins; for snippet hits the
page URL's own query string (``page_url``) fills what the parameters lack.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ingest import normalize as norm
from ingest.enrich import NONE as NO_TRAITS
from ingest.enrich import Traits
from ingest.errors import FieldError
from ingest.ids import derived_id, new_id
from ingest.query import parse_params
from ingest.visitor import PARAM as VISITOR_PARAM
from ingest.visitor import visitor_id
from schemas.events import PLATFORM_CLICK_IDS, SUB_IDS, WIRE_VERSION, ConversionStatus, EventType

MINUTE_MS = 60_000
DAY_MS = 86_400_000
MAX_SKEW_MS = 5 * MINUTE_MS
BROWSER_MAX_AGE_MS = DAY_MS  # pixel and snippet hits: a browser's clock, buffered at most a day
SERVER_MAX_AGE_MS = 90 * DAY_MS  # postbacks and the batch API: networks report late

UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "utm_id")
_FROM_PAGE = (*UTM, "ad_id", "adset_id", "campaign_id", "click_id", *PLATFORM_CLICK_IDS, *SUB_IDS)

# Affiliate networks' names for the same thing (first present wins, in this order).
ALIASES: dict[str, tuple[str, ...]] = {
    "click_id": ("click_id", "clickid", "subid", "sub_id", "cid"),
    "txid": ("txid", "transaction_id", "order_id", "oid", "tid"),
    "payout": ("payout", "amount", "revenue", "sum"),
    "currency": ("currency", "cur"),
    "status": ("status",),
    "event_name": ("event", "event_name", "goal"),
}

STATUS_WORDS: dict[str, ConversionStatus] = {
    "": ConversionStatus.APPROVED, "approved": ConversionStatus.APPROVED, "approve": ConversionStatus.APPROVED,
    "confirmed": ConversionStatus.APPROVED, "completed": ConversionStatus.APPROVED, "paid": ConversionStatus.APPROVED,
    "sale": ConversionStatus.APPROVED, "lead": ConversionStatus.APPROVED,
    "pending": ConversionStatus.PENDING, "hold": ConversionStatus.PENDING, "on_hold": ConversionStatus.PENDING,
    "waiting": ConversionStatus.PENDING, "new": ConversionStatus.PENDING,
    "rejected": ConversionStatus.REJECTED, "declined": ConversionStatus.REJECTED,
    "cancelled": ConversionStatus.REJECTED, "canceled": ConversionStatus.REJECTED, "fraud": ConversionStatus.REJECTED,
    "reversed": ConversionStatus.REVERSED, "reversal": ConversionStatus.REVERSED,
    "chargeback": ConversionStatus.REVERSED, "refund": ConversionStatus.REVERSED, "refunded": ConversionStatus.REVERSED,
}  # fmt: skip


CONSENT_WORDS = ("1", "true", "yes", "granted")


@dataclass(frozen=True)
class HitContext:
    """What the request itself says: time of receipt, and the browser's headers (already truncated IP)."""

    now_ms: int
    user_agent: str = ""
    client_ip: str = ""
    referrer: str = ""
    visitor_cookie: str = ""  # the tracking domain's adpulse_vid cookie, when the request carried it
    traits: Traits = NO_TRAITS  # the API's enrichment of the request (ingest.enrich)


def pick(params: Mapping[str, str], name: str) -> tuple[str, str]:
    """(the parameter name used, its value) for ``name`` or its first present alias."""
    for alias in ALIASES.get(name, (name,)):
        if params.get(alias, "").strip(norm.WHITESPACE):
            return alias, params[alias]
    return name, ""


def with_page_params(params: Mapping[str, str]) -> dict[str, str]:
    merged = dict(params)
    page_url = params.get("page_url", "")
    if not page_url:
        return merged
    try:
        page = parse_params(urlsplit(page_url).query.encode(), max_params=256)
    except FieldError as exc:
        raise FieldError("page_url", exc.reason) from None
    for name in _FROM_PAGE:
        if page.get(name) and not merged.get(name, "").strip(norm.WHITESPACE):
            merged[name] = page[name]
    return merged


def dimensions(params: Mapping[str, str]) -> dict[str, Any]:
    """Ad identity is ``ad_id`` else ``utm_content``; campaign is ``campaign_id`` else ``utm_campaign``."""
    t = {name: norm.text(params.get(name, ""), name) for name in (*UTM, "ad_id", "adset_id", "campaign_id")}
    dims: dict[str, Any] = {
        "ad_id": t["ad_id"] or t["utm_content"],
        "adset_id": t["adset_id"],
        "campaign_id": t["campaign_id"] or t["utm_campaign"],
        "source": norm.source(t["utm_source"]),
        "medium": norm.medium(t["utm_medium"]),
        **{name: t[name] for name in UTM if name not in ("utm_source", "utm_medium")},
    }
    for name in (*PLATFORM_CLICK_IDS, *SUB_IDS):
        value = norm.text(params.get(name, ""), name)
        if value:
            dims[name] = value
    return dims


def _base(
    kind: EventType, event_id: str, ctx: HitContext, params: Mapping[str, str], max_age_ms: int
) -> dict[str, Any]:
    event: dict[str, Any] = {"v": WIRE_VERSION, "event_id": event_id, "event_type": kind.value,
                             "received_at_ms": ctx.now_ms}  # fmt: skip
    occurred = norm.timestamp_ms(params.get("ts", ""), "ts", ctx.now_ms, max_age_ms=max_age_ms, max_skew_ms=MAX_SKEW_MS)
    if occurred is not None:
        event["occurred_at_ms"] = occurred
    visitor = visitor_id(params.get(VISITOR_PARAM), ctx.visitor_cookie)
    for name, value in (("user_agent", ctx.user_agent[:512]), ("client_ip", ctx.client_ip), ("visitor_id", visitor)):
        if value:
            event[name] = value
    event.update(ctx.traits.fields())
    return event


def _id(kind: EventType, params: Mapping[str, str], minted_id: str | None = None) -> str:
    eid = norm.text(params.get("eid", ""), "eid")
    if eid:
        return derived_id(kind.value, eid)
    return minted_id or new_id()


def _costed(event: dict[str, Any], params: Mapping[str, str]) -> dict[str, Any]:
    cost = norm.money(params.get("cost", ""), "cost")
    if cost is not None:
        event["cost"] = cost
        event["cost_currency"] = norm.currency(params.get("cost_currency", ""), "cost_currency")
    return event


def browser_event(
    kind: EventType, params: Mapping[str, str], ctx: HitContext, minted_id: str | None = None
) -> dict[str, Any]:
    """Impression, page view, custom event or a browser-side conversion from the pixel or the snippet.

    ``minted_id`` is the id the API gave a raw hit; the sender's ``eid``, when present, still wins.
    """
    merged = with_page_params(params)
    conversion = _conversion_fields(merged, network="browser") if kind is EventType.CONVERSION else {}
    if conversion.get("txid"):
        event_id = derived_id(
            kind.value, "browser", conversion["txid"], conversion["status"], conversion.get("payout", "")
        )
    else:
        event_id = _id(kind, merged, minted_id)
    event = _base(kind, event_id, ctx, merged, BROWSER_MAX_AGE_MS)
    event.update(dimensions(merged))
    page_url = norm.text(merged.get("page_url", ""), "page_url", limit=2048)
    referrer = norm.text(merged.get("referrer", "") or ctx.referrer, "referrer", limit=2048)
    event.update({k: v for k, v in (("page_url", page_url), ("referrer", referrer)) if v})
    if kind in (EventType.CUSTOM, EventType.CONVERSION):
        name = norm.text(pick(merged, "event_name")[1], "event_name")
        if kind is EventType.CUSTOM and not name:
            raise FieldError("event_name", "required for a custom event")
        event["event_name"] = name
    event.update(conversion)
    if not conversion and merged.get("click_id"):
        event["click_id"] = norm.click_id(merged["click_id"])
    if "consent" in merged:
        event["consent"] = merged["consent"].strip(norm.WHITESPACE).lower() in CONSENT_WORDS
    return _costed(event, merged)


def click(params: Mapping[str, str], ctx: HitContext, click_id: str, url: str) -> dict[str, Any]:
    event = _base(EventType.CLICK, derived_id(EventType.CLICK.value, click_id), ctx, params, BROWSER_MAX_AGE_MS)
    event.update(dimensions(params))
    event.update({"click_id": click_id, "url": url})
    external_id = norm.text(params.get("external_id", ""), "external_id")
    if external_id:
        event["external_id"] = external_id
    if ctx.referrer:
        event["referrer"] = ctx.referrer[:2048]
    return _costed(event, params)


def conversion_status(raw: str, extra: Mapping[str, ConversionStatus] | None = None) -> ConversionStatus:
    word = raw.strip(norm.WHITESPACE).lower()
    found = (extra or {}).get(word) or STATUS_WORDS.get(word)
    if found is None:
        raise FieldError("status", f"unknown status {raw.strip(norm.WHITESPACE)[:32]!r}")
    return found


def _conversion_fields(
    params: Mapping[str, str], network: str, statuses: Mapping[str, ConversionStatus] | None = None
) -> dict[str, Any]:
    click_field, click_raw = pick(params, "click_id")
    click = norm.click_id(click_raw, click_field)
    if not click:
        raise FieldError("click_id", "required (also accepted as clickid, subid, sub_id, cid)")
    txid_field, txid_raw = pick(params, "txid")
    payout_field, payout_raw = pick(params, "payout")
    currency_field, currency_raw = pick(params, "currency")
    fields: dict[str, Any] = {
        "click_id": click,
        "network": network,
        "txid": norm.text(txid_raw, txid_field),
        "status": conversion_status(pick(params, "status")[1], statuses).value,
        "currency": norm.currency(currency_raw, currency_field),
    }
    payout = norm.money(payout_raw, payout_field)
    if payout is not None:
        fields["payout"] = payout
    return fields


def conversion(
    params: Mapping[str, str],
    ctx: HitContext,
    network: str = "default",
    statuses: Mapping[str, ConversionStatus] | None = None,
) -> dict[str, Any]:
    """A server-to-server conversion. Its id is derived from (network, txid or click, status, payout):
    a network resending the same postback maps to the same event; a status change is a new event."""
    norm.reject_macros(dict(params))
    fields = _conversion_fields(params, network, statuses)
    identity = fields["txid"] or f"click:{fields['click_id']}"
    event_id = derived_id(EventType.CONVERSION.value, network, identity, fields["status"], fields.get("payout", ""))
    event = _base(EventType.CONVERSION, event_id, HitContext(ctx.now_ms), params, SERVER_MAX_AGE_MS)
    event["event_name"] = norm.text(pick(params, "event_name")[1], "event_name")
    event.update(fields)
    return event
