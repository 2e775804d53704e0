import pytest

from ingest.errors import FieldError
from ingest.query import parse_params


def test_decodes_percent_plus_and_keeps_first_of_a_repeat():
    assert parse_params(b"a=x+y&b=%C3%A9t%C3%A9&a=second&empty=") == {"a": "x y", "b": "été", "empty": ""}


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"ok=1&bad=%FF%FE", "bad"),
        (b"%FF=1", "query"),
        (b"&".join(b"p%d=1" % i for i in range(65)), "query"),
        (b"long=" + b"x" * 2049, "long"),
        (b"n" * 65 + b"=1", "n" * 64),
    ],
)
def test_names_the_offending_parameter(raw, field):
    with pytest.raises(FieldError) as info:
        parse_params(raw)
    assert info.value.field == field
