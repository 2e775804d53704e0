"""Inbound postback presets: the names, status words and signatures of the networks users name.

A network configured with ``"preset": "<name>"`` (``ADPULSE_NETWORKS``) accepts the network's own
parameter names (its macros in the postback URL, or its JSON body), maps its status words, and takes
its shared secret where the network sends one (Hotmart's ``X-HOTMART-HOTTOK``). Explicit ``statuses``
in the network's configuration still win, and adpulse's own names (``click_id``, ``txid``...) always
work too. The README's "Inbound network templates" table gives the URL to paste in each network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from schemas.events import ConversionStatus

A, P, J, R = ConversionStatus.APPROVED, ConversionStatus.PENDING, ConversionStatus.REJECTED, ConversionStatus.REVERSED
MAX_DEPTH = 6


@dataclass(frozen=True)
class Preset:
    name: str
    # adpulse field -> the network's names for it, first present wins (dotted paths in JSON bodies)
    fields: dict[str, tuple[str, ...]]
    statuses: dict[str, ConversionStatus] = field(default_factory=dict)
    status_fields: tuple[str, ...] = ()
    default_status: str = ""  # when the network sends no status at all
    token_header: str = ""  # header that carries the network's shared secret
    token_fields: tuple[str, ...] = ()  # body fields that carry it

    def translate(self, params: Mapping[str, str]) -> dict[str, str]:
        """The request's parameters with the network's names mapped onto adpulse's."""
        out = dict(params)
        for ours, theirs in self.fields.items():
            if out.get(ours):
                continue
            for name in theirs:
                if params.get(name):
                    out[ours] = params[name]
                    break
        if not out.get("status"):
            found = next((params[name] for name in self.status_fields if params.get(name)), "")
            if found or self.default_status:
                out["status"] = found or self.default_status
        for name in self.token_fields:
            out.pop(name, None)
        return out

    def token(self, headers: Mapping[str, str], params: Mapping[str, str]) -> str | None:
        if self.token_header and headers.get(self.token_header):
            return headers[self.token_header]
        return next((params[name] for name in self.token_fields if params.get(name)), None)


def flatten(value: Any, prefix: str = "", depth: int = 0) -> dict[str, str]:
    """A JSON document as dotted-path parameters (``data.purchase.transaction``); lists by index."""
    if depth > MAX_DEPTH:
        return {}
    out: dict[str, str] = {}
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else None
    if items is None:
        if isinstance(value, bool):
            return {prefix: "1" if value else "0"}
        return {} if value is None else {prefix: str(value)}
    for key, item in items:
        out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key), depth + 1))
    return out


def _words(**groups: tuple[str, ...]) -> dict[str, ConversionStatus]:
    status = {"approved": A, "pending": P, "rejected": J, "reversed": R}
    return {word.lower(): status[name] for name, words in groups.items() for word in words}


