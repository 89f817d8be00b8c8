"""Scale-out benchmark: what one and two webhook processes on PostgreSQL + Redis handle,
beside one polling process on SQLite (the single-machine install).

For each set-up the real bot runs as child processes (`python -m bot run`) against the
burst fake of `bench.burst_fake` (its own process; Telegram's flood limits lifted, so this
measures the bot, not Telegram's budget), and two workloads are pushed:

1. a burst of distinct members' updates at once (group cards, /help, votes): updates/s
   from the first update to the last answer, and how many failed;
2. a steady 200 updates/s (55 % votes, 25 % cards, 10 % /help, 5 % /groups, 5 % joins):
   end-to-end latency of each reply (update pushed to answer received), p50 and p99.

`python -m bench scale [--quick] [--database-url URL --redis-url URL]` (defaults:
BENCH_DATABASE_URL / TEST_DATABASE_URL and BENCH_REDIS_URL / TEST_REDIS_URL; their schema
and keys are wiped: give scratch ones). Without them only the SQLite line is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
from pathlib import Path
from typing import Any

from bench.handlers import (
    FIRST_USER,
    QUICK_NOTE,
    Child,
    Outcome,
    bot_env,
    fake_server,
    free_port,
    prepare,
    reset_postgres,
    reset_redis,
    run_burst,
    spawn,
    spec,
    started,
    steady_load,
    table,
)

RATE = 200  # updates a second in the steady load
BURST_MIX = (("card", 5), ("help", 3), ("vote", 2))


def burst_specs(size: int, world: Any, seed: int = 7) -> list[dict[str, Any]]:
    """`size` distinct members, one update each."""
    rng = random.Random(seed)
    kinds = [k for k, weight in BURST_MIX for _ in range(weight)]
    return [spec(rng.choice(kinds), FIRST_USER + i, world, rng) for i in range(size)]


async def measure(
    name: str,
    processes: int,
    db_url: str,
    redis_url: str | None,
    folder: str,
    quick: bool,
) -> dict[str, Any]:
    """Start the set-up, run the burst and the steady load, stop it."""
    size, seconds = (500, 10) if quick else (2000, 30)
    members = size + RATE * seconds + 10
    if redis_url:
        await reset_postgres(db_url)
        await reset_redis(redis_url)
    world = await prepare(db_url, members)
    webhook = redis_url is not None
    with fake_server(members, limits=False) as fake:
        children: list[Child] = []
        ports = [free_port() for _ in range(processes)]
        try:
            for i, port in enumerate(ports):
                await fake.reset()
                extra: dict[str, Any] = {"send_rate_global": 0, "run_delivery": "false"}
                if webhook:
                    extra.update(
                        redis_url=redis_url, webhook_url="https://bench.invalid", webhook_port=port
                    )
                env = bot_env(fake, db_url, **extra)
                children.append(spawn("bot run", env, folder, f"{name}-{i}"))
                await started(fake, children[-1], webhook=webhook)
            if webhook:
                targets = [f"http://127.0.0.1:{port}/telegram" for port in ports]
                await fake.call("POST", "/webhook", {"targets": targets, "connections": 40})
            await asyncio.sleep(2)
            burst = await run_burst(fake, children, burst_specs(size, world))
            await asyncio.sleep(1.1)
            # Voters of the burst vote again (named polls allow a change): still one update.
            load = await run_burst(
                fake, children, steady_load(world, RATE, seconds), rate=RATE, patience=60
            )
        finally:
            for child in children:
                child.stop()
    return {"name": name, "burst": burst, "load": load, "size": size, "seconds": seconds}


def report(rows: list[dict[str, Any]], quick: bool) -> str:
    lines = []
    header = (
        "set-up",
        "burst: updates/s",
        "failed",
        f"{RATE}/s: answered",
        "p50",
        "p99",
        "failed",
    )
    body: list[tuple[str, ...]] = []
    for row in rows:
        burst: Outcome = row["burst"]
        load: Outcome = row["load"]
        body.append(
            (
                row["name"],
                f"{burst.rate:.0f}",
                f"{burst.failed} of {burst.pushed}",
                f"{load.answered} of {load.pushed}",
                _ms(load.percentile(0.5)),
                _ms(load.percentile(0.99)),
                str(load.failed),
            )
        )
    lines.append(table(body, header))
    size, seconds = rows[0]["size"], rows[0]["seconds"]
    lines.append(
        f"burst: {size} distinct members at once; steady: {RATE} updates/s for {seconds} s; "
        "latency from the update pushed to its answer received; Telegram's limits lifted"
        + (QUICK_NOTE if quick else "")
    )
    return "\n".join(lines)


def _ms(seconds: float) -> str:
    if seconds != seconds:  # NaN: nothing answered
        return "-"
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def run(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench scale", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="smaller workloads (a few minutes)")
    ap.add_argument("--database-url", help="scratch PostgreSQL URL (wiped)")
    ap.add_argument("--redis-url", help="scratch Redis URL (flushed)")
    args, _rest = ap.parse_known_args(argv)
    from bot.core.config import normalise_db_url

    pg = (
        args.database_url
        or os.environ.get("BENCH_DATABASE_URL")
        or os.environ.get("TEST_DATABASE_URL")
    )
    redis = args.redis_url or os.environ.get("BENCH_REDIS_URL") or os.environ.get("TEST_REDIS_URL")
    load = os.getloadavg()
    print(
        f"Scale-out benchmark: {os.cpu_count()} CPUs, load average {load[0]:.2f} at start",
        flush=True,
    )
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        sqlite = f"sqlite+aiosqlite:///{Path(folder) / 'scale.sqlite3'}"
        print("polling, SQLite ...", flush=True)
        rows.append(asyncio.run(measure("1 polling, SQLite", 1, sqlite, None, folder, args.quick)))
        if pg and redis:
            url = normalise_db_url(pg)
            for processes in (1, 2):
                name = f"{processes} webhook, PostgreSQL + Redis"
                print(f"{name} ...", flush=True)
                rows.append(asyncio.run(measure(name, processes, url, redis, folder, args.quick)))
        else:
            print("PostgreSQL + Redis skipped: give --database-url and --redis-url")
    print(report(rows, args.quick), flush=True)
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.2f}")
    return 0
