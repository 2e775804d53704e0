"""What the request handlers need, built once at start-up and reached through ``request.app.state``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from adpulse.clock import Clock
from adpulse.settings import Settings
from app.duplicates import DuplicateCheck
from app.redirects import RedirectPolicy
from ingest.enrich import Enricher
from ingest.publisher import Publisher


@dataclass
class Services:
    settings: Settings
    clock: Clock
    publisher: Publisher
    redirects: RedirectPolicy
    duplicates: DuplicateCheck
    database: str
    enricher: Enricher = field(default_factory=lambda: Enricher(None))
    clickhouse: Any | None = None  # clickhouse-connect client, set by app.clickhouse_link once ClickHouse answers


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found
