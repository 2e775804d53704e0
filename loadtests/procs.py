"""Processes under measurement: CPU seconds and memory from /proc, pinning with taskset."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (granian's workers, for example)."""
    found = [pid]
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split() if Path(f"/proc/{pid}").exists() else []:
        found.extend(tree(int(child)))
    return found


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / _TICKS


def memory_mb(pids: list[int]) -> dict[str, float]:
    """VmRSS now and VmHWM (peak), summed over the processes."""
    rss = hwm = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss += int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm += int(line.split()[1])
    return {"rss_mb": round(rss / 1024, 1), "hwm_mb": round(hwm / 1024, 1)}


def pin(pids: list[int], cores: int | str) -> None:
    """Every thread of ``pids`` on ``cores`` (a core, or a taskset list such as ``0-1``)."""
    for pid in pids:
        subprocess.run(["taskset", "-a", "-pc", str(cores), str(pid)], capture_output=True, check=False)


def unpin(pids: list[int]) -> None:
    """Every core again (what :func:`pin` narrowed)."""
    pin(pids, f"0-{(os.cpu_count() or 1) - 1}")
