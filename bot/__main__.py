"""Command line: `python -m bot run | sandbox | worker | migrate | admin | seed FILE`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys

from bot.core.config import Settings, load_settings


async def _run(settings: Settings) -> None:
    from bot.core.app import run_polling
    from bot.wiring import build_app

    app = await build_app(settings)
    if settings.webhook_url:
        from bot.core.webhook import run_webhook

        await run_webhook(app)
    else:
        await run_polling(app)


async def _worker(settings: Settings) -> None:
    from bot.delivery.worker import run_worker
    from bot.wiring import build_app

    app = await build_app(settings.model_copy(update={"run_delivery": True}))
    await run_worker(app)


async def _migrate(settings: Settings, revision: str) -> None:
    from bot.core.db import migrate

    await migrate(settings.db_url, revision)
    print(f"database at {revision}")


async def _admin(settings: Settings, action: str, telegram_id: int) -> int:
    from bot.core.db import create_engine, create_sessionmaker, migrate
    from models.member import MemberStatus, Role, get_member

    await migrate(settings.db_url)
    engine = create_engine(settings.db_url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            member = await get_member(session, telegram_id)
            if member is None:
                print(f"error: no member with Telegram id {telegram_id} (they must /start first)")
                return 1
            if action == "promote":
                member.role = Role.ADMIN
                member.status = MemberStatus.ACTIVE
            else:
                member.role = Role.MEMBER
            print(f"{member.display_name} is now {member.role}")
            return 0
    finally:
        await engine.dispose()


async def _seed(settings: Settings, path: str) -> int:
    from pathlib import Path

    from bot.core.clock import Clock
    from bot.core.db import create_engine, create_sessionmaker, migrate
    from bot.groups.seed import SeedError, apply_seed, read_seed

    try:
        seed = read_seed(Path(path), settings.default_locale)
    except SeedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    await migrate(settings.db_url)
    engine = create_engine(settings.db_url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            report = await apply_seed(session, seed, Clock().now())
    finally:
        await engine.dispose()
    print(
        f"working groups: {len(report.created)} created, {len(report.updated)} updated "
        f"({', '.join(report.created + report.updated)})"
    )
    return 0


def parser() -> argparse.ArgumentParser:
    """The sub-commands an operator needs."""
    ap = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = ap.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot with long polling (default)")
    box = sub.add_parser("sandbox", help="run the bot against a local stand-in for Telegram")
    box.add_argument("--host", help="address of the chat page (default 127.0.0.1)")
    box.add_argument("--port", type=int, help="port of the chat page (default 8080)")
    sub.add_parser("start", help="`run` when BOT_TOKEN is set, else `sandbox` (`make run`)")
    sub.add_parser("worker", help="run only the delivery engine and the scheduler (no polling)")
    mig = sub.add_parser("migrate", help="apply database migrations")
    mig.add_argument("revision", nargs="?", default="head")
    adm = sub.add_parser("admin", help="promote or demote a network admin")
    adm.add_argument("action", choices=["promote", "demote"])
    adm.add_argument("telegram_id", type=int)
    seed = sub.add_parser("seed", help="load working groups and their translations from YAML")
    seed.add_argument("file", help="e.g. seed/working_groups.yaml")
    return ap


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, load settings (exit 2 on a bad one) and dispatch."""
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # aiogram logs a line for every update handled; under load that is most of the log and a
    # measurable share of the CPU. Failures are still logged (bot.core.errors).
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    command = args.command or "run"
    if command in ("sandbox", "start"):
        from bot.sandbox.run import SandboxEnv
        from bot.sandbox.serve import main as sandbox

        if command == "sandbox":
            return sandbox(args.host, args.port)
        if not SandboxEnv().bot_token:
            return sandbox()
        command = "run"
    settings = load_settings()
    if command == "migrate":
        asyncio.run(_migrate(settings, args.revision))
    elif command == "admin":
        return asyncio.run(_admin(settings, args.action, args.telegram_id))
    elif command == "seed":
        return asyncio.run(_seed(settings, args.file))
    elif command == "worker":
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_worker(settings))
    else:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_run(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
