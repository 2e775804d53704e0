"""Enrichment of a browser request: device, OS and browser from the user agent, country and ASN from the
(truncated) client address. Computed once, in the API process, for every browser hit and click
(``ingest.rawhit`` puts it in the raw hit, ``ingest.hits`` in the built event); ClickHouse and the
aggregator only copy it, and conversions inherit it from their click.

- ``os`` / ``browser``: the families ua-parser names (``ua-parser`` with its compiled Rust engine,
  ``ua-parser-rs``, and the regexes of ``ua-parser-builtins``); ``Other`` when it knows none.
- ``device``: ``desktop``, ``mobile``, ``tablet`` or ``other`` (:func:`device_class`, from ua-parser's
  device and OS families plus the tokens the standard user agents carry: ``Mobile``, ``Tablet``).
- ``country`` (ISO 3166-1 alpha-2) and ``asn`` from ``ingest.geo``'s tables ('' / 0 when unknown).

Both lookups are cached (bounded LRU): real traffic repeats a few thousand user agents and its visitors'
/24s; ``cache_info()`` gives the hit rates.

Requests without a user agent and an address (server-to-server) get nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import _CacheInfo, lru_cache
from pathlib import Path
from typing import Any

import ua_parser

from ingest import geo

DESKTOP = "desktop"
MOBILE = "mobile"
TABLET = "tablet"
OTHER = "other"
DEVICES = (DESKTOP, MOBILE, TABLET, OTHER)
UNKNOWN = "Other"  # ua-parser's family when nothing matched

MAX_UA = 512
UA_CACHE = 16_384
IP_CACHE = 65_536

_MOBILE_OS = frozenset({
    "iOS", "Android", "Windows Phone", "BlackBerry OS", "BlackBerry Tablet OS", "KaiOS", "Firefox OS",
    "Symbian OS", "Symbian^3", "webOS", "Sailfish", "Tizen Mobile", "HarmonyOS", "Ubuntu Touch", "Bada",
})  # fmt: skip
_DESKTOP_OS = frozenset({
    "Windows", "Mac OS X", "macOS", "Linux", "Ubuntu", "Chrome OS", "ChromeOS", "Fedora", "Debian", "FreeBSD",
    "OpenBSD", "NetBSD", "Solaris", "Red Hat", "SUSE", "Mint", "Arch Linux", "Gentoo", "Kubuntu", "Mageia",
    "CentOS", "Slackware", "Mandriva", "Xubuntu", "elementary OS",
})  # fmt: skip
_TABLET_DEVICES = frozenset({"iPad", "Kindle", "Generic Tablet", "Kindle Fire"})
_TV_TOKENS = ("SMART-TV", "SmartTV", "Smart-TV", "GoogleTV", "AppleTV", "HbbTV", "CrKey", "AFT", "BRAVIA", "Roku",
              "PlayStation", "Xbox", "Nintendo", "Web0S", "NetCast")  # fmt: skip


@dataclass(frozen=True)
class Traits:
    """What a browser request says about its visitor (empty for server-side requests)."""

    device: str = ""
    os: str = ""
    browser: str = ""
    country: str = ""
    asn: int = 0

    def fields(self) -> dict[str, Any]:
        """The non-empty traits, as event fields."""
        return {k: v for k, v in (("device", self.device), ("os", self.os), ("browser", self.browser),
                                  ("country", self.country), ("asn", self.asn)) if v}  # fmt: skip


NONE = Traits()


def device_class(ua: str, os_family: str, device_family: str, device_brand: str) -> str:
    """The device class of a user agent whose ua-parser families are given."""
    if device_family == "Spider" or any(token in ua for token in _TV_TOKENS):
        return OTHER
    if device_family in _TABLET_DEVICES or device_brand == "Generic_Android_Tablet" or "Tablet" in ua:
        return TABLET
    if os_family == "Android":
        # Android phones say "Mobile" (Chrome, Firefox, Samsung); Android tablets do not.
        return MOBILE if "Mobile" in ua else TABLET
    if os_family in _MOBILE_OS or device_family in ("iPhone", "iPod", "Generic Smartphone") or "Mobi" in ua:
        return MOBILE
    if os_family in _DESKTOP_OS:
        return DESKTOP
    return OTHER


def _non_empty(**fields: Any) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value}


@lru_cache(maxsize=UA_CACHE)
def ua_fields(ua: str) -> dict[str, str]:
    """:func:`ua_traits` as the raw hit's fields (cached; never mutate the result)."""
    device, os_family, browser = ua_traits(ua)
    return _non_empty(device=device, os=os_family, browser=browser)


@lru_cache(maxsize=UA_CACHE)
def ua_traits(ua: str) -> tuple[str, str, str]:
    """(device, os, browser) of a user agent ('' for none)."""
    if not ua:
        return "", "", ""
    result = ua_parser.parse(ua[:MAX_UA])
    os_family = result.os.family if result.os else UNKNOWN
    browser = result.user_agent.family if result.user_agent else UNKNOWN
    device = result.device
    kind = device_class(ua, os_family, device.family if device else "", device.brand or "" if device else "")
    return kind, os_family, browser


class Enricher:
    """The lookups of one process: ua-parser, and the IP tables of ``directory`` (None: no IP data, the
    country and ASN stay empty; the operator's choice, ``ADPULSE_GEO_DIR=``)."""

    def __init__(self, directory: Path | None) -> None:
        self.countries = geo.load(directory / "country.bin") if directory is not None else None
        self.asns = geo.load(directory / "asn.bin") if directory is not None else None
        self.ip_traits: Callable[[str], tuple[str, int]] = lru_cache(maxsize=IP_CACHE)(self._ip_traits)
        self.ip_fields: Callable[[str], dict[str, Any]] = lru_cache(maxsize=IP_CACHE)(self._ip_fields)

    def _ip_traits(self, ip: str) -> tuple[str, int]:
        if self.countries is None or self.asns is None:
            return "", 0
        return self.countries.lookup(ip), self.asns.value(ip)

    def _ip_fields(self, ip: str) -> dict[str, Any]:
        country, asn = self.ip_traits(ip)
        return _non_empty(country=country, asn=asn)

    def hit_fields(self, user_agent: str, client_ip: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The pixel's form of :meth:`traits`: two cached dicts of the non-empty fields (never mutate them),
        which the raw hit copies (``ingest.rawhit``): no object is built per hit."""
        return ua_fields(user_agent), self.ip_fields(client_ip)

    def traits(self, user_agent: str, client_ip: str) -> Traits:
        """The traits of a request (``client_ip`` already truncated: the lookups are cached per /24)."""
        if not user_agent and not client_ip:
            return NONE
        device, os_family, browser = ua_traits(user_agent)
        country, asn = self.ip_traits(client_ip) if client_ip else ("", 0)
        return Traits(device, os_family, browser, country, asn)

    def cache_info(self) -> dict[str, _CacheInfo]:
        return {
            "ua": ua_traits.cache_info(),
            "ua_fields": ua_fields.cache_info(),
            "ip": self.ip_traits.cache_info(),  # type: ignore[attr-defined]
            "ip_fields": self.ip_fields.cache_info(),  # type: ignore[attr-defined]
        }
