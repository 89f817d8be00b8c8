"""kill -9 at every step of a multi-step write: the bot (a child process) dies at the Nth
database write, commit or Telegram request of one update (tests/crashpoint.py), is started
again, and then the store holds the whole step or none of it, and the member was told the
truth: never "done" for something the store does not hold."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.db import create_engine, create_sessionmaker, migrate
from bot.polls.service import Draft as PollDraft
from bot.polls.views import VoteCb
from bot.sandbox.telegram import FakeTelegram
from models.delivery import Broadcast, Delivery
from models.poll import AnonymousBallot, Participation, PendingBallot, PollKind
from tests.botclient import BotClient, _inline_buttons
from tests.conftest import PG_URL, add_member, reset_postgres
from tests.groupkit import add_to_group, make_group
from tests.harness import BotProcess
from tests.test_delivery_restart import env_for, wait_for

MAX_STEPS = 40
QUIET = 0.6  # seconds without a reply before a conversation step counts as answered (busy CI)
PROCESSES: list[BotProcess] = []  # every child started, killed at the end of the test


@dataclass
class Store:
    """The store of one run, reached the way the tests' helpers expect (`.db(fn)`)."""

    url: str

    async def db(self, fn: Callable[[AsyncSession], Awaitable[Any]]) -> Any:
        engine = create_engine(self.url)
        try:
            async with create_sessionmaker(engine)() as session:
                return await fn(session)
        finally:
            await engine.dispose()

    async def count(self, model: Any) -> int:
        async def read(session: AsyncSession) -> int:
            return int(await session.scalar(select(func.count()).select_from(model)) or 0)

        return int(await self.db(read))


@dataclass
class Run:
    """One crash run: the fake Telegram, the store, and what the crashing bot said."""

    fake: FakeTelegram
    store: Store
    env: dict[str, str]
    crashed_at: str | None = None
    steps: list[str] | None = None  # what each step of the watched update was (dry run)


