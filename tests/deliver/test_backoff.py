from __future__ import annotations

import random

from deliver.backoff import gives_up, next_delay, retry_after_seconds


def test_first_retry_within_the_first_delay_then_doubling_with_jitter() -> None:
    rng = random.Random(7)
    for attempts in range(1, 12):
        delays = [next_delay(attempts, first_s=10, cap_s=3600, rng=rng) for _ in range(200)]
        base = min(3600, 10 * 2 ** (attempts - 1))
        assert all(base * 0.5 <= d <= base for d in delays)
        assert len({round(d, 6) for d in delays}) > 100  # jittered, not one value


def test_retry_after_is_honoured_within_the_cap() -> None:
    rng = random.Random(1)
    assert next_delay(1, first_s=10, cap_s=3600, rng=rng, retry_after_s=120) == 120
    assert next_delay(1, first_s=10, cap_s=60, rng=rng, retry_after_s=7200) == 60
    assert next_delay(1, first_s=10, cap_s=3600, rng=rng, retry_after_s=0) <= 10


def test_retry_after_header_forms() -> None:
    now_ms = 1_700_000_000_000  # 2023-11-14T22:13:20Z
    assert retry_after_seconds("30", now_ms) == 30
    assert retry_after_seconds("Tue, 14 Nov 2023 22:14:20 GMT", now_ms) == 60
    assert retry_after_seconds("soon", now_ms) is None and retry_after_seconds(None, now_ms) is None


def test_gives_up_after_the_window() -> None:
    day_ms = 86_400_000
    assert not gives_up(0, day_ms, 86_400) and gives_up(0, day_ms + 1, 86_400)
