"""How the aggregator reads back what it just wrote (dedup ids, clicks, conversion states) on a cluster.

Each batch's lookups must see every earlier batch's insert, whichever replica answers. The mode is
``ADPULSE_CLICKHOUSE_READ_OWN_WRITES`` (README "ClickHouse clusters"):

- ``off``: one server or the embedded engine, which always sees its own inserts.
- ``quorum`` (self-managed replicated cluster): the insert goes through the Distributed table in the
  foreground and returns once ``ADPULSE_CLICKHOUSE_INSERT_QUORUM`` replicas of each shard hold it, with
  quorum inserts linearised (``insert_quorum_parallel = 0``); lookups use
  ``select_sequential_consistency = 1``, so a replica that lacks a quorum-acknowledged part refuses the
  read instead of answering stale (the aggregator retries the batch).
- ``sequential`` (ClickHouse Cloud, SharedMergeTree: every acknowledged insert is already durable in
  shared storage): lookups use ``select_sequential_consistency = 1``, which makes the replica refresh
  its part list from Keeper before reading.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from adpulse.settings import Settings


@dataclass(frozen=True)
class ReadOwnWrites:
    insert: dict[str, Any] = field(default_factory=dict)  # added to the batch INSERT's settings
    lookup: dict[str, Any] = field(default_factory=dict)  # added to every lookup SELECT's settings


def read_own_writes(settings: Settings) -> ReadOwnWrites:
    mode = settings.clickhouse_read_own_writes
    if mode == "quorum":
        quorum = settings.clickhouse_insert_quorum
        return ReadOwnWrites(
            insert={
                "insert_distributed_sync": 1,  # alias of distributed_foreground_insert, known to older servers
                "insert_quorum": int(quorum) if quorum.isdigit() else quorum,
                "insert_quorum_parallel": 0,
            },
            lookup={"select_sequential_consistency": 1},
        )
    if mode == "sequential":
        return ReadOwnWrites(lookup={"select_sequential_consistency": 1})
    return ReadOwnWrites()
