"""ClickHouse side of the aggregator: the lookups a batch needs, and the idempotent batch insert.

All SQL here binds request-derived values as parameters; only the database name (a validated
identifier from config) is formatted in.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from aggregator import velocity
from aggregator.attribution import AdDimensions, Click, ConversionState
from aggregator.read_own_writes import ReadOwnWrites
from aggregator.rows import COLUMNS, Row, positional
from aggregator.transform import Known, Needed
from schemas import hits as hits_codec
from schemas.events import ConversionStatus

# What a conversion inherits from its click, in AdDimensions' field order (the clicks and conversions tables
# have them all since migration 0007).
_DIMS = ", ".join(f.name for f in dataclasses.fields(AdDimensions))
_N_DIMS = len(_DIMS.split(", "))
_STATE_FIELDS = (
    f"txid, click_id, status, payout, currency, fx_date, {_DIMS}, toUnixTimestamp64Milli(received_at), bot_click"
)


class HitBody:
    """A batch's hit messages as one NDJSON insert body, streamed chunk by chunk and re-iterable.

    Not a generator: the HTTP client resends a request when ClickHouse answers a retryable status (a
    restart), and a consumed generator was resent empty -- an INSERT of nothing that succeeds, after which
    the batch's offsets were committed and its hits lost (found by fault injection). Not one joined bytes
    object either: the client prepends the INSERT statement to a bytes body, so a joined body cost two
    copies of the batch (up to 2 x ``ADPULSE_BATCH_MAX_BYTES``) on top of the messages. Each send
    iterates the messages from the start."""

    def __init__(self, messages: Sequence[bytes]) -> None:
        self._messages = messages

    def __iter__(self) -> Iterator[bytes]:
        return hits_codec.stream(self._messages)


class ClickHouseStore:
    def __init__(self, client: Any, database: str, consistency: ReadOwnWrites | None = None) -> None:
        self._client = client
        self._db = database
        self._consistency = consistency or ReadOwnWrites()  # settings for reading own writes on a cluster

    def _query(self, sql: str, **parameters: Any) -> list[Sequence[Any]]:
        result = self._client.query(sql, parameters=parameters, settings=self._consistency.lookup)
        rows: list[Sequence[Any]] = result.result_rows
        return rows

    def _states(self, where: str, **parameters: Any) -> list[ConversionState]:
        sql = (
            f"SELECT network, conversion_key, argMax(tuple({_STATE_FIELDS}), state_version), max(state_version) "  # noqa: S608
            f"FROM {self._db}.conversions WHERE {where} GROUP BY network, conversion_key"
        )
        states = []
        for network, key, fields, version in self._query(sql, **parameters):
            txid, click_id, status, payout, currency, fx_date = fields[:6]
            states.append(
                ConversionState(
                    network=network, conversion_key=key, txid=txid, click_id=click_id,
                    status=ConversionStatus(status), payout=Decimal(payout), currency=currency,
                    dims=AdDimensions(*fields[6 : 6 + _N_DIMS]), received_at_ms=int(fields[-2]),
                    version=int(version), fx_date=fx_date, bot_click=bool(fields[-1]),
                )
            )  # fmt: skip
        return states

    def _lookup(self, needed: Needed) -> Known:
        known = Known()
        if needed.event_ids:
            sql = f"SELECT toString(event_id) FROM {self._db}.event_ids WHERE event_id IN {{ids:Array(UUID)}}"  # noqa: S608
            known.seen_ids = {row[0] for row in self._query(sql, ids=needed.event_ids)}
        click_ids = sorted(set(needed.conversion_click_ids))
        if click_ids:
            sql = (
                f"SELECT click_id, argMin(tuple({_DIMS}), received_at), "  # noqa: S608
                "min(toUnixTimestamp64Milli(received_at)), argMin(bot_reason != '', received_at) "
                f"FROM {self._db}.clicks "
                "WHERE click_id IN {ids:Array(String)} GROUP BY click_id"
            )
            known.clicks = {
                row[0]: Click(AdDimensions(*row[1]), int(row[2]), bool(row[3]))
                for row in self._query(sql, ids=click_ids)
            }
        if needed.state_keys:
            states = self._states(
                "(network, conversion_key) IN {keys:Array(Tuple(String, String))}", keys=needed.state_keys
            )
            known.states = {(s.network, s.conversion_key): s for s in states}
        if needed.batch_click_ids:
            waiting = self._states("click_id IN {ids:Array(String)}", ids=needed.batch_click_ids)
            known.waiting = [s for s in waiting if not s.attributed]
        if needed.velocity_keys:
            known.click_counts = self._click_counts(needed.velocity_keys)
        return known

    def _click_counts(self, keys: list[velocity.Key]) -> dict[velocity.Key, int]:
        """Clicks stored per (campaign, visitor, minute) for the batch's keys (``aggregator.velocity``)."""
        sql = (
            f"SELECT campaign_id, {velocity.VISITOR_SQL} AS who, "  # noqa: S608
            "toInt64(toUnixTimestamp(toStartOfMinute(received_at))) * 1000 AS minute, count() "
            f"FROM {self._db}.events "
            "WHERE event_type = 'click' AND received_at >= fromUnixTimestamp64Milli({first:Int64}, 'UTC') "
            "AND received_at < fromUnixTimestamp64Milli({last:Int64}, 'UTC') "
            "AND campaign_id IN {campaigns:Array(String)} "
            "GROUP BY campaign_id, who, minute "
            "HAVING (campaign_id, who, minute) IN {keys:Array(Tuple(String, String, Int64))}"
        )
        rows = self._query(
            sql,
            first=min(k[2] for k in keys),
            last=max(k[2] for k in keys) + velocity.MINUTE_MS,
            campaigns=sorted({k[0] for k in keys}),
            keys=keys,
        )
        return {(str(c), str(w), int(m)): int(n) for c, w, m, n in rows}

    async def lookup(self, needed: Needed) -> Known:
        return await asyncio.to_thread(self._lookup, needed)

    def _insert_hits(self, messages: Sequence[bytes], token: str, honour_dnt: bool) -> None:
        table = "hits_in" if honour_dnt else "hits_in_dnt_off"
        settings = {
            "insert_deduplication_token": token,
            "deduplicate_blocks_in_dependent_materialized_views": 1,
            **self._consistency.insert,
            "async_insert": 0,
        }
        self._client.raw_insert(
            f"{self._db}.{table}", insert_block=HitBody(messages), fmt="JSONEachRow", settings=settings
        )

    async def insert_hits(self, messages: Sequence[bytes], token: str, *, honour_dnt: bool = True) -> None:
        """Insert raw pixel hit messages (``schemas.hits``) as they came from Kafka: ClickHouse applies
        the ingest rules (migration 0005). A retry with the same ``token`` is dropped, views included."""
        if messages:
            await asyncio.to_thread(self._insert_hits, messages, token, honour_dnt)

    async def insert(self, rows: list[Row], token: str) -> None:
        """Insert one batch. A retry with the same ``token`` is dropped by ClickHouse, views included."""
        if not rows:
            return
        settings = {
            "insert_deduplication_token": token,
            "deduplicate_blocks_in_dependent_materialized_views": 1,
            **self._consistency.insert,
            "async_insert": 0,
        }
        await asyncio.to_thread(
            self._client.insert, f"{self._db}.events", positional(rows), column_names=list(COLUMNS), settings=settings
        )
