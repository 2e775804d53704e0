"""The JS snippet in a real headless Chromium, on a local page that embeds it; events read back from Kafka."""

from __future__ import annotations

import shutil
import subprocess
import threading
import uuid
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.integration.kafka_read import find

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium not installed (make test installs it)"),
]

PAGE = """<!doctype html><html><head><title>landing</title>
<script async src="{api}/t.js" data-pageview="1" {extra}></script>
<script>
  window.adpulse = window.adpulse || function () {{ (adpulse.q = adpulse.q || []).push(arguments); }};
  {calls}
</script></head><body>landing</body></html>"""


@pytest.fixture(scope="module")
def site(tmp_path_factory, stack):
    root = tmp_path_factory.mktemp("site")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def page(name, calls="", extra=""):
        (root / name).write_text(PAGE.format(api=stack.api, calls=calls, extra=extra))
        return f"http://127.0.0.1:{server.server_address[1]}/{name}"

    yield page
    server.shutdown()
    server.server_close()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def browse(url, profile, extra_flags=()):
    subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
         "--virtual-time-budget=5000", *extra_flags, "--dump-dom", url],
        capture_output=True, timeout=60, check=True,
    )  # fmt: skip


def test_page_view_carries_utms_and_click_ids_from_the_landing_url(stack, site, tmp_path):
    campaign = f"cmp-{uuid.uuid4().hex[:8]}"
    url = (
        site("landing.html")
        + f"?utm_source=FB&utm_medium=paid-social&utm_campaign={campaign}&click_id=abc123&gclid=G-1"
    )
    browse(url, tmp_path / "profile")
    (event,) = find(stack.kafka_bootstrap, "adpulse.events", lambda e: e.get("campaign_id") == campaign)
    assert event["event_type"] == "page_view"
    assert (event["source"], event["medium"], event["click_id"], event["gclid"]) == ("facebook", "paid_social",
                                                                                      "abc123", "G-1")  # fmt: skip
    assert event["page_url"].startswith("http://127.0.0.1:")
    assert event["consent"] is True
    assert "HeadlessChrome" in event["user_agent"]


def test_conversion_on_a_later_page_uses_the_remembered_click(stack, site, tmp_path):
    profile = tmp_path / "profile"
    click_id = uuid.uuid4().hex
    browse(site("ad.html") + f"?utm_source=google&click_id={click_id}", profile)
    txid = f"O-{uuid.uuid4().hex[:8]}"
    thanks = site("thanks.html", calls=f'adpulse("conversion", {{txid: "{txid}", payout: "49.90", currency: "EUR"}});')
    browse(thanks, profile)  # no click id in this URL: it comes from first-party storage
    (event,) = find(stack.kafka_bootstrap, "adpulse.events", lambda e: e.get("txid") == txid)
    assert (event["event_type"], event["click_id"], event["payout"], event["currency"]) == (
        "conversion", click_id, "49.900000", "EUR")  # fmt: skip


def test_nothing_is_sent_without_consent_or_under_gpc(stack, site, tmp_path):
    marker = f"nc-{uuid.uuid4().hex[:8]}"
    browse(site("consent.html", extra='data-require-consent="1"') + f"?utm_campaign={marker}", tmp_path / "p1")
    gpc = site("gpc.html", calls="Object.defineProperty(navigator, 'globalPrivacyControl', {value: true});")
    browse(gpc + f"?utm_campaign={marker}", tmp_path / "p2")
    granted = site(
        "granted.html", calls='adpulse("consent", true); adpulse("pageview");', extra='data-require-consent="1"'
    )
    browse(granted + f"?utm_campaign={marker}", tmp_path / "p3")
    events = find(stack.kafka_bootstrap, "adpulse.events", lambda e: e.get("campaign_id") == marker, want=2, wait_s=8)
    # Only the page that granted consent sent anything: exactly its one explicit page view.
    assert len(events) == 1
    assert events[0]["page_url"].split("?")[0].endswith("granted.html")
