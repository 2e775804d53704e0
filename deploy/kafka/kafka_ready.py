"""Wait until Kafka answers a metadata request (used by kafka.sh; an open port is not enough).

    python kafka_ready.py BOOTSTRAP [--env-file FILE] [--brokers N] [--timeout SECONDS] [--pid PID]...

Connects as adpulse's clients do (``adpulse.kafka.client_options``): the ``ADPULSE_*`` settings come
only from --env-file (kafka.sh's client.env: security protocol, SASL user, CA file), never from the
caller's environment. Exit 0 when the cluster answered with at least N brokers (default 1) and a
controller, 1 when it did not within the timeout (0: a single attempt), 2 when a process --pid exited
meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # adpulse, whatever the working directory

from adpulse.kafka import client_options
from adpulse.settings import load_settings


def alive(pid: int) -> bool:
    """Running, and not a zombie waiting to be reaped."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def options_from(env_file: Path | None, bootstrap: str) -> dict[str, Any]:
    for name in [n for n in os.environ if n.startswith("ADPULSE_")]:
        del os.environ[name]
    if env_file is not None:
        for line in env_file.read_text().splitlines():
            name, sep, value = line.partition("=")
            if sep and name.startswith("ADPULSE_"):
                os.environ[name] = value
    return client_options(load_settings(kafka_bootstrap=bootstrap))


async def answers(options: dict[str, Any], brokers: int) -> bool:
    admin = AIOKafkaAdminClient(**options, request_timeout_ms=3000, client_id="adpulse-kafka-ready")
    try:
        await admin.start()  # bootstrap: a MetadataRequest
        cluster = await admin.describe_cluster()  # and another one, through the client's node connection
    except Exception:  # noqa: BLE001 - not up yet, whatever the reason
        return False
    finally:
        await admin.close()
    return len(cluster.get("brokers") or []) >= brokers and cluster.get("controller_id", -1) != -1


async def wait(options: dict[str, Any], brokers: int, seconds: float, pids: list[int]) -> int:
    deadline = time.monotonic() + seconds
    while True:
        if await answers(options, brokers):
            return 0
        if not all(alive(pid) for pid in pids):
            return 2
        if time.monotonic() >= deadline:
            return 1
        await asyncio.sleep(0.25)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("bootstrap")
    parser.add_argument("--env-file", type=Path)
    parser.add_argument("--brokers", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=0.0)
    parser.add_argument("--pid", type=int, action="append", default=[])
    args = parser.parse_args()
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # "Unable to connect" while it starts
    options = options_from(args.env_file, args.bootstrap)
    return asyncio.run(wait(options, args.brokers, args.timeout, args.pid))


if __name__ == "__main__":
    sys.exit(main())
