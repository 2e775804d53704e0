"""Insert throughput: 20k-row Native inserts through the development endpoint vs clickhouse-connect's
in-process chdb client, same rows, same run. Not a test: ``python -m tests.devch.bench_insert``."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import clickhouse_connect

from tests.devch.helpers import Endpoint

DDL = (
    "CREATE TABLE IF NOT EXISTS {name} (id UUID, at DateTime64(3, 'UTC'), campaign LowCardinality(String), "
    "amount Decimal(18, 6), clicks UInt32, url String) ENGINE = MergeTree ORDER BY (campaign, at)"
)
COLUMNS = ["id", "at", "campaign", "amount", "clicks", "url"]


def rows(n: int) -> list[list[object]]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        [uuid.uuid4(), start + timedelta(milliseconds=i), f"c{i % 50}", Decimal(i) / 1000, i % 17,
         f"https://shop.example.com/p/{i}?utm_source=x"]
        for i in range(n)
    ]  # fmt: skip


def measure(clients: dict[str, object], data: list[list[object]], repeats: int) -> dict[str, float]:
    """Rows/s per client: rounds interleaved (one insert per client each round), so load drifts hit all alike."""
    times: dict[str, list[float]] = {name: [] for name in clients}
    for index, ch in enumerate(clients.values()):
        ch.command(DDL.format(name=f"bench_{index}"))  # type: ignore[attr-defined]
        ch.insert(f"bench_{index}", data[:100], column_names=COLUMNS)  # type: ignore[attr-defined]  # warm-up
    for _ in range(repeats):
        for index, (name, ch) in enumerate(clients.items()):
            started = time.perf_counter()
            ch.insert(f"bench_{index}", data, column_names=COLUMNS)  # type: ignore[attr-defined]
            times[name].append(time.perf_counter() - started)
    return {name: len(data) / statistics.median(spent) for name, spent in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    data = rows(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        server = Endpoint(Path(tmp) / "server")
        try:
            clients: dict[str, object] = {
                "in-process chdb client": clickhouse_connect.get_client(dsn=f"chdb://{Path(tmp) / 'embedded'}")
            }
            for compress in (False, "lz4", "zstd"):
                clients[f"HTTP endpoint, compress={compress}"] = clickhouse_connect.get_client(
                    dsn=server.dsn(), compress=compress, autogenerate_session_id=False
                )
            rates = measure(clients, data, args.repeats)
        finally:
            server.stop()
    base = rates["in-process chdb client"]
    print(f"{args.rows}-row Native inserts, median of {args.repeats}:")
    for name, rate in rates.items():
        print(f"  {name:34s} {rate:10,.0f} rows/s  ratio {rate / base:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
