"""The aggregator's ClickHouse lookups and idempotent insert, on the real embedded engine."""

import time
from decimal import Decimal

import orjson

from aggregator.processor import decode
from aggregator.transform import build, needed
from tests import factories as params

# Near now: ids older than the dedup window (TTL on event_ids) are, by design, forgotten by the engine.
T0 = (time.time_ns() // 1_000_000) - 60_000
WINDOW = 30 * 86_400_000
DB = "writertest"


def ev(message):
    return decode(orjson.dumps(message))


async def write(store, events, token):
    known = await store.lookup(needed(events))
    out = build(events, known, WINDOW)
    await store.insert(out.rows, token)
    return out


def kpis(store, ad_id):
    result = store._client.query(f"SELECT * FROM {DB}.ad_kpis WHERE ad_id = {{a:String}}", parameters={"a": ad_id})
    return [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]


async def test_redelivered_events_are_not_counted_twice(store):
    events = [ev(params.impression({"ad_id": "dup", "eid": f"e{i}"}, T0)) for i in range(5)]
    await write(store, events[:3], "t1")
    # A redelivery cut elsewhere: the overlap is found in ClickHouse and dropped.
    out = await write(store, events[1:], "t2")
    assert out.duplicates == 2
    assert kpis(store, "dup")[0]["impressions"] == 5


async def test_retried_insert_with_the_same_token_is_dropped_in_views_too(store):
    events = [ev(params.impression({"ad_id": "tok"}, T0)) for _ in range(4)]
    out = build(events, await store.lookup(needed(events)), WINDOW)
    await store.insert(out.rows, "same-token")
    await store.insert(out.rows, "same-token")
    assert kpis(store, "tok")[0]["impressions"] == 4


async def test_conversion_before_click_then_status_changes(store):
    dims = {"ad_id": "late", "campaign_id": "c", "utm_source": "fb"}
    await write(store, [ev(params.conversion({"click_id": "kl", "payout": "40", "txid": "TL",
                                               "status": "pending"}, T0 + 5))], "a")  # fmt: skip
    assert kpis(store, "late") == []
    await write(store, [ev(params.click(dims, T0, "kl", "https://x/"))], "b")
    (row,) = kpis(store, "late")
    assert (row["clicks"], row["conversions"], row["conversions_total"], row["revenue_total"]) == (1, 0, 1, 40)
    await write(store, [ev(params.conversion({"click_id": "kl", "payout": "40", "txid": "TL"}, T0 + 9))], "c")
    (row,) = kpis(store, "late")
    assert (row["conversions"], row["revenue"], row["conversions_total"]) == (1, Decimal(40), 1)
    await write(store, [ev(params.conversion({"click_id": "kl", "payout": "40", "txid": "TL",
                                               "status": "reversed"}, T0 + 20))], "d")  # fmt: skip
    (row,) = kpis(store, "late")
    assert (row["conversions"], row["revenue"], row["conversions_total"], row["revenue_total"]) == (0, 0, 0, 0)
    unattributed = kpis(store, "")
    assert all(r["conversions_total"] == 0 for r in unattributed)
    history = store._client.query(f"SELECT status FROM {DB}.events WHERE txid = 'TL' AND event_type = 'conversion' "
                                  "ORDER BY received_at").result_rows  # fmt: skip
    assert [r[0] for r in history] == ["pending", "approved", "reversed"]


async def test_hit_messages_are_inserted_as_they_are_and_a_retry_is_dropped(store):
    from ingest.rawhit import raw_hit
    from schemas import hits as codec

    ad = f"hits-{time.time_ns()}"
    lines = [codec.encode(raw_hit(f"ad_id={ad}&cost=0.5".encode(), "UA", "1.2.3.4", "", T0)[0]) for _ in range(5)]
    lines.append(codec.encode(raw_hit(f"ad_id={ad}&cost=-1".encode(), "UA", "1.2.3.4", "", T0)[0]))
    messages = [codec.join(lines[:3]), codec.join(lines[3:])]
    await store.insert_hits(messages, "hits-token-1")
    await store.insert_hits(messages, "hits-token-1")  # the retry of the same batch
    client = store._client
    sql = f"SELECT count(), sum(cost) FROM {DB}.events WHERE ad_id = {{ad:String}}"
    assert client.query(sql, parameters={"ad": ad}).result_rows == [(5, Decimal("2.5"))]
    sql = f"SELECT field FROM {DB}.hit_rejects WHERE position(query, {{ad:String}}) > 0"
    assert client.query(sql, parameters={"ad": ad}).result_rows == [("cost",)]


async def test_velocity_counts_stored_clicks_of_the_batchs_visitors(store):
    from aggregator.velocity import MINUTE_MS
    from ingest import hits

    minute = T0 - T0 % MINUTE_MS
    ua = "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36"

    def click(n, campaign="vel-1"):
        ctx = hits.HitContext(minute + n, user_agent=ua, client_ip="198.51.100.0")
        return ev(hits.click({"campaign_id": campaign, "ad_id": "vel"}, ctx, f"vel-{campaign}-{n}", "u"))

    await write(store, [click(n) for n in range(3)] + [click(0, "vel-2")], "vel-1")
    known = await store.lookup(needed([click(10), click(11, "vel-3")]))
    assert known.click_counts == {("vel-1", f"198.51.100.0|{ua}", minute): 3}


def test_the_hit_body_is_resent_whole():
    """The HTTP client resends a body on a retryable answer: every pass must carry the whole batch
    (a consumed generator was resent empty and a committed batch of hits was lost)."""
    from aggregator.writer import HitBody

    body = HitBody([b'{"a":1}\n{"a":2}', b'{"a":3}'])
    first, second = b"".join(body), b"".join(body)
    assert first == second == b'{"a":1}\n{"a":2}\n{"a":3}'
