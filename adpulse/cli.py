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
    # Granian (Rust HTTP server) through its RSGI interface: app.frontdoor answers the pixel and postbacks
    # itself and hands everything else to the FastAPI app (README "Benchmarks" has the measurements).
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces, Loops

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
    options = SchemaOptions(events_ttl_days=settings.events_ttl_days, dedup_window_days=settings.dedup_window_days)
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
    dev = sub.add_parser(
        "clickhouse-dev", help="DEVELOPMENT/TEST ONLY: serve ClickHouse's HTTP interface over the embedded engine"
    )
    from adpulse.devch.server import add_arguments

    add_arguments(dev)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

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
    }
    return commands[args.command](settings, args)


if __name__ == "__main__":
    sys.exit(main())
