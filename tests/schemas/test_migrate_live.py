"""``migrate`` while an aggregator writes pixel hits, on the real engine behind the development endpoint.

``deploy/stack.sh up`` and the Helm chart's pre-upgrade Job run ``migrate`` while aggregators run. It used
to drop and re-create the pixel-hit views on every run (0006's ``every_run``): a hit batch inserted into
the ``Null`` table ``hits_in`` in between was acknowledged, its offsets committed, and stored nowhere (the
pixel loss ``make chaos`` showed, 1,940 of 2,120 hits here over five runs of ``migrate``).
"""

from __future__ import annotations

import asyncio
import threading
import time

import clickhouse_connect
import pytest

from aggregator.writer import ClickHouseStore
from ingest.rawhit import raw_hit
from schemas import hits as codec
from schemas.migrate import migrate
from tests.devch.helpers import Endpoint

pytestmark = pytest.mark.integration
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"


def test_hits_inserted_while_migrate_runs_again_are_all_stored(tmp_path):
    server = Endpoint(tmp_path / "data")
    try:
        client = clickhouse_connect.get_client(dsn=server.dsn())
        migrate(client, "adpulse")
        now_ms = time.time_ns() // 1_000_000
        acknowledged = 0
        stop, writing = threading.Event(), threading.Event()

        def aggregator() -> None:  # what the aggregator's hit insert does, batch after batch
            nonlocal acknowledged
            store = ClickHouseStore(clickhouse_connect.get_client(dsn=server.dsn()), "adpulse")
            batch = 0
            while not stop.is_set():
                message = codec.join(
                    codec.encode(raw_hit(f"ad_id=live&n={batch}-{i}".encode(), CHROME, "198.51.100.7", "", now_ms)[0])
                    for i in range(10)
                )
                asyncio.run(store.insert_hits([message], f"batch-{batch}:hits"))  # acknowledged: committed
                acknowledged += 10
                batch += 1
                writing.set()

        writer = threading.Thread(target=aggregator)
        writer.start()
        try:
            assert writing.wait(30)
            before = acknowledged
            for _ in range(5):  # the stack's restarts under chaos
                migrate(clickhouse_connect.get_client(dsn=server.dsn()), "adpulse")
            during = acknowledged - before
        finally:
            stop.set()
            writer.join(timeout=60)
        stored = client.query("SELECT count() FROM adpulse.events WHERE ad_id = 'live'").result_rows[0][0]
        assert during > 0  # batches were written while migrate ran
        assert stored == acknowledged
    finally:
        server.stop()
