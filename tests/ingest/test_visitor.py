"""The first-party visitor id rule: vid, else the adpulse_vid cookie; trimmed, capped at 64."""

import pytest

from ingest.visitor import from_cookie_header, set_cookie_header, visitor_id


@pytest.mark.parametrize(
    ("param", "cookie", "expected"),
    [("v1", "c1", "v1"), ("", "c1", "c1"), (None, " c1 ", "c1"), ("  ", "", ""), (None, None, ""),
     ("x" * 100, "c", "x" * 64)],
)  # fmt: skip
def test_vid_wins_over_the_cookie(param, cookie, expected):
    assert visitor_id(param, cookie) == expected


def test_cookie_header():
    assert from_cookie_header("a=1; adpulse_vid=abc; b=2") == "abc"
    assert from_cookie_header('adpulse_vid="q"') == "q"
    assert from_cookie_header("adpulse_vidx=1; other=2") == ""
    assert len(from_cookie_header("adpulse_vid=" + "y" * 300)) == 64


def test_set_cookie_is_secure_only_over_https():
    plain = set_cookie_header("abc", secure=False)
    assert plain == "adpulse_vid=abc; Max-Age=31536000; Path=/; SameSite=None; HttpOnly"
    assert set_cookie_header("abc", secure=True).endswith("; Secure")
