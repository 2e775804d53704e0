from decimal import Decimal

import pytest

from ingest import params
from ingest.errors import FieldError

NOW = 1_700_000_000_000


def test_impression_ad_identity_falls_back_to_utm():
    event = params.impression({"utm_content": "ad-7", "utm_campaign": "spring", "utm_source": " Google "}, NOW)
    assert (event["ad_id"], event["campaign_id"], event["source"]) == ("ad-7", "spring", "google")
    assert event["received_at_ms"] == NOW
    assert "cost" not in event


def test_explicit_ids_win_over_utm():
    event = params.impression({"ad_id": "a1", "utm_content": "x", "campaign_id": "c1", "utm_campaign": "y"}, NOW)
    assert (event["ad_id"], event["campaign_id"]) == ("a1", "c1")


def test_sender_eid_gives_a_stable_event_id():
    first = params.impression({"ad_id": "a", "eid": "e-1"}, NOW)
    again = params.impression({"ad_id": "a", "eid": "e-1"}, NOW + 5)
    other = params.impression({"ad_id": "a", "eid": "e-2"}, NOW)
    assert first["event_id"] == again["event_id"] != other["event_id"]
    assert params.impression({"ad_id": "a"}, NOW)["event_id"] != params.impression({"ad_id": "a"}, NOW)["event_id"]


@pytest.mark.parametrize(("raw", "expected"), [("0.5", "0.500000"), ("12", "12.000000"), ("0.0000001", "0.000000")])
def test_money_is_decimal_string(raw, expected):
    assert params.money({"cost": raw}, "cost") == expected
    assert Decimal(params.money({"cost": raw}, "cost") or "x") == Decimal(raw).quantize(Decimal("0.000001"))


@pytest.mark.parametrize("raw", ["abc", "-1", "NaN", "Infinity", "1e12"])
def test_bad_money_names_the_field(raw):
    with pytest.raises(FieldError) as info:
        params.money({"payout": raw}, "payout")
    assert info.value.field == "payout"


def test_conversion_identity_is_network_txid_status():
    base = {"click_id": "c1", "txid": "T-1", "payout": "10", "status": "approved"}
    same = params.conversion(base, NOW)["event_id"]
    assert params.conversion(base, NOW + 1000)["event_id"] == same
    assert params.conversion({**base, "status": "reversed"}, NOW)["event_id"] != same
    assert params.conversion(base, NOW, network="other")["event_id"] != same


def test_conversion_requires_click_id():
    with pytest.raises(FieldError) as info:
        params.conversion({"payout": "1"}, NOW)
    assert info.value.field == "click_id"


@pytest.mark.parametrize(("field", "value"), [("status", "maybe"), ("currency", "EURO"), ("currency", "E1R")])
def test_conversion_rejects_bad_values(field, value):
    with pytest.raises(FieldError) as info:
        params.conversion({"click_id": "c1", field: value}, NOW)
    assert info.value.field == field


def test_values_are_capped():
    with pytest.raises(FieldError) as info:
        params.impression({"ad_id": "x" * 257}, NOW)
    assert info.value.field == "ad_id"
