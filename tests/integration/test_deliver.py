"""Conversions delivered onward on the real stack: API -> Kafka -> aggregator (outbox) -> Kafka ->
``adpulse deliver`` -> a local receiver that records requests and fails some (500, timeouts, 429)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import pytest

from tests.integration.conftest import REPO, Stack
from tests.integration.kafka_read import find
from tests.integration.receiver import Receiver

pytestmark = pytest.mark.integration

SECRET = "itpop-source-secret"
TIMEOUT_S = 1.0


def wait_for(predicate: Any, timeout: float = 40.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    return predicate()


@dataclass
class Deliver:
    env: dict[str, str]
    log_path: Any
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "adpulse.cli", "deliver"], env=self.env, stdout=log, stderr=log, cwd=REPO
            )

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    rx = Receiver(
        scripts={"/flaky/": [500, "timeout", ("retry-after", 429, 2)], "/dead/": [404]},
        delays={"/slow/": 0.5},
        timeout_s=TIMEOUT_S,
    )
    rx.base = rx.start()
    yield rx
    rx.stop()


@pytest.fixture(scope="module")
def deliver(stack: Stack, receiver: Receiver) -> Iterator[Deliver]:
    base = receiver.base
    postbacks = {
        "itpop": {"url": f"{base}/ok/itpop?cid={{external_id}}&z={{sub1}}&tx={{txid}}&st={{status}}&p={{payout}}"
                  f"&cur={{currency}}&key={SECRET}", "payout_percent": 50},
        "itflaky": {"url": f"{base}/flaky/?tx={{txid}}"},
        "itrev": {"url": f"{base}/ok/itrev?tx={{txid}}&st={{status}}", "statuses": ["approved", "reversed"],
                  "status_map": {"reversed": "chargeback"}},
        "itslow": {"url": f"{base}/slow/?tx={{txid}}", "method": "POST"},
        "itdead": {"url": f"{base}/dead/?tx={{txid}}"},
    }  # fmt: skip
    env = {
        **stack.env,
        "ADPULSE_KAFKA_BOOTSTRAP": stack.kafka_bootstrap,
        "ADPULSE_CLICKHOUSE_URL": stack.clickhouse_url,
        "ADPULSE_SOURCE_POSTBACKS": orjson.dumps(postbacks).decode(),
        "ADPULSE_META_CAPI": orjson.dumps(
            {"itads": {"pixel_id": "1234567890", "access_token": "meta-tok-it"}}
        ).decode(),
        "ADPULSE_TIKTOK_EVENTS": orjson.dumps(
            {"itads": {"pixel_code": "C4ABCDEFGHIJ12345", "access_token": "tt-tok-it"}}
        ).decode(),
        "ADPULSE_GA4": orjson.dumps({"itads": {"measurement_id": "G-ITEST1", "api_secret": "ga-sec-it"}}).decode(),
        "ADPULSE_META_BASE_URL": f"{base}/meta/v21.0",
        "ADPULSE_TIKTOK_BASE_URL": f"{base}/tiktok/open_api/v1.3",
        "ADPULSE_GA4_BASE_URL": f"{base}/ga",
        "ADPULSE_DELIVER_GROUP": "adpulse-deliver-it",
        "ADPULSE_DELIVER_RETRY_FIRST_S": "0.3",
        "ADPULSE_DELIVER_RETRY_MAX_S": "3",
        "ADPULSE_DELIVER_TIMEOUT_S": str(TIMEOUT_S),
        "ADPULSE_DELIVER_POLL_S": "0.2",
        "ADPULSE_DELIVER_CONCURRENCY": "4",
    }
    process = Deliver(env, stack.run_dir / "deliver.log")
    process.start()
    yield process
    process.stop()


def click(stack: Stack, source: str, **fields: str) -> tuple[str, int]:
    """A click through the real /c (sub-ids, external_id, platform click ids, vid); returns its click id and
    the time the API received it (read back from Kafka)."""
    params = {"url": "https://shop.example.com/lp", "utm_source": source, "utm_medium": "push",
              "ad_id": f"ad-{source}", "campaign_id": f"cmp-{source}", **fields}  # fmt: skip
    response = httpx.get(f"{stack.api}/c", params=params, headers={"User-Agent": "Mozilla/5.0 (it)"})
    assert response.status_code == 302, response.text
    click_id = parse_qs(urlsplit(response.headers["location"]).query)["click_id"][0]
    found = find(stack.kafka_bootstrap, "adpulse.events", lambda e: e.get("click_id") == click_id)
    assert found and found[0]["event_type"] == "click"
    return click_id, int(found[0]["received_at_ms"])


def postback(stack: Stack, click_id: str, txid: str, status: str = "approved", payout: str = "10") -> None:
    params = {"click_id": click_id, "txid": txid, "status": status, "payout": payout, "currency": "EUR"}
    response = httpx.get(f"{stack.api}/postback", params=params, timeout=10)
    assert response.status_code == 200, response.text


def log_rows(stack: Stack, txid: str) -> list[dict[str, Any]]:
    with stack.clickhouse() as ch:
        result = ch.query(
            "SELECT * FROM adpulse.delivery_attempts WHERE conversion_key = {k:String} ORDER BY attempted_at",
            parameters={"k": txid},
        )
    return [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]


def test_an_approved_conversion_reaches_the_source_template_with_the_clicks_values(stack, receiver, deliver):
    click_id, _ = click(stack, "itpop", external_id="X-42", sub1="zone/7")
    txid = f"T-{uuid.uuid4().hex[:10]}"
    postback(stack, click_id, txid, payout="10")
    got = wait_for(lambda: receiver.matching("/ok/itpop", tx=txid))
    assert len(got) == 1
    assert got[0].query == {"cid": "X-42", "z": "zone/7", "tx": txid, "st": "approved", "p": "5", "cur": "EUR",
                            "key": SECRET}  # fmt: skip
    rows = wait_for(lambda: log_rows(stack, txid))
    assert [(r["target"], r["status_code"], r["outcome"]) for r in rows] == [("source:itpop", 200, "sent")]
    assert SECRET not in rows[0]["url"] and "cid=X-42" in rows[0]["url"]


def test_a_resent_postback_is_not_delivered_twice(stack, receiver, deliver):
    click_id, _ = click(stack, "itpop", external_id="X-7")
    txid = f"T-{uuid.uuid4().hex[:10]}"
    for _ in range(3):
        postback(stack, click_id, txid)
    assert wait_for(lambda: receiver.matching("/ok/itpop", tx=txid))
    postback(stack, click_id, txid)  # once more after it was delivered
    time.sleep(3.0)
    assert len(receiver.matching("/ok/itpop", tx=txid)) == 1


def test_a_failed_delivery_is_retried_until_it_succeeds_and_then_never_again(stack, receiver, deliver):
    click_id, _ = click(stack, "itflaky")
    txid = f"T-{uuid.uuid4().hex[:10]}"
    postback(stack, click_id, txid)
    done = wait_for(lambda: [r for r in receiver.matching("/flaky/", tx=txid) if r.answered == 200 and r], 60)
    assert done
    time.sleep(3.0)
    got = receiver.matching("/flaky/", tx=txid)
    assert [r.answered for r in got] == [500, 200, 429, 200]  # the timed-out one answered 200 too late
    assert len({r.headers["idempotency-key"] for r in got}) == 1
    assert got[3].at - got[2].at >= 1.9  # Retry-After: 2 honoured
    rows = wait_for(lambda: len(log_rows(stack, txid)) >= 4 and log_rows(stack, txid))
    assert [(r["status_code"], r["outcome"]) for r in rows] == [(500, "retry"), (0, "retry"), (429, "retry"),
                                                                (200, "sent")]  # fmt: skip
    assert "ReadTimeout" in rows[1]["error"]


def test_a_reversal_triggers_the_reversal_postback(stack, receiver, deliver):
    click_id, _ = click(stack, "itrev")
    txid = f"T-{uuid.uuid4().hex[:10]}"
    postback(stack, click_id, txid, "approved")
    assert wait_for(lambda: receiver.matching("/ok/itrev", tx=txid, st="approved"))
    postback(stack, click_id, txid, "reversed")
    assert wait_for(lambda: receiver.matching("/ok/itrev", tx=txid, st="chargeback"))
    time.sleep(2.0)
    assert sorted(r.query["st"] for r in receiver.matching("/ok/itrev", tx=txid)) == ["approved", "chargeback"]


def test_a_permanent_refusal_is_dead_lettered_and_redelivered_on_request(stack, receiver, deliver):
    click_id, _ = click(stack, "itdead")
    txid = f"T-{uuid.uuid4().hex[:10]}"
    postback(stack, click_id, txid)
    assert wait_for(lambda: receiver.matching("/dead/", tx=txid))

    def dead() -> list[Any]:
        with stack.clickhouse() as ch:
            return list(
                ch.query(
                    "SELECT key, attempts FROM adpulse.delivery_dead_letters WHERE conversion_key = {k:String}",
                    parameters={"k": txid},
                ).result_rows
            )

    rows = wait_for(dead)
    assert len(rows) == 1 and rows[0][1] == 1
    again = subprocess.run(
        [sys.executable, "-m", "adpulse.cli", "redeliver", "--key", rows[0][0]],
        env=deliver.env, capture_output=True, text=True, timeout=60, cwd=REPO,
    )  # fmt: skip
    assert again.returncode == 0 and "requeued: 1" in again.stdout, again.stdout + again.stderr
    assert wait_for(lambda: [r for r in receiver.matching("/dead/", tx=txid) if r.answered == 200])
    assert [r.answered for r in receiver.matching("/dead/", tx=txid)] == [404, 200]


def test_platform_payloads_carry_their_dedup_ids(stack, receiver, deliver):
    click_id, click_ms = click(
        stack, "itads", fbclid="IwAR-Case-Kept", ttclid="E.C.P.tt1", external_id="user-9",
        vid="GA1.1.111222333.1700000000",
    )  # fmt: skip
    txid = f"T-{uuid.uuid4().hex[:10]}"
    postback(stack, click_id, txid, payout="19.99")
    meta = wait_for(lambda: receiver.matching("/meta/v21.0/1234567890/events"))
    meta = [m for m in meta if orjson.loads(m.body)["data"][0]["event_id"] == txid]
    assert len(meta) == 1 and meta[0].query == {"access_token": "meta-tok-it"}
    event = orjson.loads(meta[0].body)["data"][0]
    assert event["user_data"]["fbc"] == f"fb.1.{click_ms}.IwAR-Case-Kept"
    assert event["custom_data"] == {"value": 19.99, "currency": "EUR", "order_id": txid}
    tiktok = wait_for(lambda: [t for t in receiver.matching("/tiktok/open_api/v1.3/event/track/")
                               if orjson.loads(t.body)["data"][0]["event_id"] == txid])  # fmt: skip
    assert tiktok[0].headers["access-token"] == "tt-tok-it"
    assert orjson.loads(tiktok[0].body)["data"][0]["user"]["ttclid"] == "E.C.P.tt1"
    ga = wait_for(lambda: [g for g in receiver.matching("/ga/mp/collect")
                           if orjson.loads(g.body)["events"][0]["params"]["transaction_id"] == txid])  # fmt: skip
    assert orjson.loads(ga[0].body)["client_id"] == "111222333.1700000000"
    rows = wait_for(lambda: len(log_rows(stack, txid)) >= 3 and log_rows(stack, txid))
    assert {r["target"] for r in rows} == {"meta:1234567890", "tiktok:C4ABCDEFGHIJ12345", "ga4:G-ITEST1"}
    for row in rows:
        assert "meta-tok-it" not in row["url"] and "ga-sec-it" not in row["url"]


def test_sigkill_mid_way_loses_and_duplicates_nothing(stack, receiver, deliver):
    n = 24
    clicks = [click(stack, "itslow")[0] for _ in range(n)]
    txids = [f"K-{uuid.uuid4().hex[:10]}" for _ in range(n)]
    for click_id, txid in zip(clicks, txids, strict=True):
        postback(stack, click_id, txid)
    assert wait_for(lambda: len(receiver.matching("/slow/")) >= 3, 60)
    deliver.kill()
    before = len(receiver.matching("/slow/"))
    assert before < n, "everything was sent before the kill: nothing tested"
    deliver.start()

    def delivered() -> set[str]:
        return {r.body.decode().split("=")[1] for r in receiver.matching("/slow/") if r.answered == 200}

    assert wait_for(lambda: delivered() >= set(txids), 90)
    time.sleep(3.0)
    counts = Counter(r.body.decode().split("=")[1] for r in receiver.matching("/slow/"))
    assert set(counts) == set(txids)  # nothing lost, nothing extra
    keys = Counter(r.headers["idempotency-key"] for r in receiver.matching("/slow/"))
    assert len(keys) == n  # one stable key per delivery: a receiver deduplicating by it counts each once
    resent = sum(c - 1 for c in counts.values())
    assert resent <= 4  # at most the requests in flight at the kill (ADPULSE_DELIVER_CONCURRENCY) are resent
    print(f"\nSIGKILL mid-way: {n} deliveries, {before} answered before the kill, {resent} re-sent after restart")
