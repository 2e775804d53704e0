import pytest

from app.redirects import RedirectPolicy, with_params
from ingest.errors import FieldError

POLICY = RedirectPolicy(["shop.example.com", "*.example.org"], {"*.example.org": "subid"})


@pytest.mark.parametrize(
    "url",
    [
        "https://shop.example.com/p?x=1",
        "http://SHOP.example.com/",
        "HTTPS://shop.example.com/",
        "https://shop.example.com./",
        "https://shop.example.com:8443/",
        "https://a.example.org/landing",
        "https://deep.a.example.org/",
    ],
)
def test_allowed(url):
    assert POLICY.check(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.com/",
        "//evil.com/",
        "///evil.com/",
        "https:evil.com",
        "https:/evil.com",
        "https://shop.example.com@evil.com/",
        "https://user:pw@shop.example.com/",
        "https://evil.com\\@shop.example.com/",
        "https:\\\\evil.com",
        "/\\evil.com",
        "https://shop.example.com%2F@evil.com/",
        "https://evil.com%2Eshop.example.com/",
        "https://shop%2Eexample.com/",
        "https://xn--shp-ted.example.com/",  # IDN look-alike: punycode of "shop" with a Cyrillic o
        "https://sh\u043ep.example.com/",  # the same look-alike, unencoded
        "https://shop.example.com:evil/",
        "https://shop.example.com.evil.com/",
        "https://example.org/",  # the wildcard admits subdomains only
        "https://evilexample.org/",
        "javascript:alert(1)",
        "data:text/html,hi",
        "https://shop.example.com/\tx",
        "",
    ],
)
def test_refused_names_the_url_field(url):
    with pytest.raises(FieldError) as info:
        POLICY.check(url)
    assert info.value.field == "url"


def test_click_id_parameter_per_destination():
    assert POLICY.click_id_param("https://a.example.org/x") == "subid"
    assert POLICY.click_id_param("https://shop.example.com/x") == "click_id"


def test_with_params_adds_and_replaces_keeping_others():
    url = with_params("https://shop.example.com/p?utm_source=fb&click_id=old#top", {"click_id": "abc"})
    assert url == "https://shop.example.com/p?utm_source=fb&click_id=abc#top"