@pytest.fixture
async def fresh(backend: dict[str, Any], tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """Make a fresh fake Telegram and an empty, migrated store for each crash run."""
    fakes: list[FakeTelegram] = []
    PROCESSES.clear()

    async def make() -> tuple[FakeTelegram, Store, dict[str, str]]:
        if backend["name"] == "postgres":
            assert PG_URL
            await reset_postgres(PG_URL)
            url = PG_URL
        else:
            url = f"sqlite+aiosqlite:///{tmp_path / f'crash-{uuid.uuid4().hex[:8]}.sqlite3'}"
        await migrate(url)
        fake = FakeTelegram()
        await fake.start()
        fakes.append(fake)
        # The conversation state in the SQL store, not Redis: a process killed while holding
        # a member's Redis lock holds up that member's next update for the lock's lease
        # (bot.core.locks.LEASE_MS, 60 s), which these tests would only wait out.
        env = env_for(fake, {**backend, "db_url": url, "redis_url": None})
        env["DELIVERY_PROGRESS_SECONDS"] = "1"
        # The test users tap through whole conversations at machine speed: the shipped flood
        # throttle would drop their taps (tests/test_floods.py checks the shipped values).
        env.update(FLOOD_BURST="10000", FLOOD_RATE="1000", REPLY_BURST="20")
        return fake, Store(url), env

    yield make
    for process in PROCESSES:
        if process.proc is not None and process.proc.returncode is None:
            await process.kill()
    for fake in fakes:
        await fake.stop()


async def crash_at(
    step: int,
    make: Callable[..., Any],
    prepare: Callable[[Run], Awaitable[Any]],
    trigger: Callable[[Run, Any], None],
    match: str,
) -> tuple[Run, Any, bool]:
    """Prepare a run with the crashing bot, trigger the watched update, and wait for the bot
    to die at `step` (or to finish it: then returns finished=True). Then start it again."""
    fake, store, env = await make()
    run = Run(fake, store, env)
    crashing = BotProcess({**env, "CRASH_AT": str(step), "CRASH_MATCH": match}, "run")
    crashing.module = "tests.crashpoint"
    PROCESSES.append(crashing)
    await crashing.start()
    await polling(fake, crashing)
    context = await prepare(run)
    trigger(run, context)
    await wait_for(lambda: "crashpoint" in crashing.stderr, 20, "the watched update")
    finished = "crashpoint done" in crashing.stderr
    if finished:
        await fake.settle(quiet=0.3, timeout=5)
        await crashing.terminate()
    else:
        assert crashing.proc is not None
        await asyncio.wait_for(crashing.proc.wait(), 10)
        line = next(x for x in crashing.stderr.splitlines() if x.startswith("crashpoint"))
        run.crashed_at = line
    print(run.crashed_at or "crashpoint: the update finished")
    run.steps = [
        x.split(": ", 1)[1] for x in crashing.stderr.splitlines() if x.startswith("crashstep")
    ]
    assert "Traceback" not in crashing.stderr.split("crashpoint")[0], crashing.stderr[-3000:]
    return run, context, finished


async def polling(fake: FakeTelegram, process: BotProcess, since: int = 0) -> None:
    """Wait until the bot asks for updates (a start takes seconds on a busy machine)."""
    await wait_for(
        lambda: any(c.method == "getUpdates" for c in fake.calls[since:]),
        60,
        f"the bot to poll\n{process.stderr[-2000:]}",
    )


async def restarted(run: Run, quiet: float = 1.5) -> BotProcess:
    """The bot started again (it gets the unconfirmed update once more, as from Telegram)."""
    again = BotProcess(run.env, "run")
    PROCESSES.append(again)
    since = len(run.fake.calls)
    await again.start()
    await polling(run.fake, again, since)
    await asyncio.sleep(quiet)
    await run.fake.settle(quiet=0.5, timeout=15)
    return again


def said(fake: FakeTelegram, chat_id: int, text: str) -> bool:
    """Whether the bot told this chat `text` (a message, or the answer to a tap: each run
    has one fake Telegram and one person tapping)."""
    return any(
        call.ok
        and (call.chat_id == chat_id or call.method == "answerCallbackQuery")
        and text in str(call.params.get("text", ""))
        for call in fake.calls
    )


# --- announcement + deliveries ------------------------------------------------------------


async def announcement_ready(run: Run) -> dict[str, Any]:
    """A coordinator with an announcement written, the Send button in front of them."""
    coordinator_id = 9000
    carla = await add_member(run.store, coordinator_id, "Carla")  # type: ignore[arg-type]
    group = await make_group(run.store)  # type: ignore[arg-type]
    await add_to_group(run.store, group, carla, coordinator=True)  # type: ignore[arg-type]
    for reader in (9001, 9002, 9003):
        run.fake.add_user(reader, f"Reader {reader}")
        member = await add_member(run.store, reader)  # type: ignore[arg-type]
        await add_to_group(run.store, group, member)  # type: ignore[arg-type]
    coordinator = BotClient(run.fake, coordinator_id, "Carla")
    coordinator.quiet = QUIET
    await coordinator.send("/groups")
    await coordinator.click("⭐ Women and ESCR")
    await coordinator.click("📣 Announcement")
    await coordinator.send("Assembly on Friday.")
    panel = coordinator.messages()[-1]
    data = next(
        str(b["callback_data"])
        for b in _inline_buttons(panel)
        if b.get("text") == "✅ Send to the group"
    )
    return {"client": coordinator, "panel": panel, "data": data}


def tap(run: Run, context: dict[str, Any]) -> None:
    client: BotClient = context["client"]
    run.fake.user_presses(client.user_id, context["panel"], context["data"])


async def test_kill_9_at_every_step_of_sending_an_announcement(
    fresh: Callable[..., Any],
) -> None:
    readers = (9001, 9002, 9003)
    for step in range(1, MAX_STEPS):
        run, context, finished = await crash_at(step, fresh, announcement_ready, tap, "ann:send")
        told_before = said(run.fake, 9000, "Sending now")
        again = await restarted(run)
        broadcasts = await run.store.count(Broadcast)
        deliveries = await run.store.count(Delivery)
        where = run.crashed_at or "no crash"
        # Before or after the whole step: no broadcast, or one with all four recipients.
        assert (broadcasts, deliveries) in ((0, 0), (1, 4)), where
        if told_before:
            assert broadcasts == 1, f"told 'sending' but nothing stored ({where})"
        if broadcasts == 0:
            # Not stored: the draft is still there, and Send works now.
            tap(run, context)
            await wait_for(
                lambda r=run: said(r.fake, 9000, "Sending now"), 10, f"a retry ({where})"
            )
            await run.fake.settle(quiet=0.5, timeout=15)
            assert (await run.store.count(Broadcast), await run.store.count(Delivery)) == (1, 4)
        await wait_for(
            lambda f=run.fake: all(
                any("Assembly" in str(m.get("text")) for m in f.messages(r)) for r in readers
            ),
            20,
            f"every reader to get it ({where})",
        )
        await run.fake.settle(quiet=0.5, timeout=15)
        for reader in readers:
            copies = [m for m in run.fake.messages(reader) if "Assembly" in str(m.get("text"))]
            assert len(copies) == 1, (reader, where)
        err = await again.terminate()
        assert b"Traceback" not in err, err.decode()[-3000:]
        if finished:
            return
    raise AssertionError(f"the update took more than {MAX_STEPS} steps")


# --- vote + participation -----------------------------------------------------------------


async def poll_ready(run: Run) -> dict[str, Any]:
    """An open secret-ballot poll to the network and a member in front of a message."""
    voter_id = 9100
    member = await add_member(run.store, voter_id, "Vera")  # type: ignore[arg-type]
    now = datetime.now(UTC).replace(microsecond=0)
    draft = PollDraft(
        locale="en",
        question="Adopt the charter?",
        kind=PollKind.SINGLE,
        options=["Yes", "No"],
        anonymous=True,
        audience="network",
        closes_at=(now + timedelta(days=2)).isoformat(),
    )

    async def create(session: AsyncSession) -> int:
        poll = draft.build(None, now)
        session.add(poll)
        await session.commit()
        return int(poll.id)

    poll_id = await run.store.db(create)
    voter = BotClient(run.fake, voter_id, "Vera")
    voter.quiet = QUIET
    await voter.send("/start")
    return {
        "client": voter,
        "panel": voter.messages()[-1],
        "data": VoteCb(poll=poll_id, option=0).pack(),
        "member": member,
    }


async def ballots(run: Run) -> int:
    """Secret ballots stored: waiting in the pool (fewer than a batch) or in the box."""
    return await run.store.count(PendingBallot) + await run.store.count(AnonymousBallot)


async def test_kill_9_at_every_step_of_a_secret_vote(fresh: Callable[..., Any]) -> None:
    for step in range(1, MAX_STEPS):
        run, context, finished = await crash_at(step, fresh, poll_ready, tap, "pv:")
        told_before = said(run.fake, 9100, "Your answer was counted")
        again = await restarted(run)
        stored = (await run.store.count(Participation), await ballots(run))
        where = run.crashed_at or "no crash"
        assert stored in ((0, 0), (1, 1)), f"participation without its ballot ({where})"
        if told_before:
            assert stored == (1, 1), f"told 'counted' but nothing stored ({where})"
        if stored == (0, 0):
            # Not counted: the member is not told "already voted", the vote goes through.
            tap(run, context)
            await wait_for(
                lambda r=run: said(r.fake, 9100, "Your answer was counted"),
                10,
                f"a retry ({where})\n{run.fake.format_calls()}",
            )
            stored = (
                await run.store.count(Participation),
                await ballots(run),
            )
            assert stored == (1, 1), where
        assert not said(run.fake, 9100, "already"), where
        err = await again.terminate()
        assert b"Traceback" not in err, err.decode()[-3000:]
        if finished:
            return
    raise AssertionError(f"the update took more than {MAX_STEPS} steps")


def chosen_steps(steps: list[str]) -> list[int]:
    """Every database write and commit, and the first Telegram request and answer after the
    last commit (further replies repeat the same case; each run costs two bot starts)."""
    chosen = [i for i, what in enumerate(steps, 1) if what.startswith(("SQL", "COMMIT"))]
    last = max(chosen, default=0)
    for kind in ("request", "answer to"):
        later = [i for i, what in enumerate(steps, 1) if i > last and what.startswith(kind)]
        chosen += later[:1]
    earlier = [i for i, what in enumerate(steps, 1) if i < last and what.startswith("request")]
    return sorted(set(chosen + earlier[:1]))


async def every_step(
    make: Callable[..., Any],
    prepare: Callable[[Run], Awaitable[Any]],
    match: str,
    check: Callable[[Run, Any, BotProcess], Awaitable[None]],
) -> None:
    """A dry run (no crash: the update's steps are listed, the result checked), then a crash
    at each chosen step, a restart, and the same check."""
    run, context, finished = await crash_at(0, make, prepare, tap, match)
    assert finished and run.steps, "the watched update never ran"
    again = await restarted(run)
    await check(run, context, again)
    for step in chosen_steps(run.steps):
        crashed, context, finished = await crash_at(step, make, prepare, tap, match)
        assert not finished, f"no step {step} the second time: {run.steps}"
        again = await restarted(crashed)
        await check(crashed, context, again)


# --- meeting + invitations + reminders ----------------------------------------------------


async def meeting_ready(run: Run) -> dict[str, Any]:
    """A coordinator at the preview of a meeting for a group of four, Send in front of them."""
    from tests.meeting_helpers import network
    from tests.test_meetings import schedule_by_conversation

    net = await network(
        run.store,  # type: ignore[arg-type]
        lambda uid, name, **kw: BotClient(run.fake, uid, name, **kw),
    )
    net.coordinator.quiet = QUIET
    await schedule_by_conversation(net)
    panel = net.coordinator.last()
    data = next(
        str(b["callback_data"])
        for b in _inline_buttons(panel)
        if str(b.get("text", "")).startswith("✅ Send")
    )
    return {"client": net.coordinator, "panel": panel, "data": data}


async def meeting_check(run: Run, context: dict[str, Any], again: BotProcess) -> None:
    from models.job import Job
    from models.meeting import Meeting

    where = run.crashed_at or "no crash"
    coordinator: BotClient = context["client"]
    told = said(run.fake, coordinator.user_id, "on its way")
    counts = (
        await run.store.count(Meeting),
        await run.store.count(Broadcast),
        await run.store.count(Delivery),
    )
    jobs = await run.store.count(Job)
    if counts == (0, 0, 0):
        assert jobs == 0 and not told, where
        tap(run, context)  # not stored: the draft and the Send button are still there
        await wait_for(
            lambda: said(run.fake, coordinator.user_id, "on its way"), 15, f"retry ({where})"
        )
        await run.fake.settle(quiet=0.5, timeout=15)
        counts = (
            await run.store.count(Meeting),
            await run.store.count(Broadcast),
            await run.store.count(Delivery),
        )
        jobs = await run.store.count(Job)
    # The meeting with its four invitations and its reminders, once.
    assert counts == (1, 1, 4) and jobs >= 1, (counts, jobs, where)
    err = await again.terminate()
    assert b"Traceback" not in err, err.decode()[-3000:]


async def test_kill_9_at_each_step_of_scheduling_a_meeting(fresh: Callable[..., Any]) -> None:
    await every_step(fresh, meeting_ready, "nm:preview:send", meeting_check)


# --- joining a group + its chat's invite link ---------------------------------------------

CHAT = -1005550001


async def join_ready(run: Run) -> dict[str, Any]:
    """A member at the card of an open group whose chat lets people in by link."""
    run.fake.add_group(CHAT, "Women chat")
    run.fake.set_bot_admin(CHAT)
    await make_group(run.store, chat_id=CHAT, chat_title="Women chat")  # type: ignore[arg-type]
    await add_member(run.store, 9200, "Jo")  # type: ignore[arg-type]
    joiner = BotClient(run.fake, 9200, "Jo")
    joiner.quiet = QUIET
    await joiner.send("/groups")
    await joiner.click("Women and ESCR")
    panel = joiner.last()
    data = next(
        str(b["callback_data"])
        for b in _inline_buttons(panel)
        if str(b.get("callback_data", "")).startswith("wg:join:")
    )
    return {"client": joiner, "panel": panel, "data": data}


async def join_check(run: Run, context: dict[str, Any], again: BotProcess) -> None:
    from models.group import GroupInvite, GroupMembership

    where = run.crashed_at or "no crash"
    links = [
        str(b.get("url"))
        for m in run.fake.messages(9200)
        for b in _inline_buttons(m)
        if b.get("url")
    ]
    stored = (await run.store.count(GroupMembership), await run.store.count(GroupInvite))
    if stored == (0, 0):
        assert not links, f"told a link that is not stored ({where})"
        tap(run, context)
        await wait_for(
            lambda: any(b.get("url") for m in run.fake.messages(9200) for b in _inline_buttons(m)),
            15,
            f"retry ({where})",
        )
        await run.fake.settle(quiet=0.5, timeout=15)
        stored = (await run.store.count(GroupMembership), await run.store.count(GroupInvite))
    # Member and link together, once; a link the member was told is the stored one.
    assert stored == (1, 1), (stored, where)

    async def link_of(session: AsyncSession) -> str:
        return str(await session.scalar(select(GroupInvite.link)))

    stored_link = await run.store.db(link_of)
    told = [
        str(b.get("url"))
        for m in run.fake.messages(9200)
        for b in _inline_buttons(m)
        if b.get("url")
    ]
    assert told and told[-1] == stored_link, (told, stored_link, where)
    err = await again.terminate()
    assert b"Traceback" not in err, err.decode()[-3000:]


async def test_kill_9_at_each_step_of_joining_a_group_with_a_chat(
    fresh: Callable[..., Any],
) -> None:
    await every_step(fresh, join_ready, "wg:join:", join_check)
