"""One source of truth for the pixel's ingest rules: the same raw hits through Python
(``aggregator.processor`` -> ``ingest.hits.browser_event``) and through ClickHouse (migration 0005's
views, ``ingest.hitsql``) must give identical events, the same rejects (field and reason) and the
same dropped hits. Real embedded ClickHouse engine, in this process."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import clickhouse_connect
import orjson
import pytest

from aggregator.processor import DroppedHit, RejectedHit, decode_all
from ingest import hitsql
from ingest.rawhit import raw_hit
from schemas import hits as codec
from schemas.events import Event
from schemas.migrate import migrate

# The run's own minute: a fixed date falls out of event_ids' 7-day TTL for impressions a week later, and then
# the resend test below sees stored ids expire (the rules themselves are relative to received_at).
NOW = int(time.time()) // 60 * 60_000
DB = "hitsql"
LONG = "x" * 257

# (query, referrer header, cookie visitor id)
CASES: list[tuple[bytes, str, str]] = [
    # normal
    (b"utm_source=google&utm_medium=cpc&utm_campaign=spring&utm_content=ad-1&utm_term=running+shoes", "", ""),
    (b"ad_id=a1&adset_id=s1&campaign_id=c1&utm_id=u1", "https://ref.example/x", ""),
    (b"utm_content=ad-2&utm_campaign=camp-2", "", ""),  # ad from utm_content, campaign from utm_campaign
    # source aliases and prefixes, medium synonyms and separators
    *[(f"ad_id=s&utm_source={s}".encode(), "", "") for s in
      ("FB", "www.facebook.com", "m.facebook.com", "www.m.ig", "x", "X.com", "microsoft", "yt", "Other", "%20LI%20")],
    *[(f"ad_id=m&utm_medium={m}".encode(), "", "") for m in
      ("PPC", "paid-search", "Paid+Social", "social_paid", "e-mail", "newsletter", "Display--Ads", "banner",
       "odd+-+mix")],
    # platform click ids, sub-ids, visitor id (param beats cookie; trimmed; 64 characters)
    (b"ad_id=p&gclid=G1&gbraid=GB&wbraid=WB&fbclid=F1&msclkid=M1&ttclid=T1&twclid=TW&li_fat_id=L1&epik=E1", "", ""),
    (b"ad_id=sub&sub1=zone+1&sub2=%20p2%20&sub3=s3&sub4=s4&sub5=s5", "", ""),
    (b"ad_id=v&vid=%20param-vid%20", "", "cookie-vid"),
    (b"ad_id=v", "", "  cookie-vid  "),
    (b"ad_id=v&vid=%20", "", "cookie-vid"),
    (f"ad_id=v&vid={'v' * 80}".encode(), "", ""),
    (b"ad_id=v", "", "c" * 100),
    # page_url fills what the parameters lack (never overrides)
    (b"page_url=https%3A%2F%2Fshop.example.com%2Fp%3Futm_content%3Dpg%26gclid%3DG2%26utm_source%3Dfb%23frag", "", ""),
    (b"utm_content=own&page_url=https%3A%2F%2Fshop.example.com%2F%3Futm_content%3Dpg%26click_id%3Dck-1", "", ""),
    (b"utm_content=%20&page_url=https%3A%2F%2Fs.example%2F%3Futm_content%3Dpg", "", ""),
    (b"page_url=https%3A%2F%2Fshop.example.com%2Fno-query", "", ""),
    # referrer: parameter beats header
    (b"ad_id=r&referrer=https%3A%2F%2Fparam.example%2F", "https://header.example/", ""),
    (b"ad_id=r&referrer=%20", "https://header.example/", ""),
    # times: seconds, milliseconds, fractional, skew and age
    (f"ad_id=t&ts={NOW // 1000 - 60}".encode(), "", ""),
    (f"ad_id=t&ts={NOW - 1234}".encode(), "", ""),
    (f"ad_id=t&ts={NOW / 1000 - 1.5:.4f}".encode(), "", ""),
    (f"ad_id=t&ts={NOW + 4 * 60_000}".encode(), "", ""),
    (f"ad_id=t&ts=%20{NOW // 1000}%20".encode(), "", ""),
    # cost: quantised to 6 decimals, half to even; currency upper-cased
    (b"ad_id=c&cost=0.0021&cost_currency=usd", "", ""),
    (b"ad_id=c&cost=0.0000015", "", ""),
    (b"ad_id=c&cost=0.0000025&cost_currency=%20eur%20", "", ""),
    (b"ad_id=c&cost=1e2", "", ""),
    (b"ad_id=c&cost=-0", "", ""),
    (b"ad_id=c&cost=1000000000", "", ""),
    (b"ad_id=c&cost=%20&cost_currency=XXX", "", ""),
    # consent, click id, eid-derived ids (resends: the same id)
    (b"ad_id=k&consent=Granted", "", ""),
    (b"ad_id=k&consent=no", "", ""),
    (b"ad_id=k&consent=", "", ""),
    (b"ad_id=k&click_id=%20ck.1_~-%20", "", ""),
    (b"ad_id=e&eid=E-1", "", ""),
    (b"eid=%20E-1%20&ad_id=e", "", ""),
    (b"ad_id=e&eid=E-2&eid=E-3", "", ""),
    # repeated names: the first wins; empty pairs ignored; odd encodings
    (b"ad_id=first&ad_id=second&&=x&ad_id", "", ""),
    (b"ad_id=caf%C3%A9&utm_term=a%zz+b", "", ""),
    ("ad_id=raw-é".encode("latin-1"), "", ""),
    (b"ad_id=raw-\xc3\xa9", "", ""),
    (b"", "", ""),
    # dnt
    (b"ad_id=d&dnt=1", "", ""),
    (b"ad_id=d&dnt=0", "", ""),
    # invalid: every rule, the first broken one named
    (b"ad_id=%FF", "", ""),
    (b"%FF=1", "", ""),
    (("n" * 65 + "=1").encode(), "", ""),
    (("ad_id=" + "v" * 2049).encode(), "", ""),
    (b"&".join(f"p{i}=1".encode() for i in range(65)), "", ""),
    (f"ad_id={LONG}".encode(), "", ""),
    (f"utm_term={LONG}&ad_id={LONG}".encode(), "", ""),
    (f"ad_id=a&gclid={LONG}".encode(), "", ""),
    (f"ad_id=a&sub3={LONG}".encode(), "", ""),
    (f"ad_id=a&eid={LONG}".encode(), "", ""),
    (f"ad_id=a&page_url=https://s.example/{'p' * 2050}".encode(), "", ""),
    (b"ad_id=a&page_url=https%3A%2F%2Fs.example%2F%3Fa%3D%25FF", "", ""),
    (b"ad_id=a&ts=abc", "", ""),
    (b"ad_id=a&ts=NaN", "", ""),
    (b"ad_id=a&ts=-inf", "", ""),
    (b"ad_id=a&ts=1", "", ""),
    (f"ad_id=a&ts={NOW + 6 * 60_000}".encode(), "", ""),
    (f"ad_id=a&ts={NOW - 2 * 86_400_000}".encode(), "", ""),
    (b"ad_id=a&click_id=bad+id!", "", ""),
    (b"ad_id=a&cost=abc", "", ""),
    (b"ad_id=a&cost=-0.5", "", ""),
    (b"ad_id=a&cost=Infinity", "", ""),
    (b"ad_id=a&cost=1000000000.01", "", ""),
    (b"ad_id=a&cost=1&cost_currency=ZZZ", "", ""),
    (b"ad_id=a&cost=1&cost_currency=dollars", "", ""),
    (b"ad_id=a&ts=abc&dnt=1", "", ""),  # dropped: dnt is checked before the rules
    (b"ad_id=%FF&dnt=1", "", ""),  # rejected: the query does not parse, dnt unknown
]  # fmt: skip

_COMPARED = [name for name, _ in (*hitsql.EVENT_COLUMNS, *hitsql.TRAIT_COLUMNS)]
# Every other hit carries the API's enrichment (migration 0007 copies it into the event).
TRAITS = ({"device": "mobile", "os": "iOS", "browser": "Mobile Safari"}, {"country": "DE", "asn": 3320})


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    client = clickhouse_connect.get_client(dsn=f"chdb://{tmp_path_factory.mktemp('chdb')}")
    migrate(client, DB)
    yield client
    client.close()


@pytest.fixture(scope="module")
def lines() -> list[bytes]:
    """The cases as hit lines, made once: a hit's id is minted when the API takes it."""
    return [
        codec.encode(raw_hit(query, "UA/1 (é)", "203.0.113.77", referrer, NOW, vid, TRAITS if i % 2 else ())[0])
        for i, (query, referrer, vid) in enumerate(CASES)
    ]


