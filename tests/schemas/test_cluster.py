"""The cluster rewrite of every migration, checked by ClickHouse's own parser (the embedded engine).

No ClickHouse server can run here, so what a cluster does with this DDL (Keeper paths, Distributed
routing, ON CLUSTER fan-out) is not executed: the parser proves each statement is valid ClickHouse
SQL, and its AST shows what each statement creates and reads.
"""

import re

import clickhouse_connect
import pytest

from schemas.cluster import (
    EVERYWHERE_PATH,
    REPLICA_PATH,
    ClickHouseParser,
    ClusterDDL,
    ClusterError,
    cluster_ddl,
    sharding_key,
)
from schemas.migrate import all_statements, bootstrap_statements, discover, migrate, plan, ttl_statements
from schemas.options import SchemaOptions

DB = "adpulse"
OPTIONS = SchemaOptions()


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    client = clickhouse_connect.get_client(dsn=f"chdb://{tmp_path_factory.mktemp('chdb')}")
    yield client
    client.close()


@pytest.fixture(scope="module")
def parser(client):
    return ClickHouseParser(client)


@pytest.fixture(scope="module")
def ddl(parser):
    return cluster_ddl(DB, "prod", OPTIONS, parser)


@pytest.fixture(scope="module")
def generated(ddl):
    """(source statement, its cluster statements) for every statement of every migration."""
    return [(s, ddl.transform(s)) for s in all_statements(DB, OPTIONS)]


def ast(client, sql):
    # raw_query: query() takes a statement ending in LIMIT 0 for its own metadata probe. The lines come
    # TSV-escaped: undo it.
    raw = client.raw_query(f"EXPLAIN AST {sql}", fmt="TSVRaw").decode()
    return [re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), line) for line in raw.splitlines()]


def engine_of(client, sql):
    """(engine name, its arguments as AST lines) of a CREATE TABLE, from the parser's AST."""
    lines = ast(client, sql)
    start = next(i for i, line in enumerate(lines) if line.strip().startswith("Storage definition"))
    name = lines[start + 1].split()[1]
    return name, [line.strip() for line in lines[start + 2 : start + 7]]


def table_identifiers(client, sql):
    return {line.split()[1] for line in ast(client, sql) if line.strip().startswith("TableIdentifier")}


def test_every_statement_of_every_migration_has_a_cluster_form_the_parser_accepts(client, generated):
    migrations = {m.version for m in discover()}
    assert migrations and len(generated) == len(all_statements(DB, OPTIONS))
    for source, outputs in generated:
        assert outputs, source
        if source.lstrip().upper().startswith("INSERT"):
            assert outputs == [source]  # data: inserted once, through the Distributed table
            continue
        for sql in outputs:
            assert ast(client, sql), sql  # EXPLAIN AST parses it (ON CLUSTER, Replicated engines included)
            assert " ON CLUSTER prod" in sql.split("\n")[0], sql
            assert "non_replicated_deduplication_window" not in sql


def test_every_table_is_replicated_null_or_distributed(client, generated):
    for _, outputs in generated:
        for sql in outputs:
            if not re.match(r"CREATE TABLE ", sql):
                continue
            name, args = engine_of(client, sql)
            assert name.startswith("Replicated") or name in ("Distributed", "Null"), sql
            if name.startswith("Replicated"):
                assert args[1] in (f"Literal '{REPLICA_PATH}'", f"Literal '{EVERYWHERE_PATH}'"), sql
                assert args[2] == "Literal '{replica}'", sql


def test_event_tables_are_sharded_with_a_distributed_table_under_the_original_name(client, ddl):
    for table in ("events", "clicks", "conversions", "event_ids", "kpi_minute"):
        assert ddl.sharded(table), table
    [local, distributed] = ddl.transform(all_statements(DB, OPTIONS)[len(bootstrap_statements(DB))])  # 0001's events
    assert local.startswith("CREATE TABLE IF NOT EXISTS adpulse.events_local ON CLUSTER prod")
    assert engine_of(client, local)[0] == "ReplicatedMergeTree"
    assert "SETTINGS replicated_deduplication_window = 1000" in local
    assert distributed.startswith("CREATE TABLE IF NOT EXISTS adpulse.events ON CLUSTER prod AS adpulse.events_local")
    name, args = engine_of(client, distributed)
    assert name == "Distributed"
    assert args[1:4] == ["Literal 'prod'", "Literal 'adpulse'", "Literal 'events_local'"]
    assert args[4] == "Function cityHash64 (children 1)"


def test_versioned_engines_keep_their_arguments_after_the_replication_ones(client, generated):
    conversions = next(o for s, o in generated if "TABLE IF NOT EXISTS adpulse.conversions " in s)
    name, args = engine_of(client, conversions[0])
    assert name == "ReplicatedReplacingMergeTree"
    assert args[1:4] == [f"Literal '{REPLICA_PATH}'", "Literal '{replica}'", "Identifier state_version"]


