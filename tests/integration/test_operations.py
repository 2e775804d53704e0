"""Operations on the real stack: metrics summed over two API workers, JSON logs with request ids, and a
graceful stop under pixel load (every hit answered 200 reaches Kafka)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition
from prometheus_client.mmap_dict import MmapedDict

from tests.integration.conftest import REPO, Stack, free_port

pytestmark = pytest.mark.integration
EVENTS = "adpulse.events"


class Api:
    def __init__(self, stack: Stack, tmp: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.tmp = tmp
        self.log = tmp / "api.log"
        environment = {
            **stack.env,
            "ADPULSE_PORT": str(self.port),
            "ADPULSE_KAFKA_BOOTSTRAP": stack.kafka_bootstrap,
            "ADPULSE_CLICKHOUSE_URL": stack.clickhouse_url,
            "TMPDIR": str(tmp),  # where `adpulse api` makes its metrics directory
            **env,
        }
        environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "adpulse.cli", "api"], env=environment, cwd=REPO, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def wait_ready(self, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        pytest.fail(f"API not ready:\n{self.log.read_text()}")

    def stop(self, timeout_s: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout_s)
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)

    def metrics_dirs(self) -> list[Path]:
        return list(self.tmp.glob("adpulse-metrics-*"))


def metric_sum(text: str, name: str, label: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and label in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


async def hits_in_kafka(bootstrap: str, marker: str, want: int, wait_s: float = 30) -> set[str]:
    """The ``eid`` of every raw pixel hit on the events topic whose query carries the marker."""
    consumer = AIOKafkaConsumer(EVENTS, bootstrap_servers=bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest")  # fmt: skip
    await consumer.start()
    found: set[str] = set()
    try:
        deadline = time.monotonic() + wait_s
        while len(found) < want and time.monotonic() < deadline:
            for messages in (await consumer.getmany(timeout_ms=300)).values():
                for message in messages:
                    for line in (message.value or b"").split(b"\n"):  # raw hits travel as NDJSON batches
                        try:
                            hit = orjson.loads(line)
                        except orjson.JSONDecodeError:
                            continue
                        query = hit.get("query", "") if isinstance(hit, dict) else ""
                        if f"m={marker}" in query:
                            found.add(query.split("eid=", 1)[1].split("&", 1)[0])
    finally:
        await consumer.stop()
    return found


def test_metrics_are_summed_over_two_workers(stack, tmp_path):
    api = Api(stack, tmp_path, ADPULSE_WORKERS="2")
    try:
        api.wait_ready()
        (metrics_dir,) = api.metrics_dirs()
        marker, n = uuid.uuid4().hex[:10], 120
        for i in range(n):  # a new connection each: the kernel spreads them over both workers
            assert httpx.get(f"{api.url}/i", params={"m": marker, "eid": f"{marker}-{i}"}).status_code == 200
        deadline, published = time.monotonic() + 30, 0.0
        while time.monotonic() < deadline:
            text = httpx.get(f"{api.url}/metrics").text
            published = metric_sum(text, "adpulse_events_published_total", 'event_type="hit"')
            if published >= n:
                break
            time.sleep(0.3)
        assert published == n
        # Both workers counted a share, and /metrics showed their sum.
        per_worker = {}
        for path in metrics_dir.glob("counter_*.db"):
            values = MmapedDict.read_all_values_from_file(str(path))
            per_worker[path.name] = sum(
                v for key, v, _, _ in values if "adpulse_events_published_total" in key and '"hit"' in key
            )
        shares = sorted(v for v in per_worker.values() if v)
        assert len(shares) == 2, per_worker
        assert sum(shares) == n
    finally:
        assert api.stop() == 0
    assert not metrics_dir.exists()  # removed by `adpulse api` on exit


def test_json_logs_carry_the_request_id(stack, tmp_path):
    api = Api(stack, tmp_path, ADPULSE_LOG_FORMAT="json")
    try:
        api.wait_ready()
        rid = f"it-{uuid.uuid4().hex[:12]}"
        response = httpx.get(f"{api.url}/postback/cake/wrong-token", params={"click_id": "c1"},
                             headers={"X-Request-ID": rid})  # fmt: skip
        assert response.status_code == 403
        assert response.headers["x-request-id"] == rid
        generated = httpx.get(f"{api.url}/healthz").headers["x-request-id"]
        assert len(generated) == 32 and generated != rid
        assert "x-request-id" not in httpx.get(f"{api.url}/i").headers  # the pixel's fast path: none, by design
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and rid not in api.log.read_text():
            time.sleep(0.2)
    finally:
        api.stop()
    lines = [orjson.loads(line) for line in api.log.read_text().splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    refused = [line for line in lines if "postback refused" in line["message"]]
    assert refused and all(line["request_id"] == rid for line in refused)


def test_sigterm_under_pixel_load_loses_no_answered_hit(stack, tmp_path):
    api = Api(stack, tmp_path, ADPULSE_SHUTDOWN_TIMEOUT_S="8")
    api.wait_ready()
    marker = uuid.uuid4().hex[:10]
    answered: list[str] = []
    before_signal: list[str] = []

    async def load() -> None:
        counter = iter(range(1_000_000))
        signalled = asyncio.Event()

        async def worker(client: httpx.AsyncClient) -> None:
            while True:
                eid = f"{marker}-{next(counter)}"
                try:
                    response = await client.get(f"{api.url}/i", params={"m": marker, "eid": eid}, timeout=5)
                except httpx.TransportError:
                    if signalled.is_set():
                        return  # the server stopped accepting
                    raise
                if response.status_code == 200:
                    answered.append(eid)
                    if not signalled.is_set():
                        before_signal.append(eid)

        async with httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0)) as client:
            workers = [asyncio.create_task(worker(client)) for _ in range(8)]
            await asyncio.sleep(2.0)
            signalled.set()
            api.proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(asyncio.gather(*workers), 60)

    started = time.monotonic()
    try:
        asyncio.run(load())
        code = api.proc.wait(60)
    finally:
        api.stop()
    stopped_in = time.monotonic() - started - 2.0
    assert code == 0, api.log.read_text()
    assert stopped_in < 8 + 10  # within the shutdown timeout plus granian's kill margin
    assert len(before_signal) > 50
    in_kafka = asyncio.run(hits_in_kafka(stack.kafka_bootstrap, marker, want=len(answered)))
    missing = set(answered) - in_kafka
    assert not missing, f"{len(missing)} of {len(answered)} answered hits not in Kafka"


async def end_offsets(bootstrap: str) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(EVENTS, p) for p in consumer.partitions_for_topic(EVENTS) or ()]
        if not partitions:
            await consumer.topics()  # fetch metadata
            partitions = [TopicPartition(EVENTS, p) for p in consumer.partitions_for_topic(EVENTS) or ()]
        return {tp.partition: offset for tp, offset in (await consumer.end_offsets(partitions)).items()}
    finally:
        await consumer.stop()


async def committed_offsets(bootstrap: str, group: str, partitions: list[int]) -> dict[int, int | None]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        return {p: await consumer.committed(TopicPartition(EVENTS, p)) for p in partitions}
    finally:
        await consumer.stop()


def test_sigterm_makes_the_aggregator_write_and_commit_its_batch(stack, tmp_path):
    """A batch held open (60 s, 1M rows) is written and committed on SIGTERM, within the timeout."""
    group = f"it-stop-{uuid.uuid4().hex[:8]}"
    for i in range(20):  # something new on the topic for this group to hold
        assert httpx.get(f"{stack.api}/i", params={"m": group, "eid": f"{group}-{i}"}).status_code == 200
    log = tmp_path / "aggregator.log"
    env = {
        **stack.env,
        "ADPULSE_KAFKA_BOOTSTRAP": stack.kafka_bootstrap,
        "ADPULSE_CLICKHOUSE_URL": stack.clickhouse_url,
        "ADPULSE_CONSUMER_GROUP": group,
        "ADPULSE_BATCH_MAX_SECONDS": "60",
        "ADPULSE_BATCH_MIN_SECONDS": "60",
        "ADPULSE_BATCH_MAX_ROWS": "1000000",
        "ADPULSE_BATCH_MAX_BYTES": str(1024**3),
        "ADPULSE_SHUTDOWN_TIMEOUT_S": "20",
        "ADPULSE_LOG_FORMAT": "json",
    }
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "adpulse.cli", "aggregate"], env=env, cwd=REPO,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        ends = asyncio.run(end_offsets(stack.kafka_bootstrap))
        deadline = time.monotonic() + 60
        while "assigned partitions" not in log.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.3)
        time.sleep(3)  # the consumer takes the backlog into its (open) batch
        before = asyncio.run(committed_offsets(stack.kafka_bootstrap, group, sorted(ends)))
        proc.send_signal(signal.SIGTERM)
        stopped_at = time.monotonic()
        code = proc.wait(40)
        took = time.monotonic() - stopped_at
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    assert code == 0, log.read_text()
    assert took < 20 + 5
    assert all(offset is None for offset in before.values()), before  # nothing written before the signal
    after = asyncio.run(committed_offsets(stack.kafka_bootstrap, group, sorted(ends)))
    assert all((after[p] or 0) >= ends[p] for p in ends), (after, ends)
    lines = [orjson.loads(line) for line in log.read_text().splitlines() if line.strip()]
    assert any("stopping" in line["message"] for line in lines)
