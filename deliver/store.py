"""ClickHouse side of the deliverer: delivery state, the attempt log, dead letters, click look-ups.

State rows are versioned (``deliveries`` is a ReplacingMergeTree read with argMax), so every change is
an insert; only the database name (a validated identifier from config) is formatted into SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from deliver.message import CLICK_FIELDS, ClickInfo

PENDING, SENT, DEAD = "pending", "sent", "dead"
_STATE_COLUMNS = (
    "key", "target", "network", "conversion_key", "status", "partition", "state", "attempts",
    "first_attempt_at", "next_at", "created_at", "updated_at", "last_error", "payload", "version",
)  # fmt: skip
_LOG_COLUMNS = (
    "attempted_at", "key", "target", "network", "conversion_key", "status", "attempt", "method", "url",
    "status_code", "latency_ms", "outcome", "error", "response_excerpt",
)  # fmt: skip
_DEAD_COLUMNS = (
    "dead_at", "key", "target", "network", "conversion_key", "status", "attempts", "last_error", "payload",
)  # fmt: skip
_CLICK_LOOKUP = ("received_at", *(name if name != "page_url" else "url" for name in CLICK_FIELDS))


def _time(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _ms(value: datetime) -> int:
    return int(value.replace(tzinfo=value.tzinfo or UTC).timestamp() * 1000)


@dataclass(frozen=True)
class Delivery:
    key: str
    target: str
    network: str
    conversion_key: str
    status: str
    partition: int
    state: str
    attempts: int
    first_attempt_ms: int | None
    next_ms: int
    created_ms: int
    updated_ms: int
    last_error: str
    payload: str
    version: int

    def row(self) -> list[Any]:
        first = None if self.first_attempt_ms is None else _time(self.first_attempt_ms)
        return [
            self.key, self.target, self.network, self.conversion_key, self.status, self.partition, self.state,
            self.attempts, first, _time(self.next_ms), _time(self.created_ms), _time(self.updated_ms),
            self.last_error, self.payload, self.version,
        ]  # fmt: skip

    def advanced(self, now_ms: int, **changes: Any) -> Delivery:
        return replace(self, updated_ms=now_ms, version=self.version + 1, **changes)


@dataclass(frozen=True)
class Attempt:
    at_ms: int
    delivery: Delivery
    attempt: int
    method: str
    url: str  # without secrets
    status_code: int  # 0: no response (timeout, connection error)
    latency_ms: int
    outcome: str  # sent | retry | dead | skipped
    error: str
    excerpt: str

    def row(self) -> list[Any]:
        d = self.delivery
        return [
            _time(self.at_ms), d.key, d.target, d.network, d.conversion_key, d.status, self.attempt, self.method,
            self.url, self.status_code, self.latency_ms, self.outcome, self.error, self.excerpt,
        ]  # fmt: skip


class DeliveryStore:
    def __init__(self, client: Any, database: str) -> None:
        self._client = client
        self._db = database

    def _query(self, sql: str, **parameters: Any) -> list[Sequence[Any]]:
        rows: list[Sequence[Any]] = self._client.query(sql, parameters=parameters).result_rows
        return rows

    def _insert(self, table: str, rows: list[list[Any]], columns: Sequence[str]) -> None:
        if rows:
            self._client.insert(f"{self._db}.{table}", rows, column_names=list(columns))

    def _latest(self, where: str, having: str = "1", limit: int = 10_000, **parameters: Any) -> list[Delivery]:
        fields = ", ".join(c for c in _STATE_COLUMNS if c not in ("key", "version"))
        sql = (
            f"SELECT key, argMax(tuple({fields}), version), max(version) FROM {self._db}.deliveries "  # noqa: S608
            f"WHERE {where} GROUP BY key HAVING {having} LIMIT {int(limit)}"
        )
        out = []
        for key, values, version in self._query(sql, **parameters):
            (
                target,
                network,
                conv,
                status,
                partition,
                state,
                attempts,
                first,
                next_at,
                created,
                updated,
                err,
                body,
            ) = values
            out.append(
                Delivery(
                    key, target, network, conv, status, int(partition), state, int(attempts),
                    None if first is None else _ms(first), _ms(next_at), _ms(created), _ms(updated), err, body,
                    int(version),
                )
            )  # fmt: skip
        return out

    # -- used by the deliverer --------------------------------------------------------------------

    def known_keys(self, keys: Iterable[str]) -> set[str]:
        keys = sorted(set(keys))
        if not keys:
            return set()
        sql = f"SELECT DISTINCT key FROM {self._db}.deliveries WHERE key IN {{keys:Array(String)}}"  # noqa: S608
        return {row[0] for row in self._query(sql, keys=keys)}

    def save(self, deliveries: Sequence[Delivery]) -> None:
        self._insert("deliveries", [d.row() for d in deliveries], _STATE_COLUMNS)

    def due(self, partitions: Sequence[int], now_ms: int, limit: int) -> list[Delivery]:
        if not partitions:
            return []
        found = self._latest(
            "partition IN {parts:Array(UInt16)}",
            "argMax(state, version) = 'pending' AND argMax(next_at, version) <= {now:DateTime64(3, 'UTC')}",
            limit,
            parts=list(partitions),
            now=_time(now_ms),
        )
        return sorted(found, key=lambda d: d.next_ms)

    def pending_oldest_ms(self) -> int | None:
        sql = (
            f"SELECT min(created) FROM (SELECT argMax(state, version) AS s, argMax(created_at, version) AS created "  # noqa: S608
            f"FROM {self._db}.deliveries GROUP BY key) WHERE s = 'pending'"
        )
        rows = self._query(sql)
        if not rows or rows[0][0] is None:
            return None
        value = rows[0][0]
        return _ms(value) if value.year > 1970 else None

    def log(self, attempts: Sequence[Attempt]) -> None:
        self._insert("delivery_log", [a.row() for a in attempts], _LOG_COLUMNS)

    def dead_letter(self, delivery: Delivery, now_ms: int) -> None:
        d = delivery
        row = [
            _time(now_ms),
            d.key,
            d.target,
            d.network,
            d.conversion_key,
            d.status,
            d.attempts,
            d.last_error,
            d.payload,
        ]
        self._insert("delivery_dead_letters", [row], _DEAD_COLUMNS)

    def clicks(self, click_ids: Iterable[str]) -> dict[str, ClickInfo]:
        """The first click event of each id: what a conversion inherits for delivery."""
        ids = sorted(set(filter(None, click_ids)))
        if not ids:
            return {}
        fields = ", ".join(f"toUnixTimestamp64Milli({c})" if c == "received_at" else c for c in _CLICK_LOOKUP)
        sql = (
            f"SELECT click_id, argMin(tuple({fields}), received_at) FROM {self._db}.events "  # noqa: S608
            "WHERE event_type = 'click' AND click_id IN {ids:Array(String)} GROUP BY click_id"
        )
        out = {}
        for click_id, values in self._query(sql, ids=ids):
            received, *rest = values
            out[click_id] = ClickInfo(received_at_ms=int(received), **dict(zip(CLICK_FIELDS, rest, strict=True)))
        return out

    # -- used by `adpulse redeliver` --------------------------------------------------------------

    def find(self, *, keys: Sequence[str], target: str, state: str) -> list[Delivery]:
        where = "key IN {keys:Array(String)}" if keys else "1"
        params: dict[str, Any] = {"keys": list(keys)} if keys else {}
        having = ["1"]
        if target:
            having.append("argMax(target, version) = {target:String}")
            params["target"] = target
        if state:
            having.append("argMax(state, version) = {state:String}")
            params["state"] = state
        return self._latest(where, " AND ".join(having), 100_000, **params)
