from datetime import UTC, datetime
from decimal import Decimal

import orjson
import pytest

from aggregator.processor import COLUMNS, ClickDimensions, InvalidMessage, decode, to_row
from ingest import params

NOW = 1_700_000_000_123


def _row(event_dict, click=None):
    return dict(zip(COLUMNS, to_row(decode(orjson.dumps(event_dict)), click), strict=True))


def test_impression_row_counts_one_impression_and_its_cost():
    row = _row(params.impression({"ad_id": "a1", "utm_source": "fb", "cost": "0.25"}, NOW))
    assert (row["impressions"], row["clicks"], row["conversions"]) == (1, 0, 0)
    assert row["cost"] == Decimal("0.25")
    assert row["received_at"] == datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)


def test_conversion_takes_the_ad_of_its_click():
    event = params.conversion({"click_id": "k1", "payout": "12.50", "txid": "t"}, NOW)
    row = _row(event, ClickDimensions("ad9", "camp9", "google", "cpc"))
    assert (row["ad_id"], row["campaign_id"], row["source"], row["medium"]) == ("ad9", "camp9", "google", "cpc")
    assert (row["conversions"], row["revenue"]) == (1, Decimal("12.50"))


def test_unattributed_conversion_is_kept_with_empty_ad():
    row = _row(params.conversion({"click_id": "unknown", "payout": "3"}, NOW))
    assert (row["ad_id"], row["conversions"]) == ("", 1)


@pytest.mark.parametrize("status", ["rejected", "reversed"])
def test_rejected_conversion_counts_nothing(status):
    row = _row(params.conversion({"click_id": "k", "payout": "3", "status": status}, NOW))
    assert (row["conversions"], row["revenue"]) == (0, Decimal(0))


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"not json", "not JSON"),
        (None, "empty"),
        (b'{"event_id": "x"}', "event_id"),
        (orjson.dumps({**params.impression({}, NOW), "cost": "-1"}), "cost"),
        (orjson.dumps({**params.impression({}, NOW), "event_type": "bogus"}), "event_type"),
    ],
)
def test_invalid_messages_say_why(value, reason):
    with pytest.raises(InvalidMessage, match=reason):
        decode(value)
