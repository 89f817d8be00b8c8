"""Solidarity alert benchmark: an urgent alert to N members issued while an N-member
announcement is already going out at normal priority, against the fake Bot API server at
Telegram's 30 messages a second (100 ms latency, in its own process).

Prints the time from "issue" to the first and to the last member receiving the alert, the
alert's own rate beside the 30/s limit, and how many announcement messages went out while the
alert was being sent (the alert must overtake the announcement: only those the engine already
held in hand, about two seconds' worth, may still go out).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from bench.delivery import (
    FIRST_USER,
    LATENCY,
    QUICK_NOTE,
    fake_servers,
    prepare,
    reset_db,
    settings_for,
    sqlite_url,
    table,
    verdict,
)

HEAD_START = 5.0  # seconds the announcement runs alone before the alert is issued


async def issue_alert(app: Any) -> tuple[int, datetime]:
    """Store a case and issue it to everyone, as the secretariat's button does."""
    from bot.solidarity.service import issue
    from models.member import Member
    from models.solidarity import SolidarityCase

    async with app.sessionmaker() as session:
        admin = Member(
            telegram_id=FIRST_USER - 1,
            display_name="Secretariat",
            locale="en",
            status="active",
            role="admin",
        )
        session.add(admin)
        case = SolidarityCase(
            locale="es",
            texts={
                "es": "La comunidad de El Pinar enfrenta un desalojo forzoso mañana.",
                "en": "The El Pinar community faces a forced eviction tomorrow.",
            },
            country="CO",
            region="419",
            affected_kind="community",
            urgent=True,
            asks=["statement", "authorities"],
            statement="We call for the eviction to stop.",
            audience={"everyone": True},
            escalate_hours=6,
            escalate_share=50,
        )
        session.add(case)
        await session.flush()
        issued_at = datetime.now(UTC)
        await issue(session, case, admin, issued_at)
        broadcast_id = int(case.alert_broadcast_id or 0)
        await session.commit()
    return broadcast_id, issued_at


async def scenario(members: int, db_url: str | None) -> dict[str, Any]:
    """Announcement first; the alert after HEAD_START; wait until the alert is out."""
    from bot.delivery.sender import DeliveryService
    from bot.wiring import build_app
    from models.delivery import Delivery, DeliveryStatus

    with tempfile.TemporaryDirectory() as folder, fake_servers(members) as servers:
        url = db_url or sqlite_url(folder, "solidarity.sqlite3")
        await reset_db(url)
        notice_id = await prepare(url, members)
        app = await build_app(settings_for(servers.base_url, url))
        engine = next(s for s in app.services if isinstance(s, DeliveryService))
        await engine.start()
        try:
            await asyncio.sleep(HEAD_START)
            alert_id, issued_at = await issue_alert(app)
            started = time.perf_counter()
            while time.perf_counter() - started < members / 20 + 120:
                await asyncio.sleep(0.25)
                async with app.sessionmaker() as session:
                    left = await session.scalar(
                        select(func.count())
                        .select_from(Delivery)
                        .where(
                            Delivery.broadcast_id == alert_id,
                            Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SENDING)),
                        )
                    )
                if not left:
                    break
        finally:
            await engine.stop()
        async with app.sessionmaker() as session:
            first, last, sent = (
                await session.execute(
                    select(
                        func.min(Delivery.sent_at), func.max(Delivery.sent_at), func.count()
                    ).where(Delivery.broadcast_id == alert_id, Delivery.status == "sent")
                )
            ).one()
            overtaken_by = await session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(
                    Delivery.broadcast_id == notice_id,
                    Delivery.sent_at > issued_at,
                    Delivery.sent_at <= last,
                )
            )
            notice_left = await session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.broadcast_id == notice_id, Delivery.status == "pending")
            )
        await app.close()
        stats = await servers.stats()
    to_last = (last - issued_at).total_seconds()
    return {
        "members": members,
        "sent": int(sent),
        "to_first": (first - issued_at).total_seconds(),
        "to_last": to_last,
        "rate": (sent - 1) / max((last - first).total_seconds(), 1e-9),
        "announcement_during": int(overtaken_by or 0),
        "announcement_left": int(notice_left or 0),
        "429": stats["refused"].get("429", 0),
    }


def run(argv: list[str] | None = None) -> int:
    """Run the scenario and print one table."""
    ap = argparse.ArgumentParser(prog="python -m bench solidarity", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="1,000 members (about a minute)")
    ap.add_argument("--database-url", help="PostgreSQL URL (default: a temporary SQLite file)")
    args = ap.parse_args(argv)
    from bot.core.config import normalise_db_url

    db_url = normalise_db_url(args.database_url) if args.database_url else None
    members = 1_000 if args.quick else 10_000
    print(
        f"Solidarity alert benchmark: {members:,} members, fake Bot API at "
        f"{LATENCY * 1000:.0f} ms latency and 30 msg/s, "
        f"{'temporary SQLite' if db_url is None else 'PostgreSQL'}; {os.cpu_count()} CPUs"
        + (QUICK_NOTE if args.quick else ""),
        flush=True,
    )
    result = asyncio.run(scenario(members, db_url))
    floor = members / 30
    rows = [
        (
            f"issue -> first of {members:,} members has the alert",
            f"{result['to_first']:.2f} s",
            "",
            "",
        ),
        (
            f"issue -> last of {members:,} members has the alert",
            f"{result['to_last']:.1f} s",
            f">= {floor:.1f} s at 30 msg/s",
            verdict(result["sent"] >= members),
        ),
        (
            "alert rate (first to last)",
            f"{result['rate']:.2f} msg/s = {100 * result['rate'] / 30:.1f} % of 30/s",
            "",
            "",
        ),
        (
            "announcement messages sent meanwhile",
            str(result["announcement_during"]),
            "only those in hand (~60)",
            verdict(result["announcement_during"] <= 90),
        ),
        (
            "429s (the fake's 30/s limit overrun)",
            str(result["429"]),
            "0",
            verdict(not result["429"]),
        ),
        (
            "announcement still waiting when the alert was out",
            f"{result['announcement_left']:,}",
            "",
            "",
        ),
    ]
    print()
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(run())
