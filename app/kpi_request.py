"""``GET /v1/kpis`` parameters -> a validated report request and its SQL (pure: no I/O).

Every request value is a bound parameter; column names come from :mod:`schemas.reporting`'s tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ingest.errors import FieldError
from schemas.reporting import (
    BUCKET_MINUTES,
    DIMENSIONS,
    MEASURES,
    TIME_DIMENSIONS,
    Group,
    Money,
    report,
)

MAX_LIMIT = 10_000
DEFAULT_LIMIT = 1000
MAX_DAYS = 3660
_CONTROL = frozenset(("group_by", "from", "to", "tz", "order_by", "limit", "format", "currency", "include_bots"))
_TRUE = ("1", "true", "yes")
_FALSE = ("", "0", "false", "no")


@dataclass(frozen=True)
class KpiRequest:
    group_by: tuple[str, ...] = ("ad_id",)
    start: date | None = None
    end: date | None = None  # inclusive
    tz: str = "UTC"
    filters: dict[str, str] = field(default_factory=dict)
    order_by: tuple[str, bool] | None = None  # (column, descending)
    limit: int = DEFAULT_LIMIT
    csv: bool = False
    include_bots: bool = False  # issue 11: bot impressions, clicks and cost counted in the main measures


def _date(raw: str, name: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise FieldError(name, "expected a date YYYY-MM-DD") from None


def _zone(raw: str) -> ZoneInfo:
    try:
        return ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise FieldError("tz", "unknown time zone (expected an IANA name such as Europe/Berlin)") from None


def parse(params: Mapping[str, str], reporting_currency: str) -> KpiRequest:
    for name in params:
        if name not in _CONTROL and name not in DIMENSIONS:
            raise FieldError(name[:64], f"unknown parameter (filters: {', '.join(DIMENSIONS)})")
    names = [part.strip() for part in params.get("group_by", "ad_id").split(",") if part.strip()]
    for name in names:
        if name not in DIMENSIONS and name not in TIME_DIMENSIONS:
            raise FieldError("group_by", f"unknown dimension {name[:64]!r}")
    if len(set(names)) != len(names):
        raise FieldError("group_by", "a dimension is listed twice")
    if "day" in names and "hour" in names:
        raise FieldError("group_by", "day and hour together: hour already names its day")
    tz = params.get("tz", "UTC").strip() or "UTC"
    _zone(tz)
    start = _date(params["from"], "from") if params.get("from", "").strip() else None
    end = _date(params["to"], "to") if params.get("to", "").strip() else None
    if start and end and end < start:
        raise FieldError("to", "before from")
    if start and end and (end - start).days > MAX_DAYS:
        raise FieldError("to", f"more than {MAX_DAYS} days after from")
    filters = {name: params[name].strip() for name in DIMENSIONS if name in params}
    for name, value in filters.items():
        if len(value) > 256:
            raise FieldError(name, "longer than 256 characters")
    order_by = None
    raw_order = params.get("order_by", "").strip()
    if raw_order:
        column = raw_order.removeprefix("-")
        if column not in names and column not in MEASURES:
            raise FieldError("order_by", "expected a group_by dimension or a measure, '-' first for descending")
        order_by = (column, raw_order.startswith("-"))
    try:
        limit = int(params.get("limit", str(DEFAULT_LIMIT)))
    except ValueError:
        raise FieldError("limit", "expected an integer") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise FieldError("limit", f"expected 1..{MAX_LIMIT}")
    fmt = params.get("format", "json").strip().lower()
    if fmt not in ("json", "csv"):
        raise FieldError("format", "expected json or csv")
    currency = params.get("currency", "").strip().upper()
    if currency and currency != reporting_currency:
        # Only the reporting currency is served; the parameter lets a client assert which one it expects.
        raise FieldError("currency", f"KPIs are reported in {reporting_currency} (ADPULSE_REPORTING_CURRENCY)")
    bots_word = params.get("include_bots", "").strip().lower()
    if bots_word not in _TRUE + _FALSE:
        raise FieldError("include_bots", "expected true or false")
    return KpiRequest(tuple(names), start, end, tz, filters, order_by, limit, fmt == "csv", bots_word in _TRUE)


def _utc_start(day: date, zone: ZoneInfo, name: str) -> datetime:
    local = datetime.combine(day, time(0), tzinfo=zone)
    offset = local.utcoffset() or timedelta(0)
    if offset.total_seconds() % (BUCKET_MINUTES * 60):
        raise FieldError("tz", f"UTC offset {offset} on {day} is not a multiple of {BUCKET_MINUTES} minutes")
    return local.astimezone(UTC).replace(tzinfo=None)


def groups(req: KpiRequest) -> list[Group]:
    found: list[Group] = []
    for name in req.group_by:
        if name == "day":
            found.append(("day", "toDate(bucket, {tz:String})"))
        elif name == "hour":
            found.append(("hour", "toStartOfHour(toTimeZone(bucket, {tz:String}))"))
        else:
            found.append((name, name))
    return found


def where(req: KpiRequest) -> tuple[str, dict[str, Any]]:
    """The filter over rollup rows and its bound parameters (``tz`` always bound)."""
    zone = ZoneInfo(req.tz)
    clauses: list[str] = []
    parameters: dict[str, Any] = {"tz": req.tz}
    if req.start is not None:
        clauses.append("bucket >= {t_from:DateTime('UTC')}")
        parameters["t_from"] = _utc_start(req.start, zone, "from")
    if req.end is not None:
        clauses.append("bucket < {t_to:DateTime('UTC')}")
        parameters["t_to"] = _utc_start(req.end + timedelta(days=1), zone, "to")
    for name, value in req.filters.items():
        clauses.append(f"{name} = {{f_{name}:String}}")
        parameters[f"f_{name}"] = value
    return " AND ".join(clauses) or "1", parameters


def sql(db: str, req: KpiRequest, money: Money) -> tuple[str, str, dict[str, Any]]:
    """(the rows' query, the totals' query, their parameters)."""
    condition, parameters = where(req)
    rows = report(db, groups(req), money, condition, req.filters, bots=True, include_bots=req.include_bots)
    if req.order_by is not None:
        column, descending = req.order_by
        order = f"{column} {'DESC' if descending else 'ASC'}"
        rest = [name for name in req.group_by if name != column]
        order = ", ".join([order, *rest])
    else:
        order = ", ".join(req.group_by) or "1"
    rows = f"{rows}\nORDER BY {order}\nLIMIT {{limit:UInt32}}"
    parameters["limit"] = req.limit
    totals = report(db, [], money, condition, req.filters, bots=True, include_bots=req.include_bots)
    return rows, totals, parameters
