"""Quiet hours at scale: one announcement to members spread over 24 time zones.

10,000 members (--quick: 2,000) in 24 zones, one a whole hour apart (Etc/GMT-12 .. +11),
most with the default quiet hours 22:00-07:00, some 23:00-06:00, some with them off. One
normal-priority notice is queued to all of them at 00:30 UTC (the test clock): the members
awake get it at once; each of the others is held until their quiet hours end. The benchmark
then moves the clock to each moment some members' quiet hours end, and measures, in real
seconds, how long after that moment each of them received the message (the fake Bot API
server records each send's arrival; both processes read the same monotonic clock).

Figures: time to queue (with the holds), how many were held, the release delay per member
(median, 95th percentile, worst) and the number released late (over a minute), the global
rate (tightest 31 consecutive sends; 30 msg/s is Telegram's limit) and the 429s provoked,
duplicates and losses.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy import func, insert, select

from bench.delivery import (
    FIRST_USER,
    QUICK_NOTE,
    duplicates_and_losses,
    fake_servers,
    reset_db,
    settings_for,
    sqlite_url,
    tightest_span,
)

T0 = datetime(2027, 3, 1, 0, 30, tzinfo=UTC)
ZONES = [f"Etc/GMT{-offset:+d}" if offset else "Etc/GMT" for offset in range(-11, 13)]
SETTINGS = [(True, 22, 7)] * 8 + [(True, 23, 6), (False, 22, 7)]  # 80% default, 10%, 10%


def member_rows(count: int) -> list[dict[str, Any]]:
    """Members round-robin over the zones and the quiet-hour settings."""
    rows = []
    for i in range(count):
        quiet, start, end = SETTINGS[(i // len(ZONES)) % len(SETTINGS)]
        rows.append(
            {
                "telegram_id": FIRST_USER + i,
                "display_name": f"Member {i}",
                "locale": ("en", "es", "fr", "pt", "ar")[i % 5],
                "country": "UY",
                "region": "419",
                "timezone": ZONES[i % len(ZONES)],
                "status": "active",
                "role": "member",
                "quiet_hours": quiet,
                "quiet_start": start,
                "quiet_end": end,
            }
        )
    return rows


async def prepare(app: Any, count: int) -> tuple[int, float, dict[int, datetime]]:
    """Store the members and queue the notice; returns its id, the seconds queueing took and
    each held member's (telegram id) release time."""
    from bot.delivery.notice import enqueue_notice
    from models.delivery import Delivery

    async with app.sessionmaker() as session:
        rows = member_rows(count)
        for start in range(0, count, 5000):
            await session.execute(insert(app_member()), rows[start : start + 5000])
        await session.commit()
        started = time.perf_counter()
        broadcast = await enqueue_notice(
            session, {"en": "The regional assembly starts on Friday at 15:00."}
        )
        await session.commit()
        took = time.perf_counter() - started
        held = await session.execute(
            select(Delivery.chat_id, Delivery.next_attempt_at).where(
                Delivery.broadcast_id == broadcast.id, Delivery.next_attempt_at.is_not(None)
            )
        )
        return broadcast.id, took, {int(chat): at for chat, at in held.all()}


def app_member() -> Any:
    from models.member import Member

    return Member


async def left_to_send(app: Any, broadcast_id: int) -> int:
    from models.delivery import Delivery, DeliveryStatus

    async with app.sessionmaker() as session:
        found = await session.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(
                Delivery.broadcast_id == broadcast_id,
                Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING)),
            )
        )
    return int(found or 0)


async def arrivals(control_urls: list[str]) -> dict[int, float]:
    """When each chat's (last) message reached the fake servers (monotonic seconds)."""
    found: dict[int, float] = {}
    async with aiohttp.ClientSession() as http:
        for url in control_urls:
            async with http.get(url + "/stats", params={"by_chat": "1"}) as response:
                data = await response.json()
            found.update({int(k): float(v) for k, v in data["arrived"].items()})
    return found


