"""The real traffic mix for locust: pixel impressions >> clicks > postbacks, with duplicates and bad hits.

Headless, fixed rate and duration (each user paces itself to ``ADPULSE_LOCUST_RPS_PER_USER``/s):

    locust -f loadtests/locustfile.py --headless -u 50 -r 50 -t 60s --host http://127.0.0.1:8000

Stays on the host given (a loopback address for this project's tests); bounded by -t.
"""

from __future__ import annotations

import os
import random
import uuid

from locust import FastHttpUser, constant_throughput, task

SOURCES = [("google", "cpc"), ("facebook", "paid_social"), ("tiktok", "paid_social"), ("newsletter", "email")]
CAMPAIGNS = ["spring_sale", "retargeting_q2", "brand_search", "black_friday"]
AGENTS = [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36",
]


def _utm() -> dict[str, str]:
    source, medium = random.choice(SOURCES)
    campaign = random.choice(CAMPAIGNS)
    return {"utm_source": source, "utm_medium": medium, "utm_campaign": campaign,
            "utm_content": f"ad-{random.randint(1, 200)}", "utm_term": random.choice(["shoes", "running", ""])}  # fmt: skip


class Visitor(FastHttpUser):
    wait_time = constant_throughput(float(os.environ.get("ADPULSE_LOCUST_RPS_PER_USER", "20")))

    def on_start(self) -> None:
        self.headers = {"User-Agent": random.choice(AGENTS), "Referer": "https://news.example/article"}
        self.clicks: list[str] = []

    @task(80)
    def impression(self) -> None:
        self.client.get("/i", params={**_utm(), "cost": "0.0020"}, headers=self.headers, name="/i")

    @task(10)
    def click(self) -> None:
        params = {**_utm(), "cost": "0.35", "url": "https://shop.example.com/p"}
        with self.client.get(
            "/c", params=params, headers=self.headers, allow_redirects=False, name="/c", catch_response=True
        ) as response:
            if response.status_code != 302:
                response.failure(f"click answered {response.status_code}")
                return
            location = response.headers.get("location", "")
            if "click_id=" in location:
                self.clicks.append(location.split("click_id=")[1].split("&")[0])

    @task(5)
    def postback(self) -> None:
        if not self.clicks:
            return
        params = {"click_id": self.clicks.pop(), "payout": "12.50", "currency": "EUR", "txid": uuid.uuid4().hex}
        self.client.get("/postback", params=params, name="/postback")
        if random.random() < 0.2:  # networks resend
            self.client.get("/postback", params=params, name="/postback (resend)")

    @task(3)
    def bad_hit(self) -> None:
        # The pixel answers the GIF anyway; the hit goes to the rejects topic.
        self.client.get("/i", params={"utm_content": "ad-1", "cost": "-5"}, headers=self.headers, name="/i (bad)")

    @task(2)
    def page_view(self) -> None:
        self.client.post("/e", data={"type": "page_view", "page_url": "https://shop.example.com/?utm_source=fb"},
                         headers=self.headers, name="/e")  # fmt: skip
