from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

from deliver.config import SourcePostback
from deliver.postback import money, request
from tests.deliver.helpers import conversion

TEMPLATE = (
    "https://track.source.example/pb?cid={external_id}&z={sub1}&tx={txid}&st={status}&p={payout}&cur={currency}"
    "&gclid={gclid}&fbclid={fbclid}&ttclid={ttclid}&msclkid={msclkid}&ad={ad_id}&as={adset_id}&cmp={campaign_id}"
    "&click={click_id}&s2={sub2}"
)


def test_macros_are_filled_url_encoded() -> None:
    config = SourcePostback(url=TEMPLATE)
    sent = request(conversion(), config)
    assert sent.method == "GET"
    assert "z=zone%207%2Fa" in sent.url  # encoded, not raw
    query = {k: v[0] for k, v in parse_qs(urlsplit(sent.url).query, keep_blank_values=True).items()}
    assert query == {
        "cid": "ext-42", "z": "zone 7/a", "tx": "T-1", "st": "approved", "p": "12.5", "cur": "EUR",
        "gclid": "Cj0KCQ", "fbclid": "IwAR2F4-dbP0l7Mn1IawQQ", "ttclid": "E.C.P.abc", "msclkid": "ms123",
        "ad": "ad-1", "as": "as-1", "cmp": "cmp-1", "click": "c1", "s2": "",
    }  # fmt: skip


def test_status_map_and_payout_percent() -> None:
    config = SourcePostback(
        url="https://s.example/?st={status}&p={payout}",
        statuses=["approved", "reversed"],
        status_map={"reversed": "chargeback"},
        payout_percent=Decimal(80),
    )
    sent = request(conversion(status="reversed", payout=Decimal("10.00")), config)
    assert sent.url == "https://s.example/?st=chargeback&p=8"


def test_post_moves_the_query_into_a_form_body() -> None:
    config = SourcePostback(url="https://s.example/pb?cid={external_id}&p={payout}", method="POST")
    sent = request(conversion(), config)
    assert (sent.method, sent.url, sent.body) == ("POST", "https://s.example/pb", b"cid=ext-42&p=12.5")
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_money_is_a_plain_decimal_string() -> None:
    assert [money(Decimal(v)) for v in ("10.00", "0.0015", "12.345678", "0")] == ["10", "0.0015", "12.345678", "0"]
