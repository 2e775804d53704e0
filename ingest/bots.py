"""Bot and invalid-traffic classification: one rule table, two engines (Python for clicks, beacons and
batch events; ClickHouse SQL for pixel hits and ``adpulse reclassify``).

A browser event's ``bot_reason`` is the first rule that matches, in :data:`REASONS` order ('' = human):

- ``ua_empty``: a request from an address (``client_ip`` set) without a user agent;
- ``ip_list`` / ``ua_list``: the operator's lists (``ADPULSE_BLOCK_IPS`` CIDRs, ``ADPULSE_BLOCK_USER_AGENTS``
  case-insensitive substrings, ASCII case folding);
- ``ua_headless``: automation frameworks (:data:`HEADLESS`, case-sensitive substrings);
- ``ua_crawler``: the crawler-user-agents list (MIT, package ``crawler-user-agents``): its regular
  expressions, case-sensitive;
- ``datacenter``: the address's ASN (``ingest.enrich``, from DB-IP's ASN Lite data) is a public cloud or
  hosting provider's (:data:`DATACENTER_ASNS`, shipped here, plus the operator's ``ADPULSE_DATACENTER_ASNS``);
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
DATACENTER = "datacenter"
VELOCITY = "velocity"
REASONS = (UA_EMPTY, IP_LIST, UA_LIST, UA_HEADLESS, UA_CRAWLER, DATACENTER, VELOCITY)

# Autonomous systems of public clouds and hosting/VPS providers: a browser hit from one is a server's.
# Networks that carry real people through proxies (Cloudflare WARP, iCloud Private Relay's CDN egress,
# mobile carriers) are deliberately absent. Refreshed by hand from the providers' published ASNs.
DATACENTER_ASNS: frozenset[int] = frozenset({
    16509, 14618, 8987,  # Amazon Web Services
    396982, 19527, 15169,  # Google Cloud, Google
    8075,  # Microsoft Azure
    31898,  # Oracle Cloud
    45102, 37963,  # Alibaba Cloud
    132203, 45090,  # Tencent Cloud
    14061,  # DigitalOcean
    63949,  # Akamai Connected Cloud (Linode)
    20473,  # Vultr (Choopa)
    16276,  # OVHcloud
    24940, 213230,  # Hetzner
    12876,  # Scaleway
    60781, 28753,  # Leaseweb
    51167,  # Contabo
    36352,  # ColoCrossing
    53667,  # FranTech (BuyVM)
    9009,  # M247
    197540,  # netcup
    8560,  # IONOS
    21859,  # Zenlayer
    46606,  # Unified Layer
    26347,  # DreamHost
})  # fmt: skip

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
    # More datacenter ASNs than the shipped list (ADPULSE_DATACENTER_ASNS).
    asns: tuple[int, ...] = ()
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

    @property
    def datacenter_asns(self) -> frozenset[int]:
        return DATACENTER_ASNS | frozenset(self.asns)

    def datacenter(self, asn: int) -> bool:
        return asn in DATACENTER_ASNS or asn in self.asns

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


def classify(user_agent: str, client_ip: str, lists: OperatorLists, asn: int = 0) -> str:
    """The bot reason of a browser event ('' = human, or a server-side event that is never classified);
    ``asn``: the address's autonomous system (``ingest.enrich``), 0 when unknown."""
    ua = user_agent[:MAX_UA]
    if not ua and not client_ip:
        return ""
    if not ua:
        return UA_EMPTY
    if lists.blocks_ip(client_ip):
        return IP_LIST
    if lists.blocks_ua(ua):
        return UA_LIST
    return ua_reason(ua) or (DATACENTER if asn and lists.datacenter(asn) else "")


# --- SQL -------------------------------------------------------------------------------------------


def _array(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(literal(v) for v in values) + "]"


def sql(lists: OperatorLists, ua: str = "user_agent", ip: str = "client_ip", asn: str | None = None) -> str:
    """:func:`classify` over the columns ``ua`` (already at most :data:`MAX_UA` characters), ``ip`` and
    ``asn`` (None: no ASN column, the rules before migration 0007), with the operator's ``lists`` baked in
    (``adpulse migrate`` re-creates the views that use it)."""
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
        + (
            f"has([{', '.join(str(a) for a in sorted(lists.datacenter_asns))}], {asn}), {literal(DATACENTER)}, "
            if asn is not None
            else ""
        )
        + "'')"
    )
