"""The development ClickHouse HTTP endpoint, driven by clickhouse-connect's HTTP client and plain HTTP:
real engine, real HTTP, one server process for the module."""

from __future__ import annotations

import gzip
import re
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import clickhouse_connect
import httpx
import lz4.frame
import pytest
import zstandard
from clickhouse_connect.driver.exceptions import DatabaseError

from tests.devch.helpers import Endpoint

pytestmark = pytest.mark.integration
DB = "devch_t"
MAX_BODY_MIB = 16


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    server = Endpoint(tmp_path_factory.mktemp("devch") / "data", "--max-body-mib", str(MAX_BODY_MIB),
                      "--readonly-user", "bi")  # fmt: skip
    try:
        admin = clickhouse_connect.get_client(dsn=server.dsn("default"))
        admin.command(f"CREATE DATABASE {DB}")
        admin.close()
        yield server
    finally:
        status = server.stop()
    assert status == 0, server.output()


def client(endpoint, compress=False, database=DB, user="default"):
    return clickhouse_connect.get_client(dsn=endpoint.dsn(database, user), compress=compress)


def test_handshake_database_and_timezone(endpoint):
    ch = client(endpoint)
    assert ch.server_version.startswith("26.")
    assert ch.command("SELECT currentDatabase()") == DB
    assert ch.command("SELECT timezone()") == "UTC"
    response = httpx.post(endpoint.url, content=b"SELECT 1")
    assert response.headers["x-clickhouse-timezone"] == "UTC"
    assert "development/test only" in response.headers["x-clickhouse-server-display-name"]
    assert httpx.get(f"{endpoint.url}/").text == "Ok.\n"
    assert httpx.get(f"{endpoint.url}/ping").text == "Ok.\n"


def sample(n):
    start = datetime(2026, 5, 1, 12, tzinfo=UTC)
    return [
        (i, uuid.UUID(int=i * 7919 + 1), start + timedelta(milliseconds=37 * i), Decimal(i) / 1000 - Decimal("12.5"),
         f"tag{i % 7}", "https://shop.example.com/p?" + "x" * (i % 90))
        for i in range(n)
    ]  # fmt: skip


@pytest.mark.parametrize("compress", [False, "lz4", "zstd", "gzip"])
def test_50k_rows_round_trip_exactly(endpoint, compress):
    """About 6 MB of Native: several blocks, so several lz4/zstd frames in one body."""
    ch = client(endpoint, compress)
    table = f"rt_{compress}"
    ch.command(f"CREATE TABLE {table} (seq UInt32, id UUID, at DateTime64(3, 'UTC'), amount Decimal(18, 6), "
               "tag LowCardinality(String), url String) ENGINE = MergeTree ORDER BY seq")  # fmt: skip
    rows = sample(50_000)
    summary = ch.insert(table, rows, column_names=["seq", "id", "at", "amount", "tag", "url"])
    assert summary.written_rows == 50_000
    got = ch.query(f"SELECT seq, id, at, amount, tag, url FROM {table} ORDER BY seq").result_rows
    assert [(*r[:2], r[2].astimezone(UTC), *r[3:]) for r in got] == rows
    assert ch.query(f"SELECT toTypeName(tag) FROM {table} LIMIT 1").result_rows == [("LowCardinality(String)",)]


def test_parameterised_query(endpoint):
    ch = client(endpoint)
    ch.command("CREATE TABLE params (id UUID, tag String, at DateTime64(3, 'UTC')) ENGINE = MergeTree ORDER BY id")
    rows = sample(100)
    ch.insert("params", [(r[1], r[4], r[2]) for r in rows], column_names=["id", "tag", "at"])
    result = ch.query(
        "SELECT count() FROM params "
        "WHERE tag = {tag:String} AND at >= {since:DateTime64(3, 'UTC')} AND id != {id:UUID}",
        parameters={"tag": "tag3", "since": rows[50][2], "id": rows[52][1]},
    )
    expected = sum(1 for r in rows[50:] if r[4] == "tag3" and r[1] != rows[52][1])
    assert result.result_rows == [(expected,)]
    response = httpx.post(
        endpoint.url, params={"param_n": "41", "default_format": "TSV"}, content=b"SELECT {n:UInt8} + 1"
    )
    assert response.text == "42\n"


