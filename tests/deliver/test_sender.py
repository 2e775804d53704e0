"""One attempt's outcome under an injected clock and an HTTP transport that answers as told."""

from __future__ import annotations

import asyncio
import random

import httpx
import pytest
from prometheus_client import REGISTRY

from deliver.sender import Outcome, Sender
from deliver.store import DEAD, PENDING, SENT, Delivery
from deliver.targets import idempotency_key
from tests.deliver.helpers import NOW_MS, conversion, settings


class FakeClock:
    def __init__(self, now_ms: int) -> None:
        self.ms = now_ms

    def now_ms(self) -> int:
        return self.ms

    def monotonic(self) -> float:
        return self.ms / 1000


CONFIG = settings(
    source_postbacks={"propeller": {"url": "https://s.example/pb?cid={external_id}&key=src-secret"}},
    deliver_retry_first_s=10,
    deliver_retry_max_s=3600,
    deliver_give_up_s=86_400,
)


def delivery(attempts: int = 0, first_ms: int | None = None) -> Delivery:
    conv = conversion()
    target = "source:propeller"
    return Delivery(
        idempotency_key(target, conv), target, conv.network, conv.conversion_key, "approved", 0, PENDING,
        attempts, first_ms, NOW_MS, NOW_MS, NOW_MS, "", conv.model_dump_json(), attempts + 1,
    )  # fmt: skip


def attempt(handler: httpx.MockTransport, item: Delivery, now_ms: int = NOW_MS) -> tuple[Outcome, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler.handle_request(request)

    async def go() -> Outcome:
        async with httpx.AsyncClient(transport=httpx.MockTransport(record)) as http:
            return await Sender(CONFIG, http, FakeClock(now_ms), random.Random(3)).attempt(item)

    return asyncio.run(go()), seen


def answer(status: int, headers: dict[str, str] | None = None, text: str = "ok") -> httpx.MockTransport:
    return httpx.MockTransport(lambda r: httpx.Response(status, headers=headers, text=text))


def sent_count() -> float:
    return REGISTRY.get_sample_value("adpulse_deliveries_sent_total", {"kind": "source"}) or 0.0


def test_success_is_sent_with_the_idempotency_key_and_logged_without_secrets() -> None:
    item = delivery()
    before = sent_count()
    outcome, seen = attempt(answer(200, text="accepted"), item)
    assert sent_count() == before + 1
    assert outcome.delivery.state == SENT and outcome.delivery.attempts == 1
    assert seen[0].headers["Idempotency-Key"] == item.key
    assert str(seen[0].url) == "https://s.example/pb?cid=ext-42&key=src-secret"
    logged = outcome.attempt
    assert (logged.status_code, logged.outcome, logged.excerpt) == (200, "sent", "accepted")
    assert "src-secret" not in logged.url and "cid=ext-42" in logged.url


def test_server_error_is_retried_within_the_first_delay() -> None:
    retried = REGISTRY.get_sample_value("adpulse_deliveries_retried_total", {"kind": "source"}) or 0.0
    outcome, _ = attempt(answer(500), delivery())
    assert REGISTRY.get_sample_value("adpulse_deliveries_retried_total", {"kind": "source"}) == retried + 1
    new = outcome.delivery
    assert new.state == PENDING and new.attempts == 1 and new.first_attempt_ms == NOW_MS
    assert NOW_MS + 5_000 <= new.next_ms <= NOW_MS + 10_000
    assert outcome.attempt.outcome == "retry"


def test_429_waits_for_retry_after() -> None:
    outcome, _ = attempt(answer(429, {"Retry-After": "120"}), delivery())
    assert outcome.delivery.next_ms == NOW_MS + 120_000


def test_timeout_is_retried_with_no_status_code() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    outcome, _ = attempt(httpx.MockTransport(slow), delivery())
    assert outcome.delivery.state == PENDING and outcome.attempt.status_code == 0
    assert "ReadTimeout" in outcome.attempt.error


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_permanent_client_errors_go_to_dead_letters(status: int) -> None:
    outcome, _ = attempt(answer(status), delivery())
    assert outcome.delivery.state == DEAD and outcome.dead


def test_given_up_after_24_hours() -> None:
    first = NOW_MS - 86_400_000 + 1_000
    outcome, _ = attempt(answer(503), delivery(attempts=20, first_ms=first))
    assert outcome.delivery.state == DEAD and outcome.delivery.attempts == 21


def test_backoff_grows_over_attempts_with_the_clock() -> None:
    waits = []
    for attempts in range(0, 6):
        outcome, _ = attempt(answer(500), delivery(attempts=attempts, first_ms=NOW_MS))
        waits.append(outcome.delivery.next_ms - NOW_MS)
    for n, wait in enumerate(waits, start=1):
        assert 10_000 * 2 ** (n - 1) * 0.5 <= wait <= 10_000 * 2 ** (n - 1)
