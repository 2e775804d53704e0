"""The IP range tables (``ingest.geo``): compiled from the packages' numeric CSVs, looked up by bisection."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from adpulse.settings import load_settings
from ingest import geo


def _n(ip: str) -> int:
    return int(ipaddress.ip_address(ip))


@pytest.fixture
def table(tmp_path: Path) -> geo.RangeTable:
    v4 = tmp_path / "v4.csv"
    v4.write_text(
        f"{_n('1.0.0.0')},{_n('1.0.0.255')},AU\n"
        f"{_n('1.0.1.0')},{_n('1.0.3.255')},CN\n"  # adjacent, another country
        f"{_n('1.0.4.0')},{_n('1.0.7.255')},CN\n"  # adjacent, same country: merged
        f"{_n('2.0.0.0')},{_n('2.0.0.255')},FR\n"  # after a gap
        "not,a,row\n"
    )
    v6 = tmp_path / "v6.csv"
    v6.write_text(f"{_n('2001:200::')},{_n('2001:200:ffff:ffff:ffff:ffff:ffff:ffff')},JP\n")
    out = tmp_path / "t.bin"
    counts = geo.build(v4, v6, out)
    assert counts == {"labels": 5, "v4": 6, "v6": 3}  # labels incl. ""; starts incl. the gaps and the end
    return geo.load(out)


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("1.0.0.0", "AU"), ("1.0.0.255", "AU"), ("1.0.1.0", "CN"), ("1.0.7.0", "CN"),
        ("1.0.8.0", ""),  # the gap
        ("2.0.0.0", "FR"), ("2.0.1.0", ""), ("0.0.0.0", ""),
        ("2001:200:1::", "JP"), ("2001:201::", ""), ("::ffff:1.0.0.7", "AU"),
        ("", ""), ("not-an-ip", ""), ("1.2.3", ""), ("1.2.3.999", ""), ("1:2:3:zz::", ""),
    ],
)  # fmt: skip
def test_lookup(table: geo.RangeTable, ip: str, expected: str) -> None:
    assert table.lookup(ip) == expected


def test_numeric_table_keeps_the_number(tmp_path: Path) -> None:
    v4 = tmp_path / "v4.csv"
    v4.write_text(f'{_n("8.8.8.0")},{_n("8.8.8.255")},15169,"Google LLC"\n')
    v6 = tmp_path / "v6.csv"
    v6.write_text("")
    geo.build(v4, v6, tmp_path / "asn.bin", numeric=True)
    asns = geo.load(tmp_path / "asn.bin")
    assert asns.value("8.8.8.0") == 15169
    assert asns.value("8.8.9.0") == 0
    assert asns.lookup("8.8.8.0") == ""  # no labels


def test_missing_table_names_the_install_step(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="make install"):
        geo.load(tmp_path / "absent.bin")


def test_installed_tables_know_public_addresses() -> None:
    """The data ``make install`` compiled (DB-IP Lite): well-known networks resolve."""
    directory = load_settings().geo_path()
    assert directory is not None
    countries = geo.load(directory / "country.bin")
    asns = geo.load(directory / "asn.bin")
    assert countries.lookup("8.8.8.0") == "US"
    assert asns.value("8.8.8.0") == 15169  # Google
    assert asns.value("1.1.1.0") == 13335  # Cloudflare
    assert len(countries.labels) > 200
