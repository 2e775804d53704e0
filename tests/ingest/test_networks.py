import hashlib
import hmac

import pytest

from ingest.networks import NetworkConfig

SECRET = "0123456789abcdef-secret"


def sign(query: bytes) -> str:
    return hmac.new(SECRET.encode(), query, hashlib.sha256).hexdigest()


def test_token_is_checked_only_when_configured():
    assert NetworkConfig().token_ok(None)
    config = NetworkConfig(token="s3cret-token")
    assert config.token_ok("s3cret-token")
    assert not config.token_ok("s3cret-tokeN")
    assert not config.token_ok(None)


def test_signature_over_the_query_without_sig():
    config = NetworkConfig(hmac_secret=SECRET)
    query = b"click_id=k1&payout=5&txid=T1"
    assert config.signature_ok(query + b"&sig=" + sign(query).encode(), None)
    assert config.signature_ok(b"sig=" + sign(query).encode() + b"&" + query, None)
    assert config.signature_ok(query, sign(query))  # in the X-Adpulse-Signature header
    assert not config.signature_ok(b"click_id=k1&payout=500&txid=T1&sig=" + sign(query).encode(), None)
    assert not config.signature_ok(query, None)


def test_ip_allowlist():
    config = NetworkConfig(allowed_ips=["203.0.113.0/24", "2001:db8::/32"])
    assert config.ip_ok("203.0.113.9")
    assert config.ip_ok("2001:db8::1")
    assert not config.ip_ok("198.51.100.1")
    assert not config.ip_ok("garbage")
    assert NetworkConfig().ip_ok("198.51.100.1")


def test_bad_cidr_fails_at_start_up():
    with pytest.raises(ValueError, match="not-a-cidr"):
        NetworkConfig(allowed_ips=["not-a-cidr"])
