import hashlib

import pytest

from adpulse.passwords import HashFormatError, make_hash, parse_hash, verify


def test_a_hash_verifies_its_password_only():
    encoded = make_hash("correct horse", iterations=100_000)
    assert encoded.startswith("pbkdf2_sha256$100000$")
    assert ":" not in encoded and "," not in encoded
    assert verify("correct horse", encoded)
    assert not verify("correct hors", encoded)
    assert make_hash("correct horse", iterations=100_000) != encoded  # a new salt every time


def test_the_format_is_plain_pbkdf2_any_tool_can_make():
    salt = b"0123456789abcdef"
    encoded = make_hash("pw", iterations=100_000, salt=salt)
    iterations, parsed_salt, digest = parse_hash(encoded)
    assert (iterations, parsed_salt) == (100_000, salt)
    assert digest == hashlib.pbkdf2_hmac("sha256", b"pw", salt, 100_000)


@pytest.mark.parametrize(
    "bad",
    ["", "plain", "md5$1$a$b", "pbkdf2_sha256$10$c2FsdHNhbHQ$" + "A" * 43, "pbkdf2_sha256$600000$c2FsdHNhbHQ$short",
     "pbkdf2_sha256$x$c2FsdHNhbHQ$" + "A" * 43],
)  # fmt: skip
def test_malformed_hashes_are_refused(bad):
    with pytest.raises(HashFormatError):
        parse_hash(bad)
