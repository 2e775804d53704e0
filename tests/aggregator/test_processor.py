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
