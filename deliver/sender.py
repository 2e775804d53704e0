"""One attempt at one delivery: render, send, and decide what happens next (sent, retry, dead)."""

from __future__ import annotations

import random
from dataclasses import dataclass

import httpx

from adpulse.clock import Clock
from adpulse.settings import Settings
from deliver import backoff, metrics
from deliver.message import Conversion
from deliver.store import DEAD, PENDING, SENT, Attempt, Delivery
from deliver.targets import Undeliverable, render

EXCERPT_CHARS = 500
_RETRYABLE = frozenset({408, 425, 429})


@dataclass(frozen=True)
class Outcome:
    delivery: Delivery  # the new state
    attempt: Attempt
    dead: bool


def secrets_of(settings: Settings) -> list[str]:
    found = [t.access_token.get_secret_value() for t in settings.meta_capi.values()]
    found += [t.access_token.get_secret_value() for t in settings.tiktok_events.values()]
    found += [t.api_secret.get_secret_value() for t in settings.ga4.values()]
    return [s for s in found if s]


def scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "REDACTED")
    return text


class Sender:
    def __init__(self, settings: Settings, http: httpx.AsyncClient, clock: Clock, rng: random.Random) -> None:
        self._settings = settings
        self._http = http
        self._clock = clock
        self._rng = rng
        self._secrets = secrets_of(settings)

    async def attempt(self, delivery: Delivery) -> Outcome:
        kind = delivery.target.partition(":")[0]
        started_ms = self._clock.now_ms()
        first = delivery.first_attempt_ms if delivery.first_attempt_ms is not None else started_ms
        number = delivery.attempts + 1
        code, excerpt, error, retry_after, method, url = 0, "", "", None, "", ""
        permanent = False
        started = self._clock.monotonic()
        try:
            request = render(delivery.target, Conversion.model_validate_json(delivery.payload), self._settings)
            method, url = request.method, request.log_url
            headers = {**request.headers, "Idempotency-Key": delivery.key, "User-Agent": "adpulse-deliver"}
            response = await self._http.request(request.method, request.url, content=request.body, headers=headers)
            code = response.status_code
            excerpt = scrub(response.text[:EXCERPT_CHARS], self._secrets)
            retry_after = backoff.retry_after_seconds(response.headers.get("retry-after"), started_ms)
            if not 200 <= code < 300:
                error = f"HTTP {code}"
                permanent = 400 <= code < 500 and code not in _RETRYABLE
        except Undeliverable as exc:
            error, permanent = str(exc), True
        except httpx.HTTPError as exc:
            error = scrub(f"{type(exc).__name__}: {exc}", self._secrets)[:EXCERPT_CHARS]
        latency_s = self._clock.monotonic() - started
        metrics.LATENCY.labels(kind).observe(latency_s)
        now_ms = self._clock.now_ms()
        if not error:
            new = delivery.advanced(now_ms, state=SENT, attempts=number, first_attempt_ms=first, last_error="")
            outcome = "sent"
            metrics.SENT.labels(kind).inc()
        else:
            delay = backoff.next_delay(
                number,
                first_s=self._settings.deliver_retry_first_s,
                cap_s=self._settings.deliver_retry_max_s,
                rng=self._rng,
                retry_after_s=retry_after,
            )
            retry_at = now_ms + int(delay * 1000)
            if permanent or backoff.gives_up(first, retry_at, self._settings.deliver_give_up_s):
                new = delivery.advanced(now_ms, state=DEAD, attempts=number, first_attempt_ms=first, last_error=error)
                outcome = "dead"
                metrics.FAILED.labels(kind).inc()
            else:
                new = delivery.advanced(
                    now_ms, state=PENDING, attempts=number, first_attempt_ms=first, next_ms=retry_at, last_error=error
                )
                outcome = "retry"
                metrics.RETRIED.labels(kind).inc()
        attempt = Attempt(now_ms, delivery, number, method, url, code, int(latency_s * 1000), outcome, error, excerpt)
        return Outcome(new, attempt, outcome == "dead")