def _python_row(event: Event) -> dict[str, Any]:
    received = datetime.fromtimestamp(event.received_at_ms / 1000, tz=UTC)
    occurred = received if event.occurred_at_ms is None else datetime.fromtimestamp(event.occurred_at_ms / 1000, UTC)
    row = {name: getattr(event, name, None) for name in _COMPARED}
    row.update(event_id=uuid.UUID(event.event_id), event_type="impression", received_at=received,
               occurred_at=occurred, cost=event.cost or Decimal(0), impressions=1)  # fmt: skip
    return row


def _python(lines: list[bytes]) -> tuple[dict[str, dict[str, Any]], dict[str, tuple[str, str]], set[str]]:
    events: dict[str, dict[str, Any]] = {}
    rejects: dict[str, tuple[str, str]] = {}
    dropped: set[str] = set()
    for line in lines:
        hit_id = orjson.loads(line)["event_id"]
        (outcome,) = decode_all(line, hits=True)
        if isinstance(outcome, RejectedHit):
            rejects[hit_id] = (outcome.error.field, outcome.error.reason)
        elif isinstance(outcome, DroppedHit):
            dropped.add(hit_id)
        elif isinstance(outcome, Event):
            events.setdefault(outcome.event_id, _python_row(outcome))  # resends: the first counts
        else:
            raise AssertionError(f"undecodable hit line: {outcome}")
    return events, rejects, dropped


