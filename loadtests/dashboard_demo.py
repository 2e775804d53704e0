"""Demo data for the dashboard screenshot (docs/dashboard.png): a week of synthetic traffic written
straight into a development stack's ClickHouse ``events`` (the KPI rollups follow through their
materialized views). Never point it at a production database.

    python -m loadtests.dashboard_demo http://default:@127.0.0.1:8123/adpulse
"""

from __future__ import annotations

import random
import sys
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import clickhouse_connect

# source -> campaigns -> ads; (share of traffic, click-through, conversion rate, cost per click, payout)
PLAN = {
    "google": {"brand-search": ["rsa-1", "rsa-2"], "generic-search": ["rsa-3", "rsa-4", "rsa-5"]},
    "facebook": {"prospecting-us": ["video-15s", "carousel-a", "static-b"], "retargeting": ["dpa-1"]},
    "tiktok": {"spark-ads": ["ugc-1", "ugc-2"]},
    "taboola": {"native-push": ["headline-a", "headline-b", "headline-c"]},
    "outbrain": {"native-eu": ["teaser-1", "teaser-2"]},
}
PROFILE = {
    "google": (0.30, 0.045, 0.060, "0.80", "30"),
    "facebook": (0.30, 0.015, 0.035, "0.45", "30"),
    "tiktok": (0.15, 0.010, 0.020, "0.25", "30"),
    "taboola": (0.15, 0.004, 0.015, "0.12", "30"),
    "outbrain": (0.10, 0.003, 0.010, "0.15", "30"),
}
COLUMNS = ["event_id", "event_type", "received_at", "occurred_at", "ad_id", "campaign_id", "source", "medium",
           "visitor_id", "impressions", "clicks", "conversions", "cost", "revenue"]  # fmt: skip


def rows(now: datetime, days: int, impressions_per_hour: int, rng: random.Random) -> list[list[object]]:
    out: list[list[object]] = []
    start = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    hour = start
    while hour <= now - timedelta(minutes=5):
        daily = 0.35 + 0.65 * max(0.0, 1 - abs(hour.hour - 15) / 11)  # quiet nights, busy afternoons
        for source, campaigns in PLAN.items():
            share, ctr, cr, cpc, payout = PROFILE[source]
            ads = [(c, a) for c, ads in campaigns.items() for a in ads]
            for campaign, ad in ads:
                quality = 0.6 + (sum(map(ord, ad)) % 9) / 10
                views = int(impressions_per_hour * share * daily * rng.uniform(0.7, 1.3) / len(ads))
                at = hour + timedelta(minutes=rng.randrange(60))
                at = min(at, now - timedelta(minutes=1))
                clicks = sum(rng.random() < ctr * quality for _ in range(views))
                conversions = sum(rng.random() < cr * quality for _ in range(clicks))

                dims = [at, at, ad, campaign, source, "cpc"]

                def event(
                    dims: list[object], kind: str, imp: int, clk: int, conv: int, cost: str, rev: str
                ) -> list[object]:
                    visitor = f"v{rng.randrange(10**9)}"
                    return [uuid.uuid4(), kind, *dims, visitor, imp, clk, conv, Decimal(cost), Decimal(rev)]

                for chunk in range(0, views, 100):  # impressions is an Int8 delta: up to 100 per synthetic row
                    out.append(event(dims, "impression", min(100, views - chunk), 0, 0, "0", "0"))
                out += [event(dims, "click", 0, 1, 0, cpc, "0") for _ in range(clicks)]
                out += [event(dims, "conversion", 0, 0, 1, "0", payout) for _ in range(conversions)]
        hour += timedelta(hours=1)
    return out


def main(url: str) -> int:
    client = clickhouse_connect.get_client(dsn=url, autogenerate_session_id=False)
    data = rows(datetime.now(UTC), 7, 6000, random.Random(14))
    for offset in range(0, len(data), 20_000):
        client.insert("events", data[offset : offset + 20_000], column_names=COLUMNS)
    print(f"inserted {len(data)} event rows")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
