"""Postbacks to traffic sources: a URL template per source, its macros filled in URL-encoded."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote, urlsplit, urlunsplit

from deliver.config import SourcePostback
from deliver.message import Conversion
from deliver.request import Request

_HUNDRED = Decimal(100)


def money(value: Decimal) -> str:
    """A decimal string without exponent or trailing zeros ("12.5", "0.0015", "10")."""
    text = format(value.quantize(Decimal("0.000001")), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def macros(conversion: Conversion, config: SourcePostback) -> dict[str, str]:
    click = conversion.click
    values = {
        "click_id": conversion.click_id,
        "txid": conversion.txid,
        "status": config.status_map.get(conversion.status, conversion.status.value),
        "payout": money(conversion.payout * config.payout_percent / _HUNDRED),
        "currency": conversion.currency,
        "ad_id": conversion.ad_id,
        "campaign_id": conversion.campaign_id,
        "adset_id": click.adset_id if click else "",
    }
    for name in ("external_id", "sub1", "sub2", "sub3", "sub4", "sub5", "gclid", "fbclid", "ttclid", "msclkid"):
        values[name] = getattr(click, name) if click else ""
    return values


def render(template: str, values: dict[str, str]) -> str:
    """Fill the template (macros validated at start-up); every value is percent-encoded."""
    return template.format_map({name: quote(value, safe="") for name, value in values.items()})


def request(conversion: Conversion, config: SourcePostback) -> Request:
    url = render(config.url, macros(conversion, config))
    if config.method == "GET":
        return Request("GET", url)
    parts = urlsplit(url)
    return Request(
        "POST",
        urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")),
        parts.query.encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