def test_retried_insert_is_dropped_by_its_token_in_views_too(endpoint):
    ch = client(endpoint)
    window = "SETTINGS non_replicated_deduplication_window = 100"
    ch.command(f"CREATE TABLE base (x UInt32) ENGINE = MergeTree ORDER BY x {window}")
    ch.command(f"CREATE TABLE agg (n UInt64) ENGINE = SummingMergeTree ORDER BY tuple() {window}")
    ch.command("CREATE MATERIALIZED VIEW agg_mv TO agg AS SELECT count() AS n FROM base")

    def counts():
        return ch.command("SELECT count() FROM base"), ch.command("SELECT sum(n) FROM agg")

    batch = [[i] for i in range(10)]
    for token in ("batch-1", "batch-1", "batch-2", "batch-2"):
        settings = {"insert_deduplication_token": token, "deduplicate_blocks_in_dependent_materialized_views": 1}
        ch.insert("base", batch, column_names=["x"], settings=settings)
    assert counts() == (20, 20)
    # With the view setting off (26.9's default is on), the view counts the retry: the setting reaches the engine.
    for _ in range(2):
        settings = {"insert_deduplication_token": "batch-3", "deduplicate_blocks_in_dependent_materialized_views": 0}
        ch.insert("base", batch, column_names=["x"], settings=settings)
    assert counts() == (30, 40)


def test_errors_carry_clickhouse_codes(endpoint):
    ch = client(endpoint)
    with pytest.raises(DatabaseError) as info:
        ch.query("SELECT * FROM no_such_table")
    assert info.value.code == 60
    with pytest.raises(DatabaseError) as info:
        ch.query("SELECT no_such_column")
    assert info.value.code == 47
    response = httpx.post(endpoint.url, content=b"SELECT * FROM no_such_table")
    assert (response.status_code, response.headers["x-clickhouse-exception-code"]) == (404, "60")
    assert re.fullmatch(r"Code: 60\. DB::Exception: .*\(UNKNOWN_TABLE\) \(version 26\.9[\d.]*\)\n", response.text, re.S)
    response = httpx.get(endpoint.url, params={"query": "SELEKT 1"})
    assert (response.status_code, response.headers["x-clickhouse-exception-code"]) == (400, "62")
    response = httpx.post(endpoint.url, params={"no such setting!": "1"}, content=b"SELECT 1")
    assert response.headers["x-clickhouse-exception-code"] == "115"
    assert httpx.get(f"{endpoint.url}/nowhere").status_code == 404
    response = httpx.post(endpoint.url, params={"default_format": "dataframe"}, content=b"SELECT 1")
    assert (response.status_code, response.headers["x-clickhouse-exception-code"]) == (404, "73")


def test_readonly_refuses_writes(endpoint):
    ch = client(endpoint)
    ch.command("CREATE TABLE ro (x UInt8) ENGINE = MergeTree ORDER BY x")
    with pytest.raises(DatabaseError) as info:
        ch.insert("ro", [[1]], column_names=["x"], settings={"readonly": 1})
    assert info.value.code == 164
    with pytest.raises(DatabaseError) as info:
        ch.command("CREATE TABLE ro2 (x UInt8) ENGINE = Memory", settings={"readonly": 1})
    assert info.value.code == 164
    assert ch.query("SELECT count() FROM ro", settings={"readonly": 1}).result_rows == [(0,)]
    # GET only reads, as on a server.
    response = httpx.get(endpoint.url, params={"query": "INSERT INTO ro VALUES (1)", "database": DB})
    assert response.headers["x-clickhouse-exception-code"] == "164"
    httpx.post(endpoint.url, params={"query": "INSERT INTO ro VALUES (1)", "database": DB}).raise_for_status()
    assert ch.command("SELECT count() FROM ro") == 1


