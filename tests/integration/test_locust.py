"""The locust traffic mix runs headless against the real stack without a failed request."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.integration.conftest import REPO

pytestmark = pytest.mark.integration


def test_locust_mix_runs_clean(stack, tmp_path):
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(REPO / "loadtests/locustfile.py"),
        "--headless",
        "-u",
        "5",
        "-r",
        "5",
        "-t",
        "6s",
        "--host",
        stack.api,
        "--csv",
        str(tmp_path / "mix"),
        "--only-summary",
    ]
    env = {**stack.env, "ADPULSE_LOCUST_RPS_PER_USER": "10"}
    run = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    stats = (tmp_path / "mix_stats.csv").read_text().splitlines()
    aggregated = next(line for line in stats if ",Aggregated," in line).split(",")
    requests, failures = int(aggregated[2]), int(aggregated[3])
    assert requests > 100
    assert failures == 0
