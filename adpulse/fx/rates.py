"""FX rates: one item ``{"date", "currency", "rate"}`` validated, and their storage in ``fx_rates``.

``rate`` is the value of one unit of ``currency`` in the reporting currency, on ``date`` (UTC). Storage
is an idempotent upsert by (date, currency): ``fx_rates`` is a ReplacingMergeTree read with ``FINAL``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from ingest import normalize as norm
from ingest.errors import FieldError

RATE_QUANTUM = Decimal("0.000000000001")  # 12 decimals, as stored (Decimal(38, 12))
MAX_RATE = Decimal("1000000000000")
COLUMNS = ["date", "currency", "rate", "source"]


@dataclass(frozen=True)
class FxRate:
    day: date
    currency: str
    rate: Decimal
    source: str = "api"

    def row(self) -> list[Any]:
        return [self.day, self.currency, self.rate, self.source]


def quantize(rate: Decimal) -> Decimal:
    return rate.quantize(RATE_QUANTUM, rounding=ROUND_HALF_EVEN)


def parse_rate(raw: str, field: str = "rate") -> Decimal:
    try:
        rate = Decimal(raw.strip())
    except InvalidOperation:
        raise FieldError(field, "not a decimal number") from None
    if not rate.is_finite() or rate <= 0 or rate > MAX_RATE:
        raise FieldError(field, f"expected a positive decimal up to {MAX_RATE}")
    rounded = quantize(rate)
    if rounded == 0:
        raise FieldError(field, "smaller than 1e-12")
    return rounded


def from_item(item: Any, reporting_currency: str) -> FxRate:
    """One API item, or FieldError naming the field."""
    if not isinstance(item, dict):
        raise FieldError("rate", "expected a JSON object {date, currency, rate}")
    for name in ("date", "currency", "rate"):
        value = item.get(name)
        if value is None or value == "":
            raise FieldError(name, "required")
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise FieldError(name, "expected a string")
    try:
        day = date.fromisoformat(str(item["date"]).strip())
    except ValueError:
        raise FieldError("date", "expected a date YYYY-MM-DD") from None
    currency = norm.currency(str(item["currency"]), "currency")
    if currency == reporting_currency:
        raise FieldError("currency", f"{currency} is the reporting currency: it needs no rate")
    if isinstance(item["rate"], float):
        raise FieldError("rate", 'send the rate as a decimal string, e.g. "1.0842"')
    return FxRate(day, currency, parse_rate(str(item["rate"])))


def latest_per_key(rates: Iterable[FxRate]) -> list[FxRate]:
    """One rate per (date, currency): the last one given wins (as a later upsert would)."""
    found: dict[tuple[date, str], FxRate] = {}
    for rate in rates:
        found[(rate.day, rate.currency)] = rate
    return sorted(found.values(), key=lambda r: (r.day, r.currency))


class FxStore:
    def __init__(self, client: Any, database: str) -> None:
        self._client = client
        self._db = database

    def upsert(self, rates: Sequence[FxRate]) -> int:
        rows = [rate.row() for rate in latest_per_key(rates)]
        if rows:
            self._client.insert(f"{self._db}.fx_rates", rows, column_names=COLUMNS)
        return len(rows)

    def between(self, start: date | None, end: date | None, limit: int) -> list[FxRate]:
        sql = (
            f"SELECT date, currency, rate, source FROM {self._db}.fx_rates FINAL "  # noqa: S608 - db from config
            "WHERE date >= {start:Date} AND date <= {end:Date} ORDER BY date, currency LIMIT {limit:UInt32}"
        )
        parameters = {"start": start or date(1970, 1, 1), "end": end or date(2149, 6, 1), "limit": limit}
        result = self._client.query(sql, parameters=parameters)
        return [FxRate(row[0], row[1], Decimal(row[2]), row[3]) for row in result.result_rows]

    def ages(self, today: date, reporting_currency: str) -> dict[str, int]:
        """Per currency with money in the last 30 days of KPIs (or with a rate), days since its latest rate
        (-1: no rate at all); the reporting currency needs none and is left out."""
        sql = (
            "SELECT c, ifNull(dateDiff('day', max_date, {today:Date}), -1) FROM ("  # noqa: S608 - db from config
            f"  SELECT DISTINCT currency AS c FROM {self._db}.kpi_rollup_ads"
            "   WHERE bucket >= {today:Date} - 30 AND currency NOT IN ('', {reporting:String})"
            f"  UNION DISTINCT SELECT DISTINCT currency FROM {self._db}.cost_imports"
            "   WHERE period_start >= {today:Date} - 30 AND currency NOT IN ('', {reporting:String})"
            f"  UNION DISTINCT SELECT DISTINCT currency FROM {self._db}.fx_rates"
            f") AS cs LEFT JOIN (SELECT currency, max(date) AS max_date FROM {self._db}.fx_rates GROUP BY currency)"
            " AS m ON cs.c = m.currency SETTINGS join_use_nulls = 1"
        )
        result = self._client.query(sql, parameters={"today": today, "reporting": reporting_currency})
        return {row[0]: int(row[1]) for row in result.result_rows}
