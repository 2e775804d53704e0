"""A batch of events + what ClickHouse already knows -> the rows to insert (pure, deterministic).

Deterministic matters: after a crash the same messages come back, the lookups see what the first
attempt stored, and the second attempt writes nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from aggregator import velocity
from aggregator.attribution import (
    NOTHING,
    UNATTRIBUTED,
    AdDimensions,
    Click,
    ConversionState,
    applies,
    attribute,
)
from aggregator.rows import Row, event_row, fx_day, state_row
from ingest import bots
from ingest.ids import derived_id
from schemas.events import ConversionStatus, Event, EventType

_ZERO = Decimal(0)
_NO_LISTS = bots.OperatorLists()
StateKey = tuple[str, str]  # (network, conversion_key)


@dataclass
class Known:
    """Lookups from ClickHouse for one batch (see ``Needed``)."""

    seen_ids: set[str] = field(default_factory=set)
    clicks: dict[str, Click] = field(default_factory=dict)
    states: dict[StateKey, ConversionState] = field(default_factory=dict)
    # Unattributed conversions whose click id is among the batch's clicks.
    waiting: list[ConversionState] = field(default_factory=list)
    # Clicks already stored per (campaign, visitor, minute) of the batch's clicks (``aggregator.velocity``).
    click_counts: dict[velocity.Key, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Needed:
    event_ids: list[str]
    conversion_click_ids: list[str]
    state_keys: list[StateKey]
    batch_click_ids: list[str]
    velocity_keys: list[velocity.Key] = field(default_factory=list)


@dataclass
class Output:
    rows: list[Row] = field(default_factory=list)
    duplicates: int = 0
    late_attributions: int = 0


def needed(events: Sequence[Event]) -> Needed:
    conversions = [e for e in events if e.event_type is EventType.CONVERSION]
    return Needed(
        event_ids=sorted({e.event_id for e in events}),
        conversion_click_ids=sorted({e.click_id for e in conversions}),
        state_keys=sorted({(e.network, e.conversion_key) for e in conversions}),
        batch_click_ids=sorted({e.click_id for e in events if e.event_type is EventType.CLICK and e.click_id}),
        velocity_keys=velocity.keys(events),
    )


def _state_of(
    event: Event, dims: AdDimensions, version: int, previous: ConversionState | None, bot_click: bool
) -> ConversionState:
    return ConversionState(
        network=event.network,
        conversion_key=event.conversion_key,
        txid=event.txid,
        click_id=event.click_id,
        status=event.status or ConversionStatus.APPROVED,
        payout=event.payout or _ZERO,
        # A status update that names no currency keeps the conversion's.
        currency=event.currency or (previous.currency if previous is not None else ""),
        dims=dims,
        received_at_ms=event.received_at_ms,
        version=version,
        fx_date=previous.fx_date if previous is not None and previous.fx_date else fx_day(event),
        bot_click=bot_click,
    )


class _Builder:
    def __init__(self, known: Known, window_ms: int) -> None:
        self.out = Output()
        self.seen = set(known.seen_ids)
        self.clicks = dict(known.clicks)
        self.states: dict[StateKey, ConversionState] = dict(known.states)
        for state in known.waiting:
            self.states.setdefault((state.network, state.conversion_key), state)
        self.window_ms = window_ms

    def bot(self, click_id: str, dims: AdDimensions) -> bool:
        """Whether a conversion attributed to ``dims`` through ``click_id`` is a bot click's."""
        click = self.clicks.get(click_id)
        return dims != UNATTRIBUTED and click is not None and click.bot

    def move(self, state: ConversionState, to: AdDimensions) -> ConversionState:
        """Move a conversion's whole contribution from its current ad to ``to`` (two signed rows, dated
        at the conversion so time-bucketed KPIs move in the conversion's own bucket)."""
        moved = state.moved_to(to, self.bot(state.click_id, to))
        contribution = state.contribution()
        key = (state.network, state.conversion_key, str(moved.version))
        self.out.rows.append(
            state_row(derived_id("attribution-from", *key), "attribution", state, state.dims,
                      contribution.negated(), state_version=0)
        )  # fmt: skip
        self.out.rows.append(
            state_row(derived_id("attribution-to", *key), "attribution", moved, to, contribution,
                      state_version=moved.version)
        )  # fmt: skip
        return moved

    def conversion(self, event: Event) -> None:
        key = (event.network, event.conversion_key)
        previous = self.states.get(key)
        status = event.status or ConversionStatus.APPROVED
        if previous is not None and not applies(previous.status, status):
            # Kept in the history, changes nothing.
            self.out.rows.append(
                state_row(event.event_id, "conversion", previous, previous.dims, state_version=0, event=event)
            )
            return
        current_dims = previous.dims if previous is not None else UNATTRIBUTED
        dims = attribute(self.clicks.get(event.click_id), event.received_at_ms, self.window_ms, current_dims)
        if previous is not None and previous.dims != dims:
            previous = self.move(previous, dims)
        version = previous.version + 1 if previous is not None else 1
        bot_click = previous.bot_click if previous is not None else self.bot(event.click_id, dims)
        new = _state_of(event, dims, version, previous, bot_click)
        before = previous.contribution() if previous is not None else None
        if previous is not None and before is not None and before != NOTHING and previous.currency != new.currency:
            # Amounts in two currencies never subtract: withdraw the old one whole, then add the new one.
            withdraw = derived_id("currency-from", event.network, event.conversion_key, str(version))
            self.out.rows.append(
                state_row(withdraw, "attribution", previous, previous.dims, before.negated(), state_version=0)
            )
            before = None
        delta = new.contribution() if before is None else new.contribution().minus(before)
        self.out.rows.append(
            state_row(event.event_id, "conversion", new, dims, delta, state_version=version, event=event)
        )  # fmt: skip
        self.states[key] = new

    def settle_waiting(self) -> None:
        """Conversions that arrived before their click: attribute them now that the click is here."""
        for key, state in sorted(self.states.items()):
            if state.attributed:
                continue
            dims = attribute(self.clicks.get(state.click_id), state.received_at_ms, self.window_ms)
            if dims != UNATTRIBUTED:
                self.states[key] = self.move(state, dims)
                self.out.late_attributions += 1


