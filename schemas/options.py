"""Schema options a deployment chooses (retention, dedup window); applied by ``adpulse migrate``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SchemaOptions:
    # Raw events (and the click lookup) are deleted after this many days.
    events_ttl_days: int = 400
    # Impression/click/page-view ids are remembered this long for deduplication; conversions forever.
    dedup_window_days: int = 7
    # Reporting currency and how old a rate may be (issue 9): baked into the KPI views on every migrate.
    reporting_currency: str = "USD"
    fx_max_age_days: int = 7
