"""``make bench``: one run on one machine, everything on 127.0.0.1, a table and a JSON file at the end.

Phases (each bounded in time and count):
1. pixel maximum: wrk against nginx serving the same GIF and against the API's ``/i``, alternating,
   each server pinned to core 0 and wrk to core 1 (the aggregator is stopped so it does not share the
   core: the hits pile up in Kafka); reported as req/s, req per server CPU-second, and their ratio.
   In the same rounds, do-nothing RSGI and ASGI apps under granian (``loadtests.noop``): the ceiling
   of any Python app here (``pixel_max.ceiling``).
2. aggregator drain: the aggregator restarts on that backlog; rows/s until every hit is in ClickHouse,
   its peak RSS, and ClickHouse's own rate for the same final rows: ``INSERT ... SELECT`` of the drained
   rows into ``events`` of a scratch database with the same schema (every materialized view), so
   ``ratio_to_engine`` is the share of the engine's own insert speed the pipeline reaches.
   ``--drain-only --backlog N`` runs phase 2 only, on N hits put on Kafka directly as the API's publisher
   would (``schemas.hits`` messages of 500 hits, every partition). The drain rate counts the rows stored
   after the first insert became visible, over the time since (``startup_s``: the process start, the
   consumer group join and the first batch, apart).
3. latency at a fixed offered rate (50% and 80% of the measured maximum): the pixel with hey, the
   postback (acks=all before answering) with paced locust users; p50/p99. The API stays on core 0; the
   aggregator and the ClickHouse endpoint are pinned to core 1 with the load generator (Kafka floats).
4. freshness: received_at (API) to inserted_at (ClickHouse, where ad_kpis sees it in the same insert),
   p50/p99 over the 50% phase, and a probe polling ad_kpis for a tagged event.
5. soak: a traffic mix (pixel >> clicks > postbacks) at a fixed rate; RSS of the API and the
   aggregator at the end; loss = 2xx answers counted by the load generators - rows in ClickHouse.

``--phases`` runs a subset (same JSON keys for what runs), e.g. the front door alone:
``python -m loadtests.bench --phases pixel,postback,latency`` (``make bench-frontdoor``).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

from adpulse.settings import Settings
from loadtests import bench_enrich, bench_reports
from loadtests.procs import cpu_seconds, memory_mb, pin, tree, unpin
from loadtests.stack import REPO, Nginx, NoopApp, Stack
from loadtests.tools import LoadResult, hey, locust_fixed_rate, wrk

PIXEL_QUERY = ("utm_source=google&utm_medium=cpc&utm_campaign=spring_sale&utm_content={ad}&utm_term=running+shoes"
               "&campaign_id=c-77&cost=0.0021")  # fmt: skip


def count(stack: Stack, where: str, **params: Any) -> int:
    with stack.clickhouse() as ch:
        return int(ch.query(f"SELECT count() FROM adpulse.events WHERE {where}", parameters=params).result_rows[0][0])


def wait_count(stack: Stack, expected: int, where: str, timeout: float, **params: Any) -> tuple[int, float]:
    started = time.monotonic()
    seen = count(stack, where, **params)
    while seen < expected and time.monotonic() - started < timeout:
        time.sleep(0.05)
        seen = count(stack, where, **params)
    return seen, time.monotonic() - started


def measured(pids: list[int], run: Any) -> tuple[LoadResult, float]:
    before = cpu_seconds(pids)
    result = run()
    return result, cpu_seconds(pids) - before


PHASES = ("pixel", "drain", "postback", "latency", "freshness", "soak", "reports", "enrich")


# Real, varied user agents and addresses in the pixel phase (issue 11: every hit is enriched and classified).
PIXEL_LUA = str(REPO / "loadtests/pixel.lua")


def pixel_max(stack: Stack, seconds: float, rounds: int, ad: str, ceiling: bool = True) -> dict[str, Any]:
    api_pids = tree(stack.pid("api"))
    pin(api_pids, 0)
    url = f"{stack.api}/i?{PIXEL_QUERY.format(ad=ad)}"
    noops = ("noop_rsgi", "noop_asgi") if ceiling else ()
    # api_plain: the same API and URL without the script (no user agent, loopback address: nothing to look
    # up, short hits), what this phase measured before enrichment -- the cost of realistic traffic, same run.
    runs: dict[str, list[tuple[LoadResult, float]]] = {"nginx": [], "api": [], "api_plain": [],
                                                       **{n: [] for n in noops}}  # fmt: skip
    nginx_pids: list[int] = []
    for _ in range(rounds):
        nginx = Nginx(stack.run_dir / "nginx")
        nginx_url = nginx.start()
        nginx_pids = tree(nginx.process.pid) if nginx.process else []
        runs["nginx"].append(measured(nginx_pids, lambda u=nginx_url: wrk(u, seconds, script=PIXEL_LUA)))
        nginx.stop()
        runs["api"].append(measured(api_pids, lambda: wrk(url, seconds, script=PIXEL_LUA)))
        runs["api_plain"].append(measured(api_pids, lambda: wrk(url, seconds)))
        for name in noops:
            noop = NoopApp(name.removeprefix("noop_"))
            noop_url = noop.start()
            noop_pids = tree(noop.process.pid) if noop.process else []
            pin(noop_pids, 0)
            runs[name].append(measured(noop_pids, lambda u=noop_url: wrk(f"{u}?{PIXEL_QUERY.format(ad=ad)}", seconds,
                                                                         script=PIXEL_LUA)))  # fmt: skip
            noop.stop()

    def summary(name: str) -> dict[str, float]:
        rates = [r.rate for r, _ in runs[name]]
        per_cpu = [r.requests / cpu for r, cpu in runs[name] if cpu > 0]
        return {"rps": round(statistics.median(rates)), "rps_per_cpu_s": round(statistics.median(per_cpu)),
                "p99_ms": round(statistics.median(r.p99_ms or 0 for r, _ in runs[name]), 2)}  # fmt: skip

    nginx_s, api_s = summary("nginx"), summary("api")
    sent_ok = sum(r.ok for r, _ in runs["api"]) + sum(r.ok for r, _ in runs["api_plain"])
    plain = summary("api_plain")
    out = {
        "nginx": nginx_s,
        "api": api_s,
        "api_plain": plain | {"ratio": round(plain["rps"] / nginx_s["rps"], 3)},
        "ratio": round(api_s["rps"] / nginx_s["rps"], 3),
        "ratio_per_cpu": round(api_s["rps_per_cpu_s"] / nginx_s["rps_per_cpu_s"], 3),
        "answered_ok": sent_ok,
        # every round's figures, to judge the noise on a shared machine
        "rounds_rps": {name: [round(r.rate) for r, _ in results] for name, results in runs.items()},
    }
    if noops:
        out["ceiling"] = {name: summary(name) | {"ratio": round(summary(name)["rps"] / nginx_s["rps"], 3),
                          "ratio_per_cpu": round(summary(name)["rps_per_cpu_s"] / nginx_s["rps_per_cpu_s"], 3)}
                          for name in noops}  # fmt: skip
    return out


def drain(stack: Stack, expected: int, ad: str) -> dict[str, Any]:
    before = count(stack, "ad_id = {ad:String}", ad=ad)
    stack.start_aggregator()
    first, startup = wait_count(stack, before + 1, "ad_id = {ad:String}", timeout=120, ad=ad)
    seen, elapsed = wait_count(stack, expected, "ad_id = {ad:String}", timeout=600, ad=ad)
    # From the first insert seen to the last: the rows the first insert brought are not counted. When one
    # insert carried the whole backlog (a small one: a batch holds 100,000 rows), the rate is from the
    # aggregator's start instead, start-up included (``rate_basis``).
    if elapsed > 0 and seen > first:
        rows_per_s, basis = round((seen - first) / elapsed), "after_first_insert"
    else:
        rows_per_s, basis = round((seen - before) / max(startup + elapsed, 1e-3)), "from_start"
    engine = engine_rows_per_s(stack, ad)
    # ``engine_rows_per_s`` / ``ratio_to_engine``: against ClickHouse inserting the same final rows sent as a
    # client sends them (Native, the aggregator's batch size); ``*_select``: against INSERT ... SELECT, which
    # parses nothing (the key's meaning until 2026-12-06).
    return {"rows": seen - before, "seconds": round(startup + elapsed, 2), "startup_s": round(startup, 2),
            "rows_per_s": rows_per_s, "rate_basis": basis,
            "engine_rows_per_s": engine["client"],
            "ratio_to_engine": round(rows_per_s / engine["client"], 3) if engine["client"] else None,
            "engine_select_rows_per_s": engine["select"],
            "ratio_to_engine_select": round(rows_per_s / engine["select"], 3) if engine["select"] else None,
            "aggregator_memory": memory_mb([stack.pid("aggregator")])}  # fmt: skip


SCRATCH_DB = "adpulse_bench_scratch"
HITS_PER_MESSAGE = 500
# Real, varied browsers (and a few bots, as real traffic has) for the backlog: the hit path classifies
# every hit (issue 11), and a cache or a pattern engine must not be flattered by one repeated agent.
BENCH_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; M2101K6G) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Mobile Safari/537.36 OPR/85.0.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/485.0]",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
    "curl/8.5.0",
)


def put_backlog(stack: Stack, hits: int, ad: str) -> int:
    """``hits`` pixel hits on the events topic, as the API's publisher sends them."""
    import asyncio

    from aiokafka import AIOKafkaProducer

    from adpulse.settings import load_settings
    from ingest.enrich import Enricher
    from ingest.rawhit import raw_hit
    from schemas import hits as codec

    query = PIXEL_QUERY.format(ad=ad).encode()
    now_ms = int(time.time() * 1000)
    # Enriched as the API enriches (issue 11), from public /24s all over the address space.
    enricher = Enricher(load_settings().geo_path())
    networks = bench_enrich.networks(4096, random.Random(11))

    async def send() -> int:
        producer = AIOKafkaProducer(bootstrap_servers=f"127.0.0.1:{stack.env['KAFKA_PORT']}", acks="all",
                                    max_request_size=4 * 1024 * 1024, linger_ms=5)  # fmt: skip
        await producer.start()
        try:
            partitions = sorted(await producer.partitions_for("adpulse.events"))
            sent = 0
            deliveries = []
            while sent < hits:
                n = min(HITS_PER_MESSAGE, hits - sent)
                lines = []
                for i in range(n):
                    ua, ip = BENCH_AGENTS[(sent + i) % len(BENCH_AGENTS)], networks[(sent + i) // 7 % len(networks)]
                    lines.append(codec.encode(raw_hit(query, ua, ip, "", now_ms, "", enricher.hit_fields(ua, ip))[0]))
                value = codec.join(lines)
                partition = partitions[(sent // HITS_PER_MESSAGE) % len(partitions)]
                deliveries.append(await producer.send("adpulse.events", value, partition=partition,
                                                      headers=codec.HEADERS))  # fmt: skip
                sent += n
            for delivery in deliveries:
                await delivery
            return sent
        finally:
            await producer.stop()

    return asyncio.run(send())


ENGINE_BATCH_ROWS: int = Settings.model_fields["batch_max_rows"].default  # the aggregator's default batch


def engine_rows_per_s(stack: Stack, ad: str) -> dict[str, int]:
    """ClickHouse inserting the drained rows itself, into ``events`` of a scratch database migrated like the
    real one (every view on ``events`` runs), two ways, both timed as the wall time of the statements:

    - ``client``: the final rows as a client sends them: read back in ClickHouse's Native format (encoded
      before the clock starts, so no Python encoding is timed) and inserted through the same endpoint in
      chunks of the aggregator's batch size, one insert at a time, as the aggregator inserts;
    - ``select``: one ``INSERT ... SELECT`` of all of them, which moves blocks inside the engine and parses
      nothing (the upper bound of the engine on this box)."""
    from schemas.migrate import migrate

    with stack.clickhouse() as ch:
        ch.command(f"DROP DATABASE IF EXISTS {SCRATCH_DB}")
        migrate(ch, SCRATCH_DB)
        columns = [row[0] for row in ch.query("SELECT name FROM system.columns WHERE database = 'adpulse' "
                                              "AND table = 'events' AND default_kind = '' ORDER BY position").result_rows]  # fmt: skip
        names = ", ".join(columns)
        total = count(stack, "ad_id = {ad:String}", ad=ad)
        chunks = max(1, -(-total // ENGINE_BATCH_ROWS))
        bodies = [
            ch.raw_query(f"SELECT {names} FROM adpulse.events WHERE ad_id = {{ad:String}} "
                         f"AND cityHash64(event_id) % {chunks} = {k}", parameters={"ad": ad}, fmt="Native")
            for k in range(chunks)
        ]  # fmt: skip
        settings = {"async_insert": 0}
        started = time.monotonic()
        for body in bodies:
            ch.raw_insert(f"{SCRATCH_DB}.events", columns, insert_block=body, fmt="Native", settings=settings)
        client_s = time.monotonic() - started
        del bodies
        client_rows = int(ch.query(f"SELECT count() FROM {SCRATCH_DB}.events").result_rows[0][0])
        ch.command(f"TRUNCATE TABLE {SCRATCH_DB}.events")
        sql = (f"INSERT INTO {SCRATCH_DB}.events ({names}) SELECT {names} FROM adpulse.events "
               "WHERE ad_id = {ad:String}")  # fmt: skip
        started = time.monotonic()
        ch.command(sql, parameters={"ad": ad}, settings=settings)
        select_s = time.monotonic() - started
        select_rows = int(ch.query(f"SELECT count() FROM {SCRATCH_DB}.events").result_rows[0][0])
        ch.command(f"DROP DATABASE IF EXISTS {SCRATCH_DB}")
    return {"client": round(client_rows / client_s) if client_s > 0 else 0,
            "select": round(select_rows / select_s) if select_s > 0 else 0}  # fmt: skip


def freshness(stack: Stack, ad: str) -> dict[str, Any]:
    with stack.clickhouse() as ch:
        sql = ("SELECT quantiles(0.5, 0.99)(dateDiff('millisecond', received_at, inserted_at)) "
               "FROM adpulse.events WHERE ad_id = {ad:String}")  # fmt: skip
        p50, p99 = ch.query(sql, parameters={"ad": ad}).result_rows[0][0]
    probes = []
    with httpx.Client(base_url=stack.api) as http, stack.clickhouse() as ch:
        for _ in range(10):
            tag = f"probe-{uuid.uuid4().hex[:10]}"
            http.get("/i", params={"ad_id": tag})
            answered = time.monotonic()
            while not ch.query("SELECT count() FROM adpulse.ad_kpis WHERE ad_id = {t:String}",
                               parameters={"t": tag}).result_rows[0][0]:  # fmt: skip
                if time.monotonic() - answered > 30:
                    break
                time.sleep(0.01)
            probes.append(time.monotonic() - answered)
    probes.sort()
    return {"inserted_p50_ms": p50, "inserted_p99_ms": p99,
            "probe_p50_ms": round(probes[len(probes) // 2] * 1000), "probe_max_ms": round(probes[-1] * 1000)}  # fmt: skip


def pin_pipeline(stack: Stack) -> dict[str, int]:
    """The API on core 0; the aggregator and the ClickHouse endpoint on core 1, off the API's core."""
    pin(tree(stack.pid("api")), 0)
    for name in ("aggregator", "clickhouse"):
        pin(tree(stack.pid(name)), 1)
    return {"api": 0, "aggregator": 1, "clickhouse": 1, "load_generator": 1}


def unpin_pipeline(stack: Stack) -> None:
    """Undo :func:`pin_pipeline`: the API, the aggregator and the ClickHouse endpoint on every core."""
    for name in ("api", "aggregator", "clickhouse"):
        unpin(tree(stack.pid(name)))


def fixed_rate(stack: Stack, pixel_max_rps: float, postback_max_rps: float, seconds: float, ad: str) -> dict[str, Any]:
    out: dict[str, Any] = {"cores": pin_pipeline(stack)}
    os.sched_setaffinity(0, {1})
    for share in (0.5, 0.8):
        pixel = hey(
            f"{stack.api}/i?{PIXEL_QUERY.format(ad=f'{ad}-{int(share * 100)}')}", seconds, pixel_max_rps * share
        )
        postback = locust_fixed_rate(stack.api, str(REPO / "loadtests/postback_user.py"), seconds,
                                     postback_max_rps * share, csv_prefix=str(stack.run_dir / f"postback{share}"))  # fmt: skip
        out[f"{int(share * 100)}%"] = {"pixel": asdict(pixel) | {"offered_rps": round(pixel_max_rps * share)},
                                       "postback": asdict(postback) | {"offered_rps": round(postback_max_rps * share)}}  # fmt: skip
    os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    return out


def postback_max(stack: Stack, seconds: float) -> LoadResult:
    script = str(REPO / "loadtests/postback.lua")
    return wrk(f"{stack.api}/postback", seconds, connections=32, script=script)


def soak(stack: Stack, rate: float, seconds: float, ad: str) -> dict[str, Any]:
    """90% pixel (hey), 10% clicks + postbacks through the batch API in 100-event requests (open loop).
    The load generators run on core 1; the stack on every core (the postback and fixed-rate phases pin it
    for their latencies: until 2026-12-06 that pinning carried over into the soak, leaving the engine, the
    aggregator and the generators on one core while the API had the other)."""
    unpin_pipeline(stack)
    os.sched_setaffinity(0, {1})
    pixels: list[LoadResult] = []

    def browse() -> None:
        # hey keeps at most 1,000,000 results: run it in pieces that stay under that.
        left = seconds
        while left > 0:
            piece = min(left, max(1.0, 800_000 / (rate * 0.9)))
            pixels.append(hey(f"{stack.api}/i?{PIXEL_QUERY.format(ad=ad)}", piece, rate * 0.9))
            left -= piece

    browsers = threading.Thread(target=browse)
    browsers.start()  # at the same time as the clicks below
    side = max(1.0, rate * 0.1 / 100)
    click_ok = 0
    started = time.monotonic()
    with httpx.Client(base_url=stack.api, timeout=10) as http:
        sent = 0
        while time.monotonic() - started < seconds:
            items = [{"type": "click", "ad_id": ad, "click_id": f"s{uuid.uuid4().hex}", "url": "https://shop.example.com/"}
                     for _ in range(100)]  # fmt: skip
            response = http.post("/v1/events", json=items)
            if response.status_code == 200:
                click_ok += response.json()["accepted"]
            sent += 1
            time.sleep(max(0.0, started + sent / side - time.monotonic()))
    browsers.join()
    os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    expected = sum(p.ok for p in pixels) + click_ok
    seen, _ = wait_count(stack, expected, "ad_id = {ad:String}", timeout=120, ad=ad)
    time.sleep(1)
    seen = count(stack, "ad_id = {ad:String}", ad=ad)
    return {"offered_rps": rate, "seconds": seconds, "cores": "stack unpinned, load generators on core 1",
            "acknowledged": expected, "stored": seen,
            "lost": expected - seen, "freshness": freshness(stack, ad),
            "api_memory": memory_mb(tree(stack.pid("api"))[1:]),  # the worker(s); granian's supervisor apart
            "api_supervisor_memory": memory_mb([stack.pid("api")]),
            "aggregator_memory": memory_mb([stack.pid("aggregator")])}  # fmt: skip


def run(args: argparse.Namespace) -> dict[str, Any]:
    run_dir = Path(tempfile.mkdtemp(prefix="adpulse-bench-"))
    # Behind a (pretend) trusted proxy: the pixel phase's X-Forwarded-For addresses are the visitors' (pixel.lua).
    stack = Stack(run_dir, extra_env={"ADPULSE_TRUST_FORWARDED": "true"})
    stack.up()
    try:
        phases = set(args.phases)
        results: dict[str, Any] = {"date": datetime.now(UTC).isoformat(timespec="seconds"),
                                   "machine": f"{os.cpu_count()} cores", "mode": "smoke" if args.smoke else "full",
                                   "phases": [p for p in PHASES if p in phases]}  # fmt: skip
        ad = f"bench-{uuid.uuid4().hex[:8]}"
        stack.stop_aggregator()
        if args.drain_only:
            results["drain"] = drain(stack, put_backlog(stack, args.backlog, ad), ad)
            results["drain"]["backlog"] = args.backlog
            results["drain"]["lost"] = args.backlog - results["drain"]["rows"]
            return results
        pixel_rps = pb_rps = 0.0
        if "pixel" in phases:
            results["pixel_max"] = pixel_max(stack, args.seconds, args.rounds, ad, ceiling=not args.smoke)
            published = stack.api_metric('adpulse_events_published_total{event_type="hit"}')
            results["pixel_max"]["handed_to_kafka"] = int(published)
            pixel_rps = results["pixel_max"]["api"]["rps"]
        if "drain" in phases and "pixel" in phases:
            results["drain"] = drain(stack, results["pixel_max"]["answered_ok"], ad)
            results["drain"]["lost"] = results["pixel_max"]["answered_ok"] - results["drain"]["rows"]
        stack.start_aggregator()  # running (and pinned off the API's core) for what follows
        if "postback" in phases:
            pin_pipeline(stack)
            pb = postback_max(stack, args.seconds)
            results["postback_max"] = {"rps": round(pb.rate), "p99_ms": pb.p99_ms}
            pb_rps = pb.rate
        if "latency" in phases and pixel_rps and pb_rps:
            results["fixed_rate"] = fixed_rate(stack, pixel_rps, pb_rps, args.seconds, ad)
        if "freshness" in phases and "fixed_rate" in results:
            results["freshness_50"] = freshness(stack, f"{ad}-50")
        if "soak" in phases:
            results["soak"] = soak(stack, args.soak_rate, args.soak_seconds, f"{ad}-soak")
        return results
    finally:
        stack.down()


def drain_table(r: dict[str, Any]) -> list[tuple[str, str]]:
    d = r["drain"]
    return [
        ("aggregator drain from backlog", f"{d['rows_per_s']} rows/s ({d['rows']} rows, lost {d['lost']})"),
        ("ClickHouse's own insert of those rows, Native", f"{d['engine_rows_per_s']} rows/s; drain ratio {d['ratio_to_engine']}x (target >= 0.7)"),
        ("the same by INSERT ... SELECT (no parsing)", f"{d['engine_select_rows_per_s']} rows/s; drain ratio {d['ratio_to_engine_select']}x"),
        ("aggregator RSS after drain / peak", f"{d['aggregator_memory']['rss_mb']} MB / {d['aggregator_memory']['hwm_mb']} MB"),
    ]  # fmt: skip


def table(r: dict[str, Any]) -> str:
    rows: list[tuple[str, str]] = []
    if "pixel_max" in r:
        px = r["pixel_max"]
        rows += [
            ("pixel max, API (1 worker, core 0)", f"{px['api']['rps']} req/s, {px['api']['rps_per_cpu_s']} req/CPU-s"),
            ("pixel max, nginx same GIF (core 0)", f"{px['nginx']['rps']} req/s, {px['nginx']['rps_per_cpu_s']} req/CPU-s"),
            ("pixel ratio API/nginx", f"{px['ratio']}x (per CPU-second {px['ratio_per_cpu']}x); target >= 0.5x"),
            ("same API, no user agent, loopback", f"{px['api_plain']['rps']} req/s, {px['api_plain']['ratio']}x nginx"),
            ("hits handed to Kafka / answered 200", f"{px['handed_to_kafka']} / {px['answered_ok']}"),
        ]  # fmt: skip
        for name, c in px.get("ceiling", {}).items():
            rows.append(
                (f"ceiling: {name} / nginx", f"{c['rps']} req/s, {c['ratio']}x (per CPU-second {c['ratio_per_cpu']}x)")
            )
    if "drain" in r:
        rows += drain_table(r)
    if "postback_max" in r:
        rows.append(("postback max (acks=all)", f"{r['postback_max']['rps']} req/s"))
    for share in ("50%", "80%") if "fixed_rate" in r else ():
        p, b = r["fixed_rate"][share]["pixel"], r["fixed_rate"][share]["postback"]
        rows.append(
            (f"pixel at {share} ({p['offered_rps']} req/s)", f"p50 {p['p50_ms']:.2f} ms, p99 {p['p99_ms']:.2f} ms")
        )
        rows.append(
            (
                f"postback at {share} ({b['offered_rps']} req/s)",
                f"p50 {b['p50_ms']:.2f} ms, p99 {b['p99_ms']:.2f} ms; target p99 < 20 ms at 50%",
            )
        )
    if "freshness_50" in r:
        f50 = r["freshness_50"]
        rows += [
            (
                "freshness at 50% (answer -> ClickHouse)",
                f"p50 {f50['inserted_p50_ms']} ms, p99 {f50['inserted_p99_ms']} ms; target p99 < 1500",
            ),
            ("freshness probe (answer -> ad_kpis)", f"p50 {f50['probe_p50_ms']} ms, max {f50['probe_max_ms']} ms"),
        ]
    if "soak" in r:
        soak_r = r["soak"]
        rows += [
            (f"soak {soak_r['offered_rps']}/s for {soak_r['seconds']} s", f"acknowledged {soak_r['acknowledged']}, stored {soak_r['stored']}, lost {soak_r['lost']}"),
            ("soak freshness p99", f"{soak_r['freshness']['inserted_p99_ms']} ms"),
            ("RSS after soak: API worker / aggregator", f"{soak_r['api_memory']['rss_mb']} MB / {soak_r['aggregator_memory']['rss_mb']} MB (targets 80 / 200); granian supervisor {soak_r['api_supervisor_memory']['rss_mb']} MB"),
        ]  # fmt: skip
    width = max((len(k) for k, _ in rows), default=0)
    return "\n".join(f"| {k.ljust(width)} | {v} |" for k, v in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="a few seconds per phase: the harness works, nothing lost")
    parser.add_argument("--seconds", type=float, default=15.0, help="per load phase")
    parser.add_argument("--rounds", type=int, default=3, help="alternating nginx/API runs for the maximum")
    parser.add_argument("--soak-rate", type=float, default=5000.0)
    parser.add_argument("--soak-seconds", type=float, default=600.0)
    parser.add_argument("--out", type=Path, default=REPO / "loadtests/results/latest.json")
    parser.add_argument("--phases", type=lambda v: [p.strip() for p in v.split(",") if p.strip()],
                        default=list(PHASES), help=f"comma-separated subset of {','.join(PHASES)} (default: all)")  # fmt: skip
    parser.add_argument("--drain-only", action="store_true", help="only the drain, of --backlog hits put on Kafka")
    parser.add_argument("--backlog", type=int, default=500_000, help="hits for --drain-only")
    args = parser.parse_args(argv)
    unknown = set(args.phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phases {sorted(unknown)}; choose from {','.join(PHASES)}")
    if args.smoke:
        args.seconds, args.rounds, args.soak_rate, args.soak_seconds = 2.0, 1, 300.0, 3.0
    results = run(args)
    if "reports" in args.phases and not args.drain_only:  # KPI report latency on the embedded engine
        results["reports"] = bench_reports.measure(smoke=args.smoke)
    if "enrich" in args.phases:  # the enrichment's cost per pixel hit, against the raw hit alone
        results["enrichment"] = bench_enrich.measure(hits=20_000 if args.smoke else 200_000)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    print(table(results))
    if "reports" in results:
        print(bench_reports.summary(results["reports"]))
    if "enrichment" in results:
        print(bench_enrich.summary(results["enrichment"]))
    print(f"\n(JSON: {args.out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
