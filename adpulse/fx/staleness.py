"""Stale FX rates as metrics: per currency, the age of its latest rate, and how many are past the max age.

Refreshed by the API (every ``REFRESH_S`` seconds, from ClickHouse) so a scrape of ``/metrics`` shows it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from prometheus_client import Gauge

from adpulse.clock import Clock
from adpulse.fx.rates import FxStore

log = logging.getLogger(__name__)
REFRESH_S = 60.0

RATE_AGE = Gauge(
    "adpulse_fx_rate_age_days",
    "Days since the latest FX rate of each currency with money in the KPIs (-1: no rate at all)",
    ["currency"],
)
STALE = Gauge(
    "adpulse_fx_stale_currencies",
    "Currencies whose latest rate is older than ADPULSE_FX_MAX_AGE_DAYS (or missing): today's amounts in them "
    "are counted in unconverted",
)


def refresh(store: FxStore, clock: Clock, max_age_days: int, reporting_currency: str) -> int:
    today = datetime.fromtimestamp(clock.now_ms() / 1000, tz=UTC).date()
    ages = store.ages(today, reporting_currency)
    for currency, age in ages.items():
        RATE_AGE.labels(currency).set(age)
    stale = sum(1 for age in ages.values() if age < 0 or age > max_age_days)
    STALE.set(stale)
    return stale


async def run(store: FxStore, clock: Clock, max_age_days: int, reporting_currency: str, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await asyncio.to_thread(refresh, store, clock, max_age_days, reporting_currency)
        except Exception as exc:  # noqa: BLE001 - a metric must never take the API down; retried next round
            log.warning("FX staleness metric not refreshed: %s", exc)
        try:
            await asyncio.wait_for(stop.wait(), REFRESH_S)
        except TimeoutError:
            continue
