"""Dedup, attribution and the conversion status lifecycle, on the pure transform (no Kafka, no ClickHouse)."""

from datetime import UTC, datetime
from decimal import Decimal

import orjson
import pytest

from aggregator.attribution import AdDimensions, Click, ConversionState
from aggregator.processor import decode
from aggregator.transform import Known, build, needed
from schemas.events import ConversionStatus
from tests import factories as params

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
DAY = 86_400_000
WINDOW = 30 * DAY
AD = AdDimensions("ad1", "camp1", "google", "cpc")


def ev(kind, t=T0, **query):
    if kind == "click":
        return decode(orjson.dumps(params.click(query, t, query.pop("click_id", "k1"), "https://x/")))
    if kind == "conversion":
        return decode(orjson.dumps(params.conversion(query, t)))
    return decode(orjson.dumps(params.impression(query, t)))


def rows(output):
    return output.rows


def totals(output, ad_id=None):
    keys = ("impressions", "clicks", "conversions", "conversions_pending", "revenue", "revenue_pending")
    sums = dict.fromkeys(keys, 0)
    for row in rows(output):
        if ad_id is None or row["ad_id"] == ad_id:
            for key in keys:
                sums[key] += row[key]
    return sums


def click_dims():
    return {"ad_id": "ad1", "campaign_id": "camp1", "utm_source": "google", "utm_medium": "cpc"}


def test_events_seen_before_are_dropped():
    a, b = ev("impression", eid="e1"), ev("impression", eid="e2")
    out = build([a, b, a], Known(seen_ids={b.event_id}), WINDOW)
    assert out.duplicates == 2
    assert [r["event_id"] for r in rows(out)] == [a.event_id]


def test_conversion_gets_the_ad_of_a_click_in_the_same_batch():
    out = build(
        [ev("click", click_id="k1", **click_dims()), ev("conversion", click_id="k1", payout="10")], Known(), WINDOW
    )
    assert totals(out, "ad1")["conversions"] == 1
    assert totals(out, "ad1")["revenue"] == Decimal(10)
    assert out.late_attributions == 0


def test_conversion_gets_the_ad_of_a_stored_click():
    out = build([ev("conversion", click_id="k1", payout="10")], Known(clicks={"k1": Click(AD, T0 - DAY)}), WINDOW)
    (row,) = rows(out)
    assert (row["ad_id"], row["campaign_id"], row["source"], row["conversions"]) == ("ad1", "camp1", "google", 1)
    assert row["state_version"] == 1


def test_click_outside_the_window_leaves_the_conversion_unattributed():
    out = build([ev("conversion", click_id="k1", payout="10")], Known(clicks={"k1": Click(AD, T0 - 31 * DAY)}), WINDOW)
    assert rows(out)[0]["ad_id"] == ""
    assert totals(out, "")["conversions"] == 1


def test_conversion_before_its_click_is_moved_when_the_click_arrives():
    # Batch 1: the conversion, click unknown -> counted unattributed, never dropped.
    conv = ev("conversion", t=T0 + 1000, click_id="k9", payout="7.5", txid="T9")
    first = build([conv], Known(), WINDOW)
    assert totals(first, "")["conversions"] == 1
    (stored,) = rows(first)
    state = ConversionState("default", "T9", "T9", "k9", ConversionStatus.APPROVED, Decimal("7.5"), "",
                            AdDimensions("", "", "", ""), T0 + 1000, stored["state_version"])  # fmt: skip
    # Batch 2: the click arrives; the stored conversion is waiting for it.
    second = build([ev("click", t=T0, click_id="k9", **click_dims())], Known(waiting=[state]), WINDOW)
    assert second.late_attributions == 1
    moves = [r for r in rows(second) if r["event_type"] == "attribution"]
    assert sorted((r["ad_id"], r["conversions"], r["revenue"]) for r in moves) == [
        ("", -1, Decimal("-7.5")),
        ("ad1", 1, Decimal("7.5")),
    ]
    # Dated at the conversion, so time-bucketed KPIs move in the conversion's own minute.
    assert {r["received_at"] for r in moves} == {datetime.fromtimestamp((T0 + 1000) / 1000, tz=UTC)}
    assert [r["state_version"] for r in moves] == [0, 2]
    # Replaying batch 2 after a crash with what ClickHouse then knows writes nothing new.
    replay_known = Known(seen_ids={r["event_id"] for r in rows(second)}, waiting=[])
    replay = build([ev("click", t=T0, click_id="k9", **click_dims())], replay_known, WINDOW)
    assert replay.rows == []


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        (["pending"], {"conversions": 0, "conversions_pending": 1, "revenue": 0, "revenue_pending": 20}),
        (["pending", "approved"], {"conversions": 1, "conversions_pending": 0, "revenue": 20, "revenue_pending": 0}),
        (["approved", "reversed"], {"conversions": 0, "conversions_pending": 0, "revenue": 0, "revenue_pending": 0}),
        (["pending", "rejected"], {"conversions": 0, "conversions_pending": 0, "revenue": 0, "revenue_pending": 0}),
        # A late "pending" never undoes a decision.
        (["approved", "pending"], {"conversions": 1, "conversions_pending": 0, "revenue": 20, "revenue_pending": 0}),
    ],
)
def test_status_lifecycle_nets_out(history, expected):
    events = [
        ev("conversion", t=T0 + i, click_id="k1", payout="20", txid="T1", status=status)
        for i, status in enumerate(history)
    ]
    out = build(events, Known(clicks={"k1": Click(AD, T0)}), WINDOW)
    got = totals(out, "ad1")
    assert {k: got[k] for k in expected} == expected
    assert len(out.rows) == len(history)  # the whole history is kept


