import orjson
import pytest

from aggregator.processor import InvalidMessage, decode
from tests import factories as params

NOW = 1_700_000_000_123


def test_round_trip_of_what_ingest_publishes():
    event = decode(orjson.dumps(params.conversion({"click_id": "k", "payout": "12.5", "txid": "t"}, NOW)))
    assert (event.click_id, event.txid, str(event.payout), event.conversion_key) == ("k", "t", "12.500000", "t")
    assert decode(orjson.dumps(params.conversion({"click_id": "k"}, NOW))).conversion_key == "click:k"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"not json", "not JSON"),
        (None, "empty"),
        (b'{"event_id": "x"}', "event_id"),
        (orjson.dumps({**params.impression({}, NOW), "cost": "-1"}), "cost"),
        (orjson.dumps({**params.impression({}, NOW), "event_type": "bogus"}), "event_type"),
        (orjson.dumps({**params.impression({}, NOW), "surprise": 1}), "surprise"),
    ],
)
def test_invalid_messages_say_why(value, reason):
    with pytest.raises(InvalidMessage, match=reason):
        decode(value)


def _hit(query: bytes, **extra):
    from ingest.rawhit import raw_hit

    hit, _ = raw_hit(query, "UA/1", "203.0.113.77", "https://ref.example/", NOW)
    return orjson.dumps({**hit, **extra})


def test_raw_pixel_hit_becomes_the_same_event_the_api_would_build():
    event = decode(_hit(b"utm_content=ad-9&utm_source=FB&cost=0.5"), hits=True)
    summary = (event.event_type.value, event.ad_id, event.source, str(event.cost))
    assert summary == ("impression", "ad-9", "facebook", "0.500000")
    assert (event.client_ip, event.user_agent, event.received_at_ms) == ("203.0.113.0", "UA/1", NOW)


def test_raw_hit_ids_are_stable_per_message_and_per_eid():
    raw = _hit(b"ad_id=a")
    assert decode(raw, hits=True).event_id == decode(raw, hits=True).event_id  # redelivery of one message: same id
    assert decode(_hit(b"ad_id=a&eid=E1"), hits=True).event_id == decode(_hit(b"eid=E1&ad_id=a"), hits=True).event_id


@pytest.mark.parametrize(("query", "field"), [(b"cost=-1", "cost"), (b"ad_id=%FF", "ad_id"), (b"ts=abc", "ts")])
def test_invalid_raw_hits_are_rejected_with_the_field(query, field):
    from aggregator.processor import RejectedHit

    with pytest.raises(RejectedHit) as info:
        decode(_hit(query), hits=True)
    assert info.value.error.field == field
    assert info.value.record()["query"] == query.decode()


def test_dnt_hits_are_dropped():
    from aggregator.processor import DroppedHit

    with pytest.raises(DroppedHit):
        decode(_hit(b"ad_id=a&dnt=1"), hits=True)
    assert decode(_hit(b"ad_id=a&dnt=1"), hits=True, honour_dnt=False).ad_id == "a"


def test_undecodable_hit_messages_are_found_by_index():
    from aggregator.processor import undecodable_hits
    from ingest.rawhit import raw_hit
    from schemas import hits as codec

    good = codec.encode(raw_hit(b"ad_id=a", "", "", "", NOW)[0])
    found = undecodable_hits([good, b'{"v":1,"kind":"hit"}\n\x00poison', codec.join([good, good]), b"\x00"])
    assert sorted(found) == [1, 3]
    assert all(reason.startswith("hit message: ") for reason in found.values())
