"""The endpoint's pure parts: request parsing, INSERT splitting, body decoding, error answers."""

from __future__ import annotations

import base64
import gzip
import os
import zlib

import lz4.frame
import pytest
import zstandard

from adpulse.devch import errors
from adpulse.devch.codec import decode
from adpulse.devch.errors import BadRequest
from adpulse.devch.protocol import Insert, output_format, parse, single_statement, split_insert

COMPRESSORS = {
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "lz4": lz4.frame.compress,
    "zstd": zstandard.ZstdCompressor().compress,
}


def test_query_parameter_and_body_are_joined_by_a_newline():
    request = parse(b"query=INSERT+INTO+t+FORMAT+CSV&database=db&max_threads=2&session_id=s&param_x=1", b"1,2\n",
                    "POST", {})  # fmt: skip
    assert (request.sql, request.database, request.settings, request.params) == (
        b"INSERT INTO t FORMAT CSV\n1,2\n",
        "db",
        {"max_threads": "2"},
        {"x": "1"},
    )
    assert parse(b"", b"SELECT 1", "POST", {}).sql == b"SELECT 1"
    assert parse(b"query=SELECT+1", b"", "POST", {}).sql == b"SELECT 1"


def test_get_reads_only_unless_told_stricter():
    assert parse(b"query=SELECT+1", b"", "GET", {}).settings == {"readonly": "2"}
    assert parse(b"query=SELECT+1&readonly=0", b"", "GET", {}).settings == {"readonly": "2"}
    assert parse(b"query=SELECT+1&readonly=1", b"", "GET", {}).settings == {"readonly": "1"}
    assert parse(b"query=SELECT+1", b"", "POST", {}).settings == {}


def test_user_format_and_database_from_headers():
    basic = "Basic " + base64.b64encode(b"bi:secret").decode()
    assert parse(b"", b"SELECT 1", "POST", {"authorization": basic}).user == "bi"
    assert parse(b"user=u", b"SELECT 1", "POST", {"x-clickhouse-user": "h"}).user == "h"
    assert parse(b"user=u", b"SELECT 1", "POST", {}).user == "u"
    request = parse(b"", b"SELECT 1", "POST", {"x-clickhouse-database": "d", "x-clickhouse-format": "CSV"})
    assert (request.database, request.default_format) == ("d", "CSV")


def test_multipart_fields_carry_query_and_parameters():
    body = (b'--b\r\nContent-Disposition: form-data; name="query"\r\n\r\nSELECT {x:UInt8}\r\n'
            b'--b\r\nContent-Disposition: form-data; name="param_x"\r\n\r\n7\r\n--b--\r\n')  # fmt: skip
    request = parse(b"", body, "POST", {"content-type": "multipart/form-data; boundary=b"})
    assert (request.sql, request.params) == (b"SELECT {x:UInt8}", {"x": "7"})


@pytest.mark.parametrize(
    ("query", "body", "code"),
    [(b"", b"  ", 62), (b"bad+name=1", b"SELECT 1", 115), (b"compress=1", b"SELECT 1", 48),
     (b"decompress=1", b"SELECT 1", 48)],
)  # fmt: skip
def test_refusals(query, body, code):
    with pytest.raises(BadRequest) as info:
        parse(query, body, "POST", {})
    assert info.value.code == code


def test_split_insert():
    native = b"\x02\x01\x00\xff\n\x00"
    assert split_insert(b"INSERT INTO db.t (`a`, `b`) FORMAT Native\n" + native) == Insert(
        "INSERT INTO db.t (`a`, `b`)", "Native", native
    )
    assert split_insert(b"insert into t VALUES (1, 'a'), (2, 'b')") == Insert("insert into t", "Values",
                                                                             b" (1, 'a'), (2, 'b')")  # fmt: skip
    assert split_insert(b"INSERT INTO t SETTINGS async_insert=0 FORMAT CSV\r\n1\n") == Insert(
        "INSERT INTO t SETTINGS async_insert=0", "CSV", b"1\n"
    )
    assert split_insert(b"INSERT INTO {t:Identifier} FORMAT TSV\n") == Insert("INSERT INTO {t:Identifier}", "TSV", b"")
    assert split_insert(b"INSERT INTO t SELECT 1") is None
    assert split_insert(b"SELECT 'INSERT INTO t FORMAT CSV'") is None


@pytest.mark.parametrize(
    "sql", [b"SELECT 1;", b"SELECT ';' AS a; -- done", b"SELECT `a;b` FROM t /* ; */ ;\n", b"SELECT 'it\\'s;'"]
)
def test_one_statement_passes(sql):
    single_statement(sql)


@pytest.mark.parametrize("sql", [b"SELECT 1; SELECT 2", b"SELECT ';'; DROP TABLE t", b"SELECT 1; -- x\nSELECT 2"])
def test_several_statements_are_refused(sql):
    with pytest.raises(BadRequest, match="Multi-statements") as info:
        single_statement(sql)
    assert info.value.code == 62


def test_output_format():
    assert output_format(b"SELECT 1\n FORMAT Native", "TSV") == "Native"
    assert output_format(b"SELECT 1 FORMAT JSON SETTINGS max_threads = 1;", "TSV") == "JSON"
    assert output_format(b"SELECT 1", "CSV") == "CSV"


@pytest.mark.parametrize("encoding", sorted(COMPRESSORS))
def test_decode_several_frames_across_chunks(encoding):
    parts = [os.urandom(700_000), b"x" * 900_000, os.urandom(10)]
    body = b"".join(COMPRESSORS[encoding](part) for part in parts)
    assert decode(body, encoding, 1 << 30) == b"".join(parts)
    assert decode(b"", encoding, 10) == b""
    for broken in (body[:-3], b"garbage" + body):
        with pytest.raises(BadRequest) as info:
            decode(broken, encoding, 1 << 30)
        assert (info.value.code, info.value.status) == (271, 400)
    with pytest.raises(BadRequest) as info:
        decode(body, encoding, 1_000_000)
    assert (info.value.code, info.value.status) == (307, 413)


def test_decode_identity_and_unknown():
    assert decode(b"abc", "identity", 1) == b"abc"
    with pytest.raises(BadRequest) as info:
        decode(b"abc", "br", 10)
    assert (info.value.code, info.value.status) == (89, 415)


def test_error_answers_look_like_a_servers():
    code, text = errors.from_engine("Streaming insert finish failed: Code: 27. DB::Exception: Cannot parse. (X)")
    assert (code, text) == (27, "Code: 27. DB::Exception: Cannot parse. (X)")
    assert errors.body(text, "26.9.2.1") == b"Code: 27. DB::Exception: Cannot parse. (X) (version 26.9.2.1)\n"
    assert errors.body(text + " (version 1)", "2") == (text + " (version 1)\n").encode()
    assert errors.from_engine("boom")[0] == 1002
    assert BadRequest("Empty query", 62).text() == "Code: 62. DB::Exception: Empty query. (SYNTAX_ERROR)"
    assert [errors.STATUS.get(c, 500) for c in (60, 62, 164, 497, 1002)] == [404, 400, 500, 403, 500]
