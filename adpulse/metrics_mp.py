"""Prometheus metrics across API worker processes (prometheus_client's multiprocess mode).

Granian's workers are processes: each has its own counters, and without more ``/metrics`` shows the
one worker that happened to answer. ``adpulse api`` creates a private directory, points
``PROMETHEUS_MULTIPROC_DIR`` at it before any metric exists (workers are forked or spawned after),
and removes it on exit. Every worker writes its values into memory-mapped files there, and
``/metrics`` (:func:`render`) sums them over all workers. Gauges declare how they combine
(``multiprocess_mode``, e.g. ``livesum``); the files of a worker that died are dropped for the live
gauges the next time metrics are read.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"
_LIVE_FILE = re.compile(r"^gauge_live\w*_(\d+)\.db$")


@contextlib.contextmanager
def multiprocess_dir() -> Iterator[Path]:
    """Create the directory, export it for this process and its workers, and remove it after.

    Must run before any metric is created in this process: metrics made earlier would stay per-process.
    """
    if "ingest.metrics" in sys.modules or "aggregator.metrics" in sys.modules:
        raise RuntimeError("metrics were created before the multiprocess directory; they would not be shared")
    path = Path(tempfile.mkdtemp(prefix="adpulse-metrics-"))
    previous = os.environ.get(ENV)
    os.environ[ENV] = str(path)
    if "prometheus_client.values" in sys.modules:  # imported already: choose the multiprocess value class now
        from prometheus_client import values

        values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
    try:
        yield path
    finally:
        if previous is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = previous
        shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _forget_dead_workers(path: str) -> None:
    from prometheus_client import multiprocess

    for name in os.listdir(path):
        match = _LIVE_FILE.match(name)
        if match and not _alive(int(match.group(1))):
            with contextlib.suppress(FileNotFoundError):  # another worker may be doing the same
                multiprocess.mark_process_dead(int(match.group(1)), path)  # type: ignore[no-untyped-call]


def render() -> bytes:
    """The exposition text: summed over every worker in multiprocess mode, else this process's registry."""
    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess

    path = os.environ.get(ENV)
    if not path:
        return generate_latest(REGISTRY)
    _forget_dead_workers(path)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path)  # type: ignore[no-untyped-call]
    return generate_latest(registry)
