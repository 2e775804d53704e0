"""The dashboard in a real headless Chromium against the real stack, with known traffic sent through the
pixel, click and postback endpoints: every number the table shows equals /v1/kpis for the same query."""

from __future__ import annotations

import csv
import io
import shutil
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.integration.cdp import Chromium
from tests.integration.dashboard_traffic import plan, send, wait_for_kpis

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium not installed (make test installs it)"),
]

ROWS = """Array.from(document.querySelectorAll('#rows tr[data-key], #foot tr[data-key]')).map(tr => ({
  level: tr.dataset.level === undefined ? -1 : Number(tr.dataset.level), dim: tr.dataset.dim || null, key: tr.dataset.key,
  values: Object.fromEntries(Array.from(tr.querySelectorAll('td[data-col]')).map(td => [td.dataset.col, td.dataset.value ?? null])),
  text: Object.fromEntries(Array.from(tr.querySelectorAll('td[data-col]')).map(td => [td.dataset.col, td.querySelector('.v').textContent])),
  delta: Object.fromEntries(Array.from(tr.querySelectorAll('td[data-col]')).map(td => [td.dataset.col, td.querySelector('.delta') ? td.querySelector('.delta').textContent : null])),
  classes: Object.fromEntries(Array.from(tr.querySelectorAll('td[data-col]')).map(td => [td.dataset.col, td.className])),
}))"""  # noqa: E501


@pytest.fixture(scope="module")
def traffic(stack):
    ads = plan(uuid.uuid4().hex[:6])
    send(stack.api, ads)
    wait_for_kpis(stack.api, ads)
    return ads


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    path = tmp_path_factory.mktemp("dashboard-screenshots")
    yield path
    print(f"\ndashboard screenshots: {path}")


