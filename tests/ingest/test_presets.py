"""Each network's documented request shape, through its preset and the real ingest rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ingest.hits import HitContext, conversion
from ingest.networks import NetworkConfig
from ingest.presets import PRESETS, flatten

NOW = 1_767_225_600_000

HOTMART: dict[str, Any] = {  # Hotmart webhook 2.0.0, PURCHASE_APPROVED (fields as Hotmart's sample payload)
    "id": "00907e72-2694-4d21-ae59-bee19e74f030", "creation_date": 1729032673904, "event": "PURCHASE_APPROVED",
    "version": "2.0.0", "hottok": "the-hottok-value",
    "data": {
        "product": {"id": 0, "ucode": "fb056612", "name": "Produto test"},
        "commissions": [{"value": 149.5, "source": "MARKETPLACE", "currency_value": "BRL"}],
        "purchase": {
            "approved_date": 1511783346000, "order_date": 1511783344000, "status": "APPROVED",
            "transaction": "HP16015479281022", "price": {"value": 1500, "currency_value": "BRL"},
            "origin": {"sck": "clk-hotmart-1", "src": "fb"}, "payment": {"type": "CREDIT_CARD"},
        },
        "buyer": {"email": "buyer@example.com", "name": "Teste Comprador"},
    },
}  # fmt: skip

CASES: list[tuple[str, dict[str, str], tuple[str, str, str, str, str]]] = [
    # (network, request parameters as the network sends them, (click_id, txid, status, payout, currency))
    ("awin", {"clickRef": "clk-awin", "transactionId": "123456", "commission": "1.64", "transactionCurrency": "GBP",
              "transactionAmount": "20.5", "affiliateId": "45628", "merchantId": "3661"},
     ("clk-awin", "123456", "pending", "1.64", "GBP")),
    ("awin", {"clickRef": "clk-awin", "transactionId": "123456", "commission": "1.64", "transactionStatus": "approved"},
     ("clk-awin", "123456", "approved", "1.64", "")),
    ("cj", {"shopperId": "clk-cj", "commissionId": "2873920390", "orderId": "O-1", "actionStatus": "locked",
            "pubCommissionAmountPubCurrency": "4.20", "publisherCurrency": "USD"},
     ("clk-cj", "2873920390", "approved", "4.20", "USD")),
    ("rakuten", {"u1": "clk-rak", "etransaction_id": "ET-9", "order_id": "O-9", "commissions": "3.10",
                 "sale_amount": "31.00", "currency": "USD", "is_event": "N", "transaction_type": "realtime"},
     ("clk-rak", "ET-9", "approved", "3.10", "USD")),
    ("rakuten", {"u1": "clk-rak2", "etransaction_id": "ET-10", "commissions": "0", "currency": "USD", "is_event": "Y"},
     ("clk-rak2", "ET-10", "pending", "0", "USD")),
    ("tradedoubler", {"epi": "clk-td", "orderNumber": "TD-77", "publisherCommission": "2.5", "currency": "SEK",
                      "status": "A"},
     ("clk-td", "TD-77", "approved", "2.5", "SEK")),
    ("tradedoubler", {"epi": "clk-td", "orderNumber": "TD-77", "publisherCommission": "2.5", "status": "D"},
     ("clk-td", "TD-77", "rejected", "2.5", "")),
    ("impact", {"SubId1": "clk-imp", "ActionId": "1000.2000.3000", "Payout": "12.00", "Currency": "USD",
                "Status": "REVERSED"},
     ("clk-imp", "1000.2000.3000", "reversed", "12.00", "USD")),
    ("tune", {"aff_click_id": "clk-tune", "adv_sub": "ORD-5", "transaction_id": "102abc", "payout": "7.5",
              "currency": "EUR", "offer_id": "12"},
     ("clk-tune", "ORD-5", "approved", "7.5", "EUR")),
    ("everflow", {"sub1": "clk-ef", "conversion_id": "cv-1", "transaction_id": "ef-tx", "payout_amount": "3.33",
                  "currency_id": "USD", "event_name": "Purchase"},
     ("clk-ef", "cv-1", "approved", "3.33", "USD")),
    ("hotmart", flatten(HOTMART), ("clk-hotmart-1", "HP16015479281022", "approved", "1500", "BRL")),
]  # fmt: skip


def ingest(network: str, params: dict[str, str]) -> dict[str, Any]:
    config = NetworkConfig(preset=network)
    assert config.preset_rules is not None
    return conversion(config.preset_rules.translate(params), HitContext(NOW), network=network,
                      statuses=config.status_words())  # fmt: skip


@pytest.mark.parametrize(("network", "params", "expected"), CASES)
def test_network_request_becomes_the_conversion(network: str, params: dict[str, str], expected: tuple[str, ...]):
    event = ingest(network, params)
    click_id, txid, status, payout, currency = expected
    assert (event["click_id"], event["txid"], event["status"], event["currency"]) == (click_id, txid, status, currency)
    assert Decimal(event["payout"]) == Decimal(payout)


def test_hotmart_refund_and_cancel_words_and_its_token() -> None:
    refunded = {**flatten(HOTMART), "event": "PURCHASE_REFUNDED"}
    assert ingest("hotmart", refunded)["status"] == "reversed"
    assert ingest("hotmart", {**flatten(HOTMART), "event": "PURCHASE_CANCELED"})["status"] == "rejected"
    rules = PRESETS["hotmart"]
    assert rules.token({"x-hotmart-hottok": "from-header"}, flatten(HOTMART)) == "from-header"
    assert rules.token({}, flatten(HOTMART)) == "the-hottok-value"
    assert "hottok" not in rules.translate(flatten(HOTMART))  # the secret never reaches the event


def test_own_names_still_win_and_configured_statuses_override() -> None:
    event = ingest("everflow", {"click_id": "mine", "sub1": "theirs", "conversion_id": "c"})
    assert event["click_id"] == "mine"
    config = NetworkConfig(preset="impact", statuses={"approved": "pending"})
    assert config.status_words()["approved"].value == "pending"


def test_unknown_preset_refused_at_start() -> None:
    with pytest.raises(ValueError, match="unknown preset 'nope'"):
        NetworkConfig(preset="nope")


def test_unresolved_network_macros_are_refused() -> None:
    from ingest.errors import FieldError

    for network, params in [
        ("awin", {"clickRef": "!!!clickRef!!!", "transactionId": "1"}),
        ("impact", {"SubId1": "{SubId1}", "ActionId": "1"}),
        ("rakuten", {"u1": "<u1>", "etransaction_id": "1"}),
    ]:
        with pytest.raises(FieldError, match="unresolved macro"):
            ingest(network, params)


def test_flatten_reads_nested_json_as_dotted_paths() -> None:
    assert flatten({"a": {"b": [1, {"c": True}], "d": None}}) == {"a.b.0": "1", "a.b.1.c": "1"}
