"""Command line: `python -m bot run | sandbox | start | worker | migrate | admin | seed FILE |
backup | restore | healthcheck`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from typing import TYPE_CHECKING

from bot.core.config import Settings, load_settings

if TYPE_CHECKING:
    from bot.core.app import App


log = logging.getLogger("bot")


async def _start(settings: Settings, what: str) -> App:
    """Check the store, Redis and Telegram, build the app and say in one line what started."""
    from bot.core.preflight import check_telegram, preflight, where_data_lives
    from bot.wiring import build_app

    await preflight(settings)
    app = await build_app(settings)
    try:
        me = await check_telegram(app.bot, settings)
    except BaseException:
        await app.close()
        raise
    log.info(
        "started %s as @%s; data in %s; Bot API at %s",
        what,
        me.username,
        where_data_lives(settings),
        settings.telegram_api_url,
    )
    return app


async def _run(settings: Settings) -> None:
    from bot.core.app import run_polling

    if settings.webhook_url:
        from bot.core.webhook import run_webhook

        listen = f"{settings.webhook_host}:{settings.webhook_port}"
        url = f"{settings.webhook_url}{settings.webhook_path}"
        app = await _start(settings, f"webhook {url} (listening on {listen})")
        await run_webhook(app)
    else:
        app = await _start(settings, "long polling")
        await hint_seed(app)
        await run_polling(app)


async def hint_seed(app: App) -> None:
    """A new installation has no working groups: say how to load the network's."""
    from sqlalchemy import func, select

    from models.group import WorkingGroup

    async with app.sessionmaker() as session:
        count = await session.scalar(select(func.count()).select_from(WorkingGroup))
    if not count:
        log.warning(
            "no working groups yet: load the network's with "
            "`python -m bot seed seed/working_groups.yaml` (see README)"
        )


async def _worker(settings: Settings) -> None:
    from bot.delivery.worker import run_worker

    app = await _start(
        settings.model_copy(update={"run_delivery": True, "webhook_url": None}),
        "delivery worker and scheduler",
    )
    await run_worker(app)


async def _migrate(settings: Settings, revision: str) -> None:
    from bot.core.db import migrate
    from bot.core.preflight import check_database

    await check_database(settings)
    await migrate(settings.db_url, revision)
    print(f"database at {revision}")


async def _admin(settings: Settings, action: str, telegram_id: int) -> int:
    from bot.core.db import create_engine, create_sessionmaker, migrate
    from bot.core.preflight import check_database
    from models.member import MemberStatus, Role, get_member

    await check_database(settings)
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
    from bot.core.preflight import check_database
    from bot.groups.seed import SeedError, apply_seed, read_seed

    try:
        seed = read_seed(Path(path), settings.default_locale)
    except SeedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    await check_database(settings)
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


def _backup(settings: Settings, action: str, path: str, force: bool) -> int:
    from pathlib import Path

    from bot.core import backup

    try:
        if action == "backup":
            done = backup.backup(settings.db_url, Path(path), force=force)
        else:
            done = backup.restore(settings.db_url, Path(path), force=force)
    except backup.BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    verb = "backed up to" if action == "backup" else "restored into"
    print(f"{verb} {done.path} ({done.size:,} bytes, schema {done.revision})")
    return 0


def _healthcheck(settings: Settings) -> int:
    from bot.core.observe import probe

    if settings.webhook_url:
        host, port = settings.webhook_host, settings.webhook_port
    elif settings.metrics_port:
        host, port = settings.metrics_host, settings.metrics_port
    else:
        print("error: set METRICS_PORT (polling, worker) or WEBHOOK_URL", file=sys.stderr)
        return 2
    ok, body = probe(host, port)
    print(body)
    return 0 if ok else 1


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
    sub.add_parser("healthcheck", help="ask the running bot's /healthz (exit 0 when healthy)")
    for name, what in (
        ("backup", "copy the SQLite database while the bot runs (PostgreSQL: prints pg_dump)"),
        ("restore", "put a backup back into the SQLite database (stop the bot first)"),
    ):
        cmd = sub.add_parser(name, help=what)
        cmd.add_argument("path", help="the backup file")
        cmd.add_argument("--force", action="store_true", help="overwrite / replace")
    return ap


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, load settings and dispatch; exit 2 with one line when something the
    bot needs is wrong (a setting, the database, Redis, Telegram)."""
    from bot.core.logs import setup_logging
    from bot.core.preflight import StartupError

    args = parser().parse_args(argv)
    setup_logging()
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
    setup_logging(settings.log_format, settings.log_level)
    try:
        if command == "migrate":
            asyncio.run(_migrate(settings, args.revision))
        elif command == "admin":
            return asyncio.run(_admin(settings, args.action, args.telegram_id))
        elif command == "seed":
            return asyncio.run(_seed(settings, args.file))
        elif command == "healthcheck":
            return _healthcheck(settings)
        elif command in ("backup", "restore"):
            return _backup(settings, command, args.path, args.force)
        elif command == "worker":
            with contextlib.suppress(KeyboardInterrupt):
                asyncio.run(_worker(settings))
        else:
            with contextlib.suppress(KeyboardInterrupt):
                asyncio.run(_run(settings))
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
