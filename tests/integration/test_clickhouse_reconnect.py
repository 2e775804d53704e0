"""ClickHouse down when the API starts: /readyz and /v1/kpis answer 503, then 200 once the ClickHouse
endpoint comes up and is migrated, without restarting the API (real Kafka from the stack, a real
ClickHouse endpoint of its own on a free port, the API as its own process)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from tests.integration.conftest import free_port

pytestmark = pytest.mark.integration


def _start(args, env, log_path):
    with log_path.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "adpulse.cli", *args], env=env, stdout=out, stderr=out, start_new_session=True
        )


def _stop(proc):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _poll(url, want, deadline_s, proc, log_path):
    deadline = time.monotonic() + deadline_s
    last: object = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"process exited: {log_path.read_text()}")
        try:
            last = httpx.get(url, timeout=5)
            if last.status_code == want:
                return last
        except httpx.TransportError as exc:
            last = exc
        time.sleep(0.2)
    pytest.fail(f"{url} did not answer {want} within {deadline_s}s (last: {last!r}); log: {log_path.read_text()}")


def test_api_started_without_clickhouse_serves_kpis_once_it_comes_up(stack, tmp_path):
    ch_port, api_port = free_port(), free_port()
    ch_url = f"http://default:@127.0.0.1:{ch_port}/adpulse"
    env = {
        **stack.env,
        "ADPULSE_PORT": str(api_port),
        "ADPULSE_KAFKA_BOOTSTRAP": stack.kafka_bootstrap,
        "ADPULSE_CLICKHOUSE_URL": ch_url,  # nothing listens there yet
    }
    base = f"http://127.0.0.1:{api_port}"
    api = _start(["api"], env, tmp_path / "api.log")
    clickhouse = None
    try:
        down = _poll(f"{base}/readyz", 503, 60, api, tmp_path / "api.log")
        assert down.json()["clickhouse"] is False
        assert httpx.get(f"{base}/v1/kpis", timeout=5).status_code == 503

        clickhouse = _start(
            ["clickhouse-dev", "--path", str(tmp_path / "ch"), "--host", "127.0.0.1", "--port", str(ch_port)],
            env,
            tmp_path / "clickhouse.log",
        )
        _poll(f"http://127.0.0.1:{ch_port}/ping", 200, 60, clickhouse, tmp_path / "clickhouse.log")
        migrated = subprocess.run(
            [sys.executable, "-m", "adpulse.cli", "migrate"], env=env, capture_output=True, text=True, timeout=120
        )
        assert migrated.returncode == 0, migrated.stderr

        ready = _poll(f"{base}/readyz", 200, 60, api, tmp_path / "api.log")
        assert ready.json() == {"status": "ready", "kafka": True, "clickhouse": True}
        kpis = _poll(f"{base}/v1/kpis", 200, 30, api, tmp_path / "api.log")
        assert kpis.json()["rows"] == []  # a fresh database, read through the API
        assert api.poll() is None  # the same process throughout
    finally:
        _stop(api)
        if clickhouse is not None:
            _stop(clickhouse)
