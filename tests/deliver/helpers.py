"""Conversions and settings for the deliverer's unit tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from adpulse.settings import Settings, load_settings
from deliver.message import ClickInfo, Conversion

NOW_MS = 1_790_000_000_000
CLICK_MS = NOW_MS - 3_600_000


def conversion(**changes: Any) -> Conversion:
    click = ClickInfo(
        received_at_ms=CLICK_MS, sub1="zone 7/a", external_id="ext-42", fbclid="IwAR2F4-dbP0l7Mn1IawQQ",
        ttclid="E.C.P.abc", gclid="Cj0KCQ", msclkid="ms123", user_agent="Mozilla/5.0", client_ip="203.0.113.0",
        page_url="https://shop.example.com/landing", visitor_id="GA1.1.1234567890.1700000000", adset_id="as-1",
    )  # fmt: skip
    fields: dict[str, Any] = {
        "network": "cake", "conversion_key": "T-1", "txid": "T-1", "click_id": "c1", "status": "approved",
        "payout": Decimal("12.50"), "currency": "EUR", "ad_id": "ad-1", "campaign_id": "cmp-1",
        "source": "propeller", "medium": "cpc", "converted_at_ms": NOW_MS - 60_000, "state_version": 1,
        "click": click,
    }  # fmt: skip
    fields.update(changes)
    return Conversion(**fields)


def settings(**overrides: Any) -> Settings:
    return load_settings(**overrides)
