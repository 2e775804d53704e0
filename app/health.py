"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from adpulse.metrics_mp import render
from app.services import services

router = APIRouter()


@router.get("/healthz", summary="The process is alive")
async def healthz() -> JSONResponse:
    return JSONResponse({"status": "ok"})


@router.get("/readyz", summary="Ready: Kafka and ClickHouse both answer")
async def readyz(request: Request) -> JSONResponse:
    svc = services(request)
    kafka = await svc.publisher.ready(svc.settings.topic_events)
    clickhouse = False
    if svc.clickhouse is not None:
        try:
            clickhouse = bool(await asyncio.wait_for(asyncio.to_thread(svc.clickhouse.ping), 2.0))
        except (TimeoutError, OSError):
            clickhouse = False
    ready = kafka and clickhouse
    body: dict[str, object] = {"status": "ready" if ready else "not_ready", "kafka": kafka, "clickhouse": clickhouse}
    problem = svc.publisher.problem
    if not kafka and problem is not None:
        body["kafka_error"] = problem.message  # e.g. "Kafka authentication failed at ...": never a secret
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", summary="Prometheus metrics (summed over all API worker processes)")
async def metrics(request: Request) -> Response:
    services(request).publisher.report_pending()
    return Response(render(), media_type=CONTENT_TYPE_LATEST)
