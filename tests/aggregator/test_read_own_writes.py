"""Read-own-writes settings: what each mode adds, and that the real engine takes them on the
aggregator's actual insert and lookups (a replicated cluster's behaviour itself cannot run here)."""

import time

import clickhouse_connect
import orjson
import pytest

from adpulse.settings import SettingsError, load_settings
from aggregator.processor import decode
from aggregator.read_own_writes import ReadOwnWrites, read_own_writes
from aggregator.transform import build, needed
from aggregator.writer import ClickHouseStore
from schemas.migrate import migrate
from tests import factories as params

T0 = (time.time_ns() // 1_000_000) - 60_000
DB = "rowtest"


def test_off_adds_nothing():
    assert read_own_writes(load_settings()) == ReadOwnWrites()


def test_quorum_inserts_in_the_foreground_with_a_linearised_quorum_and_reads_sequentially():
    mode = read_own_writes(load_settings(clickhouse_read_own_writes="quorum", clickhouse_insert_quorum="3"))
    assert mode.insert == {"insert_distributed_sync": 1, "insert_quorum": 3, "insert_quorum_parallel": 0}
    assert mode.lookup == {"select_sequential_consistency": 1}
    assert read_own_writes(load_settings(clickhouse_read_own_writes="quorum")).insert["insert_quorum"] == "auto"


def test_sequential_only_changes_the_lookups():
    mode = read_own_writes(load_settings(clickhouse_read_own_writes="sequential"))
    assert (mode.insert, mode.lookup) == ({}, {"select_sequential_consistency": 1})


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"clickhouse_read_own_writes": "replica"}, "ADPULSE_CLICKHOUSE_READ_OWN_WRITES"),
        ({"clickhouse_insert_quorum": "1"}, "ADPULSE_CLICKHOUSE_INSERT_QUORUM"),
        ({"clickhouse_insert_quorum": "most"}, "ADPULSE_CLICKHOUSE_INSERT_QUORUM"),
    ],
)
def test_bad_values_fail_at_start_naming_the_variable(overrides, variable):
    with pytest.raises(SettingsError, match=variable):
        load_settings(**overrides)


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    client = clickhouse_connect.get_client(dsn=f"chdb://{tmp_path_factory.mktemp('chdb')}")
    migrate(client, DB)
    yield client
    client.close()


@pytest.mark.parametrize("mode", ["quorum", "sequential"])
async def test_the_engine_takes_the_settings_on_the_real_insert_and_lookups(client, mode):
    settings = load_settings(clickhouse_read_own_writes=mode, clickhouse_insert_quorum="2")
    store = ClickHouseStore(client, DB, read_own_writes(settings))
    events = [
        decode(orjson.dumps(params.impression({"ad_id": f"row-{mode}", "eid": f"{mode}{i}"}, T0))) for i in range(3)
    ]
    first = build(events, await store.lookup(needed(events)), 86_400_000)
    await store.insert(first.rows, f"token-{mode}")
    again = build(events, await store.lookup(needed(events)), 86_400_000)
    assert (len(first.rows), again.duplicates) == (3, 3)
