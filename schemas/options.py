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
    # Operator block lists (issue 11, ADPULSE_BLOCK_IPS / ADPULSE_BLOCK_USER_AGENTS): baked into the
    # pixel-hit parse on every migrate (set the aggregator's and migrate's alike).
    block_ips: tuple[str, ...] = ()
    block_user_agents: tuple[str, ...] = ()
    # More datacenter ASNs than the shipped list (ADPULSE_DATACENTER_ASNS; migration 0007's hit views).
    datacenter_asns: tuple[int, ...] = ()
