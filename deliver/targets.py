"""Which targets a conversion state goes to, the stable idempotency key of each, and its request.

A delivery is (target, conversion, status): its key is the same however often the conversion state
is published (aggregator retries, postback resends, restarts), so a delivered one is never re-sent.
Requests are rendered at send time from the configuration, so no secret is ever stored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from adpulse.settings import Settings
from deliver import ga4, meta, postback, tiktok
from deliver.config import pick_target
from deliver.message import Conversion
from deliver.request import Request


@dataclass(frozen=True)
class Planned:
    target: str
    key: str
    skip: str = ""  # why it is not sent (logged), else ''


class Undeliverable(ValueError):
    """The delivery can never succeed as it stands (dead-lettered at once, not retried)."""


class TargetGone(Undeliverable):
    """The target was removed from the configuration since the delivery was planned."""


def idempotency_key(target: str, conversion: Conversion) -> str:
    raw = "\x1f".join((target, conversion.network, conversion.conversion_key, conversion.status.value))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def plan(conversion: Conversion, settings: Settings, now_ms: int) -> list[Planned]:
    out: list[Planned] = []

    def add(target: str, skip: str = "") -> None:
        out.append(Planned(target, idempotency_key(target, conversion), skip))

    status = conversion.status
    source = settings.source_postbacks.get(conversion.source) if conversion.source else None
    if source is not None and status in source.statuses:
        add(f"source:{conversion.source}")
    meta_target = pick_target(settings.meta_capi, conversion.source, conversion.campaign_id)
    if meta_target is not None and status in meta_target.statuses:
        skip = ""
        if meta.too_old(conversion, now_ms, settings.meta_max_event_age_days):
            skip = f"older than Meta's {settings.meta_max_event_age_days}-day limit"
        elif not meta.has_match_keys(conversion):
            skip = "no fbclid or external_id on the click"
        add(f"meta:{meta_target.pixel_id}", skip)
    tiktok_target = pick_target(settings.tiktok_events, conversion.source, conversion.campaign_id)
    if tiktok_target is not None and status in tiktok_target.statuses:
        add(
            f"tiktok:{tiktok_target.pixel_code}",
            "" if tiktok.has_match_keys(conversion) else "no ttclid or external_id",
        )
    ga4_target = pick_target(settings.ga4, conversion.source, conversion.campaign_id)
    if ga4_target is not None and status in ga4_target.statuses:
        add(f"ga4:{ga4_target.measurement_id}", "" if ga4.client_id(conversion) else "no GA client id (_ga)")
    return out


def render(target: str, conversion: Conversion, settings: Settings) -> Request:
    kind, _, name = target.partition(":")
    if kind == "source" and name in settings.source_postbacks:
        return postback.request(conversion, settings.source_postbacks[name])
    if kind == "meta":
        found_meta = pick_target(settings.meta_capi, conversion.source, conversion.campaign_id)
        if found_meta is not None and found_meta.pixel_id == name:
            return meta.request(conversion, found_meta, settings.meta_base_url)
    if kind == "tiktok":
        found_tiktok = pick_target(settings.tiktok_events, conversion.source, conversion.campaign_id)
        if found_tiktok is not None and found_tiktok.pixel_code == name:
            return tiktok.request(conversion, found_tiktok, settings.tiktok_base_url)
    if kind == "ga4":
        found_ga4 = pick_target(settings.ga4, conversion.source, conversion.campaign_id)
        if found_ga4 is not None and found_ga4.measurement_id == name:
            problems = ga4.validate(ga4.payload(conversion, found_ga4))["validationMessages"]
            if problems:  # GA's collect endpoint would answer 204 and drop it silently
                raise Undeliverable(f"GA4 validation: {problems[0]['fieldPath']}: {problems[0]['description']}")
            return ga4.request(conversion, found_ga4, settings.ga4_base_url)
    raise TargetGone(f"{target} is no longer configured for source {conversion.source!r}")
