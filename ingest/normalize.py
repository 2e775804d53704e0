"""Value rules shared by every way events arrive: normalisation, money, currency, times, click ids."""

from __future__ import annotations

import ipaddress
import re
from decimal import Decimal, InvalidOperation

import iso4217

from ingest.errors import FieldError

MAX_VALUE_LEN = 256
# What "trimmed" means everywhere (Python and ClickHouse, ``ingest.hitsql``): ASCII whitespace only.
WHITESPACE = " \t\n\r\x0b\x0c"
MAX_VISITOR_ID_LEN = 64
MAX_MONEY = Decimal("1000000000")  # per event: anything above is a bug or an attack
MONEY_QUANTUM = Decimal("0.000001")
CURRENCIES = frozenset(c.code for c in iso4217.Currency)
CLICK_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.~-]{0,127}$")
# Macros a network left unresolved: {clickid}, [txid], %%SUBID%%, ${payout}, #sub_id#.
# Unresolved macros of the networks: {x}, [x], %%x%%, ${x}, #x#, Awin's !!!x!!!, Rakuten's <x>.
MACRO = re.compile(
    r"\{[A-Za-z_][\w.:-]*\}|\[[A-Za-z_][\w.:-]*\]|%%[\w.:-]+%%|\$\{[\w.:-]+\}|#[A-Za-z_][\w.:-]*#"
    r"|!!![A-Za-z_]\w*!!!|<[a-z_][a-z0-9_]*>"
)

# utm_source: lower-cased, "www."/"m." and a trailing domain suffix of well-known platforms folded.
SOURCE_ALIASES = {
    "fb": "facebook", "facebook.com": "facebook", "ig": "instagram", "instagram.com": "instagram",
    "google.com": "google", "adwords": "google", "googleads": "google", "bing.com": "bing",
    "microsoft": "bing", "tiktok.com": "tiktok", "tt": "tiktok", "twitter.com": "twitter",
    "x.com": "twitter", "x": "twitter", "linkedin.com": "linkedin", "li": "linkedin",
    "youtube.com": "youtube", "yt": "youtube",
}  # fmt: skip
# utm_medium: lower-cased, runs of whitespace and dashes as one underscore, synonyms folded.
MEDIUM_SEPARATORS = "[ \t\n\r\x0b\x0c-]+"
_MEDIUM_SEPARATORS = re.compile(MEDIUM_SEPARATORS)
MEDIUM_ALIASES = {
    "ppc": "cpc", "paidsearch": "cpc", "paid_search": "cpc", "sem": "cpc",
    "paidsocial": "paid_social", "social_paid": "paid_social", "e_mail": "email", "newsletter": "email",
    "display_ads": "display", "banner": "display",
}  # fmt: skip


def text(value: str, field: str, limit: int = MAX_VALUE_LEN) -> str:
    value = value.strip(WHITESPACE)
    if len(value) > limit:
        raise FieldError(field, f"longer than {limit} characters")
    return value


def source(value: str) -> str:
    value = value.strip(WHITESPACE).lower()
    for prefix in ("www.", "m."):
        value = value.removeprefix(prefix)
    return SOURCE_ALIASES.get(value, value)


def medium(value: str) -> str:
    value = _MEDIUM_SEPARATORS.sub("_", value.strip(WHITESPACE).lower())
    return MEDIUM_ALIASES.get(value, value)


def _number(raw: str, field: str, reason: str) -> Decimal | None:
    """A finite decimal, None when blank, else FieldError(field, reason)."""
    raw = raw.strip(WHITESPACE)
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise FieldError(field, reason) from None
    if not value.is_finite():
        raise FieldError(field, f"{reason} (finite)")
    return value


def money(raw: str, field: str) -> str | None:
    """A non-negative decimal amount as a canonical string (6 decimals), or None when absent."""
    value = _number(raw, field, "not a decimal number")
    if value is None:
        return None
    if value < 0:
        raise FieldError(field, "must not be negative")
    if value > MAX_MONEY:
        raise FieldError(field, f"larger than {MAX_MONEY}")
    return str(value.quantize(MONEY_QUANTUM))


def currency(raw: str, field: str) -> str:
    code = raw.strip(WHITESPACE).upper()
    if code and code not in CURRENCIES:
        raise FieldError(field, f"unknown ISO 4217 currency code {raw.strip(WHITESPACE)[:8]!r}")
    return code


def click_id(raw: str, field: str = "click_id") -> str:
    value = raw.strip(WHITESPACE)
    if value and not CLICK_ID.match(value):
        raise FieldError(field, "malformed click id (letters, digits and _.~- only, at most 128)")
    return value


def reject_macros(params: dict[str, str]) -> None:
    for name, value in params.items():
        found = MACRO.search(value)
        if found is not None:
            raise FieldError(name, f"unresolved macro {found.group(0)!r}")


def timestamp_ms(raw: str, field: str, now_ms: int, *, max_age_ms: int, max_skew_ms: int) -> int | None:
    """Sender time: epoch seconds or milliseconds; not in the future beyond the skew, not too old."""
    value = _number(raw, field, "expected epoch seconds or milliseconds")
    if value is None:
        return None
    ms = int(value * 1000) if value < 100_000_000_000 else int(value)
    if ms > now_ms + max_skew_ms:
        raise FieldError(field, "in the future")
    if ms < now_ms - max_age_ms:
        raise FieldError(field, "older than accepted")
    return ms


def truncate_ip(raw: str) -> str:
    """Privacy by default: IPv4 to its /24, IPv6 to its /48; anything unparsable is dropped."""
    try:
        address = ipaddress.ip_address(raw.strip(WHITESPACE))
    except ValueError:
        return ""
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)
