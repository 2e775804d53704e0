"""The real stack for integration tests: deploy/stack.sh on free loopback ports, stopped by PID after."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import clickhouse_connect
import httpx
import orjson
import pytest

REPO = Path(__file__).resolve().parents[2]
# The tests play browsers: httpx's own user agent ("python-httpx/...") is on the crawler list, so their
# traffic would be tagged as bot traffic and left out of the KPIs (issue 11). Tests of bot traffic send
# their user agent explicitly.
BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
httpx._client.USER_AGENT = BROWSER_UA
# Issue 11: an operator IP list (documentation range; tests/integration/test_traffic_quality.py).
BLOCKED_NET = "203.0.113.0/24"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Stack:
    api: str
    kafka_bootstrap: str
    clickhouse_url: str
    env: dict[str, str]
    run_dir: Path

    def clickhouse(self):
        return clickhouse_connect.get_client(dsn=self.clickhouse_url, autogenerate_session_id=False)


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Iterator[Stack]:
    run_dir = tmp_path_factory.mktemp("stack")
    ports = {name: free_port() for name in ("KAFKA_PORT", "KAFKA_CONTROLLER_PORT", "CLICKHOUSE_DEV_PORT")}
    api_port = free_port()
    env = {
        **os.environ,
        **{k: str(v) for k, v in ports.items()},
        "ADPULSE_RUN_DIR": str(run_dir),
        "ADPULSE_PORT": str(api_port),
        "ADPULSE_REDIRECT_ALLOWLIST": "shop.example.com,*.example.org",
        "ADPULSE_CLICK_ID_PARAMS": "*.example.org=subid",
        "ADPULSE_NETWORKS": orjson.dumps(
            {
                "cake": {"token": "cake-secret-1", "statuses": {"2": "pending"}},
                "signed": {"hmac_secret": "signed-network-secret"},
                "office": {"allowed_ips": ["10.0.0.0/8"]},
                # issue 13: inbound presets (tests/integration/test_presets.py)
                **{name: {"preset": name} for name in ("awin", "cj", "rakuten", "tradedoubler", "impact", "tune")},
                "everflow": {"preset": "everflow"},
                "hotmart": {"preset": "hotmart", "token": "hotmart-hottok-1"},
            }
        ).decode(),
        "ADPULSE_BATCH_MAX_SECONDS": "0.2",
        "ADPULSE_CONSUMER_GROUP": "adpulse-it",
        "ADPULSE_BLOCK_IPS": BLOCKED_NET,
    }
    started = time.monotonic()
    up = subprocess.run([REPO / "deploy/stack.sh", "up"], env=env, capture_output=True, text=True, timeout=300)
    if up.returncode != 0:
        subprocess.run([REPO / "deploy/stack.sh", "down"], env=env, timeout=120)
        pytest.fail(f"stack did not start:\n{up.stdout}\n{up.stderr}")
    print(f"\nstack up in {time.monotonic() - started:.1f}s")
    try:
        yield Stack(
            api=f"http://127.0.0.1:{api_port}",
            kafka_bootstrap=f"127.0.0.1:{ports['KAFKA_PORT']}",
            clickhouse_url=f"http://default:@127.0.0.1:{ports['CLICKHOUSE_DEV_PORT']}/adpulse",
            env=env,
            run_dir=run_dir,
        )
    finally:
        subprocess.run([REPO / "deploy/stack.sh", "down"], env=env, timeout=120, check=False)
