"""The pixel's ingest rules as ClickHouse SQL: a raw hit (``schemas.hits``) -> an impression row or a
reject, with no per-hit Python.

This is the SQL twin of ``ingest.hits.browser_event`` (impression) + ``ingest.normalize`` +
``ingest.query``. Every limit, word list and alias table is read from those modules, and
``tests/ingest/test_hitsql.py`` runs the same cases through both and requires identical events and
the same reject (field, reason). Changing a rule means changing the Python, and shipping a migration
that re-creates ``hits_parse_mv`` (migration 0005 builds it from this module).

The parse produces, per hit, a ``reject`` tuple (field, reason; ``('', '')`` when valid) and
``dropped`` (``dnt=1``) next to the event's columns: the order of the checks is the Python order, so
the first broken rule names the field, as the API's own rejects do.

Known differences (documented, not in the cases): page URLs are split with ClickHouse's
``queryString`` (Python: ``urllib.parse.urlsplit``, which also drops tabs and newlines); numbers with
``_`` digit separators are invalid here (Python's ``Decimal`` accepts them); a reject reason quoting a
value uses plain single quotes (Python's ``repr`` escapes quotes and backslashes).
"""

from __future__ import annotations

from ingest import hits, query
from ingest import normalize as norm
from schemas.events import PLATFORM_CLICK_IDS, SUB_IDS

_ESCAPES = {"\\": "\\\\", "'": "\\'"}
_WS = "".join(f"\\x{ord(c):02X}" for c in norm.WHITESPACE)


def literal(value: str) -> str:
    """A SQL string literal of a fixed rule value (never request data)."""
    return "'" + "".join(_ESCAPES.get(c, c) if c >= " " else f"\\x{ord(c):02X}" for c in value) + "'"


def _array(values: list[str]) -> str:
    return "[" + ", ".join(literal(v) for v in values) + "]"


def trim(expr: str) -> str:
    return f"trim(BOTH '{_WS}' FROM {expr})"


def _fold(expr: str, table: dict[str, str]) -> str:
    keys = sorted(table)
    return f"transform({expr}, {_array(keys)}, {_array([table[k] for k in keys])}, {expr})"


def _pairs(prefix: str, source: str) -> list[str]:
    """Names and values of a query string (decoded, in order; the first of a repeated name wins)."""
    split = "if(position(x, '=') > 0, substring(x, 1, position(x, '=') - 1), x)"
    rest = "if(position(x, '=') > 0, substring(x, position(x, '=') + 1), '')"
    return [
        f"splitByChar('&', {source}) AS {prefix}_pairs",
        f"arrayMap(x -> decodeURLFormComponent({split}), {prefix}_pairs) AS {prefix}_names",
        f"arrayMap(x -> decodeURLFormComponent({rest}), {prefix}_pairs) AS {prefix}_values",
    ]


def _parse_error(prefix: str, source: str, max_params: int) -> str:
    """``ingest.query.parse_params``' first error as (field, reason), ('', '') when none."""
    per_pair = (
        f"arrayMap((n, v) -> multiIf("
        f"NOT isValidUTF8(n), ('query', 'not valid UTF-8'), "
        f"lengthUTF8(n) > {query.MAX_NAME_LEN}, "
        f"(substringUTF8(n, 1, {query.MAX_NAME_LEN}), 'parameter name longer than {query.MAX_NAME_LEN} characters'), "
        f"NOT isValidUTF8(v), (n, 'not valid UTF-8'), "
        f"lengthUTF8(v) > {query.MAX_VALUE_LEN}, (n, 'longer than {query.MAX_VALUE_LEN} characters'), "
        f"('', '')), {prefix}_names, {prefix}_values)"
    )
    # Fast path without lambdas: every raw name under the name limit, the whole string under the value
    # limit (decoding only shortens), few enough pairs and the whole decoded string valid UTF-8 (the
    # delimiters are ASCII, so that holds exactly when it holds for each name and value).
    fine = (
        f"countSubstrings({source}, '&') < {max_params} "
        f"AND NOT match({source}, '(^|&)[^&=]{{{query.MAX_NAME_LEN + 1}}}') "
        f"AND length({source}) <= {query.MAX_VALUE_LEN} "
        f"AND isValidUTF8(decodeURLFormComponent({source}))"
    )
    return (
        f"if({source} = '' OR ({fine}), ('', ''), if(length({prefix}_pairs) > {max_params}, "
        f"('query', 'more than {max_params} parameters'), arrayFirst(e -> e.2 != '', {per_pair})))"
    )


def param(name: str) -> str:
    """A parameter of the hit's query ('' when absent)."""
    return f"q_values[indexOf(q_names, {literal(name)})]"


