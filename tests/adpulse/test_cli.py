"""``adpulse migrate --dry-run`` (with and without ``--cluster``): the DDL printed, no server needed.
Run as processes: the cluster rewrite opens the bundled engine, one per process."""

import os
import subprocess
import sys

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