def _utc(value: Any) -> Any:
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) and value.tzinfo is None else value


def _sql(client: Any, body: bytes) -> tuple[dict[str, dict[str, Any]], dict[str, tuple[str, str]]]:
    client.raw_insert(f"{DB}.hits_in", insert_block=body, fmt="JSONEachRow", settings={"async_insert": 0})
    cols = ", ".join(_COMPARED)
    result = client.query(f"SELECT {cols} FROM {DB}.events")
    events = {str(row[0]): dict(zip(_COMPARED, map(_utc, row), strict=True)) for row in result.result_rows}
    rejects = {
        str(r[0]): (r[1], r[2])
        for r in client.query(f"SELECT event_id, field, reason FROM {DB}.hit_rejects").result_rows
    }
    return events, rejects


def test_python_and_clickhouse_give_identical_events_rejects_and_drops(client, lines):
    expected_events, expected_rejects, dropped = _python(lines)
    events, rejects = _sql(client, codec.join(lines))
    assert expected_rejects, "the cases must include rejects"
    assert dropped, "the cases must include dnt hits"
    assert len(expected_events) > 50
    assert {row["country"] for row in expected_events.values()} == {"DE", ""}
    for event_id, row in expected_events.items():
        assert events.get(event_id) == row, event_id
    assert set(events) == set(expected_events)
    assert rejects == expected_rejects
    assert not (set(events) | set(rejects)) & dropped


def test_resends_and_redelivery_count_once_and_are_set_based(client, lines):
    before = client.query(f"SELECT count() FROM {DB}.events").result_rows[0][0]
    settings = {"async_insert": 0, "insert_deduplication_token": "replay-token"}
    client.raw_insert(f"{DB}.hits_in", insert_block=codec.join(lines[:10]), fmt="JSONEachRow", settings=settings)
    fresh = [codec.encode(raw_hit(b"ad_id=fresh&eid=F1", "", "", "", NOW)[0]) for _ in range(3)]
    client.raw_insert(f"{DB}.hits_in", insert_block=codec.join([*lines[:10], *fresh]), fmt="JSONEachRow",
                      settings={"async_insert": 0})  # fmt: skip
    after = client.query(f"SELECT count() FROM {DB}.events").result_rows[0][0]
    assert after == before + 1  # only the fresh hit, once


def test_dnt_off_table_keeps_dnt_hits(client):
    line = codec.encode(raw_hit(b"ad_id=dnt-off&dnt=1", "", "", "", NOW)[0])
    client.raw_insert(f"{DB}.hits_in_dnt_off", insert_block=line, fmt="JSONEachRow", settings={"async_insert": 0})
    assert client.query(f"SELECT count() FROM {DB}.events WHERE ad_id = 'dnt-off'").result_rows[0][0] == 1


def test_rule_tables_come_from_the_python_rules():
    sql = hitsql.select("t")
    for alias, value in (("adwords", "google"), ("newsletter", "email")):
        assert f"'{alias}'" in sql and f"'{value}'" in sql
    assert "'XTS'" in sql or "'USD'" in sql


def test_a_line_that_is_not_a_hit_is_rejected_not_stored(client):
    client.raw_insert(f"{DB}.hits_in", insert_block=b'{"v":1,"kind":"hit","query":"ad_id=not-a-hit"}',
                      fmt="JSONEachRow", settings={"async_insert": 0})  # fmt: skip
    assert client.query(f"SELECT count() FROM {DB}.events WHERE ad_id = 'not-a-hit'").result_rows[0][0] == 0
    rows = client.query(f"SELECT field FROM {DB}.hit_rejects WHERE query = 'ad_id=not-a-hit'").result_rows
    assert rows == [("event_id",)]