def test_plain_http_queries_and_text_formats(endpoint):
    url, db = endpoint.url, {"database": DB}
    post = httpx.post(url, params=db, content=b"CREATE TABLE plain (a UInt8, b String) ENGINE = MergeTree ORDER BY a")
    post.raise_for_status()
    httpx.post(url, params={**db, "query": "INSERT INTO plain FORMAT JSONEachRow"},
               content=b'{"a":1,"b":"x"}\n{"a":2,"b":"y"}\n').raise_for_status()  # fmt: skip
    httpx.post(url, params=db, content=b'INSERT INTO plain FORMAT CSV\n3,"z"\n').raise_for_status()
    httpx.post(url, params={**db, "query": "INSERT INTO plain (a, b) FORMAT TSV"}, content=b"4\tw\n").raise_for_status()
    httpx.post(url, params=db, content=b"INSERT INTO plain VALUES (5, 'v')").raise_for_status()
    response = httpx.get(url, params={**db, "query": "SELECT a, b FROM plain ORDER BY a", "default_format": "CSV"})
    assert response.text == '1,"x"\n2,"y"\n3,"z"\n4,"w"\n5,"v"\n'
    assert response.headers["x-clickhouse-format"] == "CSV"
    # POST: the query parameter, a newline, then the body, as a server joins them.
    response = httpx.post(url, params={**db, "query": "SELECT b FROM plain"}, content=b"WHERE a = 2 FORMAT JSONEachRow")
    assert response.text == '{"b":"y"}\n'
    assert response.headers["x-clickhouse-format"] == "JSONEachRow"
    response = httpx.post(url, params={**db, "query_id": "q-1"}, content=b"SELECT sum(a) FROM plain")
    assert (response.text, response.headers["x-clickhouse-query-id"]) == ("15\n", "q-1")
    summary = httpx.Response(200, content=response.headers["x-clickhouse-summary"]).json()
    assert summary["result_rows"] == "1"
    assert set(summary) >= {"read_rows", "read_bytes", "written_rows", "written_bytes", "total_rows_to_read",
                            "result_rows", "result_bytes", "elapsed_ns"}  # fmt: skip
    insert = httpx.post(url, params=db, content=b"INSERT INTO plain FORMAT CSV\n6,a\n7,b\n")
    assert httpx.Response(200, content=insert.headers["x-clickhouse-summary"]).json()["written_rows"] == "2"


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [("gzip", gzip.compress), ("lz4", lz4.frame.compress), ("zstd", zstandard.ZstdCompressor().compress)],
)
def test_compressed_bodies_of_several_frames(endpoint, encoding, compress):
    table = f"frames_{encoding}"
    ddl = f"CREATE TABLE {table} (n UInt32) ENGINE = MergeTree ORDER BY n"
    httpx.post(endpoint.url, params={"database": DB}, content=ddl.encode()).raise_for_status()
    parts = [f"INSERT INTO {table} FORMAT TSV\n".encode()] + [
        "".join(f"{n}\n" for n in range(k * 1000, (k + 1) * 1000)).encode() for k in range(5)
    ]
    body = b"".join(compress(part) for part in parts)
    response = httpx.post(endpoint.url, params={"database": DB}, content=body, headers={"Content-Encoding": encoding})
    response.raise_for_status()
    assert client(endpoint).query(f"SELECT count(), sum(n) FROM {table}").result_rows == [(5000, sum(range(5000)))]
    cut = httpx.post(endpoint.url, params={"database": DB}, content=body[:-5], headers={"Content-Encoding": encoding})
    assert (cut.status_code, cut.headers["x-clickhouse-exception-code"]) == (400, "271")


@pytest.mark.parametrize("compress", [False, "lz4", "zstd"])
def test_raw_inserts_in_other_formats(endpoint, compress):
    ch = client(endpoint, compress)
    table = f"raw_{compress}"
    ch.command(f"CREATE TABLE {table} (a UInt32, b String) ENGINE = MergeTree ORDER BY a")
    row_binary = b"".join(n.to_bytes(4, "little") + bytes([len(s)]) + s for n, s in ((1, b"one"), (2, b"two")))
    ch.raw_insert(table, ["a", "b"], row_binary, fmt="RowBinary")
    ch.raw_insert(table, ["a", "b"], "3\tthree\n4\tfour\n", fmt="TabSeparated")
    ch.raw_insert(table, ["a", "b"], b"5,five\n", fmt="CSV")
    ch.raw_insert(table, None, b'{"a": 6, "b": "six"}\n', fmt="JSONEachRow")
    assert ch.query(f"SELECT a, b FROM {table} ORDER BY a").result_rows == [
        (1, "one"), (2, "two"), (3, "three"), (4, "four"), (5, "five"), (6, "six"),
    ]  # fmt: skip


