"""Issue 11 on the real stack: bots and invalid traffic tagged and kept out of the KPIs (HTTP -> Kafka ->
aggregator -> ClickHouse -> GET /v1/kpis). Pixel hits are classified by ClickHouse (migration 0006's
views), clicks by the aggregator (``ingest.bots``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.conftest import free_port

pytestmark = pytest.mark.integration
LANDING = "https://shop.example.com/landing"
CHROME_WIN = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
BOTS = {
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)": "ua_crawler",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)": "ua_crawler",
    "": "ua_empty",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36": (
        "ua_headless"
    ),
}


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.3)


def kpi_row(api, **params):
    response = httpx.get(f"{api}/v1/kpis", params=params, timeout=30)
    assert response.status_code == 200, response.text
    rows = response.json()["rows"]
    return rows[0] if len(rows) == 1 else None


def reasons(stack, ad):
    client = stack.clickhouse()
    try:
        result = client.query(
            "SELECT event_type, user_agent, client_ip, bot_reason FROM adpulse.events WHERE ad_id = {ad:String}",
            parameters={"ad": ad},
        )
        return {(t, ua, ip): r for t, ua, ip, r in result.result_rows}
    finally:
        client.close()


def hit_and_click(base, ad, ua, forwarded=None):
    headers = {"User-Agent": ua}
    if forwarded:
        headers["X-Forwarded-For"] = forwarded
    hit = httpx.get(f"{base}/i", params={"ad_id": ad, "campaign_id": ad, "cost": "0.01"}, headers=headers)
    assert hit.status_code in (200, 204), hit.text
    click = httpx.get(f"{base}/c", params={"url": LANDING, "ad_id": ad, "campaign_id": ad}, headers=headers)
    assert click.status_code == 302, click.text  # a bot is redirected too: never stranded
    assert click.headers["location"].startswith(LANDING)
    return click


def test_crawlers_empty_and_headless_agents_are_bots_and_a_chrome_hit_counts(stack):
    ad = f"bots-{uuid.uuid4().hex[:8]}"
    for ua in (*BOTS, CHROME_WIN):
        hit_and_click(stack.api, ad, ua)
    row = wait_for(
        lambda: (r := kpi_row(stack.api, ad_id=ad)) and r["bot_clicks"] == 4 and r["bot_impressions"] == 4 and r
    )
    assert row, kpi_row(stack.api, ad_id=ad)
    assert (row["impressions"], row["clicks"], row["unique_clicks"]) == (1, 1, 1)
    assert row["cost"] == "0.010000"  # the bots' event cost is left out too
    everything = kpi_row(stack.api, ad_id=ad, include_bots="true")
    assert (everything["impressions"], everything["clicks"], everything["cost"]) == (5, 5, "0.050000")
    tagged = reasons(stack, ad)
    for kind in ("impression", "click"):
        assert tagged[(kind, CHROME_WIN, "127.0.0.0")] == ""
        for ua, reason in BOTS.items():
            assert tagged[(kind, ua, "127.0.0.0")] == reason, (kind, ua)


def test_a_conversion_on_a_bot_click_still_counts(stack):
    ad = f"botconv-{uuid.uuid4().hex[:8]}"
    click = hit_and_click(stack.api, ad, next(iter(BOTS)))
    click_id = httpx.QueryParams(httpx.URL(click.headers["location"]).query).get("click_id")
    response = httpx.get(f"{stack.api}/postback", params={"click_id": click_id, "txid": ad, "payout": "5"})
    assert response.status_code == 200, response.text
    row = wait_for(lambda: (r := kpi_row(stack.api, ad_id=ad)) and r["conversions"] == 1 and r)
    assert row, kpi_row(stack.api, ad_id=ad)
    assert (row["clicks"], row["bot_clicks"], row["revenue"], row["bot_conversions"]) == (0, 1, "5.000000", 1)


@pytest.fixture(scope="module")
def forwarded_api(stack, tmp_path_factory) -> Iterator[str]:
    """A second API behind a (pretend) trusted proxy: the client address comes from X-Forwarded-For."""
    port = free_port()
    env = {
        **stack.env,
        "ADPULSE_PORT": str(port),
        "ADPULSE_KAFKA_BOOTSTRAP": stack.kafka_bootstrap,
        "ADPULSE_CLICKHOUSE_URL": stack.clickhouse_url,
        "ADPULSE_TRUST_FORWARDED": "true",
    }
    log_path = tmp_path_factory.mktemp("forwarded") / "api.log"
    with log_path.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "adpulse.cli", "api"], env=env, stdout=out, stderr=out, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        ready = wait_for(lambda: _ready(base, proc), timeout=60)
        assert ready, log_path.read_text()
        yield base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


def _ready(base, proc):
    if proc.poll() is not None:
        return True  # exited: the assertion after shows the log
    try:
        return httpx.get(f"{base}/readyz", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def test_the_operator_ip_list_applies(stack, forwarded_api):
    ad = f"iplist-{uuid.uuid4().hex[:8]}"
    hit_and_click(forwarded_api, ad, CHROME_WIN, forwarded="203.0.113.77")  # ADPULSE_BLOCK_IPS (conftest)
    hit_and_click(forwarded_api, ad, CHROME_WIN, forwarded="198.51.100.77")
    row = wait_for(lambda: (r := kpi_row(stack.api, ad_id=ad)) and r["bot_clicks"] == 1 and r["clicks"] == 1 and r)
    assert row, kpi_row(stack.api, ad_id=ad)
    assert (row["impressions"], row["bot_impressions"]) == (1, 1)
    tagged = reasons(stack, ad)
    for kind in ("impression", "click"):
        assert tagged[(kind, CHROME_WIN, "203.0.113.0")] == "ip_list"
        assert tagged[(kind, CHROME_WIN, "198.51.100.0")] == ""


def test_the_61st_click_in_a_minute_from_one_visitor_on_one_campaign_is_a_bot_click(stack):
    ad = f"velocity-{uuid.uuid4().hex[:8]}"
    while time.time() % 60 > 30:  # all 61 clicks within one UTC minute
        time.sleep(1)
    with httpx.Client(base_url=stack.api, headers={"User-Agent": CHROME_WIN}) as http:
        for _ in range(61):
            response = http.get("/c", params={"url": LANDING, "ad_id": ad, "campaign_id": ad, "vid": "fast-visitor"})
            assert response.status_code == 302, response.text
    row = wait_for(lambda: (r := kpi_row(stack.api, ad_id=ad)) and r["clicks"] + r["bot_clicks"] == 61 and r)
    assert row, kpi_row(stack.api, ad_id=ad)
    assert (row["clicks"], row["bot_clicks"], row["unique_clicks"]) == (60, 1, 1)
    client = stack.clickhouse()
    try:
        result = client.query(
            "SELECT bot_reason, count() FROM adpulse.events WHERE ad_id = {ad:String} GROUP BY bot_reason",
            parameters={"ad": ad},
        )
    finally:
        client.close()
    assert dict(result.result_rows) == {"": 60, "velocity": 1}


def test_reclassify_applies_a_changed_list_to_past_traffic_and_corrects_the_kpis_exactly(stack):
    ad = f"reclass-{uuid.uuid4().hex[:8]}"
    scraper = f"Mozilla/5.0 (X11; Linux x86_64) AcmeScraper-{ad}/1.0"
    for ua in (scraper, scraper, CHROME_WIN):
        hit_and_click(stack.api, ad, ua)
    before = wait_for(lambda: (r := kpi_row(stack.api, ad_id=ad)) and r["clicks"] == 3 and r["impressions"] == 3 and r)
    assert before, kpi_row(stack.api, ad_id=ad)
    assert (before["bot_clicks"], before["unique_clicks"], before["cost"]) == (0, 2, "0.030000")
    day = time.strftime("%Y-%m-%d", time.gmtime())
    everything = httpx.get(
        f"{stack.api}/v1/kpis", params={"group_by": "", "include_bots": "true", "from": day, "to": day}
    )
    env = {
        **stack.env,
        "ADPULSE_CLICKHOUSE_URL": stack.clickhouse_url,
        "ADPULSE_KAFKA_BOOTSTRAP": stack.kafka_bootstrap,
        "ADPULSE_BLOCK_USER_AGENTS": f"acmescraper-{ad}",  # the operator adds a pattern (matched case-insensitively)
    }
    done = subprocess.run(
        [sys.executable, "-m", "adpulse.cli", "reclassify", "--from", day, "--to", day],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "'ua_list': 4" in done.stdout, done.stdout
    after = kpi_row(stack.api, ad_id=ad)
    assert (after["impressions"], after["clicks"], after["unique_clicks"], after["cost"]) == (1, 1, 1, "0.010000")
    assert (after["bot_impressions"], after["bot_clicks"], after["bot_conversions"]) == (2, 2, 0)
    # Every other KPI of the day is what it was: everything counted, bots included, is unchanged.
    again = httpx.get(f"{stack.api}/v1/kpis", params={"group_by": "", "include_bots": "true", "from": day, "to": day})
    keep = ("impressions", "clicks", "conversions", "cost", "revenue")
    assert {k: again.json()["totals"][k] for k in keep} == {k: everything.json()["totals"][k] for k in keep}


IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
UK_ISP = "81.2.69.142"  # Andrews & Arnold (AS20712), a UK access network: country GB in DB-IP Lite
AWS = "52.95.110.1"  # Amazon (AS16509): a datacenter


def traits(stack, ad):
    client = stack.clickhouse()
    try:
        result = client.query(
            "SELECT event_type, device, os, browser, country, asn, bot_reason FROM adpulse.events "
            "WHERE ad_id = {ad:String} ORDER BY event_type, client_ip",
            parameters={"ad": ad},
        )
        return result.result_rows
    finally:
        client.close()


def test_an_iphone_click_from_a_public_address_is_enriched_and_its_conversion_inherits_it(stack, forwarded_api):
    ad = f"enrich-{uuid.uuid4().hex[:8]}"
    click = hit_and_click(forwarded_api, ad, IPHONE_SAFARI, forwarded=UK_ISP)
    click_id = httpx.QueryParams(httpx.URL(click.headers["location"]).query).get("click_id")
    response = httpx.get(f"{stack.api}/postback", params={"click_id": click_id, "txid": ad, "payout": "7"})
    assert response.status_code == 200, response.text
    hit_and_click(forwarded_api, ad, CHROME_WIN, forwarded=AWS)
    row = wait_for(
        lambda: (r := kpi_row(stack.api, ad_id=ad)) and r["conversions"] == 1 and r["bot_impressions"] == 1 and r
    )
    assert row, (kpi_row(stack.api, ad_id=ad), traits(stack, ad))
    assert (row["impressions"], row["clicks"], row["bot_clicks"]) == (1, 1, 1)
    stored = wait_for(lambda: len(rows := traits(stack, ad)) == 5 and rows)
    assert stored, traits(stack, ad)
    assert stored == [
        ("click", "desktop", "Windows", "Chrome", "US", 16509, "datacenter"),
        ("click", "mobile", "iOS", "Mobile Safari", "GB", 20712, ""),
        ("conversion", "mobile", "iOS", "Mobile Safari", "GB", 0, ""),  # inherited from the click
        ("impression", "desktop", "Windows", "Chrome", "US", 16509, "datacenter"),  # parsed by ClickHouse
        ("impression", "mobile", "iOS", "Mobile Safari", "GB", 20712, ""),
    ]
    day = time.strftime("%Y-%m-%d", time.gmtime())
    report = httpx.get(
        f"{stack.api}/v1/kpis",
        params={"ad_id": ad, "group_by": "country,device", "include_bots": "true", "from": day, "to": day},
    )
    assert report.status_code == 200, report.text
    by_group = {(r["country"], r["device"]): r for r in report.json()["rows"]}
    assert set(by_group) == {("GB", "mobile"), ("US", "desktop")}
    assert (by_group["GB", "mobile"]["clicks"], by_group["GB", "mobile"]["conversions"]) == (1, 1)
    assert by_group["GB", "mobile"]["revenue"] == "7.000000"
    assert (by_group["US", "desktop"]["clicks"], by_group["US", "desktop"]["bot_clicks"]) == (1, 1)
