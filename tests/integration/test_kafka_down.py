"""With no Kafka to acknowledge: postbacks get 503 + Retry-After, the pixel still answers, readyz says no."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from tests.integration.conftest import free_port

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def api_without_kafka(tmp_path_factory):
    port = free_port()
    env = {
        **os.environ,
        "ADPULSE_PORT": str(port),
        "ADPULSE_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}",  # nothing listens there
        "ADPULSE_CLICKHOUSE_URL": f"http://default:@127.0.0.1:{free_port()}/adpulse",
        "ADPULSE_KAFKA_ACK_TIMEOUT_S": "1",
        "ADPULSE_PIXEL_MAX_PENDING": "5",
    }
    log = tmp_path_factory.mktemp("api") / "api.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "adpulse.cli", "api"], env=env, stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{base}/healthz", timeout=1)
            break
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"API did not start: {log.read_text()}")
            time.sleep(0.1)
    yield base
    proc.terminate()
    proc.wait(timeout=15)


def test_postback_is_refused_with_retry_after(api_without_kafka):
    response = httpx.get(f"{api_without_kafka}/postback", params={"click_id": "k", "payout": "1", "txid": "t"})
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["error"] == "unavailable"


def test_pixel_still_answers_buffers_a_bounded_number_and_counts_the_rest(api_without_kafka):
    for _ in range(8):
        response = httpx.get(f"{api_without_kafka}/i", params={"ad_id": "a"}, timeout=2)
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/gif"
    metrics = httpx.get(f"{api_without_kafka}/metrics").text
    assert "adpulse_publish_pending 5.0" in metrics  # held for Kafka, bounded by ADPULSE_PIXEL_MAX_PENDING
    assert 'adpulse_pixel_dropped_total{reason="buffer_full"} 3.0' in metrics


def test_not_ready(api_without_kafka):
    response = httpx.get(f"{api_without_kafka}/readyz")
    assert response.status_code == 503
    assert response.json()["kafka"] is False
