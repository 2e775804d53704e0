"""``adpulse`` commands: ``migrate --dry-run`` (with and without ``--cluster``: the DDL printed, no server
needed; run as processes, since the cluster rewrite opens the bundled engine, one per process) and
``healthcheck``."""

import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from adpulse.cli import main
from adpulse.settings import load_settings
from schemas.migrate import plan
from schemas.options import SchemaOptions
from tests.integration.conftest import free_port


def adpulse(*args, url=None):
    env = {**os.environ, "ADPULSE_CLICKHOUSE_URL": url or f"http://default:@127.0.0.1:{free_port()}/tracking"}
    return subprocess.run(
        [sys.executable, "-m", "adpulse.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_dry_run_prints_every_statement_as_it_would_run_without_a_server():
    done = adpulse("migrate", "--dry-run")  # nothing listens on the URL's port
    assert done.returncode == 0, done.stderr
    settings = load_settings()
    options = SchemaOptions(events_ttl_days=settings.events_ttl_days, dedup_window_days=settings.dedup_window_days)
    expected = "".join(
        f"-- {label}\n" + "".join(f"{s.strip()};\n\n" for s in statements)
        for label, statements in plan("tracking", options)
    )
    assert done.stdout == expected


def test_cluster_dry_run_prints_the_cluster_ddl():
    done = adpulse("migrate", "--cluster", "prod", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "CREATE TABLE IF NOT EXISTS tracking.events_local ON CLUSTER prod" in done.stdout
    assert "ENGINE = Distributed('prod', 'tracking', 'events_local', cityHash64(" in done.stdout
    assert (
        "CREATE MATERIALIZED VIEW IF NOT EXISTS tracking.kpi_minute_mv ON CLUSTER prod TO tracking.kpi_minute_local"
        in done.stdout
    )
    assert " ENGINE = MergeTree" not in done.stdout and "ENGINE = ReplicatedMergeTree(" in done.stdout


def test_cluster_needs_a_server(tmp_path):
    done = adpulse("migrate", "--cluster", "prod", url=f"chdb://{tmp_path}")
    assert done.returncode == 2
    assert "--cluster needs a ClickHouse server" in done.stderr


class Health(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path in ("/healthz", "/metrics") else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_healthcheck_asks_the_local_api(server, monkeypatch):
    monkeypatch.setenv("ADPULSE_PORT", str(server))
    assert main(["healthcheck"]) == 0
    monkeypatch.setenv("ADPULSE_PORT", str(closed_port()))
    assert main(["healthcheck", "--timeout", "1"]) == 1


def test_healthcheck_of_the_aggregator_needs_its_metrics_port(server, monkeypatch):
    monkeypatch.delenv("ADPULSE_AGGREGATOR_METRICS_PORT", raising=False)
    assert main(["healthcheck", "--aggregator"]) == 1
    monkeypatch.setenv("ADPULSE_AGGREGATOR_METRICS_PORT", str(server))
    assert main(["healthcheck", "--aggregator"]) == 0