def test_tables_outside_the_event_flow_are_held_whole_by_every_node(client, ddl, generated):
    """cost_imports is read with FINAL and inside IN subqueries of the KPI views: every node keeps all of it."""
    for table in ("cost_imports", "schema_migrations", "schema_every_run"):
        assert not ddl.sharded(table)
    imports = next(o for s, o in generated if "TABLE IF NOT EXISTS adpulse.cost_imports" in s)
    assert len(imports) == 1
    assert engine_of(client, imports[0])[1][1] == f"Literal '{EVERYWHERE_PATH}'"
    [migrations] = ddl.transform(bootstrap_statements(DB)[1])
    assert engine_of(client, migrations)[0] == "ReplicatedReplacingMergeTree"


def test_materialized_views_write_and_read_the_local_tables(client, ddl, generated):
    views = [o[0] for s, o in generated if "MATERIALIZED VIEW" in s]
    assert len(views) >= 4
    for sql in views:
        target = sql.split("\n")[0].rpartition(" TO ")[2]
        assert target.endswith("_local"), sql
        read = table_identifiers(client, sql)
        assert read and all(t.endswith("_local") or not ddl.sharded(t.split(".")[1]) for t in read), sql
    kpi_minute_mv = next(v for v in views if ".kpi_minute_mv " in v)
    assert table_identifiers(client, kpi_minute_mv) == {"adpulse.events_local"}


def test_views_read_the_distributed_tables(client, generated):
    views = [o[0] for s, o in generated if re.search(r"CREATE OR REPLACE VIEW", s)]
    assert len(views) >= 7
    for sql in views:
        assert not any(t.endswith("_local") for t in table_identifiers(client, sql)), sql
    facts = next(v for v in views if "kpi_facts ON" in v)
    assert table_identifiers(client, facts) == {"adpulse.kpi_minute", "adpulse.cost_imports"}
    assert "GLOBAL" not in facts  # cost_imports is on every node: a local IN subquery is right


def test_alter_reaches_local_and_distributed_tables_and_ttl_only_the_local(ddl):
    add = ddl.transform(f"ALTER TABLE {DB}.events ADD COLUMN IF NOT EXISTS x String, MODIFY TTL toDate(received_at)")
    assert [s.split("\n")[0] for s in add] == [
        "ALTER TABLE adpulse.events_local ON CLUSTER prod",
        "ALTER TABLE adpulse.events ON CLUSTER prod",
    ]
    assert "MODIFY TTL" in add[0] and "ADD COLUMN" in add[0]
    assert "MODIFY TTL" not in add[1] and "ADD COLUMN IF NOT EXISTS `x` String" in add[1]
    ttl = [s for statement in ttl_statements(DB, OPTIONS) for s in ddl.transform(statement)]
    assert [s.split("\n")[0] for s in ttl] == [
        "ALTER TABLE adpulse.events_local ON CLUSTER prod",
        "ALTER TABLE adpulse.clicks_local ON CLUSTER prod",
        "ALTER TABLE adpulse.event_ids_local ON CLUSTER prod",
    ]


