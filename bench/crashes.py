"""Crashes and stops in the middle of a fan-out: what is lost, what is sent twice.

1. kill -9: the engine (`python -m bot worker`, a child process) sends one notice to N
   recipients and is killed (SIGKILL) at K points spread over the fan-out, started again
   after each kill. Printed: per kill, the sends made before it and the duplicates it caused
   (copies sent again after the restart because their outcome was not written); at the end,
   the recipients never reached (must be 0) and what the store says.
2. SIGTERM: the same fan-out, stopped gracefully S times and started again. Printed: the
   duplicates (the policy: 0) and the recipients never reached (0).

Against the fake Bot API server in a process of its own (latency 0.1 s, Telegram's 30
messages per second); on SQLite, and on PostgreSQL when BENCH_DATABASE_URL is set (its
schema is dropped first). `python -m bench crashes [--quick]`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

from bench.delivery import (
    QUICK_NOTE,
    ROOT,
    TOKEN,
    FakeServers,
    fake_servers,
    prepare,
    reset_db,
    sqlite_url,
)

LOGS: dict[int, Any] = {}  # worker pid -> its log file
LEASE = 2.0  # DELIVERY_LEASE_SECONDS of the runs: a dead worker's claims come back after it


def worker(servers: FakeServers, db_url: str) -> subprocess.Popen[bytes]:
    """The delivery engine alone, as deployed at scale, in a child process."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": servers.base_url,
        "DATABASE_URL": db_url,
        "REDIS_URL": "",
        "ADMIN_IDS": "",
        "DELIVERY_LEASE_SECONDS": str(LEASE),
        "DELIVERY_POLL_SECONDS": "0.2",
        "SEND_RATE_GLOBAL": "30",
    }
    # The log goes to a file: a full pipe would stall the worker.
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    LOGS[proc.pid] = log
    return proc


async def sent_so_far(servers: FakeServers) -> tuple[int, int, int]:
    """(sends, distinct recipients reached, duplicate copies) as the fake Telegram saw them."""
    sent = (await servers.stats())["sent"]
    return sum(sent.values()), len(sent), sum(n - 1 for n in sent.values() if n > 1)


async def wait_sends(servers: FakeServers, target: int, within: float) -> None:
    deadline = time.monotonic() + within
    while (await sent_so_far(servers))[0] < target:
        if time.monotonic() > deadline:
            raise RuntimeError(f"fewer than {target} sends within {within:.0f}s")
        await asyncio.sleep(0.05)


async def open_deliveries(db_url: str, broadcast_id: int) -> tuple[int, int]:
    """(pending or sending, sent) deliveries as the store says."""
    from sqlalchemy import func, select

    from bot.core.db import create_engine, create_sessionmaker
    from models.delivery import Delivery, DeliveryStatus

    engine = create_engine(db_url)
    try:
        async with create_sessionmaker(engine)() as session:
            rows = await session.execute(
                select(Delivery.status, func.count())
                .where(Delivery.broadcast_id == broadcast_id)
                .group_by(Delivery.status)
            )
            counts = dict(rows.all())
    finally:
        await engine.dispose()
    pending = counts.get(DeliveryStatus.PENDING, 0) + counts.get(DeliveryStatus.SENDING, 0)
    return pending, counts.get(DeliveryStatus.SENT, 0)


def stop(proc: subprocess.Popen[bytes], how: signal.Signals) -> str:
    """Send the signal, wait for the end, return the child's log."""
    proc.send_signal(how)
    proc.wait(timeout=60)
    log = LOGS.pop(proc.pid)
    log.seek(0)
    text = log.read().decode("utf-8", "replace")
    log.close()
    return text


async def interrupted_fanout(
    db_url: str, recipients: int, stops: int, how: signal.Signals
) -> dict[str, Any]:
    """One fan-out interrupted `stops` times by `how`, then run to its end."""
    with fake_servers(recipients) as servers:
        await reset_db(db_url)
        broadcast_id = await prepare(db_url, recipients)
        per_stop: list[tuple[int, int]] = []  # (sends before the stop, duplicates it caused)
        tracebacks = 0
        step = recipients // (stops + 1)
        duplicates_before = 0
        for index in range(stops):
            proc = worker(servers, db_url)
            await wait_sends(servers, step * (index + 1), recipients / 10 + 120)
            sends, _reached, duplicates = await sent_so_far(servers)
            if index:
                # Copies sent twice since the previous stop: caused by that stop.
                per_stop[-1] = (per_stop[-1][0], duplicates - duplicates_before)
                duplicates_before = duplicates
            log = stop(proc, how)
            tracebacks += log.count("Traceback")
            per_stop.append((sends, 0))
        proc = worker(servers, db_url)
        deadline = time.monotonic() + recipients / 10 + 120
        while (await open_deliveries(db_url, broadcast_id))[0]:
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(LEASE + 1)  # a late duplicate would show up by now
        tracebacks += stop(proc, signal.SIGTERM).count("Traceback")
        sends, reached, duplicates = await sent_so_far(servers)
        per_stop[-1] = (per_stop[-1][0], duplicates - duplicates_before)
        pending, sent = await open_deliveries(db_url, broadcast_id)
        return {
            "per_stop": per_stop,
            "lost": recipients - reached,
            "duplicates": duplicates,
            "store_open": pending,
            "store_sent": sent,
            "tracebacks": tracebacks,
        }


def report(name: str, how: str, result: dict[str, Any], recipients: int) -> None:
    per = result["per_stop"]
    print(f"  {name}, {how} x{len(per)}:")
    print("    " + " ".join(f"{sends}:{dup}" for sends, dup in per))
    print(
        f"    lost {result['lost']} of {recipients} · duplicates {result['duplicates']}"
        f" (max {max((d for _s, d in per), default=0)} per stop)"
        f" · store: {result['store_sent']} sent, {result['store_open']} open"
        f" · tracebacks {result['tracebacks']}"
    )


def run(argv: list[str] | None = None) -> int:
    """Run both scenarios on each database and print the figures."""
    ap = argparse.ArgumentParser(prog="python -m bench crashes")
    ap.add_argument("--quick", action="store_true", help="300 recipients, 3 kills, 3 stops")
    args, _ = ap.parse_known_args(argv)
    recipients, kills, stops = (300, 3, 3) if args.quick else (2000, 10, 20)
    print(
        f"{recipients} recipients at 30 msg/s, fake latency 0.1 s, lease {LEASE:g} s"
        + (QUICK_NOTE if args.quick else "")
    )
    print("  per stop: sends before it:duplicates it caused")
    status = 0
    with tempfile.TemporaryDirectory() as folder:
        databases = [("SQLite", sqlite_url(folder, "crash.sqlite3"))]
        if os.environ.get("BENCH_DATABASE_URL"):
            databases.append(("PostgreSQL", os.environ["BENCH_DATABASE_URL"]))
        for name, url in databases:
            if url.startswith("sqlite"):
                url = sqlite_url(folder, f"kill-{name}.sqlite3")
            killed = asyncio.run(interrupted_fanout(url, recipients, kills, signal.SIGKILL))
            report(name, "kill -9", killed, recipients)
            if url.startswith("sqlite"):
                url = sqlite_url(folder, f"term-{name}.sqlite3")
            termed = asyncio.run(interrupted_fanout(url, recipients, stops, signal.SIGTERM))
            report(name, "SIGTERM", termed, recipients)
            if killed["lost"] or termed["lost"] or termed["duplicates"]:
                status = 1
    return status


if __name__ == "__main__":
    sys.exit(run())
