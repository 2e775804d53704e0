"""The short variants of ``make bench`` and ``make chaos``: the harnesses work and nothing accepted is
lost or counted twice. They assert no speed (speed is measured by ``make bench``, never in tests)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import orjson
import pytest

from loadtests.stack import REPO

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not all(shutil.which(t) for t in ("wrk", "hey", "nginx")), reason="make test installs them"),
]


def test_bench_smoke_loses_nothing(tmp_path):
    out = tmp_path / "bench.json"
    run = subprocess.run([sys.executable, "-m", "loadtests.bench", "--smoke", "--out", str(out)], cwd=REPO,
                         capture_output=True, text=True, timeout=600)  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    results = orjson.loads(out.read_bytes())
    assert "pixel ratio API/nginx" in run.stdout
    assert results["pixel_max"]["answered_ok"] > 0
    assert results["drain"]["rows"] >= results["pixel_max"]["answered_ok"]  # every 200 reached ClickHouse
    assert results["drain"]["engine_rows_per_s"] > 0 and results["drain"]["ratio_to_engine"] > 0
    assert results["soak"]["acknowledged"] > 0
    assert results["soak"]["lost"] == 0
    assert results["fixed_rate"]["50%"]["postback"]["ok"] > 0
    assert results["enrichment"]["with_enrichment_us"] > results["enrichment"]["raw_hit_us"] > 0


def test_drain_only_stores_the_whole_backlog_and_measures_the_engine(tmp_path):
    out = tmp_path / "drain.json"
    run = subprocess.run([sys.executable, "-m", "loadtests.bench", "--drain-only", "--backlog", "3000", "--out",
                          str(out)], cwd=REPO, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    drain = orjson.loads(out.read_bytes())["drain"]
    assert (drain["rows"], drain["lost"]) == (3000, 0)
    assert drain["engine_rows_per_s"] > 0 and drain["aggregator_memory"]["hwm_mb"] > 0
    assert "ClickHouse's own insert of those rows" in run.stdout


def test_chaos_short_is_exact():
    run = subprocess.run([sys.executable, "-m", "loadtests.chaos", "--short"], cwd=REPO, capture_output=True,
                         text=True, timeout=900)  # fmt: skip
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-3000:]
    assert "RESULT: exact" in run.stdout