def test_status_update_across_batches_uses_the_stored_state():
    stored = ConversionState("default", "T1", "T1", "k1", ConversionStatus.APPROVED, Decimal(20), "USD", AD, T0, 3)
    out = build([ev("conversion", click_id="k1", payout="20", txid="T1", status="reversed")],
                Known(states={("default", "T1"): stored}), WINDOW)  # fmt: skip
    (row,) = rows(out)
    assert (row["ad_id"], row["conversions"], row["revenue"], row["state_version"]) == ("ad1", -1, Decimal(-20), 4)


def test_needed_asks_only_for_what_the_batch_uses():
    batch = [ev("impression", eid="x"), ev("click", click_id="k2"), ev("conversion", click_id="k3", txid="T")]
    need = needed(batch)
    assert need.conversion_click_ids == ["k3"]
    assert need.batch_click_ids == ["k2"]
    assert need.state_keys == [("default", "T")]
    assert len(need.event_ids) == 3


def test_a_conversion_inherits_the_clicks_sub_ids_and_external_id_also_when_late():
    click_params = {**click_dims(), "sub1": "zone", "sub5": "creative", "external_id": "ext-1", "adset_id": "set"}
    conv = ev("conversion", t=T0 + 1000, click_id="k7", payout="3", txid="T7")
    first = build([conv], Known(), WINDOW)
    assert rows(first)[0]["sub1"] == ""
    nowhere = AdDimensions("", "", "", "")
    state = ConversionState("default", "T7", "T7", "k7", ConversionStatus.APPROVED, Decimal(3), "", nowhere,
                            T0 + 1000, 1, fx_date=datetime(2026, 1, 1).date())  # fmt: skip
    late = build([ev("click", click_id="k7", **click_params)], Known(waiting=[state]), WINDOW)
    moved = [r for r in rows(late) if r["event_type"] == "attribution" and r["conversions"] == 1]
    (to,) = moved
    assert (to["ad_id"], to["adset_id"], to["sub1"], to["sub5"], to["external_id"]) == (
        "ad1", "set", "zone", "creative", "ext-1")  # fmt: skip
    same_batch = build([ev("click", click_id="k8", **click_params), ev("conversion", click_id="k8", payout="1")],
                       Known(), WINDOW)  # fmt: skip
    conversion_row = rows(same_batch)[1]
    assert (conversion_row["sub1"], conversion_row["external_id"]) == ("zone", "ext-1")


def test_every_row_of_a_conversion_keeps_its_first_fx_day_and_currency_changes_withdraw_first():
    first_day = ev("conversion", t=T0, click_id="k1", payout="10", txid="T1", status="pending", currency="EUR")
    out1 = build([first_day], Known(clicks={"k1": Click(AD, T0)}), WINDOW)
    stored = ConversionState("default", "T1", "T1", "k1", ConversionStatus.PENDING, Decimal(10), "EUR", AD, T0, 1,
                             fx_date=rows(out1)[0]["fx_date"])  # fmt: skip
    later = ev("conversion", t=T0 + 5 * DAY, click_id="k1", payout="12", txid="T1", currency="USD")
    out2 = build([later], Known(states={("default", "T1"): stored}), WINDOW)
    withdraw, approved = rows(out2)
    assert {withdraw["fx_date"], approved["fx_date"]} == {datetime(2026, 1, 1).date()}
    assert (withdraw["currency"], withdraw["revenue_pending"], withdraw["conversions_pending"]) == ("EUR", -10, -1)
    assert (approved["currency"], approved["revenue"], approved["conversions"]) == ("USD", 12, 1)
    assert approved["revenue_pending"] == 0


def test_every_row_has_exactly_the_insert_columns():
    from aggregator.rows import COLUMNS

    out = build([ev("impression", ad_id="a"), ev("click", ad_id="a"), ev("conversion", click_id="k1")], Known(), WINDOW)
    assert out.rows and all(tuple(row) == COLUMNS for row in out.rows)
