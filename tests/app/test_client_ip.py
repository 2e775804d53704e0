import pytest

from app.client_ip import client_ip, peer_host


@pytest.mark.parametrize(
    ("forwarded", "trusted", "expected"),
    [
        ("203.0.113.9, 10.0.0.1", True, "203.0.113.9"),
        (" 203.0.113.9 ,10.0.0.1", True, "203.0.113.9"),
        ("203.0.113.9", False, "198.51.100.7"),  # never without the setting
        ("", True, "198.51.100.7"),
        (None, True, "198.51.100.7"),
        (" , 10.0.0.1", True, "198.51.100.7"),  # an empty first entry is not an address
    ],
)
def test_forwarded_only_when_trusted(forwarded, trusted, expected):
    assert client_ip(forwarded, "198.51.100.7", trust_forwarded=trusted) == expected


@pytest.mark.parametrize(
    ("address", "host"),
    [("127.0.0.1:5555", "127.0.0.1"), ("[::1]:80", "::1"), ("[2001:db8::1]", "2001:db8::1"), ("::1", "::1"),
     ("10.1.2.3", "10.1.2.3"), ("", "")],
)  # fmt: skip
def test_peer_host(address, host):
    assert peer_host(address) == host
