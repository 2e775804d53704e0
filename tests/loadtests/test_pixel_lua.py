"""The pixel phase's wrk script sends the same real user agents as the drain backlog (loadtests/bench.py)."""

from __future__ import annotations

import re
from pathlib import Path

from loadtests.bench import BENCH_AGENTS, PIXEL_LUA


def test_the_lua_agents_are_the_bench_agents():
    text = Path(PIXEL_LUA).read_text()
    block = text[text.index("local agents = {") : text.index("}", text.index("local agents = {"))]
    lua = [m.replace('\\"', '"').replace("\\\\", "\\") for m in re.findall(r'^\s*"(.*)",?$', block, re.M)]
    assert lua == list(BENCH_AGENTS)
    assert "X-Forwarded-For" in text
