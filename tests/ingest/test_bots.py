"""One source of truth for bot classification: the same (user agent, address, operator lists) through
Python (:func:`ingest.bots.classify`) and ClickHouse SQL (:func:`ingest.bots.sql`, real embedded engine)
must give the same reason, including for every example user agent the crawler list ships."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from chdb import session
from crawleruseragents import CRAWLER_USER_AGENTS_DATA

from ingest import bots
from ingest.hitsql import literal

CHROME_WIN = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
BINGBOT = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
HEADLESS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36"
)
LISTS = bots.OperatorLists(ips=("203.0.113.0/24", "2001:db8::/32"), user_agents=("EvilScraper",))

# (user agent, client ip, lists, expected reason)
CASES: list[tuple[str, str, bots.OperatorLists, str]] = [
    (CHROME_WIN, "198.51.100.0", LISTS, ""),
    (IPHONE, "198.51.100.0", LISTS, ""),
    (GOOGLEBOT, "198.51.100.0", LISTS, bots.UA_CRAWLER),
    (BINGBOT, "198.51.100.0", LISTS, bots.UA_CRAWLER),
    ("curl/8.5.0", "198.51.100.0", LISTS, bots.UA_CRAWLER),
    ("python-requests/2.32.3", "198.51.100.0", LISTS, bots.UA_CRAWLER),
    ("", "198.51.100.0", LISTS, bots.UA_EMPTY),
    ("", "", LISTS, ""),  # server side: never classified
    (HEADLESS, "198.51.100.0", LISTS, bots.UA_HEADLESS),
    ("Mozilla/5.0 PhantomJS/2.1.1", "198.51.100.0", LISTS, bots.UA_HEADLESS),
    (CHROME_WIN, "203.0.113.0", LISTS, bots.IP_LIST),
    (CHROME_WIN, "2001:db8:1::", LISTS, bots.IP_LIST),
    (CHROME_WIN, "2001:db9::", LISTS, ""),
    (CHROME_WIN, "not-an-ip", LISTS, ""),
    (CHROME_WIN, "203.0.113.0", bots.OperatorLists(), ""),
    ("Mozilla/5.0 evilscraper/1.0", "198.51.100.0", LISTS, bots.UA_LIST),
    ("", "203.0.113.0", LISTS, bots.UA_EMPTY),  # the first rule wins
    (GOOGLEBOT, "203.0.113.0", LISTS, bots.IP_LIST),
    ("x" * 600 + "Googlebot", "198.51.100.0", LISTS, ""),  # past the stored 512 characters
    ("Ünïcödé Browser/1.0", "198.51.100.0", LISTS, ""),
]


@pytest.fixture(scope="module")
def engine() -> Iterator[session.Session]:
    s = session.Session()
    s.query("CREATE DATABASE IF NOT EXISTS bots_eq")
    s.query("CREATE TABLE bots_eq.cases (n UInt32, user_agent String, client_ip String, asn UInt32) ENGINE = Memory")
    yield s
    s.close()


def _sql_reasons(
    s: session.Session, rows: list[tuple[str, str]], lists: bots.OperatorLists, asns: list[int] | None = None
) -> list[str]:
    s.query("TRUNCATE TABLE bots_eq.cases")
    numbers = asns or [0] * len(rows)
    cases = ", ".join(
        f"({i}, {literal(ua[: bots.MAX_UA])}, {literal(ip)}, {asn})"
        for i, ((ua, ip), asn) in enumerate(zip(rows, numbers, strict=True))
    )
    s.query(f"INSERT INTO bots_eq.cases VALUES {cases}")
    rules = bots.sql(lists, asn="asn" if asns is not None else None)
    result = s.query(f"SELECT {rules} FROM bots_eq.cases ORDER BY n", "TabSeparated")
    text: str = result.bytes().decode()
    return text.splitlines()


def test_cases_python_and_sql_agree(engine: session.Session) -> None:
    for lists in {c[2] for c in CASES}:
        chosen = [c for c in CASES if c[2] is lists or c[2] == lists]
        python = [bots.classify(ua, ip, lists) for ua, ip, _, _ in chosen]
        assert python == [c[3] for c in chosen]
        assert _sql_reasons(engine, [(ua, ip) for ua, ip, _, _ in chosen], lists) == python


def test_every_crawler_example_is_a_crawler_in_both(engine: session.Session) -> None:
    examples = sorted({ua for entry in CRAWLER_USER_AGENTS_DATA for ua in entry.get("instances", []) if ua})
    assert len(examples) > 1000
    rows = [(ua, "198.51.100.0") for ua in examples]
    python = [bots.classify(ua, ip, bots.OperatorLists()) for ua, ip in rows]
    assert _sql_reasons(engine, rows, bots.OperatorLists()) == python
    # The list's own examples are crawlers (automation tools among them are tagged headless first).
    assert set(python) <= {bots.UA_CRAWLER, bots.UA_HEADLESS, bots.UA_LIST}
    assert python.count(bots.UA_CRAWLER) > 0.9 * len(python)


AWS, HETZNER, DEUTSCHE_TELEKOM = 16509, 24940, 3320
# (user agent, client ip, ASN, lists, expected reason): the datacenter rule (migration 0007's views).
DATACENTER_CASES: list[tuple[str, str, int, bots.OperatorLists, str]] = [
    (CHROME_WIN, "52.95.110.0", AWS, LISTS, bots.DATACENTER),
    (IPHONE, "95.216.0.0", HETZNER, LISTS, bots.DATACENTER),
    (CHROME_WIN, "80.128.0.0", DEUTSCHE_TELEKOM, LISTS, ""),  # a residential network
    (CHROME_WIN, "198.51.100.0", 0, LISTS, ""),  # unknown ASN
    (GOOGLEBOT, "66.249.66.0", 15169, LISTS, bots.UA_CRAWLER),  # the more specific reason first
    (CHROME_WIN, "203.0.113.0", AWS, LISTS, bots.IP_LIST),
    ("", "52.95.110.0", AWS, LISTS, bots.UA_EMPTY),
    ("", "", AWS, LISTS, ""),  # server side: never classified
    (CHROME_WIN, "80.128.0.0", DEUTSCHE_TELEKOM, bots.OperatorLists(asns=(DEUTSCHE_TELEKOM,)), bots.DATACENTER),
]


def test_datacenter_cases_python_and_sql_agree(engine: session.Session) -> None:
    for lists in {c[3] for c in DATACENTER_CASES}:
        chosen = [c for c in DATACENTER_CASES if c[3] == lists]
        python = [bots.classify(ua, ip, lists, asn) for ua, ip, asn, _, _ in chosen]
        assert python == [c[4] for c in chosen]
        sql = _sql_reasons(engine, [(ua, ip) for ua, ip, *_ in chosen], lists, [c[2] for c in chosen])
        assert sql == python


def test_bad_cidr_is_refused() -> None:
    with pytest.raises(ValueError, match="does not appear to be"):
        bots.OperatorLists(ips=("10.0.0.0/33",))
