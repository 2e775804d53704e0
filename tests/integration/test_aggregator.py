"""The aggregator on the real stack: exactly once, attribution, status lifecycle, DLQ, crash recovery."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
import uuid
from decimal import Decimal

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer

from tests.integration.conftest import REPO
from tests.integration.kafka_read import find

pytestmark = pytest.mark.integration


def kpi(stack, ad_id):
    with stack.clickhouse() as ch:
        result = ch.query("SELECT * FROM adpulse.ad_kpis WHERE ad_id = {a:String}", parameters={"a": ad_id})
    rows = [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]
    return rows[0] if rows else None


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    return predicate()


def batch(stack, items):
    response = httpx.post(f"{stack.api}/v1/events", json=items, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["rejected"] == 0, response.text
    return response.json()


async def produce_raw(bootstrap, values):
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait("adpulse.events", value)
    finally:
        await producer.stop()


def test_same_postback_three_times_is_one_conversion(stack):
    ad, click_id = f"ad-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    batch(stack, [{"type": "click", "ad_id": ad, "click_id": click_id, "url": "https://shop.example.com/"}])
    params = {"click_id": click_id, "payout": "30", "txid": f"T-{ad}"}
    answers = [httpx.get(f"{stack.api}/postback", params=params).json()["status"] for _ in range(3)]
    assert answers[0] == "accepted"
    # Also replayed past the API's duplicate check, straight into Kafka, as a network retry storm might.
    (event,) = find(stack.kafka_bootstrap, "adpulse.events", lambda e: e.get("txid") == f"T-{ad}")
    asyncio.run(produce_raw(stack.kafka_bootstrap, [orjson.dumps(event)] * 2))
    row = wait_for(lambda: (r := kpi(stack, ad)) and r["conversions"] == 1 and r)
    time.sleep(1.0)  # give a wrong second count the time to show up
    row = kpi(stack, ad)
    assert (row["clicks"], row["conversions"], row["revenue"]) == (1, 1, Decimal(30))


def test_conversion_before_its_click_is_attributed_when_the_click_arrives(stack):
    ad, click_id = f"ad-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    ok = httpx.get(f"{stack.api}/postback", params={"click_id": click_id, "payout": "12", "txid": f"E-{ad}"})
    assert ok.status_code == 200
    sql = "SELECT count() FROM adpulse.conversions WHERE click_id = {c:String} AND ad_id = ''"
    with stack.clickhouse() as ch:
        waiting = wait_for(lambda: ch.query(sql, parameters={"c": click_id}).result_rows[0][0])
    assert waiting == 1  # stored, unattributed, not dropped
    batch(stack, [{"type": "click", "ad_id": ad, "click_id": click_id, "url": "https://shop.example.com/"}])
    row = wait_for(lambda: (r := kpi(stack, ad)) and r["conversions"] == 1 and r)
    assert (row["clicks"], row["conversions"], row["revenue"]) == (1, 1, Decimal(12))


def test_pending_then_approved_then_reversed(stack):
    ad, click_id = f"ad-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    batch(stack, [{"type": "click", "ad_id": ad, "click_id": click_id, "url": "https://shop.example.com/"}])
    send = {"click_id": click_id, "payout": "80", "txid": f"L-{ad}"}
    for status, expected in [("pending", (0, 1, 0, 80)), ("approved", (1, 1, 80, 80)), ("reversed", (0, 0, 0, 0))]:
        assert httpx.get(f"{stack.api}/postback", params={**send, "status": status}).status_code == 200
        row = wait_for(lambda exp=expected: (r := kpi(stack, ad)) and _lifecycle(r) == exp and r)
        assert row, f"after {status}: {kpi(stack, ad)}"


def _lifecycle(row):
    return (row["conversions"], row["conversions_total"], row["revenue"], row["revenue_total"])


def test_poison_messages_go_to_the_dlq_and_the_pipeline_keeps_going(stack):
    ad = f"ad-{uuid.uuid4().hex[:8]}"
    poison = [b"not json at all " + ad.encode(), orjson.dumps({"event_id": "x", "ad": ad})]
    asyncio.run(produce_raw(stack.kafka_bootstrap, poison))
    batch(stack, [{"type": "impression", "ad_id": ad} for _ in range(5)])
    assert wait_for(lambda: (r := kpi(stack, ad)) and r["impressions"] == 5)
    dead = find(stack.kafka_bootstrap, "adpulse.dlq", lambda e: ad in e["value"], want=2)
    assert sorted(d["reason"].split(":")[0] for d in dead) == ["event_id", "not JSON"]
    assert all(d["topic"] == "adpulse.events" and d["offset"] >= 0 for d in dead)


def test_sigkill_mid_batch_then_restart_gives_exact_counts(stack):
    ad = f"ad-{uuid.uuid4().hex[:8]}"
    pidfile = stack.run_dir / "aggregator.pid"
    total = 0
    for round_ in range(3):
        for _ in range(4):
            batch(stack, [{"type": "impression", "ad_id": ad, "cost": "0.001"} for _ in range(1000)])
            total += 1000
        time.sleep(0.15 * round_)
        os.kill(int(pidfile.read_text()), signal.SIGKILL)
        time.sleep(0.2)
        up = subprocess.run(
            [REPO / "deploy/stack.sh", "up"], env=stack.env, capture_output=True, text=True, timeout=120
        )
        assert up.returncode == 0, up.stdout + up.stderr
    row = wait_for(lambda: (r := kpi(stack, ad)) and r["impressions"] >= total and r, timeout=60)
    time.sleep(1.0)
    row = kpi(stack, ad)
    assert (row["impressions"], row["cost"]) == (total, Decimal(total) / 1000)


def test_imported_cost_replaces_event_cost_for_its_period(stack):
    ad = f"ad-{uuid.uuid4().hex[:8]}"
    batch(stack, [{"type": "impression", "ad_id": ad, "campaign_id": "c", "utm_source": "fb", "cost": "0.5"}] * 4)
    assert wait_for(lambda: (r := kpi(stack, ad)) and r["cost"] == Decimal(2))
    today = time.strftime("%Y-%m-%d", time.gmtime())
    row = {"ad_id": ad, "campaign_id": "c", "source": "fb", "granularity": "day", "period_start": today,
           "cost": "7.25", "currency": "USD"}  # fmt: skip
    assert httpx.post(f"{stack.api}/v1/costs", json=[row]).json() == {"imported": 1}
    assert kpi(stack, ad)["cost"] == Decimal("7.25")
    assert httpx.post(f"{stack.api}/v1/costs", json=[{**row, "cost": "9"}]).status_code == 200  # upsert
    imported = kpi(stack, ad)
    assert (imported["cost"], imported["impressions"], imported["cpm"]) == (Decimal(9), 4, Decimal(2250))
    bad = httpx.post(f"{stack.api}/v1/costs", json=[row, {**row, "period_start": f"{today}T10:30:00Z"}])
    assert bad.status_code == 422
    assert (bad.json()["index"], bad.json()["field"]) == (1, "period_start")
