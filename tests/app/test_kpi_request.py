"""GET /v1/kpis parameters: validation naming the parameter, time-zone day boundaries, bound filters."""

from datetime import date, datetime

import pytest

from app.kpi_request import KpiRequest, parse, sql, where
from ingest.errors import FieldError
from schemas.reporting import Money


def test_defaults_keep_todays_answer():
    assert parse({}, "USD") == KpiRequest(group_by=("ad_id",))


def test_a_full_request():
    req = parse({"group_by": "campaign_id, sub1,day", "from": "2026-03-01", "to": "2026-03-02",
                 "tz": "Europe/Berlin", "sub2": " zone ", "order_by": "-revenue", "limit": "5",
                 "format": "csv", "currency": "USD"}, "USD")  # fmt: skip
    assert req.group_by == ("campaign_id", "sub1", "day")
    assert (req.start, req.end, req.tz, req.filters) == (date(2026, 3, 1), date(2026, 3, 2), "Europe/Berlin",
                                                         {"sub2": "zone"})  # fmt: skip
    assert (req.order_by, req.limit, req.csv) == (("revenue", True), 5, True)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"group_by": "ad_id,planet"}, "group_by"),
        ({"group_by": "ad_id,ad_id"}, "group_by"),
        ({"group_by": "day,hour"}, "group_by"),
        ({"from": "01/02/2026"}, "from"),
        ({"from": "2026-02-02", "to": "2026-02-01"}, "to"),
        ({"tz": "Nowhere/City"}, "tz"),
        ({"order_by": "planet"}, "order_by"),
        ({"order_by": "sub1"}, "order_by"),  # not grouped by sub1
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"format": "xlsx"}, "format"),
        ({"currency": "EUR"}, "currency"),
        ({"continent": "EU"}, "continent"),
        ({"sub1": "x" * 257}, "sub1"),
    ],
)
def test_bad_parameters_are_named(params, field):
    with pytest.raises(FieldError) as info:
        parse(params, "USD")
    assert info.value.field == field


def test_day_boundaries_follow_the_time_zone_including_half_hours_and_dst():
    india = parse({"from": "2026-01-10", "to": "2026-01-10", "tz": "Asia/Kolkata"}, "USD")
    _, params = where(india)
    assert (params["t_from"], params["t_to"]) == (datetime(2026, 1, 9, 18, 30), datetime(2026, 1, 10, 18, 30))
    berlin = parse({"from": "2026-03-29", "to": "2026-03-29", "tz": "Europe/Berlin"}, "USD")  # a 23-hour day
    _, params = where(berlin)
    assert (params["t_from"], params["t_to"]) == (datetime(2026, 3, 28, 23), datetime(2026, 3, 29, 22))


def test_an_offset_off_the_15_minute_grid_is_refused():
    old = parse({"from": "1900-01-01", "tz": "Asia/Kolkata"}, "USD")  # local mean time, +05:53:28
    with pytest.raises(FieldError) as info:
        where(old)
    assert info.value.field == "tz"


def test_filters_and_times_are_bound_never_formatted():
    req = parse({"group_by": "sub1", "sub1": "x' OR 1=1 --", "tz": "UTC", "from": "2026-01-01"}, "USD")
    rows, totals, params = sql("db", req, Money())
    assert "x' OR" not in rows and "x' OR" not in totals
    assert "sub1 = {f_sub1:String}" in rows and params["f_sub1"] == "x' OR 1=1 --"
