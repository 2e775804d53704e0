import pytest

from app.redirects import RedirectPolicy, with_params
from ingest.errors import FieldError

POLICY = RedirectPolicy(["shop.example.com", "*.example.org"])


@pytest.mark.parametrize(
    "url",
    ["https://shop.example.com/p?x=1", "http://SHOP.example.com/", "https://a.example.org/landing"],
)
def test_allowed(url):
    assert POLICY.check(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.com/",
        "//evil.com/",
        "https:evil.com",
        "https://shop.example.com@evil.com/",
        "https://evil.com\\@shop.example.com/",
        "javascript:alert(1)",
        "https://example.org/",  # the wildcard admits subdomains only
        "https://shop.example.com.evil.com/",
        "",
    ],
)
def test_refused_names_the_url_field(url):
    with pytest.raises(FieldError) as info:
        POLICY.check(url)
    assert info.value.field == "url"


def test_with_params_adds_and_replaces_keeping_others():
    url = with_params("https://shop.example.com/p?utm_source=fb&click_id=old#top", {"click_id": "abc"})
    assert url == "https://shop.example.com/p?utm_source=fb&click_id=abc#top"
