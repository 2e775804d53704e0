from __future__ import annotations

from deliver.targets import idempotency_key, plan, render
from tests.deliver.helpers import NOW_MS, conversion, settings

CONFIG = settings(
    source_postbacks={
        "propeller": {"url": "https://s.example/?c={external_id}&s={status}", "statuses": ["approved", "reversed"]}
    },
    meta_capi={
        "propeller": {"pixel_id": "111111", "access_token": "meta-token-1"},
        "campaign:cmp-9": {"pixel_id": "999999", "access_token": "meta-token-9"},
    },
    tiktok_events={"propeller": {"pixel_code": "C4ABCDEFGHIJ12345", "access_token": "tt-token-1"}},
    ga4={"propeller": {"measurement_id": "G-ABC123", "api_secret": "ga-secret-1"}},
)


def test_plan_targets_by_source_status_and_campaign() -> None:
    planned = plan(conversion(), CONFIG, NOW_MS)
    assert [(p.target, p.skip) for p in planned] == [
        ("source:propeller", ""), ("meta:111111", ""), ("tiktok:C4ABCDEFGHIJ12345", ""), ("ga4:G-ABC123", ""),
    ]  # fmt: skip
    assert [p.target for p in plan(conversion(campaign_id="cmp-9"), CONFIG, NOW_MS)][1] == "meta:999999"
    reversed_ = [p.target for p in plan(conversion(status="reversed"), CONFIG, NOW_MS)]
    assert reversed_ == ["source:propeller"]  # platforms only get approved by default
    assert plan(conversion(status="pending"), CONFIG, NOW_MS) == []
    assert plan(conversion(source="other"), CONFIG, NOW_MS) == []


def test_meta_skips_old_events_and_conversions_without_match_keys() -> None:
    old = plan(conversion(converted_at_ms=NOW_MS - 8 * 86_400_000), CONFIG, NOW_MS)
    assert "7-day" in next(p.skip for p in old if p.target.startswith("meta:"))
    bare = plan(conversion(click=None), CONFIG, NOW_MS)
    assert all(p.skip for p in bare if not p.target.startswith("source:"))


def test_keys_are_stable_per_target_conversion_and_status() -> None:
    a = idempotency_key("source:propeller", conversion())
    assert a == idempotency_key("source:propeller", conversion(payout="99", state_version=7))
    assert a != idempotency_key("source:propeller", conversion(status="reversed"))
    assert a != idempotency_key("meta:111111", conversion())
    assert a != idempotency_key("source:propeller", conversion(conversion_key="T-2"))


def test_render_refuses_a_target_no_longer_configured() -> None:
    import pytest

    from deliver.targets import TargetGone

    with pytest.raises(TargetGone):
        render("source:gone", conversion(), CONFIG)
    assert render("meta:111111", conversion(), CONFIG).url.endswith("/111111/events?access_token=meta-token-1")


def test_a_ga4_payload_failing_validation_is_undeliverable() -> None:
    import pytest

    from deliver.targets import Undeliverable

    config = settings(ga4={"propeller": {"measurement_id": "G-ABC123", "api_secret": "ga-secret-1"}})
    with pytest.raises(Undeliverable, match="currency"):
        render("ga4:G-ABC123", conversion(currency="eur"), config)