def test_concurrent_clients_keep_their_own_settings(endpoint):
    client(endpoint).command("CREATE TABLE conc (w UInt8, i UInt32) ENGINE = MergeTree ORDER BY (w, i)")

    def write(w):
        ch = client(endpoint)
        for k in range(10):
            ch.insert("conc", [[w, k * 100 + j] for j in range(100)], column_names=["w", "i"])
        ch.close()

    def read_only(_):
        ch = client(endpoint)
        refused = 0
        for _ in range(10):
            ch.query("SELECT count() FROM conc", settings={"readonly": 1})
            try:
                ch.insert("conc", [[99, 0]], column_names=["w", "i"], settings={"readonly": 1})
            except DatabaseError as exc:
                refused += exc.code == 164
        ch.close()
        return refused

    with ThreadPoolExecutor(8) as pool:
        writers = [pool.submit(write, w) for w in range(4)]
        readers = [pool.submit(read_only, r) for r in range(4)]
        assert [f.result() for f in readers] == [10] * 4
        [f.result() for f in writers]
    assert client(endpoint).query("SELECT count(), uniqExact(w) FROM conc").result_rows == [(4000, 4)]


def raw_request(endpoint, head: bytes, body: bytes) -> None:
    """Send a request that stops short (the client dies mid-body), then close the connection."""
    with socket.create_connection(("127.0.0.1", endpoint.port), timeout=10) as sock:
        sock.sendall(head + body)
        time.sleep(0.2)


def test_a_body_cut_short_inserts_nothing(endpoint):
    ch = client(endpoint)
    ch.command("CREATE TABLE cut (a UInt32) ENGINE = MergeTree ORDER BY a")
    target = f"/?database={DB}&query=INSERT%20INTO%20cut%20FORMAT%20CSV".encode()
    raw_request(endpoint, b"POST " + target + b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
                b"6\r\n1\n2\n3\n\r\n")  # fmt: skip
    raw_request(endpoint, b"POST " + target + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n", b"4\n5\n6\n")
    time.sleep(0.5)
    assert ch.command("SELECT count() FROM cut") == 0


def test_oversize_bodies_are_413(endpoint):
    limit = MAX_BODY_MIB << 20
    with socket.create_connection(("127.0.0.1", endpoint.port), timeout=10) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\nSELECT 1" % (limit + 1))
        assert sock.recv(64).startswith(b"HTTP/1.1 413")

    def chunks():  # no Content-Length: chunked, as clickhouse-connect sends inserts
        yield b"INSERT INTO nowhere FORMAT TSV\n"
        for _ in range(MAX_BODY_MIB + 1):
            yield b"1\n" * (1 << 19)

    response = httpx.post(endpoint.url, content=chunks(), timeout=60)
    assert (response.status_code, response.headers["x-clickhouse-exception-code"]) == (413, "307")
    bomb = zstandard.ZstdCompressor().compress(b"\0" * (limit + 1))
    response = httpx.post(endpoint.url, content=bomb, headers={"Content-Encoding": "zstd"})
    assert response.status_code == 413


def test_read_only_bi_user(endpoint):
    admin = client(endpoint, database="default")
    admin.command("CREATE DATABASE IF NOT EXISTS adpulse")
    admin.command("CREATE TABLE adpulse.ad_kpis (ad_id String, clicks UInt64) ENGINE = MergeTree ORDER BY ad_id")
    admin.command("CREATE TABLE adpulse.events (ad_id String, client_ip String) ENGINE = MergeTree ORDER BY ad_id")
    admin.insert("adpulse.ad_kpis", [["a", 3], ["b", 5]], column_names=["ad_id", "clicks"])
    bi = client(endpoint, database="adpulse", user="bi")
    mine = bi.query("SELECT clicks FROM ad_kpis WHERE ad_id = {ad:String}", parameters={"ad": "b"})
    assert mine.result_rows == [(5,)]
    with pytest.raises(DatabaseError) as info:
        bi.query("SELECT client_ip FROM events")
    assert info.value.code == 497
    with pytest.raises(DatabaseError) as info:
        bi.insert("ad_kpis", [["c", 1]], column_names=["ad_id", "clicks"])
    assert info.value.code == 164


def test_requests_are_served_while_a_slow_query_runs(endpoint):
    slow = threading.Thread(target=lambda: client(endpoint).command("SELECT sleep(2)"))
    slow.start()
    time.sleep(0.3)
    started = time.monotonic()
    assert client(endpoint).command("SELECT 1") == 1
    assert time.monotonic() - started < 1.5
    slow.join()
