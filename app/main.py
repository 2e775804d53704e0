"""The ASGI application factory."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from adpulse.clickhouse import ClickHouseTarget, connect, parse_target
from adpulse.clock import Clock, SystemClock
from adpulse.kafka import client_options
from adpulse.settings import Settings, load_settings
from app import batch, click, costs, health, kpis, pixel, postback
from app.duplicates import DuplicateCheck
from app.frontdoor import FrontDoor
from app.limits import LimitsMiddleware
from app.redirects import RedirectPolicy
from app.services import Services
from ingest.publisher import Publisher

log = logging.getLogger(__name__)


@asynccontextmanager
async def running(svc: Services, target: ClickHouseTarget) -> AsyncIterator[None]:
    """Start-up and shutdown of one worker: the Kafka publisher (flushed at the end) and ClickHouse."""
    await svc.publisher.start(svc.settings.topic_events, svc.settings.events_partitions)
    try:
        svc.clickhouse = await asyncio.to_thread(connect, target)
        svc.duplicates.clickhouse = svc.clickhouse
    except Exception as exc:  # noqa: BLE001 - start anyway; /readyz reports ClickHouse as down
        log.warning("ClickHouse at %s not reachable: %s", target.url.split("@")[-1], exc)
    try:
        yield
    finally:
        await svc.publisher.stop()
        if svc.clickhouse is not None:
            svc.clickhouse.close()


def create_app(settings: Settings, clock: Clock | None = None) -> FastAPI:
    publisher = Publisher(
        client_options(settings), ack_timeout_s=settings.kafka_ack_timeout_s, max_pending=settings.pixel_max_pending
    )
    target = parse_target(settings.clickhouse_url)
    svc = Services(
        settings=settings,
        clock=clock or SystemClock(),
        publisher=publisher,
        redirects=RedirectPolicy(settings.redirect_allowlist, settings.click_id_params),
        duplicates=DuplicateCheck(target.database),
        database=target.database,
    )

    app = FastAPI(
        title="adpulse",
        version="0.1.0",
        summary="Event tracking for performance marketing: pixel, clicks, postbacks, batch, KPIs",
        lifespan=lambda _app: running(svc, target),
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.services = svc
    app.state.clickhouse_target = target
    for module in (pixel, click, postback, batch, costs, kpis, health):
        app.include_router(module.router)
    app.add_middleware(LimitsMiddleware, browser_answer=pixel.browser_answer)
    return app


def app_from_env() -> FrontDoor:
    """The served application (``adpulse api``, granian's RSGI interface): the pixel and postbacks answered
    without the framework, everything else by the FastAPI app; start-up and shutdown in RSGI's hooks."""
    app = create_app(load_settings())
    svc: Services = app.state.services
    target: ClickHouseTarget = app.state.clickhouse_target
    return FrontDoor(app, svc, lambda: running(svc, target))
