import pytest

from app.fastpostback import route


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/postback", (None, None)),
        ("/postback/cake", ("cake", None)),
        ("/postback/cake/s3cret", ("cake", "s3cret")),
        ("/postback/", None),  # the FastAPI app answers these as it always did (redirect, 404)
        ("/postback/cake/", None),
        ("/postback/a/b/c", None),
        ("/postbacks", None),
        ("/postback//x", None),
    ],
)
def test_route_matches_what_the_documented_routes_match(path, expected):
    assert route(path) == expected