async def scenario(count: int, db_url: str | None) -> dict[str, Any]:
    """Queue at T0, send what is due, then step the clock through each release moment."""
    from bot.core.clock import FakeClock
    from bot.delivery.sender import DeliveryService
    from bot.wiring import build_app

    with tempfile.TemporaryDirectory() as folder, fake_servers(count) as servers:
        url = db_url or sqlite_url(folder, "attention.sqlite3")
        await reset_db(url)
        clock = FakeClock(T0)
        settings = settings_for(servers.base_url, url)
        app = await build_app(settings, clock)
        broadcast_id, queue_seconds, release = await prepare(app, count)
        engine = next(s for s in app.services if isinstance(s, DeliveryService))
        await engine.start()
        delays: list[float] = []
        try:
            # The members awake at T0: everything due now goes out.
            awake = count - len(release)
            while True:
                if await left_to_send(app, broadcast_id) <= len(release):
                    break
                await asyncio.sleep(0.5)
            first_wave = await arrivals(servers.control_urls)
            assert len(first_wave) >= awake
            for moment in sorted(set(release.values())):
                chats = [chat for chat, at in release.items() if at == moment]
                # Just before: nothing of theirs may go out yet.
                clock.set(moment - timedelta(seconds=5))
                await asyncio.sleep(1.0)
                early = await arrivals(servers.control_urls)
                assert not any(chat in early for chat in chats), "sent during quiet hours"
                clock.set(moment)
                ended = time.monotonic()
                while True:
                    got = await arrivals(servers.control_urls)
                    if all(chat in got for chat in chats):
                        break
                    if time.monotonic() - ended > 600:
                        raise RuntimeError("members not released within 10 minutes")
                    await asyncio.sleep(0.2)
                delays.extend(got[chat] - ended for chat in chats)
        finally:
            await engine.stop()
            await app.close()
        stats = await servers.stats()
    times = stats["times"]
    return {
        "members": count,
        "queue_seconds": queue_seconds,
        "held": len(release),
        "moments": len(set(release.values())),
        "delays": sorted(delays),
        "429": stats["refused"].get("429", 0),
        "violations": stats["violations"],
        "tightest": tightest_span(times, int(settings.send_rate_global) + 1),
        "rate": (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0,
        **duplicates_and_losses(stats["sent"], count),
    }


def report(result: dict[str, Any], quick: bool) -> int:
    """Print the figures; non-zero if a member was released late or a limit was broken."""
    delays = result["delays"]
    late = sum(1 for d in delays if d > 60)
    p95 = delays[int(0.95 * (len(delays) - 1))] if delays else 0.0
    print(
        f"{result['members']:,} members over 24 zones"
        + (QUICK_NOTE if quick else "")
        + f"\n  queued in {result['queue_seconds'] * 1000:.0f} ms, {result['held']:,} held "
        f"for quiet hours ({result['moments']} release moments)"
        f"\n  release after quiet hours end: median {statistics.median(delays or [0]):.1f} s, "
        f"p95 {p95:.1f} s, worst {max(delays or [0]):.1f} s; released late (> 60 s): {late}"
        f"\n  global rate: tightest 31 consecutive sends took {result['tightest']:.2f} s "
        f"(>= 1 s keeps within 30 msg/s); overall {result['rate']:.1f} msg/s; "
        f"429s provoked: {result['429']}, limit violations: {result['violations']}"
        f"\n  duplicates: {result['duplicates']}, losses: {result['losses']}"
    )
    ok = not late and not result["violations"] and not result["losses"]
    return 0 if ok else 1


def run(argv: list[str] | None = None) -> int:
    """`python -m bench attention [--quick] [--database-url URL]`."""
    ap = argparse.ArgumentParser(prog="python -m bench attention", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="2,000 members instead of 10,000")
    ap.add_argument("--database-url", help="PostgreSQL URL (default: a temporary SQLite file)")
    args, _unknown = ap.parse_known_args(argv)
    count = 2_000 if args.quick else 10_000
    return report(asyncio.run(scenario(count, args.database_url)), args.quick)
