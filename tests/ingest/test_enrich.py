"""Enrichment (``ingest.enrich``): ua-parser's families, the device class, and the IP traits."""

from __future__ import annotations

import pytest

from adpulse.settings import load_settings
from ingest import enrich

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
CHROME_WIN = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)


@pytest.mark.parametrize(
    ("ua", "expected"),
    [
        (IPHONE, ("mobile", "iOS", "Mobile Safari")),
        (CHROME_WIN, ("desktop", "Windows", "Chrome")),
        ("Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
         "Mobile/15E148 Safari/604.1", ("tablet", "iOS", "Mobile Safari")),
        ("Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
         "Safari/537.36", ("tablet", "Android", "Chrome")),
        ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile "
         "Safari/537.36", ("mobile", "Android", "Chrome Mobile")),
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
         "Safari/605.1.15", ("desktop", "Mac OS X", "Safari")),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", ("desktop", "Linux", "Firefox")),
        ("Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 "
         "Chrome/76.0.3809.146 TV Safari/537.36", ("other", "Tizen", "Samsung Internet")),
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", ("other", "Other", "Googlebot")),
        ("curl/8.5.0", ("other", "Other", "curl")),
        ("", ("", "", "")),
    ],
)  # fmt: skip
def test_user_agent_traits(ua: str, expected: tuple[str, str, str]) -> None:
    assert enrich.ua_traits(ua) == expected


def test_server_side_requests_get_nothing() -> None:
    assert enrich.Enricher(None).traits("", "") is enrich.NONE
    assert enrich.NONE.fields() == {}


def test_without_ip_data_country_and_asn_stay_empty() -> None:
    traits = enrich.Enricher(None).traits(IPHONE, "8.8.8.0")
    assert traits == enrich.Traits("mobile", "iOS", "Mobile Safari", "", 0)
    assert traits.fields() == {"device": "mobile", "os": "iOS", "browser": "Mobile Safari"}


def test_ip_traits_from_the_installed_data_are_cached_per_address() -> None:
    enricher = enrich.Enricher(load_settings().geo_path())
    first = enricher.traits(CHROME_WIN, "8.8.8.0")
    assert (first.country, first.asn) == ("US", 15169)
    assert enricher.traits(IPHONE, "8.8.8.0").country == "US"
    info = enricher.cache_info()["ip"]
    assert (info.hits, info.misses) == (1, 1)
    assert enricher.traits(CHROME_WIN, "").country == ""


def test_the_pixel_form_is_the_same_traits_as_fields() -> None:
    enricher = enrich.Enricher(load_settings().geo_path())
    ua_part, ip_part = enricher.hit_fields(IPHONE, "8.8.8.0")
    assert {**ua_part, **ip_part} == enricher.traits(IPHONE, "8.8.8.0").fields()
    assert enricher.hit_fields(IPHONE, "8.8.8.0")[1] is ip_part  # cached: no object per hit
    assert enricher.hit_fields("", "") == ({}, {})