def test_shapes_later_migrations_use(client, parser):
    """What migrations 0003-0005 are adding (rollups, reference data, a dictionary, a raw-hit table on the
    Null engine with its view, a view over clicks) is placed without naming any of them."""
    extra = [
        f"CREATE TABLE IF NOT EXISTS {DB}.raw_hits (event_id UUID, query String) ENGINE = Null",
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {DB}.raw_hits_mv TO {DB}.events AS "
        f"SELECT event_id, 'impression' AS event_type FROM {DB}.raw_hits",
        f"CREATE TABLE IF NOT EXISTS {DB}.unique_clicks (ad_id String, day Date, u AggregateFunction(uniq, String)) "
        "ENGINE = AggregatingMergeTree ORDER BY (ad_id, day) SETTINGS non_replicated_deduplication_window = 100",
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {DB}.unique_clicks_mv TO {DB}.unique_clicks AS "
        f"SELECT ad_id, toDate(received_at) AS day, uniqState(visitor_id) AS u FROM {DB}.events GROUP BY ad_id, day",
        f"CREATE TABLE IF NOT EXISTS {DB}.fx_rates (day Date, currency String, rate Decimal(18, 8)) "
        "ENGINE = ReplacingMergeTree ORDER BY (day, currency)",
        f"CREATE DICTIONARY IF NOT EXISTS {DB}.fx (currency String, rate Decimal(18, 8)) PRIMARY KEY currency "
        f"SOURCE(CLICKHOUSE(TABLE 'fx_rates' DB '{DB}')) LIFETIME(300) LAYOUT(HASHED())",
        f"CREATE OR REPLACE VIEW {DB}.converted AS SELECT ad_id, sum(cost * rate) AS cost FROM {DB}.events "
        f"LEFT JOIN {DB}.fx_rates AS fx ON fx.currency = events.cost_currency "
        f"INNER JOIN (SELECT click_id, any(ad_id) AS click_ad FROM {DB}.clicks GROUP BY click_id) AS c USING click_id "
        f"WHERE click_id NOT IN (SELECT click_id FROM {DB}.clicks WHERE ad_id = 'x') GROUP BY ad_id",
        f"INSERT INTO {DB}.fx_rates (day, currency, rate) VALUES ('2026-01-01', 'EUR', 1)",
        f"CREATE TABLE IF NOT EXISTS {DB}.cost_eur (ad_id String, eur Decimal(38, 6)) "
        "ENGINE = SummingMergeTree ORDER BY ad_id",
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {DB}.cost_eur_mv TO {DB}.cost_eur AS "
        f"SELECT ad_id, sum(cost * rate) AS eur FROM {DB}.events "
        f"LEFT JOIN {DB}.fx_rates AS fx ON fx.currency = events.cost_currency GROUP BY ad_id",
        f"DROP TABLE IF EXISTS {DB}.raw_hits",
        f"TRUNCATE TABLE IF EXISTS {DB}.unique_clicks",
        f"CREATE TABLE IF NOT EXISTS {DB}.parsed ENGINE = Null AS "
        f"SELECT toUUID(event_id) AS event_id FROM {DB}.hits LIMIT 0",
        f"CREATE TABLE IF NOT EXISTS {DB}.hits (event_id String, query String) ENGINE = Null",
        f"CREATE MATERIALIZED VIEW IF NOT EXISTS {DB}.parse_mv TO {DB}.parsed AS "
        f"SELECT toUUID(event_id) AS event_id FROM (SELECT event_id FROM {DB}.hits WHERE query != '')",
    ]
    ddl = ClusterDDL(DB, "prod", parser, [*all_statements(DB, OPTIONS), *extra])
    out = [ddl.transform(s) for s in extra]
    for statements in out[:7] + out[8:]:
        for sql in statements:
            assert ast(client, sql), sql
    assert [s.split("\n")[0] for s in out[0]] == [
        "CREATE TABLE IF NOT EXISTS adpulse.raw_hits_local ON CLUSTER prod",
        "CREATE TABLE IF NOT EXISTS adpulse.raw_hits ON CLUSTER prod AS adpulse.raw_hits_local",
    ]
    assert engine_of(client, out[0][0])[0] == "Null"
    assert table_identifiers(client, out[1][0]) == {"adpulse.raw_hits_local"}
    assert " TO adpulse.events_local" in out[1][0]
    assert ddl.sharded("unique_clicks")  # fed from events on each shard
    assert engine_of(client, out[2][0])[0] == "ReplicatedAggregatingMergeTree"
    assert "replicated_deduplication_window = 100" in out[2][0]
    assert table_identifiers(client, out[3][0]) == {"adpulse.events_local"}
    assert not ddl.sharded("fx_rates") and len(out[4]) == 1
    assert out[5][0].startswith("CREATE DICTIONARY IF NOT EXISTS adpulse.fx ON CLUSTER prod")
    # Subqueries over sharded clicks become GLOBAL; the join against fx_rates (on every node) stays local.
    assert "GLOBAL NOT IN (" in out[6][0] and "\nGLOBAL INNER JOIN\n" in out[6][0]
    assert "\nLEFT JOIN adpulse.fx_rates AS fx" in out[6][0]
    assert out[7] == [extra[7]]  # data: inserted once, verbatim (formatting would drop the VALUES)
    # A view that joins reference data: its rollup follows events onto the shards, the rates stay whole.
    assert ddl.sharded("cost_eur") and not ddl.sharded("fx_rates")
    assert table_identifiers(client, out[9][0]) == {"adpulse.events_local", "adpulse.fx_rates"}
    assert out[11] == ["TRUNCATE TABLE IF EXISTS adpulse.unique_clicks_local ON CLUSTER prod"]  # the data is local
    # A table shaped by a SELECT keeps it; a view reading a subquery fires on the table the subquery reads.
    assert out[12][0].startswith("CREATE TABLE IF NOT EXISTS adpulse.parsed_local ON CLUSTER prod\nENGINE = `Null`\n")
    assert "AS SELECT toUUID(event_id) AS event_id" in out[12][0]
    assert " TO adpulse.parsed_local" in out[14][0]
    assert table_identifiers(client, out[14][0]) == {"adpulse.hits_local"}
    assert out[10] == [
        "DROP TABLE IF EXISTS adpulse.raw_hits ON CLUSTER prod",
        "DROP TABLE IF EXISTS adpulse.raw_hits_local ON CLUSTER prod",
    ]


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        (f"CREATE TABLE {DB}.scratch (a String) ENGINE = Memory", "no replicated form"),
        (f"CREATE MATERIALIZED VIEW {DB}.inner ENGINE = MergeTree ORDER BY a AS SELECT 1 AS a", "needs TO"),
        (f"ALTER TABLE {DB}.nowhere ADD COLUMN x String", "do not create"),
        (f"OPTIMIZE TABLE {DB}.events FINAL", "no cluster form"),
        (f"CREATE TABLE {DB}.broken (a String ENGINE = MergeTree", "cannot parse"),
    ],
)
def test_what_has_no_cluster_form_is_refused_by_name(parser, statement, message):
    with pytest.raises(ClusterError, match=message):
        ClusterDDL(DB, "prod", parser, [*all_statements(DB, OPTIONS), statement]).transform(statement)


