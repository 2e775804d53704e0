import pytest

from adpulse.clickhouse import parse_target


def test_http_url_database_from_path():
    target = parse_target("http://bi:secret@ch.internal:8123/tracking")
    assert (target.database, target.embedded) == ("tracking", False)


def test_chdb_url_defaults_database():
    target = parse_target("chdb:///var/lib/adpulse")
    assert (target.database, target.embedded) == ("adpulse", True)


def test_database_must_be_identifier():
    with pytest.raises(ValueError, match="identifier"):
        parse_target("http://h:8123/drop;table")