def _merged(name: str) -> str:
    """``with_page_params``: the page URL's own parameter fills what the hit's parameters lack."""
    own = param(name)
    if name not in hits._FROM_PAGE:
        return own
    page = f"p_values[indexOf(p_names, {literal(name)})]"
    return f"if({trim(own)} = '' AND {page} != '', {page}, {own})"


def _number(raw: str, field: str, reason: str) -> str:
    """``normalize._number``'s error for a trimmed value (NULL when fine or blank)."""
    finite = r"^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?$"
    special = r"^[+-]?(inf|infinity|s?nan)$"
    return (
        f"multiIf({raw} = '', NULL, match(lower({raw}), '{special}'), ({literal(field)}, '{reason} (finite)'), "
        f"NOT match({raw}, '{finite}'), ({literal(field)}, '{reason}'), NULL)"
    )


def _text_checks(fields: list[tuple[str, str, int]]) -> list[str]:
    """(alias of the value, field, limit) -> ``normalize.text``'s length check, in order."""
    return [
        f"lengthUTF8({alias}) > {limit}, ('{field}', 'longer than {limit} characters')"
        for alias, field, limit in fields
    ]


_DIMS = (*hits.UTM, "ad_id", "adset_id", "campaign_id", *PLATFORM_CLICK_IDS, *SUB_IDS)
_TS_REASON = "expected epoch seconds or milliseconds"
_MONEY_REASON = "not a decimal number"


def select(source: str, *, honour_dnt: str = "1") -> str:
    """SELECT over ``source`` (a table with ``schemas.hits.STRUCTURE``'s columns): the event columns of
    ``events`` plus ``reject`` (field, reason), ``dropped`` and ``query``/``endpoint`` for rejects."""
    now = "received_at_ms"
    ts = trim(param("ts"))
    cost = trim(param("cost"))
    currency = f"upperUTF8({trim(param('cost_currency'))})"
    click = trim(_merged("click_id"))
    ua = "substringUTF8(user_agent, 1, 512)"
    referrer_raw = f"if({param('referrer')} != '', {param('referrer')}, referrer)"
    vid = f"if({trim(param('vid'))} != '', {trim(param('vid'))}, {trim('visitor_id')})"
    # Layers: arrays (and anything built with a lambda) are computed once in an inner SELECT and read as
    # columns above it; ClickHouse does not share repeated lambda expressions between references.
    pairs = [*_pairs("q", "query"), f"{param('page_url')} AS page_raw"]
    page = [
        "if(page_raw = '', '', queryString(page_raw)) AS page_query",
        *_pairs("p", "page_query"),
        f"{_parse_error('q', 'query', query.MAX_PARAMS)} AS q_error",
    ]
    errors = [f"{_parse_error('p', 'page_query', 256)} AS p_error"]
    columns = [
        *[f"{trim(_merged(name))} AS t_{name}" for name in _DIMS],
        f"{trim(param('eid'))} AS t_eid",
        f"{trim(_merged('page_url'))} AS t_page_url",
        f"{trim(referrer_raw)} AS t_referrer",
        f"{ts} AS ts_raw",
        f"{_number('ts_raw', 'ts', _TS_REASON)} AS ts_error",
        "toDecimal128OrNull(ts_raw, 3) AS ts_dec",
        "if(ts_dec < 100000000000, ts_dec * 1000, ts_dec) AS ts_ms",
        f"{cost} AS cost_raw",
        f"{_number('cost_raw', 'cost', _MONEY_REASON)} AS cost_error",
        "toDecimal128OrNull(cost_raw, 12) AS cost_exact",
        "roundBankers(cost_exact, 6) AS cost_dec",
        f"{currency} AS cost_currency_raw",
        f"{click} AS t_click_id",
        f"q_error.2 = '' AND {param('dnt')} = '1' AND {honour_dnt} = 1 AS dropped",
        "multiIf("
        + ", ".join(
            [
                # A line that is JSON but not a hit the API wrote (``schemas.hits``): kept, with the reason.
                "toUUIDOrZero(event_id) = toUUID('00000000-0000-0000-0000-000000000000'), "
                "('event_id', 'missing or not a UUID')",
                "received_at_ms <= 0, ('received_at_ms', 'missing')",
                "q_error.2 != '', q_error",
                "dropped, ('dnt', 'dnt=1')",
                "p_error.2 != '', ('page_url', p_error.2)",
                *_text_checks([("t_eid", "eid", norm.MAX_VALUE_LEN)]),
                "ts_error IS NOT NULL, assumeNotNull(ts_error)",
                "ts_raw != '' AND ts_dec IS NULL AND startsWith(ts_raw, '-'), ('ts', 'older than accepted')",
                "ts_raw != '' AND ts_dec IS NULL, ('ts', 'in the future')",
                f"ts_raw != '' AND ts_ms > {now} + {hits.MAX_SKEW_MS}, ('ts', 'in the future')",
                f"ts_raw != '' AND ts_ms < {now} - {hits.BROWSER_MAX_AGE_MS}, ('ts', 'older than accepted')",
                *_text_checks([(f"t_{name}", name, norm.MAX_VALUE_LEN) for name in _DIMS]),
                *_text_checks([("t_page_url", "page_url", 2048), ("t_referrer", "referrer", 2048)]),
                f"{_merged('click_id')} != '' AND t_click_id != '' AND NOT match(t_click_id, "
                f"{literal(norm.CLICK_ID.pattern)}), ('click_id', "
                "'malformed click id (letters, digits and _.~- only, at most 128)')",
                "cost_error IS NOT NULL, assumeNotNull(cost_error)",
                "cost_raw != '' AND (cost_exact < 0 OR (cost_exact IS NULL AND startsWith(cost_raw, '-'))), "
                "('cost', 'must not be negative')",
                f"cost_raw != '' AND (cost_exact IS NULL OR cost_exact > {norm.MAX_MONEY}), "
                f"('cost', 'larger than {norm.MAX_MONEY}')",
                f"cost_raw != '' AND cost_currency_raw != '' AND NOT has({_array(sorted(norm.CURRENCIES))}, "
                "cost_currency_raw), ('cost_currency', concat('unknown ISO 4217 currency code ''', "
                f"substringUTF8({trim(param('cost_currency'))}, 1, 8), ''''))",
            ]
        )
        + ", ('', '')) AS reject",
        # The event's columns (names of the ``events`` table).
        "toUUIDOrZero(event_id) AS id",
        "fromUnixTimestamp64Milli(received_at_ms, 'UTC') AS received",
        "if(ts_raw = '', received, fromUnixTimestamp64Milli(toInt64(ifNull(ts_ms, 0)), 'UTC')) AS occurred",
        "if(t_ad_id != '', t_ad_id, t_utm_content) AS ad",
        "if(t_campaign_id != '', t_campaign_id, t_utm_campaign) AS campaign",
        "lowerUTF8(t_utm_source) AS src_lower",
        "if(startsWith(src_lower, 'www.'), substring(src_lower, 5), src_lower) AS src_www",
        "if(startsWith(src_www, 'm.'), substring(src_www, 3), src_www) AS src_bare",
        f"{_fold('src_bare', norm.SOURCE_ALIASES)} AS src",
        f"replaceRegexpAll(lowerUTF8(t_utm_medium), {literal(norm.MEDIUM_SEPARATORS)}, '_') AS med_bare",
        f"{_fold('med_bare', norm.MEDIUM_ALIASES)} AS med",
        "if(cost_raw = '', toDecimal64(0, 6), toDecimal64(ifNull(cost_dec, 0), 6)) AS cost_value",
        "if(cost_raw = '', '', cost_currency_raw) AS cost_code",
        f"if(indexOf(q_names, 'consent') > 0, "
        f"CAST(lowerUTF8({trim(param('consent'))}) IN {tuple(hits.CONSENT_WORDS)}, 'Nullable(Bool)'), "
        "CAST(NULL, 'Nullable(Bool)')) AS consent_value",
        f"substringUTF8({vid}, 1, {norm.MAX_VISITOR_ID_LEN}) AS vid",
        ua + " AS ua",
    ]
    inner = f"SELECT *, {', '.join(pairs)} FROM {source}"  # noqa: S608 - fixed rules, table name from config
    for layer in (page, errors, columns):
        inner = f"SELECT *, {', '.join(layer)} FROM ({inner})"  # noqa: S608
    return inner


