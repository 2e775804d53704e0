"""When to try a failed delivery again: exponential backoff with jitter, Retry-After honoured.

The n-th retry (n = 1, 2, ...) waits ``first * 2**(n-1)`` capped at ``cap``, times a random factor in
[0.5, 1] (jitter spreads retries of many deliveries that failed together); the first retry therefore
comes within ``first`` seconds. A ``Retry-After`` from the target (seconds or an HTTP date) is waited
at least, within ``cap``. ``None``: give up (past ``give_up_s`` after the first attempt).
"""

from __future__ import annotations

import random
from email.utils import parsedate_to_datetime


def retry_after_seconds(header: str | None, now_ms: int) -> float | None:
    if not header:
        return None
    header = header.strip()
    if header.isdigit():
        return float(header)
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now_ms / 1000)


def next_delay(
    attempts: int,
    *,
    first_s: float,
    cap_s: float,
    rng: random.Random,
    retry_after_s: float | None = None,
) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt (attempts >= 1)."""
    base = min(cap_s, first_s * 2.0 ** (attempts - 1))
    delay: float = base * rng.uniform(0.5, 1.0)
    if retry_after_s is not None:
        delay = max(delay, min(retry_after_s, cap_s))
    return delay


def gives_up(first_attempt_ms: int, retry_at_ms: int, give_up_s: float) -> bool:
    return retry_at_ms - first_attempt_ms > give_up_s * 1000