PRESETS: dict[str, Preset] = {
    # Awin Transaction Notifications (publisher): GET placeholders !!!name!!!, or POST JSON with the
    # same names. Notified when a transaction is recorded, i.e. pending until the advertiser validates.
    "awin": Preset(
        "awin",
        {
            "click_id": ("clickRef",),
            "txid": ("transactionId",),
            "payout": ("commission",),
            "currency": ("transactionCurrency", "currency"),
        },
        _words(approved=("approved",), pending=("pending",), rejected=("declined", "deleted")),
        status_fields=("transactionStatus", "commissionStatus"),
        default_status="pending",
    ),
    # CJ has no publisher postback of its own: this maps CJ's commission records (Commission Detail:
    # shopperId = the SID on the link, actionStatus new/extended/locked/closed) forwarded as JSON.
    "cj": Preset(
        "cj",
        {
            "click_id": ("shopperId", "sid"),
            "txid": ("commissionId", "orderId"),
            "payout": ("pubCommissionAmountPubCurrency", "pubCommissionAmountUsd", "commissionAmount"),
            "currency": ("publisherCurrency", "currency"),
        },
        _words(approved=("locked", "closed"), pending=("new", "extended"), rejected=("corrected",)),
        status_fields=("actionStatus",),
    ),
    # Rakuten Advertising Postback API (GET with <field> placeholders): u1 carries the click id; one
    # postback per item (etransaction_id); is_event=Y marks a non-commissionable media event.
    "rakuten": Preset(
        "rakuten",
        {
            "click_id": ("u1",),
            "txid": ("etransaction_id", "order_id"),
            "payout": ("commissions",),
            "currency": ("currency",),
        },
        _words(approved=("n",), pending=("y",)),
        status_fields=("is_event",),
    ),
    # Tradedoubler Conversions API (publisher subscription, attribute names as Tradedoubler lists
    # them): epi is the publisher's click reference; status A/P/D.
    "tradedoubler": Preset(
        "tradedoubler",
        {
            "click_id": ("epi", "epi1"),
            "txid": ("orderNumber", "leadNumber", "transactionId"),
            "payout": ("publisherCommission", "commission"),
            "currency": ("currency", "currencyCode"),
        },
        _words(approved=("a", "approved", "accepted"), pending=("p", "pending"), rejected=("d", "denied", "deleted")),
        status_fields=("status", "statusCode"),
    ),
    # impact.com partner postback / event notification: {SubId1}, {ActionId}, {Payout}, {Currency},
    # {Status} or {ActionStatus}: PENDING, APPROVED, REVERSED.
    "impact": Preset(
        "impact",
        {
            "click_id": ("SubId1", "subId1", "sub_id1"),
            "txid": ("ActionId", "action_id", "OID"),
            "payout": ("Payout", "payout"),
            "currency": ("Currency",),
        },
        _words(approved=("approved", "locked", "cleared"), pending=("pending",), reversed=("reversed",)),
        status_fields=("Status", "ActionStatus", "status"),
    ),
    # Hotmart webhook 2.0.0 (POST JSON): the click id travels as the checkout's sck (or src, xcod);
    # the event names the status; the hottok arrives in the X-HOTMART-HOTTOK header (and the body).
    "hotmart": Preset(
        "hotmart",
        {
            "click_id": ("data.purchase.origin.sck", "data.purchase.origin.src", "data.purchase.origin.xcod"),
            "txid": ("data.purchase.transaction",),
            "payout": ("data.purchase.price.value",),
            "currency": ("data.purchase.price.currency_value",),
        },
        _words(
            approved=("PURCHASE_APPROVED", "PURCHASE_COMPLETE"),
            pending=("PURCHASE_BILLET_PRINTED", "PURCHASE_DELAYED", "PURCHASE_PROTEST", "WAITING_PAYMENT"),
            rejected=("PURCHASE_CANCELED", "PURCHASE_EXPIRED"),
            reversed=("PURCHASE_REFUNDED", "PURCHASE_CHARGEBACK"),
        ),
        status_fields=("event",),
        token_header="x-hotmart-hottok",  # noqa: S106 - a header name
        token_fields=("hottok",),
    ),
    # TUNE (HasOffers) partner conversion link: {aff_click_id} / {aff_sub} carry the click id,
    # {adv_sub} the advertiser's order id, {transaction_id} TUNE's session; fired on approved.
    "tune": Preset(
        "tune",
        {
            "click_id": ("aff_click_id", "aff_sub"),
            "txid": ("adv_sub", "transaction_id"),
            "payout": ("payout",),
            "currency": ("currency",),
            "event_name": ("goal_name", "goal_id"),
        },
        _words(approved=("approved",), pending=("pending",), rejected=("rejected",)),
        status_fields=("conversion_status",),
    ),
    # Everflow partner postback: {sub1} carries the click id, {conversion_id} the conversion,
    # {payout_amount}, {currency_id}, {event_name}.
    "everflow": Preset(
        "everflow",
        {
            "click_id": ("sub1",),
            "txid": ("conversion_id", "order_id", "transaction_id"),
            "payout": ("payout_amount", "payout"),
            "currency": ("currency_id", "currency"),
            "event_name": ("event_name",),
        },
        _words(
            approved=("approved",),
            pending=("pending",),
            rejected=("rejected", "invalid"),
            reversed=("reversed", "refunded"),
        ),
        status_fields=("conversion_status", "status"),
    ),
}
