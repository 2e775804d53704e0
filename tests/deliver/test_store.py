"""Delivery state, log, dead letters and redeliver on the real embedded ClickHouse engine (migration 0004)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import clickhouse_connect
import pytest

from deliver.redeliver import redeliver
from deliver.store import DEAD, PENDING, SENT, Attempt, Delivery, DeliveryStore
from schemas.migrate import migrate
from tests.deliver.helpers import NOW_MS, conversion

DB = "dlv"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    path: Path = tmp_path_factory.mktemp("chdb")
    client = clickhouse_connect.get_client(dsn=f"chdb://{path}")
    assert [m.version for m in migrate(client, DB, upto=2)] == [1, 2]  # a database the previous release left
    client.insert(f"{DB}.events", [["5f0c1e2a-0000-4000-8000-000000000001", "click", "k9"]],
                  column_names=["event_id", "event_type", "click_id"])  # fmt: skip
    assert 4 in [m.version for m in migrate(client, DB)]  # 0004 upgrades it in place
    yield client
    client.close()


def delivery(key: str, partition: int = 0, state: str = PENDING, next_ms: int = NOW_MS) -> Delivery:
    conv = conversion(conversion_key=key)
    return Delivery(key, "source:propeller", conv.network, key, "approved", partition, state, 0, None, next_ms,
                    NOW_MS, NOW_MS, "", conv.model_dump_json(), 1)  # fmt: skip


def test_state_is_versioned_and_due_by_partition_and_time(client: Any) -> None:
    store = DeliveryStore(client, DB)
    store.save([delivery("a", 0), delivery("b", 1), delivery("c", 0, next_ms=NOW_MS + 60_000)])
    assert store.known_keys(["a", "b", "zz"]) == {"a", "b"}
    assert [d.key for d in store.due([0], NOW_MS, 100)] == ["a"]
    assert {d.key for d in store.due([0, 1], NOW_MS + 60_000, 100)} == {"a", "b", "c"}
    sent = store.due([0], NOW_MS, 100)[0].advanced(NOW_MS + 5, state=SENT, attempts=1, first_attempt_ms=NOW_MS)
    store.save([sent])
    assert [d.key for d in store.due([0], NOW_MS + 60_000, 100)] == ["c"]  # a sent one is never due again
    assert store.pending_oldest_ms() == NOW_MS


def test_dead_letters_log_and_redeliver(client: Any) -> None:
    store = DeliveryStore(client, DB)
    dead = delivery("d", 2).advanced(
        NOW_MS + 10, state=DEAD, attempts=3, first_attempt_ms=NOW_MS, last_error="HTTP 404"
    )
    store.save([dead])
    store.dead_letter(dead, NOW_MS + 10)
    store.log(
        [Attempt(NOW_MS + 10, dead, 3, "GET", "https://s.example/?k=REDACTED", 404, 12, "dead", "HTTP 404", "no")]
    )
    rows = client.query(f"SELECT target, status_code, outcome FROM {DB}.delivery_attempts WHERE conversion_key = 'd'")
    assert rows.result_rows == [("source:propeller", 404, "dead")]
    daily = client.query(f"SELECT failed, attempts FROM {DB}.delivery_daily WHERE target = 'source:propeller'")
    assert daily.result_rows == [(1, 1)]
    letters = client.query(f"SELECT key, attempts, last_error FROM {DB}.delivery_dead_letters").result_rows
    assert letters == [("d", 3, "HTTP 404")]
    requeued = redeliver(store, NOW_MS + 20, target="source:propeller")
    assert [(d.key, d.state, d.attempts, d.version) for d in requeued] == [("d", PENDING, 0, 3)]
    assert [d.key for d in store.due([2], NOW_MS + 20, 10)] == ["d"]
    assert redeliver(store, NOW_MS + 30) == []  # nothing dead any more


def test_click_lookup_for_conversions_whose_click_was_in_an_earlier_batch(client: Any) -> None:
    client.insert(
        f"{DB}.events",
        [
            [
                "5f0c1e2a-0000-4000-8000-000000000002",
                "click",
                "k1",
                "Z",
                "X",
                "fb1",
                "https://shop/lp",
                datetime.now(UTC),
            ]
        ],
        column_names=["event_id", "event_type", "click_id", "sub1", "external_id", "fbclid", "url", "received_at"],
    )
    found = DeliveryStore(client, DB).clicks(["k1", "nope"])
    assert set(found) == {"k1"}
    assert (found["k1"].sub1, found["k1"].external_id, found["k1"].fbclid, found["k1"].page_url) == (
        "Z", "X", "fb1", "https://shop/lp",
    )  # fmt: skip
