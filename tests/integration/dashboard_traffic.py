"""Known traffic for the dashboard's browser test, sent through the real endpoints (pixel, click, postback)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx


@dataclass(frozen=True)
class Ad:
    source: str
    campaign: str
    ad: str
    impressions: int
    impression_cost: str
    clicks: int
    click_cost: str
    payouts: tuple[str, ...]  # one approved conversion per payout, on the first clicks


def plan(tag: str) -> list[Ad]:
    a, b = f"alpha{tag}", f"beta{tag}"
    return [
        Ad(a, f"spring-{tag}", f"banner-1-{tag}", 30, "0.02", 6, "0.30", ("10.00", "10.00")),
        Ad(a, f"spring-{tag}", f"banner-2-{tag}", 20, "0.01", 4, "0.50", ()),
        Ad(a, f"summer-{tag}", f"video-1-{tag}", 12, "0", 3, "0.40", ("7.25",)),
        Ad(b, f"autumn-{tag}", f"native-1-{tag}", 5, "0", 2, "0", ()),
    ]


def send(api: str, ads: list[Ad]) -> None:
    with httpx.Client(base_url=api, timeout=30) as http:
        for ad in ads:
            dims = {"utm_source": ad.source, "campaign_id": ad.campaign, "ad_id": ad.ad, "utm_medium": "cpc"}
            for _ in range(ad.impressions):
                assert http.get("/i", params={**dims, "cost": ad.impression_cost}).status_code == 200
            click_ids = []
            for _ in range(ad.clicks):
                answer = http.get("/c", params={**dims, "cost": ad.click_cost, "url": "https://shop.example.com/"})
                assert answer.status_code == 302, answer.text
                click_ids.append(parse_qs(urlsplit(answer.headers["location"]).query)["click_id"][0])
            for i, payout in enumerate(ad.payouts):
                params = {"click_id": click_ids[i], "payout": payout, "txid": f"{ad.ad}-{i}"}
                answer = http.get("/postback", params=params)
                assert answer.status_code == 200, answer.text


def wait_for_kpis(api: str, ads: list[Ad], timeout: float = 60.0) -> None:
    """Until /v1/kpis shows every ad's impressions, clicks and conversions."""
    want = {ad.ad: (ad.impressions, ad.clicks, len(ad.payouts)) for ad in ads}
    deadline = time.monotonic() + timeout
    seen: dict[str, tuple[int, int, int]] = {}
    while time.monotonic() < deadline:
        for source in {ad.source for ad in ads}:
            rows = httpx.get(f"{api}/v1/kpis", params={"group_by": "ad_id", "source": source}).json()["rows"]
            seen.update({r["ad_id"]: (r["impressions"], r["clicks"], r["conversions"]) for r in rows})
        if all(seen.get(ad) == counts for ad, counts in want.items()):
            return
        time.sleep(0.3)
    raise AssertionError(f"KPIs incomplete after {timeout}s: want {want}, have {seen}")
