"""The raw hit codec shared by the API's publisher and the aggregator."""

import pytest
from pydantic import ValidationError

from ingest.errors import FieldError
from ingest.query import parse_params
from ingest.rawhit import raw_hit
from schemas import hits as codec


def test_header_marks_hit_messages():
    assert codec.is_hits(codec.HEADERS)
    assert not codec.is_hits(None)
    assert not codec.is_hits([("adpulse-kind", b"event"), ("other", b"hits")])


@pytest.mark.parametrize("query", [b"ad_id=caf\xc3\xa9", b"ad_id=\xe9", b"a=%25\xff&b=%E9", b"plain=1"])
def test_query_text_is_ascii_and_parses_to_the_same_parameters(query):
    text = codec.query_text(query)
    assert text.isascii()
    assert _outcome(text.encode("ascii")) == _outcome(query)


def _outcome(query: bytes) -> object:
    try:
        return parse_params(query)
    except FieldError as exc:
        return (exc.field, exc.reason)


def test_round_trip_and_count():
    hits = [raw_hit(f"ad_id={i}".encode(), "UA", "1.2.3.4", "", 5, visitor_id="v")[0] for i in range(3)]
    value = codec.join(codec.encode(h) for h in hits)
    decoded = codec.decode(value)
    assert [h.event_id for h in decoded] == [h["event_id"] for h in hits]
    assert decoded[0].visitor_id == "v"
    assert codec.count(value) == 3
    assert codec.count(b"") == 0


def test_decode_refuses_what_is_not_a_hit():
    with pytest.raises(ValidationError):
        codec.decode(b'{"v":1,"kind":"hit"}')


def test_structure_names_every_field_of_the_model():
    from schemas.events import RawHit

    assert [name for name, _ in codec.STRUCTURE] == list(RawHit.model_fields)


def test_stream_is_the_joined_body():
    assert b"".join(codec.stream([b"a", b"b\nc", b"d"])) == codec.join([b"a", b"b\nc", b"d"])
    assert list(codec.stream([])) == []
