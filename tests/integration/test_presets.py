"""Inbound presets over real HTTP: each network's request as it documents it -> /postback/<network> ->
the conversion on Kafka with adpulse's fields (click id, txid, status, payout, currency)."""

from __future__ import annotations

import copy
import uuid
from decimal import Decimal

import httpx
import pytest

from tests.ingest.test_presets import HOTMART
from tests.integration.kafka_read import find

pytestmark = pytest.mark.integration


def published(stack, txid):
    found = find(stack.kafka_bootstrap, "adpulse.events", lambda e: e.get("txid") == txid)
    assert found, f"no conversion {txid} on Kafka"
    return found[0]


GET_CASES = [
    ("awin", lambda c, t: {"clickRef": c, "transactionId": t, "commission": "1.64", "transactionCurrency": "GBP",
                           "transactionAmount": "20.50", "affiliateId": "45628"}, "pending", "1.64", "GBP"),
    ("rakuten", lambda c, t: {"u1": c, "etransaction_id": t, "order_id": "O-1", "commissions": "3.10",
                              "currency": "USD", "is_event": "N"}, "approved", "3.1", "USD"),
    ("tradedoubler", lambda c, t: {"epi": c, "orderNumber": t, "publisherCommission": "2.50", "currency": "SEK",
                                   "status": "P"}, "pending", "2.5", "SEK"),
    ("impact", lambda c, t: {"SubId1": c, "ActionId": t, "Payout": "12.00", "Currency": "USD",
                             "Status": "APPROVED"}, "approved", "12", "USD"),
    ("tune", lambda c, t: {"aff_click_id": c, "adv_sub": t, "transaction_id": "102abc", "payout": "7.5",
                           "currency": "EUR"}, "approved", "7.5", "EUR"),
    ("everflow", lambda c, t: {"sub1": c, "conversion_id": t, "payout_amount": "3.33", "currency_id": "USD"},
     "approved", "3.33", "USD"),
]  # fmt: skip


@pytest.mark.parametrize(("network", "build", "status", "payout", "currency"), GET_CASES, ids=[c[0] for c in GET_CASES])
def test_network_get_postback(stack, network, build, status, payout, currency):
    click_id, txid = uuid.uuid4().hex, f"{network}-{uuid.uuid4().hex[:8]}"
    response = httpx.get(f"{stack.api}/postback/{network}", params=build(click_id, txid))
    assert response.status_code == 200, response.text
    event = published(stack, txid)
    assert (event["network"], event["click_id"], event["status"], event["currency"]) == (
        network, click_id, status, currency,
    )  # fmt: skip
    assert Decimal(event["payout"]) == Decimal(payout)


def test_awin_post_json_and_cj_commission_record(stack):
    click_id, txid = uuid.uuid4().hex, f"awin-{uuid.uuid4().hex[:8]}"
    body = {"transactionId": txid, "transactionDate": "2026-11-23 10:00:00", "transactionCurrency": "EUR",
            "transactionAmount": 50, "commission": 2.5, "clickRef": click_id, "affiliateId": 45628,
            "commissionGroups": [{"id": 1, "name": "Default", "code": "DEFAULT", "commission": 2.5}]}  # fmt: skip
    assert httpx.post(f"{stack.api}/postback/awin", json=body).status_code == 200
    assert published(stack, txid)["click_id"] == click_id
    cj_click, cj_txid = uuid.uuid4().hex, f"cj-{uuid.uuid4().hex[:8]}"
    record = {"commissionId": cj_txid, "shopperId": cj_click, "actionStatus": "new", "orderId": "O-5",
              "pubCommissionAmountPubCurrency": "4.20", "publisherCurrency": "USD"}  # fmt: skip
    assert httpx.post(f"{stack.api}/postback/cj", json=record).status_code == 200
    event = published(stack, cj_txid)
    assert (event["click_id"], event["status"]) == (cj_click, "pending")


def test_hotmart_webhook_with_its_hottok(stack):
    payload = copy.deepcopy(HOTMART)
    click_id, txid = uuid.uuid4().hex, f"HP{uuid.uuid4().int % 10**14}"
    payload["data"]["purchase"]["origin"]["sck"] = click_id
    payload["data"]["purchase"]["transaction"] = txid
    payload.pop("hottok")
    url = f"{stack.api}/postback/hotmart"
    assert httpx.post(url, json=payload, headers={"X-HOTMART-HOTTOK": "wrong-hottok"}).status_code == 403
    assert httpx.post(url, json=payload).status_code == 403
    ok = httpx.post(url, json=payload, headers={"X-HOTMART-HOTTOK": "hotmart-hottok-1"})
    assert ok.status_code == 200, ok.text
    event = published(stack, txid)
    assert (event["click_id"], event["status"], Decimal(event["payout"]), event["currency"]) == (
        click_id, "approved", Decimal(1500), "BRL",
    )  # fmt: skip
    refund = {**payload, "event": "PURCHASE_REFUNDED", "hottok": "hotmart-hottok-1"}  # v2 also carries it in the body
    assert httpx.post(url, json=refund).status_code == 200
    statuses = {e["status"] for e in find(stack.kafka_bootstrap, "adpulse.events", lambda e: e.get("txid") == txid,
                                           want=2)}  # fmt: skip
    assert statuses == {"approved", "reversed"}
