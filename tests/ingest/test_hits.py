import pytest

from ingest import hits
from ingest.errors import FieldError
from schemas.events import Event, EventType

NOW = 1_767_225_600_000
CTX = hits.HitContext(NOW, user_agent="Mozilla/5.0", client_ip="203.0.113.0", referrer="https://news.example/")


def test_impression_falls_back_to_utm_for_ad_and_campaign():
    event = hits.browser_event(EventType.IMPRESSION, {"utm_content": "ad-7", "utm_campaign": "spring",
                                                      "utm_source": "Google"}, CTX)  # fmt: skip
    assert (event["ad_id"], event["campaign_id"], event["source"]) == ("ad-7", "spring", "google")
    assert (event["user_agent"], event["client_ip"], event["referrer"]) == ("Mozilla/5.0", "203.0.113.0",
                                                                            "https://news.example/")  # fmt: skip
    Event.model_validate(event)


def test_page_url_fills_what_parameters_lack():
    event = hits.browser_event(
        EventType.PAGE_VIEW,
        {
            "utm_source": "bing",
            "page_url": "https://shop.example.com/?utm_source=fb&utm_campaign=c9&gclid=G1&click_id=k5",
        },
        CTX,
    )
    assert (event["source"], event["campaign_id"], event["gclid"], event.get("click_id")) == ("bing", "c9", "G1", "k5")


def test_sender_eid_gives_a_stable_event_id():
    first = hits.browser_event(EventType.IMPRESSION, {"ad_id": "a", "eid": "e-1"}, CTX)
    again = hits.browser_event(EventType.IMPRESSION, {"ad_id": "a", "eid": "e-1"}, hits.HitContext(NOW + 5))
    assert first["event_id"] == again["event_id"]
    assert (
        hits.browser_event(EventType.IMPRESSION, {}, CTX)["event_id"]
        != hits.browser_event(EventType.IMPRESSION, {}, CTX)["event_id"]
    )


def test_custom_event_needs_a_name():
    with pytest.raises(FieldError) as info:
        hits.browser_event(EventType.CUSTOM, {}, CTX)
    assert info.value.field == "event_name"
    assert hits.browser_event(EventType.CUSTOM, {"event": "signup"}, CTX)["event_name"] == "signup"


@pytest.mark.parametrize(
    ("params", "field"),
    [({"click_id": "k", "amount": "7.5"}, "payout"), ({"clickid": "k"}, "click_id"), ({"subid": "k"}, "click_id"),
     ({"cid": "k", "order_id": "O1"}, "txid"), ({"click_id": "k", "transaction_id": "T"}, "txid")],
)  # fmt: skip
def test_postback_aliases(params, field):
    event = hits.conversion(params, CTX)
    expected = {"payout": "7.500000", "click_id": "k", "txid": params.get("order_id") or params.get("transaction_id")}
    assert event[field] == expected[field]


def test_conversion_identity_is_network_txid_status_payout():
    base = {"click_id": "c1", "txid": "T-1", "payout": "10", "status": "approved"}
    same = hits.conversion(base, CTX)["event_id"]
    assert hits.conversion(base, hits.HitContext(NOW + 1000))["event_id"] == same
    assert hits.conversion({**base, "status": "chargeback"}, CTX)["event_id"] != same
    assert hits.conversion(base, CTX, network="other")["event_id"] != same
    assert hits.conversion({**base, "payout": "11"}, CTX)["event_id"] != same


def test_network_status_words():
    from schemas.events import ConversionStatus

    event = hits.conversion({"click_id": "k", "status": "2"}, CTX, statuses={"2": ConversionStatus.PENDING})
    assert event["status"] == "pending"
    with pytest.raises(FieldError) as info:
        hits.conversion({"click_id": "k", "status": "2"}, CTX)
    assert info.value.field == "status"


@pytest.mark.parametrize(
    ("params", "field"),
    [({"click_id": "{clickid}"}, "click_id"), ({"click_id": "k", "payout": "{payout}"}, "payout"),
     ({"click_id": "k", "currency": "EURO"}, "currency"), ({"click_id": "k", "payout": "-5"}, "payout"),
     ({"payout": "1"}, "click_id"), ({"click_id": "k", "ts": "123"}, "ts")],
)  # fmt: skip
def test_bad_postbacks_name_the_field(params, field):
    with pytest.raises(FieldError) as info:
        hits.conversion(params, CTX)
    assert info.value.field == field


def test_values_are_capped():
    with pytest.raises(FieldError) as info:
        hits.browser_event(EventType.IMPRESSION, {"ad_id": "x" * 257}, CTX)
    assert info.value.field == "ad_id"


def test_sub_ids_external_id_and_visitor_id():
    subs = {f"sub{i}": f" zone{i} " for i in range(1, 6)}
    click = hits.click({**subs, "external_id": "ext-9", "vid": "v-param"}, CTX, "k1", "https://x/")
    assert [click[f"sub{i}"] for i in range(1, 6)] == [f"zone{i}" for i in range(1, 6)]
    assert (click["external_id"], click["visitor_id"]) == ("ext-9", "v-param")
    cookie_ctx = hits.HitContext(NOW, visitor_cookie="v-cookie")
    beacon = hits.browser_event(EventType.PAGE_VIEW, {"page_url": "https://shop/?sub2=placement"}, cookie_ctx)
    assert (beacon["sub2"], beacon["visitor_id"]) == ("placement", "v-cookie")
    Event.model_validate(click)
    Event.model_validate(beacon)
    with pytest.raises(FieldError) as info:
        hits.click({"sub4": "x" * 257}, CTX, "k1", "https://x/")
    assert info.value.field == "sub4"
