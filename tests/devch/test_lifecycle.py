"""Starting and stopping the development endpoint: loopback only, SIGTERM finishes requests and exits 0."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import clickhouse_connect
import httpx
import pytest

from adpulse.devch.server import loopback, main, serve
from tests.devch.helpers import Endpoint, free_port


@pytest.mark.integration
def test_sigterm_finishes_requests_exits_0_and_data_survives(tmp_path):
    path = tmp_path / "data"
    server = Endpoint(path)
    try:
        ch = clickhouse_connect.get_client(dsn=server.dsn())
        ch.command("CREATE TABLE kept (x UInt8) ENGINE = MergeTree ORDER BY x")
        ch.insert("kept", [[1], [2]], column_names=["x"])
        with ThreadPoolExecutor(1) as pool:
            slow = pool.submit(httpx.post, server.url, content=b"SELECT sleep(1.5)", timeout=30)
            time.sleep(0.5)
            status = server.stop()
            assert slow.result().status_code == 200
    finally:
        server.kill()
    assert status == 0, server.output()
    assert "DEVELOPMENT/TEST ONLY ClickHouse HTTP endpoint" in server.output()
    assert f"listening on http://127.0.0.1:{server.port}" in server.output()
    again = Endpoint(path)  # the directory lock was released
    try:
        assert clickhouse_connect.get_client(dsn=again.dsn()).command("SELECT sum(x) FROM kept") == 3
    finally:
        assert again.stop() == 0, again.output()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com", ""])
def test_refuses_to_listen_beyond_loopback(tmp_path, host):
    with pytest.raises(ValueError, match="loopback address only"):
        serve(str(tmp_path), host=host, port=free_port())
    assert not any(tmp_path.iterdir())  # refused before the engine started
    with pytest.raises(SystemExit):
        main(["--path", str(tmp_path), "--host", host])


def test_loopback_addresses():
    assert [loopback(h) for h in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost")] == [
        "127.0.0.1", "127.0.0.2", "::1", "::1", "127.0.0.1",
    ]  # fmt: skip
