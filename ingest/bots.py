"""Bot and invalid-traffic classification: one rule table, two engines (Python for clicks, beacons and
batch events; ClickHouse SQL for pixel hits and ``adpulse reclassify``).

A browser event's ``bot_reason`` is the first rule that matches, in :data:`REASONS` order ('' = human):

- ``ua_empty``: a request from an address (``client_ip`` set) without a user agent;
- ``ip_list`` / ``ua_list``: the operator's lists (``ADPULSE_BLOCK_IPS`` CIDRs, ``ADPULSE_BLOCK_USER_AGENTS``
  case-insensitive substrings, ASCII case folding);
- ``ua_headless``: automation frameworks (:data:`HEADLESS`, case-sensitive substrings);
- ``ua_crawler``: the crawler-user-agents list (MIT, package ``crawler-user-agents``): its regular
  expressions, case-sensitive;
- ``velocity`` is set by the aggregator on clicks (``aggregator/velocity.py``), never by these rules.

Server-side events (no user agent and no address) and conversions are never classified.

``tests/ingest/test_bots.py`` runs the same cases, including every example user agent the crawler list
ships, through :func:`classify` and :func:`sql` and requires the same reason.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from functools import lru_cache

from crawleruseragents import CRAWLER_USER_AGENTS_DATA

from ingest.hitsql import literal

UA_EMPTY = "ua_empty"
IP_LIST = "ip_list"
UA_LIST = "ua_list"
UA_HEADLESS = "ua_headless"
UA_CRAWLER = "ua_crawler"
VELOCITY = "velocity"
REASONS = (UA_EMPTY, IP_LIST, UA_LIST, UA_HEADLESS, UA_CRAWLER, VELOCITY)

MAX_UA = 512  # as stored (ingest.hits truncates the header to it)

# Automation and headless browsers (case-sensitive substrings of the user agent).
HEADLESS: tuple[str, ...] = (
    "HeadlessChrome", "PhantomJS", "SlimerJS", "Puppeteer", "Playwright", "Selenium", "WebDriver",
    "HtmlUnit", "Nightmare", "Cypress", "Splash", "jsdom",
)  # fmt: skip

# The crawler list's patterns (already case-sensitive regular expressions in the RE2/Hyperscan subset).
CRAWLERS: tuple[str, ...] = tuple(entry["pattern"] for entry in CRAWLER_USER_AGENTS_DATA)
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(text: str) -> str:
    return text.translate(_ASCII_LOWER)


@dataclass(frozen=True)
class OperatorLists:
    """The operator's block lists (settings ``block_ips``, ``block_user_agents``)."""

    ips: tuple[str, ...] = ()
    user_agents: tuple[str, ...] = ()
    _networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_networks", tuple(network(c) for c in self.ips))
        object.__setattr__(self, "user_agents", tuple(ascii_lower(p) for p in self.user_agents if p))

    @property
    def networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return self._networks

    def blocks_ip(self, ip: str) -> bool:
        if not self._networks or not ip:
            return False
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(address.version == n.version and address in n for n in self._networks)

    def blocks_ua(self, ua: str) -> bool:
        if not self.user_agents:
            return False
        folded = ascii_lower(ua)
        return any(p in folded for p in self.user_agents)


def network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """A CIDR (or a single address) of the operator's IP list; ValueError when malformed."""
    return ipaddress.ip_network(cidr.strip(), strict=False)


@lru_cache(maxsize=1)
def _crawler_re() -> re.Pattern[str]:
    """The crawler patterns as one compiled expression (compiled on first use, not at import)."""
    return re.compile("|".join(f"(?:{p})" for p in CRAWLERS))


@lru_cache(maxsize=65_536)
def ua_reason(ua: str) -> str:
    """The list-independent user-agent rules (cached: real traffic repeats a few thousand agents)."""
    if any(h in ua for h in HEADLESS):
        return UA_HEADLESS
    if _crawler_re().search(ua):
        return UA_CRAWLER
    return ""


def classify(user_agent: str, client_ip: str, lists: OperatorLists) -> str:
    """The bot reason of a browser event ('' = human, or a server-side event that is never classified)."""
    ua = user_agent[:MAX_UA]
    if not ua and not client_ip:
        return ""
    if not ua:
        return UA_EMPTY
    if lists.blocks_ip(client_ip):
        return IP_LIST
    if lists.blocks_ua(ua):
        return UA_LIST
    return ua_reason(ua)


# --- SQL -------------------------------------------------------------------------------------------


def _array(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(literal(v) for v in values) + "]"


def sql(lists: OperatorLists, ua: str = "user_agent", ip: str = "client_ip") -> str:
    """:func:`classify` over the columns ``ua`` (already at most :data:`MAX_UA` characters) and ``ip``, with
    the operator's ``lists`` baked in (``adpulse migrate`` re-creates the views that use it)."""
    ips = (
        f"(isIPv4String({ip}) OR isIPv6String({ip})) AND arrayExists(c -> isIPAddressInRange({ip}, c), "
        f"{_array(tuple(str(n) for n in lists.networks))})"
        if lists.ips
        else "0"
    )
    uas = f"multiSearchAnyCaseInsensitive({ua}, {_array(lists.user_agents)})" if lists.user_agents else "0"
    return (
        f"multiIf({ua} = '' AND {ip} = '', '', "
        f"{ua} = '', {literal(UA_EMPTY)}, "
        f"{ips}, {literal(IP_LIST)}, "
        f"{uas}, {literal(UA_LIST)}, "
        f"multiSearchAny({ua}, {_array(HEADLESS)}), {literal(UA_HEADLESS)}, "
        f"multiMatchAny({ua}, {_array(CRAWLERS)}), {literal(UA_CRAWLER)}, "
        "'')"
    )
