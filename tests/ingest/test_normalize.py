from decimal import Decimal

import pytest

from ingest import normalize as norm
from ingest.errors import FieldError

NOW = 1_767_225_600_000


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(" Google ", "google"), ("www.facebook.com", "facebook"), ("m.facebook.com", "facebook"), ("FB", "facebook"),
     ("newsletter-42", "newsletter-42")],
)  # fmt: skip
def test_source(raw, expected):
    assert norm.source(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [("PPC", "cpc"), ("Paid Social", "paid_social"), ("e-mail", "email")])
def test_medium(raw, expected):
    assert norm.medium(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [("0.5", "0.500000"), ("12", "12.000000"), (" 3.1415926 ", "3.141593")])
def test_money_is_a_canonical_decimal_string(raw, expected):
    assert norm.money(raw, "cost") == expected
    assert Decimal(expected) == Decimal(raw.strip()).quantize(norm.MONEY_QUANTUM)


@pytest.mark.parametrize("raw", ["abc", "-1", "NaN", "Infinity", "1e12", "0x10"])
def test_bad_money_names_the_field(raw):
    with pytest.raises(FieldError) as info:
        norm.money(raw, "payout")
    assert info.value.field == "payout"


def test_currency_must_be_iso_4217():
    assert norm.currency(" eur ", "currency") == "EUR"
    assert norm.currency("", "currency") == ""
    with pytest.raises(FieldError, match="ISO 4217"):
        norm.currency("XYZ", "currency")


@pytest.mark.parametrize("raw", ["{clickid}", "[txid]", "%%SUBID%%", "${payout}", "#sub_id#", "abc{aff_sub}"])
def test_unresolved_macros_are_found(raw):
    with pytest.raises(FieldError) as info:
        norm.reject_macros({"click_id": "ok", "subid": raw})
    assert info.value.field == "subid"


def test_ordinary_values_are_not_macros():
    norm.reject_macros({"a": "order-{", "b": "50%", "c": "#1", "d": "[x"})


@pytest.mark.parametrize("raw", ["has space", "x" * 129, "<script>", "-leading"])
def test_malformed_click_ids(raw):
    with pytest.raises(FieldError):
        norm.click_id(raw)


def test_timestamps_accept_seconds_or_ms_within_bounds():
    assert norm.timestamp_ms(str(NOW // 1000), "ts", NOW, max_age_ms=1000, max_skew_ms=1000) == NOW
    assert norm.timestamp_ms(str(NOW - 500), "ts", NOW, max_age_ms=1000, max_skew_ms=1000) == NOW - 500
    for bad in (str(NOW + 2000), str(NOW - 2000), "soon"):
        with pytest.raises(FieldError):
            norm.timestamp_ms(bad, "ts", NOW, max_age_ms=1000, max_skew_ms=1000)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("203.0.113.77", "203.0.113.0"), ("2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::"), ("garbage", "")],
)
def test_ip_truncation(raw, expected):
    assert norm.truncate_ip(raw) == expected