# ``events`` columns -> expression over ``select``'s aliases (every other column takes its default).
EVENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("event_id", "id"),
    ("event_type", "'impression'"),
    ("received_at", "received"),
    ("occurred_at", "occurred"),
    ("ad_id", "ad"),
    ("adset_id", "t_adset_id"),
    ("campaign_id", "campaign"),
    ("source", "src"),
    ("medium", "med"),
    *((name, f"t_{name}") for name in ("utm_campaign", "utm_term", "utm_content", "utm_id")),
    *((name, f"t_{name}") for name in (*PLATFORM_CLICK_IDS, *SUB_IDS)),
    ("visitor_id", "vid"),
    ("click_id", "t_click_id"),
    ("cost", "cost_value"),
    ("cost_currency", "cost_code"),
    ("page_url", "t_page_url"),
    ("referrer", "t_referrer"),
    ("user_agent", "ua"),
    ("client_ip", "client_ip"),
    ("consent", "consent_value"),
    ("impressions", "1"),
)

# The API's enrichment of the hit (``ingest.enrich``, migration 0007): copied as the API wrote it.
TRAIT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("device", "device"),
    ("os", "substringUTF8(os, 1, 64)"),
    ("browser", "substringUTF8(browser, 1, 64)"),
    ("country", "country"),
    ("asn", "asn"),
)
