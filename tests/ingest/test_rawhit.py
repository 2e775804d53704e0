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
    assert decode(orjson.dumps(hit)).visitor_id == "cookie-v"
    with_vid, _ = raw_hit(b"ad_id=a&vid=snippet-v", "", "1.2.3.4", "", 5, visitor_id="cookie-v")
    assert decode(orjson.dumps(with_vid)).visitor_id == "snippet-v"  # vid wins over the cookie
    without, _ = raw_hit(b"ad_id=a", "", "1.2.3.4", "", 5)
    assert "visitor_id" not in without and decode(orjson.dumps(without)).visitor_id == ""
