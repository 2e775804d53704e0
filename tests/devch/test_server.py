"""The development ClickHouse HTTP endpoint, driven by clickhouse-connect's HTTP client and plain HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import clickhouse_connect
import httpx
import pytest
from clickhouse_connect.driver.exceptions import DatabaseError

from tests.integration.conftest import free_port

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "adpulse.devch", "--path", str(tmp_path_factory.mktemp("chdb")), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/ping").text == "Ok.\n":
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("endpoint did not start")
        time.sleep(0.1)
    yield port
    proc.terminate()
    proc.wait(timeout=15)


def client(port, compress):
    return clickhouse_connect.get_client(host="127.0.0.1", port=port, compress=compress,
                                         autogenerate_session_id=False)  # fmt: skip


@pytest.mark.parametrize("compress", [False, "lz4", "zstd", "gzip"])
def test_insert_and_read_back_exactly(endpoint, compress):
    ch = client(endpoint, compress)
    table = f"t_{uuid.uuid4().hex[:8]}"
    ch.command(f"CREATE TABLE {table} (id UUID, at DateTime64(3, 'UTC'), amount Decimal(18, 6), "
               "tag LowCardinality(String)) ENGINE = MergeTree ORDER BY id")  # fmt: skip
    at = datetime(2026, 5, 1, 12, 30, 0, 123000, tzinfo=UTC)
    rows = [[uuid.uuid4(), at, Decimal(i) / 1000, f"t{i % 7}"] for i in range(50_000)]
    ch.insert(table, rows, column_names=["id", "at", "amount", "tag"])
    count, total, distinct_tags = ch.query(f"SELECT count(), sum(amount), uniqExact(tag) FROM {table}").result_rows[0]
    assert (count, total, distinct_tags) == (50_000, sum(Decimal(i) / 1000 for i in range(50_000)), 7)
    first = ch.query(f"SELECT id, at, amount FROM {table} WHERE id = {{id:UUID}}", parameters={"id": rows[5][0]})
    ((got_id, got_at, got_amount),) = first.result_rows
    assert (got_id, got_at.replace(tzinfo=UTC), got_amount) == (rows[5][0], at, Decimal("0.005"))


def test_retried_insert_is_dropped_by_its_token_in_views_too(endpoint):
    ch = client(endpoint, False)
    ch.command("CREATE TABLE base (x UInt32) ENGINE = MergeTree ORDER BY x "
               "SETTINGS non_replicated_deduplication_window = 100")  # fmt: skip
    ch.command("CREATE TABLE agg (n UInt64) ENGINE = SummingMergeTree ORDER BY tuple() "
               "SETTINGS non_replicated_deduplication_window = 100")  # fmt: skip
    ch.command("CREATE MATERIALIZED VIEW agg_mv TO agg AS SELECT count() AS n FROM base")
    settings = {"insert_deduplication_token": "batch-1", "deduplicate_blocks_in_dependent_materialized_views": 1}
    for _ in range(2):
        ch.insert("base", [[i] for i in range(10)], column_names=["x"], settings=settings)
    assert ch.query("SELECT count() FROM base").result_rows[0][0] == 10
    assert ch.query("SELECT sum(n) FROM agg").result_rows[0][0] == 10


def test_errors_carry_clickhouse_codes(endpoint):
    ch = client(endpoint, False)
    with pytest.raises(DatabaseError) as info:
        ch.query("SELECT * FROM no_such_table")
    assert info.value.code == 60
    response = httpx.get(f"http://127.0.0.1:{endpoint}/", params={"query": "SELEKT 1"})
    assert response.status_code == 400
    assert response.headers["x-clickhouse-exception-code"] == "62"
    assert response.text.startswith("Code: 62. DB::Exception:")


def test_readonly_setting_refuses_writes(endpoint):
    ch = client(endpoint, False)
    ch.command("CREATE TABLE IF NOT EXISTS ro (x UInt8) ENGINE = MergeTree ORDER BY x")
    with pytest.raises(DatabaseError) as info:
        ch.command("INSERT INTO ro VALUES (1)", settings={"readonly": 1})
    assert info.value.code == 164
    assert ch.query("SELECT count() FROM ro", settings={"readonly": 1}).result_rows == [(0,)]


def test_plain_http_get_post_and_text_formats(endpoint):
    base = f"http://127.0.0.1:{endpoint}/"
    httpx.post(base, content=b"CREATE TABLE plain (a UInt8, b String) ENGINE = MergeTree ORDER BY a").raise_for_status()
    httpx.post(base, params={"query": "INSERT INTO plain FORMAT JSONEachRow"},
               content=b'{"a":1,"b":"x"}\n{"a":2,"b":"y"}\n').raise_for_status()  # fmt: skip
    httpx.post(base, content=b'INSERT INTO plain FORMAT CSV\n3,"z"\n').raise_for_status()
    httpx.post(base, content=b"INSERT INTO plain VALUES (4, 'w')").raise_for_status()
    response = httpx.get(base, params={"query": "SELECT a, b FROM plain ORDER BY a", "default_format": "CSV"})
    assert response.text == '1,"x"\n2,"y"\n3,"z"\n4,"w"\n'
    assert response.headers["x-clickhouse-format"] == "CSV"
    summary = httpx.get(base, params={"query": "SELECT 1"}).headers["x-clickhouse-summary"]
    assert '"read_rows"' in summary


def test_oversize_body_is_413(endpoint):
    with socket.create_connection(("127.0.0.1", endpoint), timeout=10) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\nSELECT 1" % (300 * 1024 * 1024))
        assert sock.recv(64).startswith(b"HTTP/1.1 413")


def test_refuses_non_loopback():
    from adpulse.devch.server import serve

    with pytest.raises(ValueError, match="loopback"):
        serve("/nonexistent", host="0.0.0.0", port=free_port())