def _new(events: list[Event], seen: set[str]) -> list[Event]:
    """The events not stored yet, once each (what the build below keeps)."""
    kept: dict[str, Event] = {}
    for event in events:
        if event.event_id not in seen:
            kept.setdefault(event.event_id, event)
    return list(kept.values())


def build(
    events: Iterable[Event],
    known: Known,
    window_ms: int,
    lists: bots.OperatorLists = _NO_LISTS,
    velocity_limit: int = 60,
) -> Output:
    """The rows of a batch. Browser events (not conversions) are classified (``ingest.bots``) with the
    operator's ``lists``; clicks past ``velocity_limit`` a minute (``aggregator.velocity``) too."""
    events = list(events)
    fresh_clicks = [e for e in _new(events, known.seen_ids) if e.event_type is EventType.CLICK]
    too_fast = velocity.over_limit(fresh_clicks, known.click_counts, velocity_limit)
    reasons = {
        e.event_id: bots.classify(e.user_agent, e.client_ip, lists, e.asn)
        or (bots.VELOCITY if e.event_id in too_fast else "")
        for e in events
        if e.event_type is not EventType.CONVERSION
    }
    builder = _Builder(known, window_ms)
    for event in events:
        if event.event_type is EventType.CLICK and event.click_id:
            builder.clicks.setdefault(
                event.click_id,
                Click(AdDimensions.of(event), event.received_at_ms, bool(reasons[event.event_id])),
            )
    for event in events:
        if event.event_id in builder.seen:
            builder.out.duplicates += 1
            continue
        builder.seen.add(event.event_id)
        if event.event_type is EventType.CONVERSION:
            builder.conversion(event)
        else:
            builder.out.rows.append(event_row(event, reasons[event.event_id]))
    builder.settle_waiting()
    return builder.out
