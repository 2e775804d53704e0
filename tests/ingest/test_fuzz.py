"""Property tests: whatever comes in, the parsers answer with an event or a FieldError, never a crash."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest import hits
from ingest.errors import FieldError
from ingest.query import parse_params
from schemas.events import Event, EventType

NAMES = ["click_id", "clickid", "subid", "cid", "txid", "order_id", "payout", "amount", "sum", "currency", "cur",
         "status", "event", "ts", "eid", "cost", "ad_id", "utm_source", "utm_medium", "utm_content", "page_url",
         "gclid", "consent", "network", "token", "type"]  # fmt: skip
VALUES = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        [
            "",
            "0",
            "-1",
            "1e400",
            "NaN",
            "12.5",
            "{clickid}",
            "%%SUBID%%",
            "approved",
            "EUR",
            "usd",
            "1767225600",
            "https://x.example/?utm_source=fb&click_id=k",
            "\x00",
            "😀",
        ]
    ),
)
PARAMS = st.dictionaries(st.one_of(st.sampled_from(NAMES), st.text(max_size=70)), VALUES, max_size=12)
CTX = hits.HitContext(1_767_225_600_000, "UA", "203.0.113.0", "")
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(PARAMS)
def test_postback_parser_never_crashes(params):
    try:
        event = hits.conversion(params, CTX)
    except FieldError as exc:
        assert exc.field  # noqa: PT017 - the property: a named field, whatever the input
    else:
        Event.model_validate(event)  # whatever passes is a valid wire event


@FUZZ
@given(PARAMS, st.sampled_from([EventType.IMPRESSION, EventType.PAGE_VIEW, EventType.CONVERSION, EventType.CUSTOM]))
def test_browser_parser_never_crashes(params, kind):
    try:
        event = hits.browser_event(kind, params, CTX)
    except FieldError as exc:
        assert exc.field  # noqa: PT017 - the property: a named field, whatever the input
    else:
        Event.model_validate(event)


@FUZZ
@given(st.binary(max_size=600))
def test_query_parser_never_crashes(raw):
    try:
        parse_params(raw)
    except FieldError as exc:
        assert exc.field  # noqa: PT017 - the property: a named field, whatever the input
