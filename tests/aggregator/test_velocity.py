"""Click velocity (issue 11): the clicks past the limit in one minute, per visitor and campaign, across
batches, deterministic whatever the order of the batch."""

import random

import orjson

from aggregator import velocity
from aggregator.processor import decode
from aggregator.transform import Known, build, needed
from ingest import hits
from schemas.events import EventType

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z, a minute boundary
CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def click(n, t, campaign="c1", vid="", ip="198.51.100.0"):
    ctx = hits.HitContext(t, user_agent=CHROME, client_ip=ip, visitor_cookie=vid)
    return decode(orjson.dumps(hits.click({"campaign_id": campaign, "ad_id": "a"}, ctx, f"k{campaign}{vid}{n}", "u")))


def reasons(out):
    return {row["click_id"]: row["bot_reason"] for row in out.rows if row["event_type"] == "click"}


def test_the_61st_click_in_a_minute_is_a_bot_click_whatever_the_batch_order():
    clicks = [click(n, T0 + n * 500) for n in range(65)]
    shuffled = clicks[:]
    random.Random(7).shuffle(shuffled)
    for batch in (clicks, shuffled):
        tagged = reasons(build(batch, Known(), 1, velocity_limit=60))
        assert [tagged[f"kc1{n}"] for n in range(65)] == [""] * 60 + ["velocity"] * 5


def test_the_count_spans_batches_minutes_campaigns_and_visitors():
    batch = [
        click(0, T0 + 1000),  # 61st of this minute with the 60 stored
        click(1, T0 + 60_000),  # the next minute: counts from 1
        click(2, T0 + 2000, campaign="c2"),  # another campaign
        click(3, T0 + 3000, vid="vis-1"),  # a first-party visitor id
        click(4, T0 + 4000, ip="198.51.101.0"),  # another address, same agent: another visitor
    ]
    keys = needed(batch).velocity_keys
    assert ("c1", f"198.51.100.0|{CHROME}", T0) in keys and ("c1", "vis-1", T0) in keys
    stored = {("c1", f"198.51.100.0|{CHROME}", T0): 60}
    tagged = reasons(build(batch, Known(click_counts=stored), 1, velocity_limit=60))
    assert tagged == {"kc10": "velocity", "kc11": "", "kc22": "", "kc1vis-13": "", "kc14": ""}


def test_server_side_clicks_and_other_events_are_not_counted():
    server = decode(orjson.dumps(hits.click({"campaign_id": "c1"}, hits.HitContext(T0), "s1", "u")))
    assert velocity.key(server) is None
    impression = decode(
        orjson.dumps(hits.browser_event(EventType.IMPRESSION, {}, hits.HitContext(T0, CHROME, "1.2.3.0")))
    )
    assert velocity.key(impression) is None


def test_a_conversion_on_a_bot_click_counts_and_keeps_its_bot_flag_through_status_changes():
    bot = decode(orjson.dumps(hits.click({"ad_id": "a", "campaign_id": "c"},
                                         hits.HitContext(T0, "curl/8.5.0", "198.51.100.0"), "kb", "u")))  # fmt: skip
    human = click(0, T0)
    pending = decode(orjson.dumps(hits.conversion({"click_id": "kb", "txid": "t1", "status": "pending"},
                                                  hits.HitContext(T0 + 1000))))  # fmt: skip
    approved = decode(orjson.dumps(hits.conversion({"click_id": "kb", "txid": "t1", "status": "approved"},
                                                   hits.HitContext(T0 + 2000))))  # fmt: skip
    other = decode(orjson.dumps(hits.conversion({"click_id": "kc10", "txid": "t2"}, hits.HitContext(T0 + 3000))))
    out = build([bot, human, pending, approved, other], Known(), 86_400_000)
    conversions = [r for r in out.rows if r["event_type"] == "conversion"]
    assert [(r["txid"], r["conversions"], r["conversions_pending"], r["bot_click"]) for r in conversions] == [
        ("t1", 0, 1, 1), ("t1", 1, -1, 1), ("t2", 1, 0, 0)
    ]  # fmt: skip
    assert sum(r["conversions"] for r in out.rows if r["bot_click"]) == 1
