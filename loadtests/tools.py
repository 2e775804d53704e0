"""The load generators: wrk (closed loop, for the maximum rate) and hey (fixed offered rate), parsed."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


@dataclass(frozen=True)
class LoadResult:
    requests: int
    ok: int  # 2xx/3xx answers
    seconds: float
    p50_ms: float | None = None
    p99_ms: float | None = None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _duration(text: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def wrk(url: str, seconds: float, *, core: int = 1, connections: int = 64, script: str | None = None) -> LoadResult:
    command = ["taskset", "-c", str(core), "wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
    if script:
        command += ["-s", script]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    total = re.search(r"(\d+) requests in ([\d.]+\w+)", out)
    if total is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    requests = int(total.group(1))
    failed = (int(bad.group(1)) if bad else 0) + (sum(int(g) for g in errors.groups()) if errors else 0)
    p50 = re.search(r"50%\s+([\d.]+\w+)", out)
    p99 = re.search(r"99%\s+([\d.]+\w+)", out)
    return LoadResult(
        requests=requests,
        ok=requests - failed,
        seconds=_duration(total.group(2)),
        p50_ms=_duration(p50.group(1)) * 1000 if p50 else None,
        p99_ms=_duration(p99.group(1)) * 1000 if p99 else None,
    )


def hey(url: str, seconds: float, rate: float, *, core: int = 1, workers: int = 50) -> LoadResult:
    """``rate`` requests/s offered by ``workers`` rate-limited workers (hey's -q is per worker)."""
    workers = max(1, min(workers, int(rate)))
    per_worker = max(1, round(rate / workers))
    command = ["taskset", "-c", str(core), "hey", "-z", f"{seconds:g}s", "-c", str(workers), "-q", str(per_worker),
               "-disable-compression", url]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    codes = re.findall(r"\[(\d{3})\]\s+(\d+) responses", out)
    requests = sum(int(n) for _, n in codes)
    ok = sum(int(n) for code, n in codes if code.startswith(("2", "3")))
    errors = re.search(r"Error distribution:\n((?:\s+\[\d+\].*\n?)+)", out)
    if errors:
        requests += sum(int(n) for n in re.findall(r"\[(\d+)\]", errors.group(1)))
    total = re.search(r"Total:\s+([\d.]+) secs", out)
    p50 = re.search(r"50%+ in ([\d.]+) secs", out)
    p99 = re.search(r"99%+ in ([\d.]+) secs", out)
    return LoadResult(
        requests=requests,
        ok=ok,
        seconds=float(total.group(1)) if total else seconds,
        p50_ms=float(p50.group(1)) * 1000 if p50 else None,
        p99_ms=float(p99.group(1)) * 1000 if p99 else None,
    )


def locust_fixed_rate(host: str, locustfile: str, seconds: float, rate: float, *, core: int = 1, users: int = 50,
                      csv_prefix: str) -> LoadResult:  # fmt: skip
    """``rate`` requests/s from ``users`` paced locust users; percentiles from locust's stats CSV."""
    import csv
    import os
    import sys

    users = max(1, min(users, int(rate)))
    env = {**os.environ, "ADPULSE_LOCUST_RPS_PER_USER": str(rate / users)}
    command = ["taskset", "-c", str(core), sys.executable, "-m", "locust", "-f", locustfile, "--headless",
               "-u", str(users), "-r", str(users), "-t", f"{seconds:g}s", "--host", host, "--csv", csv_prefix,
               "--only-summary"]  # fmt: skip
    subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120, env=env, check=False)
    with open(f"{csv_prefix}_stats.csv", newline="") as handle:
        row = next(r for r in csv.DictReader(handle) if r["Name"] == "Aggregated")
    requests, failures = int(row["Request Count"]), int(row["Failure Count"])
    return LoadResult(requests, requests - failures, seconds, float(row["50%"]), float(row["99%"]))