@pytest.fixture
def browser(tmp_path):
    chromium = Chromium(tmp_path / "profile")
    yield chromium
    chromium.close()


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def api(stack, group_by: str, start: str, end: str, **filters: str) -> Any:
    params = {"group_by": group_by, "from": start, "to": end, "tz": "UTC", "limit": "1000", **filters}
    answer = httpx.get(f"{stack.api}/v1/kpis", params=params, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def open_report(b: Chromium, stack, fragment: str) -> None:
    b.navigate("about:blank")  # a new fragment alone would not reload the page
    b.wait("location.href === 'about:blank'")
    b.navigate(f"{stack.api}/dashboard#{fragment}")
    b.wait("document.body && document.body.dataset.state === 'ready' && !!document.body.dataset.loadedAt")


def reload_after(b: Chromium, action: str) -> None:
    """Run ``action`` in the page and wait until the page has loaded the answers it caused."""
    before = b.eval("document.body.dataset.loadedAt")
    b.eval(action)
    b.wait(f"document.body.dataset.state === 'ready' && document.body.dataset.loadedAt !== {before!r}")


def same(column: str, shown: str | None, row: dict[str, Any]) -> bool:
    if column == "profit" and shown is not None:
        return Decimal(shown) == Decimal(row["revenue"]) - Decimal(row["cost"])
    want = row[column]
    if want is None or shown is None:
        return want is None and shown is None
    return float(shown) == float(want) if isinstance(want, int | float) else shown == want


def assert_rows_equal(page_rows: list[dict[str, Any]], answer: dict[str, Any], dim: str) -> None:
    by_key = {str(r[dim]): r for r in answer["rows"]}
    assert sorted(r["key"] for r in page_rows) == sorted(by_key), "the page shows other groups than the API"
    for shown in page_rows:
        for column, value in shown["values"].items():
            assert same(column, value, by_key[shown["key"]]), (shown["key"], column, value, by_key[shown["key"]])


def test_table_equals_the_api_at_every_level_of_grouping(stack, traffic, browser, shots):
    alpha, spring = traffic[0].source, traffic[0].campaign
    day = today()
    open_report(browser, stack, "preset=today&tz=UTC&group=source,campaign_id,ad_id&sort=clicks:desc")
    rows = browser.eval(ROWS)
    *level0, totals = rows
    assert totals["key"] == "__totals__"
    top = api(stack, "source", day, day)
    assert_rows_equal(level0, top, "source")
    for column, value in totals["values"].items():
        assert same(column, value, top["totals"]), (column, value)
    # Shown as a person reads it: counts grouped, money to the cent, ratios as percentages.
    (mine,) = [r for r in level0 if r["key"] == alpha]
    assert (mine["text"]["clicks"], mine["text"]["conversions"], mine["text"]["impressions"]) == ("13", "3", "62")
    assert (mine["text"]["cost"], mine["text"]["revenue"], mine["text"]["profit"]) == ("5.80", "27.25", "21.45")
    assert mine["text"]["ctr"] == "20.97%" and mine["text"]["roi"] == "369.83%"
    assert "pos" in mine["classes"]["roi"].split()
    # Bot clicks are a column exactly when the API provides them (issue 11 adds them).
    assert any("bot_clicks" in r["values"] for r in rows) == ("bot_clicks" in top["totals"])

    # Expand source -> campaigns -> ads; each level equals the API filtered by its parents.
    browser.eval(f"document.querySelector('#rows tr[data-key=\"{alpha}\"] .toggle').click()")
    browser.wait("document.querySelectorAll('#rows tr[data-level=\"1\"]').length > 0")
    level1 = [r for r in browser.eval(ROWS) if r["level"] == 1]
    assert {r["dim"] for r in level1} == {"campaign_id"}
    assert_rows_equal(level1, api(stack, "campaign_id", day, day, source=alpha), "campaign_id")
    browser.eval(f'document.querySelector(\'#rows tr[data-level="1"][data-key="{spring}"] .toggle\').click()')
    browser.wait("document.querySelectorAll('#rows tr[data-level=\"2\"]').length > 0")
    level2 = [r for r in browser.eval(ROWS) if r["level"] == 2]
    assert_rows_equal(level2, api(stack, "ad_id", day, day, source=alpha, campaign_id=spring), "ad_id")
    roi = {r["key"]: r["classes"]["roi"].split() for r in level2}
    assert "pos" in roi[traffic[0].ad] and "neg" in roi[traffic[1].ad]  # 2 conversions vs none: green, red
    browser.screenshot(shots / "dashboard-expanded.png")

    browser.eval(f"document.querySelector('#rows tr[data-key=\"{alpha}\"] .toggle').click()")
    browser.wait("document.querySelectorAll('#rows tr[data-level=\"1\"]').length === 0")


def test_sorting_by_a_column_header(stack, traffic, browser, shots):
    open_report(browser, stack, "preset=today&tz=UTC&group=source&sort=clicks:desc")
    reload_after(browser, "document.querySelector('th[data-col=impressions]').click()")
    shown = [r for r in browser.eval(ROWS) if r["level"] == 0]
    impressions = [int(r["values"]["impressions"]) for r in shown]
    assert impressions == sorted(impressions, reverse=True) and len(impressions) >= 2
    assert browser.eval("document.querySelector('th[data-col=impressions]').getAttribute('aria-sort')") == "descending"
    reload_after(browser, "document.querySelector('th[data-col=impressions]').click()")
    impressions = [int(r["values"]["impressions"]) for r in browser.eval(ROWS) if r["level"] == 0]
    assert impressions == sorted(impressions)
    assert "sort=impressions%3Aasc" in browser.eval("location.hash")


def test_grouping_is_chosen_in_the_page(stack, traffic, browser):
    day = today()
    open_report(browser, stack, "preset=today&tz=UTC&group=source,campaign_id")
    reload_after(browser, "const g = document.getElementById('g1'); g.value = 'campaign_id'; "
                          "g.dispatchEvent(new Event('change'))")  # fmt: skip
    reload_after(browser, "const h = document.getElementById('g2'); h.value = ''; h.dispatchEvent(new Event('change'))")
    rows = [r for r in browser.eval(ROWS) if r["level"] >= 0]
    assert {r["dim"] for r in rows} == {"campaign_id"}
    assert browser.eval("document.querySelectorAll('#rows .toggle').length") == 0  # one level: nothing to expand
    assert_rows_equal(rows, api(stack, "campaign_id", day, day), "campaign_id")
    assert {ad.campaign for ad in traffic} <= {r["key"] for r in rows}
    # A link (the view lives in the URL fragment) opens that view, also when edited in place.
    reload_after(browser, "location.hash = 'preset=today&tz=UTC&group=medium'")
    assert {r["dim"] for r in browser.eval(ROWS) if r["level"] >= 0} == {"medium"}
    assert browser.eval("document.getElementById('g1').value") == "medium"
    # The column chooser: unticking CPA removes it from the header and the rows, and the choice is kept.
    assert browser.eval("!!document.querySelector('th[data-col=cpa]')")
    browser.eval("document.getElementById('columns-button').click()")
    browser.wait("!document.getElementById('columns-panel').hidden")
    browser.eval("document.querySelector('#columns-panel input[value=cpa]').click()")
    browser.wait("!document.querySelector('th[data-col=cpa]')")
    assert browser.eval("document.querySelectorAll('#rows td[data-col=cpa]').length") == 0
    assert browser.eval("JSON.parse(localStorage.getItem('adpulse.dashboard.columns')).includes('cpa')") is False


def test_date_range_presets_custom_range_and_comparison(stack, traffic, browser, shots):
    alpha = traffic[0].source
    day = today()
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    open_report(browser, stack, "preset=today&tz=UTC&group=source")
    reload_after(browser, "document.querySelector('[data-preset=yesterday]').click()")
    assert browser.eval("[document.getElementById('from').value, document.getElementById('to').value]") == [
        yesterday, yesterday]  # fmt: skip
    assert alpha not in {r["key"] for r in browser.eval(ROWS)}  # all the traffic is from today
    reload_after(browser, f"document.querySelector('[data-preset=custom]').click(); "
                          f"document.getElementById('from').value = '{yesterday}'; "
                          f"document.getElementById('to').value = '{day}'; "
                          f"document.getElementById('apply-range').click()")  # fmt: skip
    rows = [r for r in browser.eval(ROWS) if r["level"] == 0]
    assert_rows_equal(rows, api(stack, "source", yesterday, day), "source")
    # Previous period (the two days before): nothing of this traffic, so every count is new.
    reload_after(browser, "document.getElementById('compare').click()")
    (mine,) = [r for r in browser.eval(ROWS) if r["key"] == alpha]
    assert mine["delta"]["clicks"] == "new" and mine["delta"]["revenue"] == "new"
    assert "from=" + yesterday in browser.eval("location.hash")
    browser.screenshot(shots / "dashboard-compare.png")


def test_csv_export_is_what_the_table_shows(stack, traffic, browser, tmp_path):
    alpha = traffic[0].source
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.send("Page.setDownloadBehavior", behavior="allow", downloadPath=str(downloads))
    open_report(browser, stack, "preset=today&tz=UTC&group=source,campaign_id&sort=clicks:desc")
    browser.eval(f"document.querySelector('#rows tr[data-key=\"{alpha}\"] .toggle').click()")
    browser.wait("document.querySelectorAll('#rows tr[data-level=\"1\"]').length > 0")
    shown = browser.eval(ROWS)
    browser.eval("document.getElementById('export').click()")
    deadline = time.monotonic() + 20
    while not list(downloads.glob("*.csv")) and time.monotonic() < deadline:
        time.sleep(0.1)
    (path,) = downloads.glob("*.csv")
    assert path.name == f"adpulse-{today()}_{today()}.csv"
    records = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert len(records) == len(shown)  # every row shown (expanded children included) plus the totals
    columns = list(shown[0]["values"])
    assert list(records[0]) == ["source", "campaign_id", *columns]
    for record, row in zip(records, shown, strict=True):
        assert record[row["dim"] or "source"] == ("Total" if row["key"] == "__totals__" else row["key"])
        assert {c: record[c] or None for c in columns} == row["values"]


def test_chart_shows_the_selection_per_hour(stack, traffic, browser, shots):
    alpha = traffic[0].source
    open_report(browser, stack, "preset=today&tz=UTC&group=source")
    totals = next(r for r in browser.eval(ROWS) if r["key"] == "__totals__")["values"]
    data = browser.eval("adpulseDashboard.chartData()")
    assert len(data[0]) == 24 and browser.eval("document.querySelectorAll('#chart canvas').length") == 1
    assert sum(data[1]) == int(totals["clicks"]) and sum(data[2]) == int(totals["conversions"])
    assert round(sum(data[3]), 6) == float(totals["revenue"])
    reload_after(browser, f"document.querySelector('#rows tr[data-key=\"{alpha}\"] td.name').click(); "
                          "adpulseDashboard.load()")  # fmt: skip
    data = browser.eval("adpulseDashboard.chartData()")
    assert (sum(data[1]), sum(data[2]), round(sum(data[3]), 2), round(sum(data[4]), 2)) == (13, 3, 27.25, 5.8)
    assert alpha in browser.eval("document.getElementById('chart-scope').textContent")
    # The same day in Europe/Berlin (UTC+1 in winter, +2 in summer): the traffic's hour moves by the offset.
    if datetime.now(UTC).hour < 21:
        utc_hours = [i for i, v in enumerate(browser.eval("adpulseDashboard.chartData()")[1]) if v]
        open_report(browser, stack, "preset=today&tz=Europe/Berlin&group=source")
        reload_after(browser, f"document.querySelector('#rows tr[data-key=\"{alpha}\"] td.name').click(); "
                              "adpulseDashboard.load()")  # fmt: skip
        berlin = browser.eval("adpulseDashboard.chartData()")[1]
        offset = int((datetime.now(ZoneInfo("Europe/Berlin")).utcoffset() or timedelta()).total_seconds()) // 3600
        assert [i for i, v in enumerate(berlin) if v] == [h + offset for h in utc_hours] and sum(berlin) == 13
    age = float(browser.eval("document.getElementById('freshness').dataset.age"))
    assert 0 <= age < 600  # the newest event is this test's
    browser.screenshot(shots / "dashboard-selection.png")
    # Auto refresh (5 s is the shortest a link may ask for): the page reloads its answers by itself.
    open_report(browser, stack, "preset=today&tz=UTC&group=source&refresh=5")
    loaded = browser.eval("document.body.dataset.loadedAt")
    browser.wait(f"document.body.dataset.loadedAt !== {loaded!r}", timeout=20)
    assert browser.eval("document.getElementById('autorefresh').value") == "5"


def test_freshness_reports_the_newest_stored_event(stack, traffic):
    answer = httpx.get(f"{stack.api}/v1/freshness", timeout=30)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    received = datetime.fromisoformat(body["newest_received_at"])
    inserted = datetime.fromisoformat(body["newest_inserted_at"])
    assert inserted >= received and body["window_days"] == 7
    assert 0 <= body["age_seconds"] < 600
    assert abs((datetime.now(UTC) - received).total_seconds() - body["age_seconds"]) < 30
