"""The ``adpulse`` command: api, aggregate, migrate, topics, deliver, redeliver, clickhouse-dev."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from aiokafka.errors import KafkaConnectionError

from adpulse.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from adpulse.clickhouse import ClickHouseTarget
    from schemas.migrate import Rewrite
    from schemas.options import SchemaOptions

log = logging.getLogger("adpulse")


def _api(settings: Settings, args: argparse.Namespace) -> int:
    # Granian (Rust HTTP server) through its RSGI interface: app.frontdoor answers the pixel and postbacks
    # itself and hands everything else to the FastAPI app (README "Benchmarks" has the measurements).
    import math

    from granian import Granian
    from granian.constants import HTTPModes, Interfaces, Loops

    from adpulse import logs
    from adpulse.metrics_mp import multiprocess_dir

    with multiprocess_dir():  # /metrics sums every worker's counters (see adpulse/metrics_mp.py)
        Granian(
            "app.main:app_from_env",  # each worker reads the same ADPULSE_* environment once at start
            factory=True,
            address=settings.host,
            port=settings.port,
            interface=Interfaces.RSGI,
            http=HTTPModes.http1,  # no HTTP/2 sniffing per connection: HTTP/2 ends at the proxy in front
            websockets=False,
            workers=settings.workers,
            loop=Loops.uvloop,
            log_access=False,
            log_dictconfig=logs.config(settings.log_format, settings.log_level),
            # SIGTERM: stop accepting, finish requests, drain the publisher (ADPULSE_SHUTDOWN_TIMEOUT_S);
            # a worker still alive a few seconds later is killed.
            workers_kill_timeout=math.ceil(settings.shutdown_timeout_s) + 5,
            respawn_failed_workers=True,  # a worker that dies is replaced
        ).serve()
    return 0


def _aggregate(settings: Settings, args: argparse.Namespace) -> int:
    from prometheus_client import start_http_server

    from adpulse.clickhouse import connect, parse_target
    from adpulse.clock import SystemClock
    from adpulse.shutdown import run_until_stopped
    from aggregator.consumer import Aggregator
    from aggregator.read_own_writes import read_own_writes
    from aggregator.writer import ClickHouseStore

    async def main() -> None:
        target = parse_target(settings.clickhouse_url)
        client = connect(target)
        store = ClickHouseStore(client, target.database, read_own_writes(settings))
        aggregator = Aggregator(settings, store, SystemClock())
        if settings.aggregator_metrics_port:
            start_http_server(settings.aggregator_metrics_port, addr=settings.aggregator_metrics_host)
        log.info("aggregating %s -> %s", settings.topic_events, target.url.split("@")[-1])
        # SIGTERM: finish and commit the batch within ADPULSE_SHUTDOWN_TIMEOUT_S (adpulse/shutdown.py).
        await run_until_stopped(aggregator.run, settings.shutdown_timeout_s)
        client.close()

    asyncio.run(main())
    return 0


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from adpulse.clickhouse import parse_target
    from schemas.cluster import ClusterError, cluster_ddl, embedded_parser
    from schemas.migrate import plan
    from schemas.options import SchemaOptions

    target = parse_target(settings.clickhouse_url)
    options = SchemaOptions(
        events_ttl_days=settings.events_ttl_days,
        dedup_window_days=settings.dedup_window_days,
        reporting_currency=settings.reporting_currency,
        fx_max_age_days=settings.fx_max_age_days,
        block_ips=tuple(settings.block_ips),
        block_user_agents=tuple(settings.block_user_agents),
        datacenter_asns=tuple(settings.datacenter_asns),
    )
    if not args.cluster:
        if args.dry_run:
            _print_plan(plan(target.database, options))
            return 0
        return _run_migrations(target, options, None)
    if target.embedded and not args.dry_run:
        print("adpulse: --cluster needs a ClickHouse server (http or https URL), not chdb://", file=sys.stderr)
        return 2
    # The rewrite uses the bundled engine's parser (in memory), so a dry run needs no server.
    parser, parser_client = embedded_parser()
    try:
        rewrite = cluster_ddl(target.database, args.cluster, options, parser).transform
        if args.dry_run:
            _print_plan(plan(target.database, options, rewrite))
            return 0
        return _run_migrations(target, options, rewrite)
    except ClusterError as exc:
        print(f"adpulse: {exc}", file=sys.stderr)
        return 2
    finally:
        parser_client.close()


def _run_migrations(target: ClickHouseTarget, options: SchemaOptions, rewrite: Rewrite | None) -> int:
    from adpulse.clickhouse import connect
    from schemas.migrate import migrate

    client = connect(target, database="default")
    applied = migrate(client, target.database, options, rewrite=rewrite)
    client.close()
    print(f"migrations applied: {[f'{m.version:04d}_{m.name}' for m in applied] or 'none (up to date)'}")
    return 0


def _print_plan(steps: list[tuple[str, list[str]]]) -> None:
    for label, statements in steps:
        print(f"-- {label}")
        for statement in statements:
            print(f"{statement.strip()};\n")


def _reclassify(settings: Settings, args: argparse.Namespace) -> int:
    """Issue 11: re-apply the current bot rules (ADPULSE_BLOCK_*) to past days and rebuild their KPIs."""
    from datetime import date

    from adpulse.clickhouse import connect, parse_target
    from schemas import reclassify

    try:
        start, end = date.fromisoformat(args.start), date.fromisoformat(args.end)
        reclassify.bounds(start, end)
    except ValueError as exc:
        print(f"adpulse reclassify: {exc}", file=sys.stderr)
        return 2
    target = parse_target(settings.clickhouse_url)
    client = connect(target)
    try:
        moved = reclassify.run(client, target.database, settings.bot_lists(), start, end)
    finally:
        client.close()
    print(f"reclassified {start}..{end}: {sum(moved.values())} events changed {moved}; KPIs of those days rebuilt")
    return 0


def _topics(settings: Settings, args: argparse.Namespace) -> int:
    from ingest.topics import ReplicationError, ensure_topics

    try:
        created = asyncio.run(ensure_topics(settings))
    except ReplicationError as exc:
        print(f"adpulse topics: {exc}", file=sys.stderr)
        return 2
    print(f"topics created: {created or 'none (all exist)'}")
    return 0


def _replay_dlq(settings: Settings, args: argparse.Namespace) -> int:
    from aggregator.replay import replay_dlq

    print(f"replayed: {asyncio.run(replay_dlq(settings))}")
    return 0


def _bi_grants(settings: Settings, args: argparse.Namespace) -> int:
    from adpulse.clickhouse import parse_target
    from schemas.access import bi_grants

    for statement in bi_grants(parse_target(settings.clickhouse_url).database):
        print(f"{statement};")
    return 0


def _schema(settings: Settings, args: argparse.Namespace) -> int:
    from schemas.jsonschema import write

    print(f"wrote {write()}")
    return 0


def _healthcheck(settings: Settings, args: argparse.Namespace) -> int:
    """For a container's HEALTHCHECK: exit 0 when the local API (or the aggregator's metrics) answers."""
    import urllib.error
    import urllib.request

    if args.aggregator:
        if not settings.aggregator_metrics_port:
            print("adpulse: ADPULSE_AGGREGATOR_METRICS_PORT is not set", file=sys.stderr)
            return 1
        url = f"http://127.0.0.1:{settings.aggregator_metrics_port}/metrics"
    else:
        url = f"http://127.0.0.1:{settings.port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=args.timeout) as response:  # noqa: S310 - fixed loopback URL
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"adpulse: {url}: {exc}", file=sys.stderr)
        return 1


# --- Conversions delivered onward (issue 13) ---
def _deliver(settings: Settings, args: argparse.Namespace) -> int:
    import random

    import httpx
    from prometheus_client import start_http_server

    from adpulse.clickhouse import connect, parse_target
    from adpulse.clock import SystemClock
    from adpulse.shutdown import run_until_stopped
    from deliver.consumer import Deliverer
    from deliver.store import DeliveryStore

    async def main() -> None:
        target = parse_target(settings.clickhouse_url)
        client = connect(target)
        if settings.deliver_metrics_port:
            start_http_server(settings.deliver_metrics_port, addr="127.0.0.1")
        timeout = httpx.Timeout(settings.deliver_timeout_s)
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as http:
            deliverer = Deliverer(
                settings,
                DeliveryStore(client, target.database),
                SystemClock(),
                http,
                random.Random(),  # noqa: S311 - jitter, not crypto
            )
            log.info("delivering %s (group %s)", settings.topic_deliveries, settings.deliver_group)
            # SIGTERM: finish the sends in hand within ADPULSE_SHUTDOWN_TIMEOUT_S (adpulse/shutdown.py).
            await run_until_stopped(deliverer.run, settings.shutdown_timeout_s)
        client.close()

    asyncio.run(main())
    return 0


def _redeliver(settings: Settings, args: argparse.Namespace) -> int:
    from adpulse.clickhouse import connect, parse_target
    from adpulse.clock import SystemClock
    from deliver.redeliver import redeliver
    from deliver.store import DeliveryStore

    target = parse_target(settings.clickhouse_url)
    client = connect(target)
    store = DeliveryStore(client, target.database)
    requeued = redeliver(store, SystemClock().now_ms(), keys=args.key, target=args.target, state=args.state)
    client.close()
    for delivery in requeued:
        print(f"{delivery.key} {delivery.target} {delivery.network}/{delivery.conversion_key} {delivery.status}")
    print(f"requeued: {len(requeued)}")
    return 0


def _dashboard_hash(args: argparse.Namespace) -> int:
    """Print a password hash for ADPULSE_DASHBOARD_USERS (password from the terminal, or stdin when piped)."""
    import getpass

    from adpulse.passwords import make_hash

    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            print("adpulse: the passwords differ", file=sys.stderr)
            return 2
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 8:
        print("adpulse: use a password of at least 8 characters", file=sys.stderr)
        return 2
    encoded = make_hash(password)
    print(f"{args.user}:{encoded}" if args.user else encoded)
    return 0


def _fx_import(settings: Settings, args: argparse.Namespace) -> int:
    """Issue 9: load an ECB reference-rates file as cross rates into the reporting currency."""
    from pathlib import Path

    from adpulse.clickhouse import connect, parse_target
    from adpulse.fx.ecb import EcbFormatError, cross_rates, parse
    from adpulse.fx.rates import FxStore

    try:
        ecb = parse(Path(args.file).read_bytes())
    except (OSError, EcbFormatError) as exc:
        print(f"adpulse fx-import: {args.file}: {exc}", file=sys.stderr)
        return 2
    rates = list(cross_rates(ecb, settings.reporting_currency))
    if not rates:
        print(f"adpulse fx-import: the file quotes no {settings.reporting_currency} rate", file=sys.stderr)
        return 2
    target = parse_target(settings.clickhouse_url)
    client = connect(target)
    stored = FxStore(client, target.database).upsert(rates)
    client.close()
    days = sorted({rate.day for rate in rates})
    print(f"fx rates into {settings.reporting_currency}: {stored} stored, {len(days)} days ({days[0]}..{days[-1]})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="adpulse", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("api", help="run the HTTP API (ADPULSE_HOST:ADPULSE_PORT)")
    sub.add_parser("aggregate", help="run an aggregator (Kafka consumer group member -> ClickHouse)")
    migrate = sub.add_parser("migrate", help="create or upgrade the ClickHouse schema (idempotent)")
    # ClickHouse clusters (issue 12): ON CLUSTER DDL with Replicated and Distributed tables; a dry run.
    migrate.add_argument("--cluster", metavar="NAME", help="create the schema ON CLUSTER NAME (replicated, sharded)")
    migrate.add_argument("--dry-run", action="store_true", help="print the DDL of every migration; run nothing")
    sub.add_parser("topics", help="create the Kafka topics (idempotent)")
    # Traffic quality (issue 11): re-apply the bot rules to past traffic; run with the aggregators stopped.
    again_bots = sub.add_parser("reclassify", help="re-apply the current bot rules to past days and rebuild their KPIs")
    again_bots.add_argument("--from", dest="start", required=True, help="first UTC day, YYYY-MM-DD")
    again_bots.add_argument("--to", dest="end", required=True, help="last UTC day (inclusive), YYYY-MM-DD")
    sub.add_parser("bi-grants", help="print the read-only BI role's DDL for a ClickHouse server")
    sub.add_parser("schema", help="write the event JSON Schema to schemas/jsonschema/")
    sub.add_parser("replay-dlq", help="re-publish dead-lettered messages to the events topic (after a fix)")
    check = sub.add_parser("healthcheck", help="exit 0 when the local API answers /healthz (container HEALTHCHECK)")
    check.add_argument("--aggregator", action="store_true", help="check the aggregator's metrics port instead")
    check.add_argument("--timeout", type=float, default=2.0, help="seconds (default 2)")
    sub.add_parser("deliver", help="deliver conversions onward (postbacks, Meta, TikTok, GA4); own consumer group")
    again = sub.add_parser("redeliver", help="re-queue chosen deliveries (dead letters by default)")
    again.add_argument("--key", action="append", default=[], help="idempotency key (repeatable)")
    again.add_argument("--target", default="", help="only this target, e.g. source:propellerads or meta:123")
    again.add_argument("--state", default="dead", choices=("dead", "sent", "pending", "skipped"))
    fx = sub.add_parser(
        "fx-import", help="load an ECB eurofxref file (CSV, XML or ZIP) as rates into the reporting currency"
    )
    fx.add_argument("file", help="eurofxref.csv, eurofxref-hist.csv, eurofxref-daily.xml, eurofxref-hist.xml, or a ZIP")
    hasher = sub.add_parser(
        "dashboard-hash", help="hash a password for ADPULSE_DASHBOARD_USERS (from the terminal or stdin)"
    )
    hasher.add_argument("--user", help="print user:hash, ready for ADPULSE_DASHBOARD_USERS")
    dev = sub.add_parser(
        "clickhouse-dev", help="DEVELOPMENT/TEST ONLY: serve ClickHouse's HTTP interface over the embedded engine"
    )
    from adpulse.devch.server import add_arguments

    add_arguments(dev)
    args = parser.parse_args(argv)

    if args.command == "dashboard-hash":
        return _dashboard_hash(args)
    if args.command == "clickhouse-dev":
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        from adpulse.devch.server import serve_args

        return serve_args(args)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"adpulse: {exc}", file=sys.stderr)
        return 2
    from adpulse import logs

    logs.configure(settings.log_format, settings.log_level)  # ADPULSE_LOG_FORMAT=json|text
    commands = {
        "api": _api,
        "aggregate": _aggregate,
        "migrate": _migrate,
        "topics": _topics,
        "replay-dlq": _replay_dlq,
        "schema": _schema,
        "bi-grants": _bi_grants,
        "healthcheck": _healthcheck,
        "deliver": _deliver,
        "redeliver": _redeliver,
        "fx-import": _fx_import,
        "reclassify": _reclassify,
    }
    try:
        return commands[args.command](settings, args)
    except KafkaConnectionError as exc:  # Kafka refused us at start: say why (login, TLS, unreachable)
        from adpulse.kafka import explain_start_failure

        print(f"adpulse {args.command}: {explain_start_failure(settings, exc)}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
