"""The ECB's reference-rate files (fixtures written in its published formats) -> cross rates."""

import io
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from adpulse.fx.ecb import EcbFormatError, cross_rates, parse

FIXTURES = Path(__file__).parents[2] / "fixtures" / "ecb"
DAY = date(2025, 11, 21)


def rates_of(name, reporting="USD"):
    return {(r.day, r.currency): r.rate for r in cross_rates(parse((FIXTURES / name).read_bytes()), reporting)}


@pytest.mark.parametrize("name", ["eurofxref.csv", "eurofxref-daily.xml", "eurofxref-hist.csv", "eurofxref-hist.xml"])
def test_every_file_format_gives_the_same_cross_rates_as_by_hand(name):
    rates = rates_of(name)
    # By hand, from the file's per-EUR rates: 1 EUR = 1.1512 USD; 1 JPY = 1.1512 / 181.92 USD;
    # 1 GBP = 1.1512 / 0.87933 USD (rounded half-even to 12 decimals).
    assert rates[(DAY, "EUR")] == Decimal("1.151200000000")
    assert rates[(DAY, "JPY")] == Decimal("0.006328056288")
    assert rates[(DAY, "GBP")] == Decimal("1.309178579145")
    assert (DAY, "USD") not in rates  # the reporting currency needs no rate


def test_daily_csv_reads_the_long_date_and_every_column():
    parsed = parse((FIXTURES / "eurofxref.csv").read_bytes())
    assert list(parsed) == [DAY]
    assert len(parsed[DAY]) == 30 and parsed[DAY]["ZAR"] == Decimal("20.0431")


def test_historical_csv_skips_na_and_keeps_every_day():
    rates = rates_of("eurofxref-hist.csv")
    assert rates[(date(2025, 11, 20), "JPY")] == Decimal("0.006360628619")  # 1.1535 / 181.35
    assert (date(2025, 11, 21), "CYP") not in rates  # N/A: not quoted that day
    assert (date(2025, 11, 19), "BRL") not in rates
    assert rates[(date(2025, 11, 21), "BRL")] == Decimal("0.186898287199")  # 1.1512 / 6.1595
    assert {day for day, _ in rates} == {date(2025, 11, 19), date(2025, 11, 20), date(2025, 11, 21)}


def test_reporting_in_eur_inverts_the_rates():
    rates = rates_of("eurofxref-daily.xml", reporting="EUR")
    assert rates[(DAY, "USD")] == Decimal("0.868658790827")  # 1 / 1.1512
    assert (DAY, "EUR") not in rates


def test_reporting_currency_not_quoted_gives_nothing():
    assert rates_of("eurofxref-hist.csv", reporting="ARS") == {}


def test_zip_as_published():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("eurofxref.csv", (FIXTURES / "eurofxref.csv").read_bytes())
    assert parse(buffer.getvalue()) == parse((FIXTURES / "eurofxref.csv").read_bytes())


@pytest.mark.parametrize(
    "data",
    [b"Day,USD\n2025-01-01,1.1\n", b"Date,USD\nyesterday,1.1\n", b"Date,USD\n2025-01-01,abc\n", b"<a><b/></a>",
     b"Date,USD\n2025-01-01,-1\n", b"<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>"],
)  # fmt: skip
def test_other_files_are_refused_with_a_reason(data):
    with pytest.raises(EcbFormatError):
        parse(data)
