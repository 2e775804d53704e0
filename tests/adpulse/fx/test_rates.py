"""FX rate items: validation naming the field, rounding, one rate per (date, currency)."""

from datetime import date
from decimal import Decimal

import pytest

from adpulse.fx.rates import FxRate, from_item, latest_per_key
from ingest.errors import FieldError


def test_a_valid_item():
    rate = from_item({"date": "2026-01-02", "currency": "eur", "rate": "1.0842"}, "USD")
    assert rate == FxRate(date(2026, 1, 2), "EUR", Decimal("1.084200000000"))


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"currency": "EUR", "rate": "1"}, "date"),
        ({"date": "2026-13-01", "currency": "EUR", "rate": "1"}, "date"),
        ({"date": "2026-01-01", "currency": "EURO", "rate": "1"}, "currency"),
        ({"date": "2026-01-01", "currency": "USD", "rate": "1"}, "currency"),  # the reporting currency
        ({"date": "2026-01-01", "currency": "EUR", "rate": "0"}, "rate"),
        ({"date": "2026-01-01", "currency": "EUR", "rate": "-1.2"}, "rate"),
        ({"date": "2026-01-01", "currency": "EUR", "rate": "abc"}, "rate"),
        ({"date": "2026-01-01", "currency": "EUR", "rate": "NaN"}, "rate"),
        ({"date": "2026-01-01", "currency": "EUR", "rate": 1.08}, "rate"),  # a float is not exact
        ({"date": "2026-01-01", "currency": "EUR", "rate": "0.0000000000001"}, "rate"),
        ({"date": "2026-01-01", "currency": "EUR"}, "rate"),
        ({"date": "2026-01-01", "currency": ["EUR"], "rate": "1"}, "currency"),
    ],
)
def test_bad_items_name_the_field(item, field):
    with pytest.raises(FieldError) as info:
        from_item(item, "USD")
    assert info.value.field == field


def test_the_last_rate_given_for_a_day_wins():
    day = date(2026, 1, 1)
    rates = [FxRate(day, "EUR", Decimal(1)), FxRate(day, "JPY", Decimal(2)), FxRate(day, "EUR", Decimal(3))]
    assert latest_per_key(rates) == [FxRate(day, "EUR", Decimal(3)), FxRate(day, "JPY", Decimal(2))]
