"""The ASGI application factory."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from adpulse.clickhouse import ClickHouseTarget, connect, parse_target
from adpulse.clock import Clock, SystemClock
from adpulse.fx import staleness
from adpulse.fx.rates import FxStore
from adpulse.kafka import client_options
from adpulse.settings import Settings, load_settings
from app import batch, click, costs, dashboard, exports, freshness, fxrates, health, kpis, pixel, postback
from app.access import Denied, ReaderAccess, denied_handler, require_reader
from app.clickhouse_link import ClickHouseLink
from app.duplicates import DuplicateCheck
from app.frontdoor import FrontDoor
from app.limits import LimitsMiddleware
from app.redirects import RedirectPolicy
from app.request_id import RequestIdMiddleware
from app.services import Services
from ingest.enrich import Enricher
from ingest.publisher import Publisher

log = logging.getLogger(__name__)


@asynccontextmanager
async def running(svc: Services, target: ClickHouseTarget) -> AsyncIterator[None]:
    """Start-up and shutdown of one worker: the Kafka publisher (drained at the end, within
    ADPULSE_SHUTDOWN_TIMEOUT_S), ClickHouse (connected in the background while it is down, so /readyz says
    so and the API starts anyway) and the stale-FX-rate metric."""
    settings = svc.settings
    clickhouse = ClickHouseLink(svc, lambda: connect(target), where=target.url.split("@")[-1])
    await svc.publisher.start(settings.topic_events, settings.events_partitions)
    await clickhouse.start()
    stop_fx = asyncio.Event()
    fx_task = asyncio.create_task(
        staleness.run(
            lambda: FxStore(svc.clickhouse, svc.database) if svc.clickhouse is not None else None,
            svc.clock,
            settings.fx_max_age_days,
            settings.reporting_currency,
            stop_fx,
        )
    )
    try:
        yield
    finally:
        try:
            # First drain what was accepted, within the grace period: nothing else may spend that budget
            # (an FX refresh waiting on a slow ClickHouse would, and the worker is killed after it).
            await svc.publisher.stop(settings.shutdown_timeout_s)
        finally:
            stop_fx.set()
            fx_task.cancel()  # a refresh in its thread is not waited for: it is only a metric
            with contextlib.suppress(asyncio.CancelledError):
                await fx_task
            await clickhouse.stop()


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
        enricher=Enricher(settings.geo_path()),
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
    for module in (pixel, click, postback, batch, costs, fxrates, exports, health):
        app.include_router(module.router)
    # Reports (dashboard, KPIs, freshness): one access rule, see app/access.py.
    app.state.reader_access = ReaderAccess(settings.dashboard_users, settings.api_keys)
    app.add_exception_handler(Denied, denied_handler)
    for module in (kpis, freshness, dashboard):
        app.include_router(module.router, dependencies=[Depends(require_reader)])
    app.add_middleware(LimitsMiddleware, browser_answer=pixel.browser_answer)
    return app


def app_from_env() -> FrontDoor:
    """The served application (``adpulse api``, granian's RSGI interface): the pixel and postbacks answered
    without the framework, everything else by the FastAPI app with request ids (``app.request_id``) on
    every answer and log line; start-up and shutdown in RSGI's hooks."""
    app = create_app(load_settings())
    svc: Services = app.state.services
    target: ClickHouseTarget = app.state.clickhouse_target
    return FrontDoor(RequestIdMiddleware(app), svc, lambda: running(svc, target))
