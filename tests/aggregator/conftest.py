"""The aggregator's store on the real embedded ClickHouse engine, migrated into the test module's ``DB``."""

import clickhouse_connect
import pytest

from aggregator.writer import ClickHouseStore
from schemas.migrate import migrate


@pytest.fixture(scope="module")
def store(request, tmp_path_factory):
    db = request.module.DB
    client = clickhouse_connect.get_client(dsn=f"chdb://{tmp_path_factory.mktemp('chdb')}")
    migrate(client, db)
    yield ClickHouseStore(client, db)
    client.close()
