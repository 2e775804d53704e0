"""Wait until a Kafka broker answers a metadata request (used by kafka.sh; an open port is not enough).

    python kafka_ready.py BOOTSTRAP [--timeout SECONDS] [--pid PID]

Exit 0 when the broker answered with itself in the cluster and a controller, 1 when it did not within
the timeout (0: a single attempt), 2 when the process --pid exited meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient


def alive(pid: int) -> bool:
    """Running, and not a zombie waiting to be reaped."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


async def answers(bootstrap: str) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000, client_id="adpulse-kafka-ready")
    try:
        await admin.start()  # bootstrap: a MetadataRequest
        cluster = await admin.describe_cluster()  # and another one, through the client's node connection
    except Exception:  # noqa: BLE001 - not up yet, whatever the reason
        return False
    finally:
        await admin.close()
    brokers = cluster.get("brokers") or []
    return bool(brokers) and cluster.get("controller_id", -1) != -1


async def wait(bootstrap: str, seconds: float, pid: int | None) -> int:
    deadline = time.monotonic() + seconds
    while True:
        if await answers(bootstrap):
            return 0
        if pid is not None and not alive(pid):
            return 2
        if time.monotonic() >= deadline:
            return 1
        await asyncio.sleep(0.25)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("bootstrap")
    parser.add_argument("--timeout", type=float, default=0.0)
    parser.add_argument("--pid", type=int)
    args = parser.parse_args()
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # "Unable to connect" while it starts
    return asyncio.run(wait(args.bootstrap, args.timeout, args.pid))


if __name__ == "__main__":
    sys.exit(main())
