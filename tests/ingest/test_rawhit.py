import pytest

from ingest.rawhit import eid_of, fast_truncate_ip, raw_hit


@pytest.mark.parametrize(
    ("ip", "expected"),
    [("203.0.113.77", "203.0.113.0"), ("10.1.2.3", "10.1.2.0"), ("2001:db8:abcd:12::1", "2001:db8:abcd::"),
     ("999.1.1.1", ""), ("1.2.3", ""), ("", ""), ("::ffff:1.2.3.4", "::")],
)  # fmt: skip
def test_fast_truncation_agrees_with_the_rule(ip, expected):
    assert fast_truncate_ip(ip) == expected


@pytest.mark.parametrize(
    ("query", "eid"),
    [(b"eid=abc&x=1", b"abc"), (b"x=1&eid=abc", b"abc"), (b"x=1&meid=abc", None), (b"eid=", None), (b"", None)],
)
def test_eid_extraction(query, eid):
    assert eid_of(query) == eid


def test_key_is_the_eid_when_present_else_the_minted_id():
    hit, key = raw_hit(b"eid=E7&ad_id=a", "", "1.2.3.4", "", 5)
    assert key == "E7"
    hit, key = raw_hit(b"ad_id=a", "", "1.2.3.4", "", 5)
    assert key == hit["event_id"]
    assert hit["client_ip"] == "1.2.3.0"


def test_the_visitor_cookie_travels_in_the_raw_hit_and_becomes_the_events_visitor_id():
    import orjson

    from aggregator.processor import decode

    hit, _ = raw_hit(b"ad_id=a", "", "1.2.3.4", "", 5, visitor_id="cookie-v")
    assert hit["visitor_id"] == "cookie-v"
    assert decode(orjson.dumps(hit), hits=True).visitor_id == "cookie-v"
    with_vid, _ = raw_hit(b"ad_id=a&vid=snippet-v", "", "1.2.3.4", "", 5, visitor_id="cookie-v")
    assert decode(orjson.dumps(with_vid), hits=True).visitor_id == "snippet-v"  # vid wins over the cookie
    without, _ = raw_hit(b"ad_id=a", "", "1.2.3.4", "", 5)
    assert "visitor_id" not in without and decode(orjson.dumps(without), hits=True).visitor_id == ""


@pytest.mark.parametrize("query", [b"eid=E7&ad_id=a", b"ad_id=a&eid=%20E7+", b"eid=E%37"])
def test_the_api_derives_the_same_id_as_the_ingest_rules(query):
    from ingest.hits import HitContext, browser_event
    from ingest.query import parse_params
    from schemas.events import EventType

    hit, _ = raw_hit(query, "", "1.2.3.4", "", 5)
    rules = browser_event(EventType.IMPRESSION, parse_params(query), HitContext(5))
    assert hit["event_id"] == rules["event_id"]
    assert raw_hit(query, "", "", "", 9)[0]["event_id"] == hit["event_id"]  # a resend: the same id


@pytest.mark.parametrize("query", [b"eid=%FF", b"eid=" + b"x" * 257, b"eid=%20"])
def test_an_eid_the_rules_refuse_gets_a_fresh_id(query):
    assert raw_hit(query, "", "", "", 5)[0]["event_id"] != raw_hit(query, "", "", "", 5)[0]["event_id"]


def test_visitor_cookie_travels_only_when_present():
    assert "visitor_id" not in raw_hit(b"a=1", "", "", "", 5)[0]
    assert raw_hit(b"a=1", "", "", "", 5, visitor_id="v-1")[0]["visitor_id"] == "v-1"


@pytest.mark.parametrize(
    "ip",
    ["1.2.3.4.5", "1.2.3.0004", "a.b.c.d", "1.2.3.4 ", " 1.2.3.4", "1.2.3.256", "1.2.3.-1", "255.255.255.255",
     "1.2..4", "1.2.3.", "1.2.3.4:80", "203.0.113.0"],
)  # fmt: skip
def test_fast_truncation_is_the_rule_on_odd_input(ip):
    from ingest.normalize import truncate_ip

    assert fast_truncate_ip(ip) == truncate_ip(ip)
