"""KPI reports: the dimension table and the one SQL builder behind both the BI views and ``GET /v1/kpis``.

Money is converted into the reporting currency when KPIs are read: ``kpi_amounts`` holds every amount in
its own currency with the day whose rate converts it (``fx_date``), grouped to the report's dimensions
first, then joined ``ASOF`` on ``fx_rates`` (the rate of that day, else the latest earlier one within the
max age). Amounts in the reporting currency (or with no currency) need no rate; amounts with no usable
rate are left out of cost and revenue and counted in ``unconverted``.

``unique_clicks`` are distinct visitors per ad and UTC day, summed over the report's rows: a visitor who
clicks on two days (or two ads) counts once per day (per ad).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from schemas.events import SUB_IDS

# The reporting dimensions: name -> ClickHouse type of its column in ``kpi_rollup`` and ``kpi_amounts``.
# A new dimension is one entry here plus a migration adding the column to the rollup and its views.
DIMENSIONS: dict[str, str] = {
    "ad_id": "String",
    "adset_id": "String",
    "campaign_id": "String",
    "source": "LowCardinality(String)",
    "medium": "LowCardinality(String)",
    **dict.fromkeys(SUB_IDS, "String"),
    # The visitor's traits (migration 0007, ``ingest.enrich``).
    "country": "LowCardinality(String)",
    "device": "LowCardinality(String)",
    "os": "LowCardinality(String)",
    "browser": "LowCardinality(String)",
}
TIME_DIMENSIONS: tuple[str, ...] = ("day", "hour")
# The dimensions of the coarse rollup (``kpi_rollup_ads``, no sub-ids): a report that neither groups nor
# filters by anything else reads it, many times smaller than the full rollup when sub-ids vary a lot.
AD_DIMENSIONS: tuple[str, ...] = ("ad_id", "adset_id", "campaign_id", "source", "medium")
# Time buckets of the rollup: every IANA zone's offset is a multiple of 15 minutes, so day and hour
# boundaries in any zone fall on a bucket boundary.
BUCKET_MINUTES = 15

MONEY = ("cost", "revenue", "revenue_total", "cpc", "cpm", "cpa", "epc")
COUNTS = (
    "impressions", "clicks", "conversions", "conversions_total", "unique_clicks", "unconverted",
    "bot_impressions", "bot_clicks", "bot_conversions",
)  # fmt: skip
RATIOS = ("ctr", "cr", "roas", "roi")
MEASURES: tuple[str, ...] = (
    "impressions", "clicks", "conversions", "conversions_total", "cost", "revenue", "revenue_total",
    "ctr", "cpc", "cpm", "cr", "cpa", "epc", "roas", "roi", "unique_clicks", "unconverted",
    "bot_impressions", "bot_clicks", "bot_conversions",
)  # fmt: skip
# The measures of the views built before bots were tagged (migration 0003's ``every_run``).
LEGACY_MEASURES: tuple[str, ...] = MEASURES[:-3]

_CURRENCY = re.compile(r"^[A-Z]{3}$")

# (name, SQL expression) of one output group column.
Group = tuple[str, str]


@dataclass(frozen=True)
class Money:
    """How amounts become reporting-currency amounts (baked into the views at migrate time)."""

    currency: str = "USD"
    max_age_days: int = 7

    def __post_init__(self) -> None:
        if not _CURRENCY.match(self.currency):
            raise ValueError(f"reporting currency must be an ISO 4217 code, got {self.currency!r}")
        if not 0 <= self.max_age_days <= 3650:
            raise ValueError(f"fx max age must be 0..3650 days, got {self.max_age_days}")

    def factor(self) -> str:
        """The multiplier of an amount (``f.currency``, ``f.fx_date``) joined to a rate ``r``; NULL when
        no usable rate."""
        return (
            f"multiIf(f.currency IN ('', '{self.currency}'), toDecimal128(1, 12), "
            f"r.rate > 0 AND dateDiff('day', r.rate_date, f.fx_date) <= {self.max_age_days}, "
            "toDecimal128(r.rate, 12), NULL)"
        )


def _cols(groups: Sequence[Group], *, aliased: bool) -> str:
    """``a AS x, b AS y, `` (with a trailing comma) or ``x, y, ``; empty when no groups."""
    return "".join(f"{expr} AS {name}, " if aliased else f"{name}, " for name, expr in groups)


def _group_by(groups: Sequence[Group], *extra: str) -> str:
    keys = [name for name, _ in groups] + list(extra)
    return f"GROUP BY {', '.join(keys)}" if keys else ""


def amounts_table(used: Collection[str]) -> str:
    """The amounts view a report reads, given the dimensions it groups or filters by."""
    return "kpi_amounts_ads" if set(used) <= set(AD_DIMENSIONS) | set(TIME_DIMENSIONS) else "kpi_amounts"


def money_rows(
    db: str,
    groups: Sequence[Group],
    where: str,
    money: Money,
    used: Collection[str],
    *,
    bots: bool = False,
    include_bots: bool = False,
) -> str:
    """Counters and converted money per group: x_impressions, ..., x_cost, x_revenue, x_revenue_pending,
    x_unconverted, x_unique_clicks (0 here).

    Each rollup row is joined to its rate first (``ASOF``: the latest rate on or before its ``fx_date``; the
    rates table is tiny), then grouped once by the report's dimensions: measured about 10x faster than
    grouping by (dimensions, currency, rate day) first when sub-ids make that intermediate large.
    """
    factor = money.factor()
    table = amounts_table(used)
    # With bots (migration 0006): their counters apart, or added back in (``include_bots``).
    plus = include_bots and bots
    impressions = "impressions + bot_impressions" if plus else "impressions"
    clicks = "clicks + bot_clicks" if plus else "clicks"
    cost = "(cost + bot_cost)" if plus else "cost"
    bot_sums = (
        "sum(bot_impressions) AS x_bot_impressions, sum(bot_clicks) AS x_bot_clicks, "
        "sum(bot_conversions) AS x_bot_conversions,"
        if bots
        else ""
    )
    return f"""
    SELECT {_cols(groups, aliased=True)}
        sum({impressions}) AS x_impressions, sum({clicks}) AS x_clicks, sum(conversions) AS x_conversions,
        sum(conversions_pending) AS x_conversions_pending, {bot_sums}
        toDecimal128(sum(ifNull({cost} * fx, 0)), 6) AS x_cost,
        toDecimal128(sum(ifNull(revenue * fx, 0)), 6) AS x_revenue,
        toDecimal128(sum(ifNull(revenue_pending * fx, 0)), 6) AS x_revenue_pending,
        sum(if(fx IS NULL, cost_events + revenue_events, 0)) AS x_unconverted, toInt64(0) AS x_unique_clicks
    FROM (
        SELECT f.*, {factor} AS fx
        FROM (SELECT * FROM {db}.{table} WHERE {where}) AS f
        ASOF LEFT JOIN (SELECT currency, date AS rate_date, rate FROM {db}.fx_rates FINAL) AS r
        ON f.currency = r.currency AND f.fx_date >= r.rate_date
    )
    {_group_by(groups)}"""


def unique_rows(db: str, groups: Sequence[Group], where: str, *, bots: bool = False) -> str:
    """Distinct clicking visitors per ad and UTC day, per group (same columns as :func:`money_rows`):
    ``kpi_visitors`` holds one row per (UTC day, ad, visitor), with the dimensions and the 15-minute bucket
    of that visitor's first click of the day on the ad."""
    return f"""
    SELECT {_cols(groups, aliased=True)}
        toInt64(0), toInt64(0), toInt64(0), toInt64(0), {"toInt64(0), toInt64(0), toInt64(0)," if bots else ""}
        toDecimal128(0, 6), toDecimal128(0, 6), toDecimal128(0, 6), toInt64(0), toInt64(count()) AS x_unique_clicks
    FROM {db}.kpi_visitors FINAL
    WHERE {where}
    {_group_by(groups)}"""


