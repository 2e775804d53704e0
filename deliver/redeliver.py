"""``adpulse redeliver``: put chosen deliveries back to pending (dead letters by default).

The running ``adpulse deliver`` sends them on its next round, with their original idempotency key (so
a platform that already counted one keeps one). Attempts start again from zero.
"""

from __future__ import annotations

from collections.abc import Sequence

from deliver.store import DEAD, PENDING, Delivery, DeliveryStore


def redeliver(
    store: DeliveryStore, now_ms: int, *, keys: Sequence[str] = (), target: str = "", state: str = DEAD
) -> list[Delivery]:
    chosen = store.find(keys=keys, target=target, state=state)
    requeued = [
        d.advanced(now_ms, state=PENDING, attempts=0, first_attempt_ms=None, next_ms=now_ms, last_error="")
        for d in chosen
    ]
    store.save(requeued)
    return requeued
