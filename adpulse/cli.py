"""The ``adpulse`` command: api, aggregate, migrate, topics, clickhouse-dev."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

from adpulse.settings import Settings, SettingsError, load_settings

log = logging.getLogger("adpulse")


def _api(settings: Settings, args: argparse.Namespace) -> int:
    # Granian (Rust HTTP server, ASGI): about 2x uvicorn's request rate on the pixel path, measured.
    from granian import Granian
    from granian.constants import Interfaces, Loops

    Granian(
        "app.main:app_from_env",  # each worker reads the same ADPULSE_* environment once at start
        factory=True,
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=settings.workers,
        loop=Loops.uvloop,
        log_access=False,
        workers_kill_timeout=15,
        respawn_failed_workers=True,  # a worker that dies is replaced
    ).serve()
    return 0


def _aggregate(settings: Settings, args: argparse.Namespace) -> int:
    from prometheus_client import start_http_server

    from adpulse.clickhouse import connect, parse_target
    from adpulse.clock import SystemClock
    from aggregator.consumer import Aggregator
    from aggregator.writer import ClickHouseStore

    async def main() -> None:
        target = parse_target(settings.clickhouse_url)
        client = connect(target)
        aggregator = Aggregator(settings, ClickHouseStore(client, target.database), SystemClock())
        if settings.aggregator_metrics_port:
            start_http_server(settings.aggregator_metrics_port, addr="127.0.0.1")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        log.info("aggregating %s -> %s", settings.topic_events, target.url.split("@")[-1])
        await aggregator.run(stop)
        client.close()

    asyncio.run(main())
    return 0


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from adpulse.clickhouse import connect, parse_target
    from schemas.migrate import migrate
    from schemas.options import SchemaOptions

    target = parse_target(settings.clickhouse_url)
    client = connect(target, database="default")
    options = SchemaOptions(
        events_ttl_days=settings.events_ttl_days,
        dedup_window_days=settings.dedup_window_days,
        reporting_currency=settings.reporting_currency,
        fx_max_age_days=settings.fx_max_age_days,
    )
    applied = migrate(client, target.database, options)
    client.close()
    print(f"migrations applied: {[f'{m.version:04d}_{m.name}' for m in applied] or 'none (up to date)'}")
    return 0


def _topics(settings: Settings, args: argparse.Namespace) -> int:
    from ingest.topics import ensure_topics

    created = asyncio.run(ensure_topics(settings))
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
    sub.add_parser("migrate", help="create or upgrade the ClickHouse schema (idempotent)")
    sub.add_parser("topics", help="create the Kafka topics (idempotent)")
    sub.add_parser("bi-grants", help="print the read-only BI role's DDL for a ClickHouse server")
    sub.add_parser("schema", help="write the event JSON Schema to schemas/jsonschema/")
    sub.add_parser("replay-dlq", help="re-publish dead-lettered messages to the events topic (after a fix)")
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
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    if args.command == "dashboard-hash":
        return _dashboard_hash(args)
    if args.command == "clickhouse-dev":
        from adpulse.devch.server import serve_args

        return serve_args(args)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"adpulse: {exc}", file=sys.stderr)
        return 2
    commands = {
        "api": _api,
        "aggregate": _aggregate,
        "migrate": _migrate,
        "topics": _topics,
        "replay-dlq": _replay_dlq,
        "schema": _schema,
        "bi-grants": _bi_grants,
        "fx-import": _fx_import,
    }
    return commands[args.command](settings, args)


if __name__ == "__main__":
    sys.exit(main())