_RATIOS = """
    if(impressions = 0, NULL, clicks / impressions) AS ctr,
    if(clicks = 0, NULL, cost / clicks) AS cpc,
    if(impressions = 0, NULL, 1000 * cost / impressions) AS cpm,
    if(clicks = 0, NULL, conversions / clicks) AS cr,
    if(conversions = 0, NULL, cost / conversions) AS cpa,
    if(clicks = 0, NULL, revenue / clicks) AS epc,
    if(cost = 0, NULL, revenue / cost) AS roas,
    if(cost = 0, NULL, (revenue - cost) / cost) AS roi"""


def report(
    db: str,
    groups: Sequence[Group],
    money: Money,
    where: str = "1",
    filters: Collection[str] = (),
    *,
    bots: bool = False,
    include_bots: bool = False,
) -> str:
    """The KPI report: one row per group (one row in all when ``groups`` is empty), columns the group
    names then :data:`MEASURES` (:data:`LEGACY_MEASURES` without ``bots``, the rollups before migration
    0006). ``where`` filters ``kpi_amounts`` and ``kpi_rollup`` rows (``bucket`` and the dimension columns);
    ``filters`` names the dimensions it filters by. ``include_bots`` counts bot impressions, clicks and cost
    in the main measures too (unique clicks stay human)."""
    used = [name for name, _ in groups] + list(filters)
    bot_out = (
        ", s_bot_impressions AS bot_impressions, s_bot_clicks AS bot_clicks, s_bot_conversions AS bot_conversions"
        if bots
        else ""
    )
    bot_sums = (
        "sum(x_bot_impressions) AS s_bot_impressions, sum(x_bot_clicks) AS s_bot_clicks, "
        "sum(x_bot_conversions) AS s_bot_conversions,"
        if bots
        else ""
    )
    rows = money_rows(db, groups, where, money, used, bots=bots, include_bots=include_bots)
    return f"""
SELECT {_cols(groups, aliased=False)}
    s_impressions AS impressions, s_clicks AS clicks,
    s_conversions AS conversions, s_conversions + s_conversions_pending AS conversions_total,
    s_cost AS cost, s_revenue AS revenue, s_revenue + s_revenue_pending AS revenue_total,{_RATIOS},
    s_unique_clicks AS unique_clicks, s_unconverted AS unconverted{bot_out}
FROM (
    SELECT {_cols(groups, aliased=False)}
        sum(x_impressions) AS s_impressions, sum(x_clicks) AS s_clicks, sum(x_conversions) AS s_conversions,
        sum(x_conversions_pending) AS s_conversions_pending, {bot_sums} sum(x_cost) AS s_cost,
        sum(x_revenue) AS s_revenue, sum(x_revenue_pending) AS s_revenue_pending, sum(x_unconverted) AS s_unconverted,
        sum(x_unique_clicks) AS s_unique_clicks
    FROM ({rows}
    UNION ALL{unique_rows(db, groups, where, bots=bots)}
    )
    {_group_by(groups)}
)"""


def dimension_groups(names: Sequence[str]) -> list[Group]:
    return [(name, name) for name in names]
