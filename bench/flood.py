"""One person floods the bot while a notice goes to 20 members: how much longer does it take?

Runs the real bot in this process against the project's fake Bot API server (Telegram's
limits enforced: a send over them is answered 429) on SQLite, and times a 20-member notice
from queueing to the last delivery:

1. quiet: nobody else writes;
2. flood: one member sends `--rate` messages a second for the whole run (the shipped
   FLOOD_BURST / FLOOD_RATE throttle and the per-chat pacing of replies);
3. flood, throttle off: the same flood with FLOOD_BURST=10000, FLOOD_RATE=1000, to show
   what the throttle buys.

Columns: the notice's time, its ratio to the quiet time, the flood's messages, those the
throttle dropped, the flood's updates still waiting to be handled when the notice was done
(each waits for the flooder's lock: replies to one chat go one a second), the replies the
flooder got, and the 429s Telegram (the fake) answered.

Goal: the notice under flood within 2x its quiet time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MEMBERS = 20
FLOODER = 900_000
FIRST_MEMBER = 900_001
NOTICE = "Meeting moved to Friday"


async def one_run(folder: str, *, flood_rate: float, throttle: bool) -> dict[str, Any]:
    """Time one 20-member notice, with or without a flood beside it."""
    import importlib

    from bot.core.clock import Clock

    try:  # absent from the bot before the throttle (a before/after comparison)
        guard_type: type = importlib.import_module("bot.core.floods").FloodGuard
    except ImportError:
        guard_type = type(None)
    from bot.delivery.notice import enqueue_notice
    from bot.sandbox.telegram import FakeTelegram
    from tests.conftest import add_member
    from tests.harness import RunningBot, make_settings

    fake = FakeTelegram(enforce_limits=True)
    await fake.start()
    db = f"sqlite+aiosqlite:///{folder}/flood-{time.monotonic_ns()}.sqlite3"
    from bot.core.config import Settings

    # The shipped throttle and pacing (the tests' harness relaxes them for its fast users).
    extra = {
        name: Settings.model_fields[name].default
        for name in ("flood_burst", "flood_rate", "reply_burst")
        if name in Settings.model_fields  # (the bot before them has none)
    }
    if not throttle:
        extra.update(flood_burst=10_000, flood_rate=1000.0)
    bot = RunningBot(make_settings(fake, db, None, **extra), Clock(), fake)  # type: ignore[arg-type]
    await bot.start()
    assert bot.app is not None
    try:
        fake.add_user(FLOODER, "Flood")
        await add_member(bot, FLOODER, "Flood")
        for i in range(MEMBERS):
            fake.add_user(FIRST_MEMBER + i, f"Member {i}")
            await add_member(bot, FIRST_MEMBER + i, f"Member {i}")
        await asyncio.sleep(0.5)

        stop = asyncio.Event()
        pushed = 0

        async def flood() -> None:
            nonlocal pushed
            step = 0.05
            per_step = max(1, round(flood_rate * step))
            while not stop.is_set():
                for _ in range(per_step):
                    fake.user_sends(FLOODER, f"spam {pushed}")
                    pushed += 1
                await asyncio.sleep(step)

        first_update = fake._next_update_id
        flooding = asyncio.create_task(flood()) if flood_rate > 0 else None
        if flooding is not None:
            await asyncio.sleep(2.0)  # the flood is in full swing when the notice is queued

        async def queue(session: Any) -> None:
            await enqueue_notice(session, {"en": NOTICE})
            await session.commit()

        started = time.monotonic()
        await bot.db(queue)
        for service in bot.app.services:
            waker = getattr(service, "wake", None)
            if callable(waker):
                waker()
        chats = [FIRST_MEMBER + i for i in range(MEMBERS)]
        while not all(any(NOTICE in str(m.get("text")) for m in fake.messages(c)) for c in chats):
            if time.monotonic() - started > 120:
                raise RuntimeError("the notice did not arrive within 120 s")
            await asyncio.sleep(0.01)
        elapsed = time.monotonic() - started
        stop.set()
        if flooding is not None:
            await flooding
        guard = next(
            (m for m in bot.app.dp.update.outer_middleware if isinstance(m, guard_type)), None
        )
        backlog = sum(
            1
            for update_id in range(first_update, fake._next_update_id)
            if update_id not in fake._processed
        )
        return {
            "seconds": elapsed,
            "backlog": backlog,
            "flood_pushed": pushed,
            "dropped": getattr(guard, "dropped", 0),
            "replies_to_flooder": len(fake.messages(FLOODER)),
            "429s": sum(1 for c in fake.calls if c.status == 429),
        }
    finally:
        with contextlib.suppress(Exception):
            await bot.stop()
        await fake.stop()


async def measure(rate: float, repeats: int) -> dict[str, list[dict[str, Any]]]:
    """Each case `repeats` times, interleaved."""
    cases = {
        "quiet": {"flood_rate": 0.0, "throttle": True},
        "flood": {"flood_rate": rate, "throttle": True},
        "flood, throttle off": {"flood_rate": rate, "throttle": False},
    }
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in cases}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(repeats):
            for name, kwargs in cases.items():
                results[name].append(await one_run(folder, **kwargs))  # type: ignore[arg-type]
    return results


def report(results: dict[str, list[dict[str, Any]]], rate: float) -> tuple[str, bool]:
    """A table of medians and the verdict against the 2x goal."""
    median = {
        name: statistics.median(r["seconds"] for r in runs) for name, runs in results.items()
    }
    lines = [
        f"20-member notice, one member flooding at {rate:g} messages/s "
        f"(median of {len(results['quiet'])} runs)",
        f"{'case':<22} {'notice s':>9} {'x quiet':>8} {'flood msgs':>11} {'dropped':>8} "
        f"{'backlog':>8} {'replies':>8} {'429s':>5}",
    ]
    for name, runs in results.items():
        last = runs[-1]
        lines.append(
            f"{name:<22} {median[name]:>9.2f} {median[name] / median['quiet']:>8.2f} "
            f"{last['flood_pushed']:>11} {last['dropped']:>8} {last['backlog']:>8} "
            f"{last['replies_to_flooder']:>8} "
            f"{last['429s']:>5}"
        )
    ok = median["flood"] <= 2 * median["quiet"]
    lines.append(f"goal: flood within 2x quiet -> {'PASS' if ok else 'FAIL'}")
    return "\n".join(lines), ok


def run(argv: list[str] | None = None) -> int:
    """`python -m bench flood [--quick] [--rate N] [--repeats N]`."""
    ap = argparse.ArgumentParser(prog="python -m bench flood")
    ap.add_argument("--quick", action="store_true", help="one run of each case")
    ap.add_argument("--rate", type=float, default=200.0, help="flood messages a second")
    ap.add_argument("--repeats", type=int, default=3)
    args, _unknown = ap.parse_known_args(argv)
    sys.path.insert(0, str(ROOT))
    logging.basicConfig(level=logging.CRITICAL)  # the runs stop servers under load
    from bot.core.i18n import compile_catalogues

    compile_catalogues()
    repeats = 1 if args.quick else args.repeats
    text, ok = report(asyncio.run(measure(args.rate, repeats)), args.rate)
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(run())
