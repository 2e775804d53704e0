"""The pipeline through a SASL_SSL broker (SCRAM over TLS, certificates from keytool): pixel, click and
postback -> Kafka -> aggregator -> ClickHouse -> ad_kpis; and a wrong password as a clear error at start."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.integration.conftest import REPO, Stack, free_port

pytestmark = pytest.mark.integration


def client_env(stack: Stack) -> dict[str, str]:
    """The ADPULSE_KAFKA_* settings kafka.sh wrote for its SASL_SSL broker."""
    lines = (stack.run_dir / "kafka/client.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


@pytest.fixture(scope="module")
def secure_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    run_dir = tmp_path_factory.mktemp("sasl-stack")
    ports = {name: free_port() for name in ("KAFKA_PORT", "KAFKA_CONTROLLER_PORT", "CLICKHOUSE_DEV_PORT")}
    api_port = free_port()
    env = {
        **os.environ,
        **{k: str(v) for k, v in ports.items()},
        "KAFKA_SECURITY": "sasl_ssl",
        "ADPULSE_RUN_DIR": str(run_dir),
        "ADPULSE_PORT": str(api_port),
        "ADPULSE_REDIRECT_ALLOWLIST": "shop.example.com",
        "ADPULSE_BATCH_MAX_SECONDS": "0.2",
    }
    up = subprocess.run([REPO / "deploy/stack.sh", "up"], env=env, capture_output=True, text=True, timeout=300)
    if up.returncode != 0:
        subprocess.run([REPO / "deploy/stack.sh", "down"], env=env, timeout=120)
        pytest.fail(f"SASL_SSL stack did not start:\n{up.stdout}\n{up.stderr}")
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


def test_broker_listens_only_with_sasl_ssl_and_secrets_stay_private(secure_stack: Stack) -> None:
    settings = client_env(secure_stack)
    assert settings["ADPULSE_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert settings["ADPULSE_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert Path(settings["ADPULSE_KAFKA_CA_FILE"]).read_text().startswith("-----BEGIN CERTIFICATE-----")
    config = (secure_stack.run_dir / "kafka/server.properties").read_text()
    port, controller = secure_stack.env["KAFKA_PORT"], secure_stack.env["KAFKA_CONTROLLER_PORT"]
    assert f"listeners=SASL_SSL://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}\n" in config
    assert "inter.broker.listener.name=SASL_SSL" in config
    for private in ("kafka/client.env", "kafka/server.properties", "kafka/security/secrets"):
        assert (secure_stack.run_dir / private).stat().st_mode & 0o077 == 0, private
    # The password reaches no log of the stack.
    password = settings["ADPULSE_KAFKA_PASSWORD"]
    for log in secure_stack.run_dir.glob("*.log"):
        assert password not in log.read_text(errors="replace"), log.name


def test_a_plaintext_client_gets_nothing_from_the_sasl_ssl_listener(secure_stack: Stack) -> None:
    env = {**secure_stack.env, "ADPULSE_KAFKA_BOOTSTRAP": secure_stack.kafka_bootstrap}
    env = {k: v for k, v in env.items() if not k.startswith("ADPULSE_KAFKA_") or k == "ADPULSE_KAFKA_BOOTSTRAP"}
    result = subprocess.run([sys.executable, "-m", "adpulse.cli", "topics"], env=env, capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert result.returncode == 3, result.stderr
    assert "adpulse topics: Kafka" in result.stderr


def test_pixel_click_and_postback_become_kpis_through_sasl_ssl(secure_stack: Stack) -> None:
    ad = f"sasl-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=secure_stack.api, timeout=10) as http:
        assert http.get("/readyz").json() == {"status": "ready", "kafka": True, "clickhouse": True}
        for _ in range(20):
            assert http.get("/i", params={"ad_id": ad, "cost": "0.05"}).status_code == 200
        response = http.get("/c", params={"ad_id": ad, "cost": "0.25", "url": "https://shop.example.com/"})
        assert response.status_code == 302
        click_id = parse_qs(urlsplit(response.headers["location"]).query)["click_id"][0]
        response = http.get("/postback", params={"click_id": click_id, "payout": "7.50", "txid": f"T-{ad}"})
        assert response.status_code == 200, response.text
    deadline = time.monotonic() + 60
    rows: list[tuple[int, int, int, Decimal]] = []
    with secure_stack.clickhouse() as ch:
        while time.monotonic() < deadline:
            rows = ch.query("SELECT impressions, clicks, conversions, revenue FROM adpulse.ad_kpis "
                            "WHERE ad_id = {ad:String}", parameters={"ad": ad}).result_rows  # fmt: skip
            if rows and rows[0][0] == 20 and rows[0][2] == 1:
                break
            time.sleep(0.2)
    assert rows == [(20, 1, 1, Decimal("7.50"))]


def _run(env: dict[str, str], command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "adpulse.cli", command], env=env, capture_output=True, text=True,
                          timeout=90)  # fmt: skip


def test_wrong_password_is_a_clear_error_at_start(secure_stack: Stack, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **secure_stack.env,
        **client_env(secure_stack),
        "ADPULSE_KAFKA_PASSWORD": "not-the-password",
        "ADPULSE_PORT": str(port),
        "ADPULSE_CLICKHOUSE_URL": secure_stack.clickhouse_url,
        "ADPULSE_CONSUMER_GROUP": "adpulse-wrong-password",
    }
    # Commands that need Kafka to work exit at once, naming authentication, never the password.
    for command in ("topics", "aggregate"):
        result = _run(env, command)
        assert result.returncode == 3, (command, result.stderr)
        assert f"adpulse {command}: Kafka authentication failed" in result.stderr
        assert "ADPULSE_KAFKA_PASSWORD" in result.stderr
        assert "not-the-password" not in result.stderr + result.stdout
    # The API keeps running (pixel buffered, postbacks 503) and says why it is not ready.
    log = tmp_path / "api.log"
    with log.open("w") as out:
        api = subprocess.Popen([sys.executable, "-m", "adpulse.cli", "api"], env=env, stdout=out, stderr=out)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        body: dict[str, object] = {}
        while time.monotonic() < deadline:
            try:
                response = httpx.get(f"{base}/readyz", timeout=5)
            except httpx.TransportError:
                assert api.poll() is None, log.read_text()
                time.sleep(0.2)
                continue
            body = response.json()
            if "kafka_error" in body:
                break
            time.sleep(0.2)
        assert response.status_code == 503
        assert body["kafka"] is False and body["clickhouse"] is True
        assert "Kafka authentication failed" in str(body["kafka_error"])
        assert "not-the-password" not in str(body)
        assert httpx.get(f"{base}/postback", params={"click_id": "k", "payout": "1", "txid": "t"}).status_code == 503
        metrics = httpx.get(f"{base}/metrics").text
        failures = [line for line in metrics.splitlines()
                    if line.startswith('adpulse_kafka_connect_failures_total{reason="authentication"}')]  # fmt: skip
        assert failures and float(failures[0].rsplit(" ", 1)[1]) >= 1
    finally:
        api.terminate()
        api.wait(timeout=30)
    text = log.read_text()
    assert "Kafka authentication failed" in text and "needs a configuration fix" in text
    assert "not-the-password" not in text