def test_cluster_name_is_checked(parser):
    with pytest.raises(ClusterError, match="cluster name"):
        ClusterDDL(DB, "prod'; DROP", parser, [])
    [sql] = ClusterDDL(DB, "eu-west.1", parser, []).transform(f"CREATE DATABASE IF NOT EXISTS {DB}")
    assert sql == "CREATE DATABASE IF NOT EXISTS adpulse ON CLUSTER `eu-west.1`"


def test_a_click_and_its_conversions_share_a_shard(client):
    """The sharding keys evaluated by the engine: the click event, the conversion event, and the rows the
    views derive from them (clicks, conversions) hash alike; so do all versions of one conversion."""
    events = sharding_key(["event_id", "click_id", "network", "conversion_key"])
    conversions = sharding_key(["network", "conversion_key", "click_id"])
    clicks = sharding_key(["click_id"])
    row = (
        "SELECT toUUID({id:String}) AS event_id, {click:String} AS click_id, "
        "'cake' AS network, {key:String} AS conversion_key"
    )

    def key(expression, **values):
        values = {"id": "00000000-0000-0000-0000-000000000000", "click": "", "key": "", **values}
        return client.query(f"SELECT {expression} FROM ({row})", parameters=values).result_rows[0][0]

    click = key(events, id="00000000-0000-0000-0000-000000000001", click="clk-1", key="")
    conversion = key(events, id="00000000-0000-0000-0000-000000000002", click="clk-1", key="tx-9")
    assert click == conversion == key(conversions, click="clk-1", key="tx-9") == key(clicks, click="clk-1")
    # A conversion without a click: every version (a new event id each) on one shard, by its identity.
    v1 = key(events, id="00000000-0000-0000-0000-000000000003", click="", key="tx-7")
    v2 = key(events, id="00000000-0000-0000-0000-000000000004", click="", key="tx-7")
    assert v1 == v2 == key(conversions, click="", key="tx-7")
    assert v1 != key(events, id="00000000-0000-0000-0000-000000000004", click="", key="tx-8")
    impression = key(events, id="00000000-0000-0000-0000-000000000005", click="", key="")
    assert impression != key(events, id="00000000-0000-0000-0000-000000000006", click="", key="")


class RecordingClient:
    """The real engine's client, recording each statement it is given."""

    def __init__(self, client):
        self.client, self.commands = client, []

    def command(self, sql):
        self.commands.append(sql)
        return self.client.command(sql)

    def __getattr__(self, name):
        return getattr(self.client, name)


def test_without_a_cluster_every_statement_runs_exactly_as_its_migration_wrote_it(client):
    recording = RecordingClient(client)
    migrate(recording, "verbatim", OPTIONS)
    assert recording.commands == all_statements("verbatim", OPTIONS)
    assert plan("verbatim", OPTIONS) == [
        ("bootstrap", bootstrap_statements("verbatim")),
        *[(f"{m.version:04d}_{m.name}", m.statements("verbatim", OPTIONS)) for m in discover()],
        ("retention (every run)", ttl_statements("verbatim", OPTIONS)),
    ]


def test_migrate_runs_the_rewrite_of_each_statement(client):
    """migrate() sends what the rewrite returns, in order, in place of each statement."""
    recording = RecordingClient(client)
    applied = migrate(recording, "rewritten", OPTIONS, upto=1, rewrite=lambda s: [s, f"SELECT {len(s)}"])
    assert [m.version for m in applied] == [1]
    expected = [*bootstrap_statements("rewritten"), *discover()[0].statements("rewritten", OPTIONS)]
    expected += ttl_statements("rewritten", OPTIONS)
    assert recording.commands == [out for s in expected for out in (s, f"SELECT {len(s)}")]
