"""Handler path benchmark: the real bot beside a bare aiogram echo bot, on one fake Bot API.

Both bots run as child processes (`python -m bot run`, `python -m bench.echo_bot`) against
the fake of `bench.burst_fake`, itself in a process of its own; the benchmark pushes updates
into the fake and reads back when each was answered. In one run:

1. Start-up time (launch to first getUpdates) and idle memory (RSS) of both bots, and the
   heavy modules (charts, calendar files) the bot has loaded once started.
2. Throughput per update type: a burst of updates from distinct members (`/help`, `/groups`,
   a group's card button, a vote, a join, a mix), three times with other members each time;
   the median's updates/s, ratio to the echo bot, CPU ms per update. Flood limits lifted
   (this measures the bot, not Telegram's budget).
3. SQL statements per update type (counted by SQLAlchemy events, in this process, once the
   caches are warm), round trips to SQLite's connection thread (statements, BEGIN and
   COMMIT: each hand-off counted), and how many of them read the FSM state.
4. Latency under load: updates at 100/s (mostly taps, some commands) while a notice fans
   out to 10,000 members in the same process, with Telegram's limits enforced (429s);
   p50/p99 from update to answer, the fan-out's rate, handler replies vs engine sends.
5. With --database-url (PostgreSQL) and --redis-url: failures in a burst of 2,000 distinct
   users and in 50 users x 40 updates, with one and with two webhook processes.

`python -m bench handlers [--quick] [--only throughput,sql,load,scale] [--profile DIR]
[--database-url URL --redis-url URL]` (scenario 5 drops and recreates the schema of that
PostgreSQL database and empties that Redis database: give scratch ones).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456:TEST-TOKEN"
FIRST_USER = 1_000_000
QUICK_NOTE = " -- QUICK RUN (scaled down; run without --quick for the real figures)"
HEAVY_MODULES = ("PIL", "icalendar", "matplotlib", "numpy")
CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- processes ----------------------------------------------------------------------------


@dataclass
class Fake:
    """The burst fake in its own process."""

    base_url: str
    control_url: str
    proc: subprocess.Popen[bytes]

    async def call(self, method: str, path: str, body: Any = None) -> Any:
        timeout = aiohttp.ClientTimeout(total=300)
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.request(method, self.control_url + path, json=body) as response,
        ):
            return await response.json()

    async def push(self, specs: list[dict[str, Any]], rate: float = 0) -> list[int]:
        return list((await self.call("POST", "/push", {"updates": specs, "rate": rate}))["ids"])

    async def results(self) -> dict[int, list[Any]]:
        return {int(k): v for k, v in (await self.call("GET", "/results")).items()}

    async def stats(self) -> dict[str, Any]:
        return dict(await self.call("GET", "/stats"))

    async def reset(self) -> None:
        await self.call("POST", "/reset")


@contextmanager
def fake_server(users: int, *, limits: bool, latency: float = 0.0) -> Iterator[Fake]:
    """Start the fake with `users` users who started the bot."""
    args = [
        sys.executable,
        "-m",
        "bench.burst_fake",
        "--users",
        f"{FIRST_USER}:{FIRST_USER + users}",
        "--latency",
        str(latency),
    ]
    if not limits:
        args.append("--no-limits")
    proc = subprocess.Popen(
        args, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        yield Fake(info["base_url"], info["control_url"], proc)
    finally:
        proc.terminate()
        proc.wait(10)


@dataclass
class Child:
    """A bot process: its start time and its CPU and memory as the kernel counts them."""

    proc: subprocess.Popen[bytes]
    started: float
    log: Any = None

    def cpu(self) -> float:
        """User + system CPU seconds so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log is not None:
            self.log.close()

    def tail(self, lines: int = 30) -> str:
        """The end of the child's log (to show why it failed)."""
        if self.log is None:
            return ""
        self.log.flush()
        return "\n".join(Path(self.log.name).read_text().splitlines()[-lines:])


def bot_env(fake: Fake, db_url: str, **extra: Any) -> dict[str, str]:
    env = {
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": fake.base_url,
        "DATABASE_URL": db_url,
        "ADMIN_IDS": "",
        "DEFAULT_LOCALE": "en",
        "RUN_SCHEDULER": "false",
    }
    env.update({k.upper(): str(v) for k, v in extra.items()})
    return env


def spawn(module: str, env: dict[str, str], folder: str, name: str) -> Child:
    clean = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "WEBHOOK_URL")}
    log = open(Path(folder) / f"{name}.log", "w+")  # noqa: SIM115 - closed by Child.stop
    args = [sys.executable, "-m", *module.split()]
    started = time.monotonic()
    proc = subprocess.Popen(
        args,
        cwd=ROOT,
        env={**clean, **env, "PYTHONPATH": str(ROOT)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return Child(proc, started, log)


async def wait_until(check: Callable[[], Awaitable[bool]], limit: float, what: str) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


async def settle(fake: Fake, quiet: float = 0.5, limit: float = 60) -> None:
    """Wait out a burst's follow-ups before the next one: messages sent after the answer
    (a join's "You joined", paced at one a second per chat) would otherwise be measured
    against the next burst. At least 1.1 s, so each chat's one-a-second slot is free."""
    await asyncio.sleep(1.1)
    deadline = time.monotonic() + limit
    sent = (await fake.stats())["sent"]
    while time.monotonic() < deadline:
        await asyncio.sleep(quiet)
        now = (await fake.stats())["sent"]
        if now == sent:
            return
        sent = now


async def started(fake: Fake, child: Child, *, webhook: bool = False) -> float:
    """Seconds from launch to the first getUpdates (or setWebhook)."""
    key = "first_webhook" if webhook else "first_poll"

    async def ready() -> bool:
        if child.proc.poll() is not None:
            raise RuntimeError(f"the bot exited:\n{child.tail()}")
        return (await fake.stats())[key] is not None

    await wait_until(ready, 120, "the bot to start")
    return float((await fake.stats())[key]) - child.started


# --- the store ----------------------------------------------------------------------------


@dataclass
class World:
    """What the store holds for the benchmark: members, groups, a poll."""

    members: int
    groups: list[int] = field(default_factory=list)
    open_group: int = 0
    poll_id: int = 0
    poll_options: int = 0


async def prepare(db_url: str, members: int, *, fan_out: bool = False) -> World:
    """Migrate; add active members, the seed's working groups, an open named poll, and
    (with fan_out) a notice queued to every member."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert

    from bot.core.db import create_engine, create_sessionmaker, migrate
    from bot.groups.seed import apply_seed, read_seed
    from models.group import WorkingGroup
    from models.member import Member
    from models.poll import Audience, Poll, PollKind, PollOption, PollStatus

    await migrate(db_url)
    engine = create_engine(db_url)
    world = World(members)
    async with create_sessionmaker(engine)() as session:
        chunk = 5000
        for start in range(0, members, chunk):
            rows = [
                {
                    "telegram_id": FIRST_USER + i,
                    "display_name": f"Member {i}",
                    "locale": "en",
                    "country": ("UY", "KE", "IN", "FR", "BR")[i % 5],
                    "region": ("419", "014", "034", "155", "419")[i % 5],
                    "timezone": "America/Montevideo",
                    "gender": ("woman", "man", None)[i % 3],
                    "status": "active",
                    "role": "member",
                }
                for i in range(start, min(start + chunk, members))
            ]
            await session.execute(insert(Member), rows)
        now = datetime.now(UTC)
        await apply_seed(session, read_seed(ROOT / "seed" / "working_groups.yaml", "en"), now)
        await session.flush()
        from sqlalchemy import select

        groups = list(await session.scalars(select(WorkingGroup).order_by(WorkingGroup.id)))
        world.groups = [g.id for g in groups]
        world.open_group = next(g.id for g in groups if not g.moderated)
        poll = Poll(
            locale="en",
            question="Which campaign should the network lead next year?",
            kind=PollKind.SINGLE,
            anonymous=False,
            audience=Audience.NETWORK,
            status=PollStatus.OPEN,
            closes_at=now + timedelta(days=7),
            created_at=now,
        )
        session.add(poll)
        await session.flush()
        labels = ["Land", "Water", "Housing", "Decent work"]
        session.add_all(
            PollOption(poll_id=poll.id, position=i, label=label) for i, label in enumerate(labels)
        )
        world.poll_id, world.poll_options = poll.id, len(labels)
        await session.commit()
        if fan_out:
            from bot.delivery.notice import enqueue_notice

            await enqueue_notice(
                session,
                {
                    "en": "The regional assembly starts on Friday at 15:00.",
                    "es": "La asamblea regional empieza el viernes a las 15:00.",
                },
            )
            await session.commit()
    await engine.dispose()
    return world


async def reset_postgres(url: str) -> None:
    from sqlalchemy import text

    from bot.core.db import create_engine

    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def reset_redis(url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    await client.flushdb()
    await client.aclose()


# --- workloads ----------------------------------------------------------------------------


def spec(kind: str, user: int, world: World, rng: random.Random) -> dict[str, Any]:
    """One update of a kind, as the burst fake takes it (which ignores the "kind" key)."""
    return {**_spec(kind, user, world, rng), "kind": kind}


def _spec(kind: str, user: int, world: World, rng: random.Random) -> dict[str, Any]:
    from bot.groups.callbacks import GroupCb
    from bot.polls.views import VoteCb

    if kind == "help":
        return {"user": user, "text": "/help"}
    if kind == "groups":
        return {"user": user, "text": "/groups"}
    if kind == "card":
        group = rng.choice(world.groups)
        data = GroupCb(action="show", group_id=group).pack()
        return {"user": user, "press": data, "shown": "Working groups"}
    if kind == "vote":
        option = rng.randrange(world.poll_options)
        buttons = [VoteCb(poll=world.poll_id, option=i).pack() for i in range(world.poll_options)]
        return {"user": user, "press": buttons[option], "buttons": buttons, "shown": "Poll"}
    if kind == "join":
        data = GroupCb(action="join", group_id=world.open_group).pack()
        return {"user": user, "press": data, "shown": "Group card"}
    raise ValueError(kind)


KINDS = ("help", "groups", "card", "vote", "join", "mix")
CHEAP = ("help", "card")
WRITING = ("vote", "join")
MIX = (("card", 4), ("help", 2), ("groups", 2), ("vote", 1), ("join", 1))


def burst(kind: str, users: range, world: World, seed: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    kinds = [k for k, weight in MIX for _ in range(weight)]
    return [
        spec(rng.choice(kinds) if kind == "mix" else kind, FIRST_USER + i, world, rng)
        for i in users
    ]


@dataclass
class Outcome:
    """What became of a set of pushed updates."""

    pushed: int
    answered: int
    failed: int
    seconds: float
    latencies: list[float]  # queued at the fake to answered
    cpu: float = 0.0
    in_bot: list[float] = field(default_factory=list)  # handed to the bot to answered
    by_kind: dict[str, list[float]] = field(default_factory=dict)  # in_bot, by update kind

    @property
    def rate(self) -> float:
        return self.answered / self.seconds if self.seconds > 0 else 0.0

    def percentile(self, q: float, of: list[float] | None = None) -> float:
        values = self.latencies if of is None else of
        if not values:
            return float("nan")
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run_burst(
    fake: Fake,
    children: list[Child],
    specs: list[dict[str, Any]],
    *,
    rate: float = 0,
    patience: float = 120,
) -> Outcome:
    """Push the updates, wait until each is answered (or the timeout), and measure."""
    await fake.reset()
    cpu_before = sum(c.cpu() for c in children)
    ids = await fake.push(specs, rate)
    expected = set(ids)
    deadline = time.monotonic() + patience + (len(specs) / rate if rate else 0)
    results: dict[int, list[Any]] = {}
    while time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        results = await fake.results()
        if all(results.get(i, [0, None])[1] is not None for i in expected):
            break
    cpu = sum(c.cpu() for c in children) - cpu_before
    done = [results[i] for i in expected if i in results and results[i][1] is not None]
    first = min((results[i][0] for i in expected if i in results), default=0.0)
    last = max((entry[1] for entry in done), default=first)
    failed = sum(1 for entry in done if entry[2]) + (len(expected) - len(done))
    by_kind: dict[str, list[float]] = {}
    for update_id, one in zip(ids, specs, strict=True):
        entry = results.get(update_id)
        if entry is not None and entry[1] is not None and entry[3] is not None:
            by_kind.setdefault(one.get("kind", "?"), []).append(entry[1] - entry[3])
    return Outcome(
        pushed=len(expected),
        answered=len(done),
        failed=failed,
        seconds=last - first,
        latencies=[entry[1] - entry[0] for entry in done],
        cpu=cpu,
        in_bot=[entry[1] - entry[3] for entry in done if entry[3] is not None],
        by_kind=by_kind,
    )


# --- scenario 1 and 2: start-up, memory, throughput ---------------------------------------


async def throughput(
    db_url: str | None, folder: str, quick: bool, profile: str | None = None
) -> dict[str, Any]:
    """Start-up, idle memory and bursts for the echo bot, then for the real bot."""
    size = 200 if quick else 1000
    members = size * (len(KINDS) * REPEATS + 1)
    url = db_url or f"sqlite+aiosqlite:///{Path(folder) / 'throughput.sqlite3'}"
    if db_url:
        await reset_postgres(db_url)
    world = await prepare(url, members)
    figures: dict[str, Any] = {"size": size}
    for name in ("echo", "bot"):
        with fake_server(members, limits=False) as fake:
            if name == "echo":
                env = {"BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": fake.base_url}
                child = spawn("bench.echo_bot", env, folder, "echo")
            else:
                env = bot_env(fake, url, send_rate_global=0, run_delivery="false")
                env.update(json.loads(os.environ.get("BENCH_BOT_ENV", "{}")))
                child = spawn("bot run", env, folder, "bot")
            try:
                figures[name] = {"startup": await started(fake, child)}
                await asyncio.sleep(3)
                figures[name]["rss"] = child.rss_mb()
                # A warm-up so both have their connections and caches, then the bursts.
                await run_burst(fake, [child], burst("mix", range(members - 50, members), world))
                spy = profiler(child, folder, name) if profile else None
                for index, kind in enumerate(KINDS):
                    outcomes = []
                    for repeat in range(REPEATS):  # each time other members
                        first = (index * REPEATS + repeat) * size
                        users = range(first, first + size)
                        specs = burst(kind, users, world, index)
                        outcomes.append(await run_burst(fake, [child], specs))
                        await settle(fake)
                    figures[name][kind] = median(outcomes)
                if spy is not None:
                    figures[name]["profile"] = stop_profiler(spy, profile, name)
            finally:
                child.stop()
    return figures


REPEATS = 3  # bursts per update kind; the median is reported (the machine's noise is large)


def median(outcomes: list[Outcome]) -> Outcome:
    """The burst of median rate, with the failures of all of them (none may hide)."""
    middle = sorted(outcomes, key=lambda o: o.rate)[len(outcomes) // 2]
    return dataclasses.replace(middle, failed=sum(o.failed for o in outcomes))


def profiler(child: Child, folder: str, name: str) -> subprocess.Popen[bytes]:
    """py-spy sampling the child (collapsed stacks) until stopped."""
    out = Path(folder) / f"{name}.folded"
    return subprocess.Popen(
        [
            "py-spy",
            "record",
            "--format",
            "raw",
            "--rate",
            "250",
            "--nonblocking",
            "--pid",
            str(child.proc.pid),
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop_profiler(spy: subprocess.Popen[bytes], keep: str, name: str) -> str:
    """Stop py-spy, copy its stacks to `keep` and return the path."""
    import shutil
    import signal

    spy.send_signal(signal.SIGINT)
    spy.wait(60)
    source = Path(spy.args[-1])  # type: ignore[index]
    target = Path(keep) / f"{name}.folded"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, target)
    return str(target)


def probe_imports() -> None:
    """In a child: build the bot as `python -m bot run` does and list heavy modules loaded."""

    async def build() -> list[str]:
        from bot.core.config import load_settings
        from bot.wiring import build_app

        with tempfile.TemporaryDirectory() as folder:
            settings = load_settings(
                bot_token=TOKEN,
                database_url=f"sqlite+aiosqlite:///{Path(folder) / 'probe.sqlite3'}",
                admin_ids=[],
            )
            app = await build_app(settings)
            await app.close()
        return [m for m in HEAVY_MODULES if m in sys.modules]

    print(json.dumps(asyncio.run(build())))


def heavy_at_start() -> list[str]:
    child = subprocess.run(
        [sys.executable, "-m", "bench.handlers", "--probe-imports"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    return list(json.loads(child.stdout.strip().splitlines()[-1]))


# --- scenario 3: statements per update -----------------------------------------------------


async def statements(show: bool = False) -> dict[str, dict[str, int]]:
    """SQL statements and round trips per update type, in this process, caches warm."""
    from sqlalchemy import event

    from bot.core.clock import FakeClock
    from bot.core.config import load_settings
    from bot.sandbox.telegram import FakeTelegram
    from tests.botclient import BotClient
    from tests.harness import RunningBot

    counts: dict[str, dict[str, int]] = {}
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'count.sqlite3'}"
        world = await prepare(url, 50)
        fake = FakeTelegram()
        await fake.start()
        settings = load_settings(
            bot_token=fake.token,
            telegram_api_url=fake.base_url,
            database_url=url,
            admin_ids=[],
            run_delivery=False,
        )
        running = RunningBot(settings, FakeClock(), fake)
        await running.start()
        assert running.app is not None
        tally = {"statements": 0, "round_trips": 0, "fsm": 0}
        seen: list[str] = []

        def on_statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            seen.append(" ".join(statement.split())[:160])
            tally["statements"] += 1
            tally["fsm"] += "fsm_state" in statement

        import aiosqlite

        original = aiosqlite.Connection._execute

        async def trip(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
            """Every hand-off to a connection's thread (a statement, a commit, a rollback)."""
            tally["round_trips"] += 1
            if getattr(fn, "__name__", "") != "_statement":
                seen.append(f"(trip: {getattr(fn, '__name__', fn)})")
            return await original(self, fn, *args, **kwargs)

        sync_engine = running.app.engine.sync_engine
        event.listen(sync_engine, "before_cursor_execute", on_statement)
        aiosqlite.Connection._execute = trip  # type: ignore[method-assign]
        try:
            users = iter(range(10, 50))

            async def measure(kind: str, action: Callable[[BotClient], Awaitable[Any]]) -> None:
                for attempt in range(2):  # the second, with warm caches, is reported
                    user = BotClient(fake, FIRST_USER + next(users), "Member")
                    user.quiet = 0.05
                    await user.send("/groups")  # a message with buttons to tap
                    for key in tally:
                        tally[key] = 0
                    seen.clear()
                    await action(user)
                    if attempt:
                        counts[kind] = dict(tally)
                        if show:
                            print(f"-- {kind}:", *seen, sep="\n   ")

            from bot.groups.callbacks import GroupCb
            from bot.polls.views import VoteCb

            await measure("help", lambda u: u.send("/help"))
            await measure("groups", lambda u: u.send("/groups"))
            await measure(
                "card",
                lambda u: u.press_data(GroupCb(action="show", group_id=world.groups[0]).pack()),
            )
            await measure(
                "vote", lambda u: u.press_data(VoteCb(poll=world.poll_id, option=1).pack())
            )
            await measure(
                "join",
                lambda u: u.press_data(GroupCb(action="join", group_id=world.open_group).pack()),
            )
        finally:
            event.remove(sync_engine, "before_cursor_execute", on_statement)
            aiosqlite.Connection._execute = original  # type: ignore[method-assign]
            await running.stop()
            await fake.stop()
    return counts


# --- scenario 4: latency at 100 updates/s beside a fan-out ---------------------------------

LOAD_MIX = (("vote", 55), ("card", 25), ("help", 10), ("groups", 5), ("join", 5))


def steady_load(world: World, rate: int, seconds: int, seed: int = 4) -> list[dict[str, Any]]:
    """`rate` updates a second for `seconds`: each voter and joiner once, the others from
    a pool rotating slowly enough that no chat gets two messages within a second."""
    rng = random.Random(seed)
    kinds = [k for k, weight in LOAD_MIX for _ in range(weight)]
    voters = iter(range(world.members))
    joiners = iter(range(world.members - 1, -1, -1))
    specs = []
    for n in range(rate * seconds):
        kind = rng.choice(kinds)
        if kind == "vote":
            user = next(voters)
        elif kind == "join":
            user = next(joiners)
        else:
            user = (n * 7919) % world.members
        specs.append(spec(kind, FIRST_USER + user, world, rng))
    return specs


async def under_load(db_url: str | None, folder: str, quick: bool) -> dict[str, Any]:
    """p50/p99 update to answer at 100 updates/s while 10,000 members get a notice."""
    members = 10_000
    seconds = 10 if quick else 30
    url = db_url or f"sqlite+aiosqlite:///{Path(folder) / 'load.sqlite3'}"
    if db_url:
        await reset_postgres(db_url)
    world = await prepare(url, members, fan_out=True)
    load = steady_load(world, 100, seconds)
    # The yardstick first: the echo bot under the same updates, on the same fake (the same
    # modelled network), with nothing else to do.
    with fake_server(members, limits=True, latency=0.05) as fake:
        env = {"BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": fake.base_url}
        child = spawn("bench.echo_bot", env, folder, "echo-load")
        try:
            await started(fake, child)
            echo = await run_burst(fake, [child], load, rate=100)
        finally:
            child.stop()
    with fake_server(members, limits=True, latency=0.05) as fake:
        child = spawn("bot run", bot_env(fake, url), folder, "load")
        try:
            await started(fake, child)
            await asyncio.sleep(3)  # the fan-out is under way
            before = await fake.stats()
            outcome = await run_burst(fake, [child], load, rate=100)
            after = await fake.stats()
            if outcome.failed:
                print("   errors in the bot's log:", *errors_in(child), sep="\n     ")
        finally:
            child.stop()
    window = [t for t in after["send_times"] if t >= outcome_start(after, outcome)]
    return {
        "seconds": seconds,
        "echo": echo,
        "outcome": outcome,
        "sends_per_s": len(window) / outcome.seconds if outcome.seconds else 0.0,
        "429": after["refused"].get("429", 0) + before["refused"].get("429", 0),
        "violations": after["violations"],
        "violation_samples": after["violation_samples"],
    }


def errors_in(child: Child, most: int = 5) -> list[str]:
    """The bot's logged errors (why an update failed), the first few."""
    if child.log is None:
        return []
    child.log.flush()
    lines = Path(child.log.name).read_text().splitlines()
    return [line[:300] for line in lines if "ERROR" in line or "Error" in line][:most]


def outcome_start(stats: dict[str, Any], outcome: Outcome) -> float:
    times = stats["send_times"]
    return float(times[-1] - outcome.seconds) if times else 0.0


# --- scenario 5: PostgreSQL + Redis, webhook processes --------------------------------------


async def scale_out(db_url: str, redis_url: str, folder: str, quick: bool) -> dict[str, Any]:
    """Failures and rate of two bursts, with one and with two webhook processes."""
    distinct = 500 if quick else 2000
    users, each = (20, 20) if quick else (50, 40)
    members = max(distinct, users) + 10
    figures: dict[str, Any] = {"distinct": distinct, "users": users, "each": each}
    for processes in (1, 2):
        await reset_postgres(db_url)
        await reset_redis(redis_url)
        world = await prepare(db_url, members)
        with fake_server(members, limits=False) as fake:
            ports = [free_port() for _ in range(processes)]
            children: list[Child] = []
            try:
                for i, port in enumerate(ports):
                    await fake.reset()
                    env = bot_env(
                        fake,
                        db_url,
                        redis_url=redis_url,
                        send_rate_global=0,
                        webhook_url="https://bench.invalid",
                        webhook_secret="bench-webhook-secret",
                        # One person's `each` updates at once is a flood, which the throttle
                        # drops by design (see `python -m bench flood`); here it measures
                        # capacity, so the burst allowance covers them.
                        flood_burst=each,
                        webhook_port=port,
                        run_delivery="true" if i == 0 else "false",
                    )
                    children.append(spawn("bot run", env, folder, f"webhook{processes}-{i}"))
                    await started(fake, children[-1], webhook=True)
                await asyncio.sleep(2)
                targets = [f"http://127.0.0.1:{port}/telegram" for port in ports]
                await fake.call("POST", "/webhook", {"targets": targets, "connections": 40})
                rng = random.Random(5)
                one_each = [
                    spec(rng.choice(("help", "card")), FIRST_USER + i, world, rng)
                    for i in range(distinct)
                ]
                figures[f"distinct{processes}"] = await run_burst(fake, children, one_each)
                await asyncio.sleep(1.1)
                many = [
                    spec(("help", "card")[n % 2], FIRST_USER + u, world, rng)
                    for n in range(each)
                    for u in range(users)
                ]
                figures[f"many{processes}"] = await run_burst(fake, children, many)
            finally:
                for child in children:
                    child.stop()
    return figures


def free_port() -> int:
    from bench.fake_server import free_port as free

    return free()


# --- report -------------------------------------------------------------------------------


def table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(header, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def report_throughput(fig: dict[str, Any], heavy: list[str]) -> str:
    echo, bot = fig["echo"], fig["bot"]
    rows = [
        (
            "start-up (launch to first getUpdates)",
            f"{echo['startup']:.2f} s",
            f"{bot['startup']:.2f} s",
            "",
            "",
        ),
        ("idle memory (RSS)", f"{echo['rss']:.0f} MB", f"{bot['rss']:.0f} MB", "", ""),
        (
            "heavy modules loaded at start",
            "-",
            ", ".join(heavy) or "none",
            "none",
            verdict(not heavy),
        ),
    ]
    for kind in KINDS:
        e, b = echo[kind], bot[kind]
        ratio = b.rate / e.rate if e.rate else 0.0
        goal = 0.5 if kind in CHEAP else 0.25 if kind in WRITING else None
        rows.append(
            (
                f"{kind}: updates/s ({fig['size']:,} at once, median of {REPEATS})",
                f"{e.rate:,.0f} ({e.cpu * 1000 / max(e.answered, 1):.1f} ms CPU)",
                f"{b.rate:,.0f} ({b.cpu * 1000 / max(b.answered, 1):.1f} ms CPU)"
                + (f", {b.failed} failed" if b.failed else ""),
                f"{ratio:.2f}" + (f" (>= {goal})" if goal else ""),
                verdict(ratio >= goal and not b.failed) if goal else "",
            )
        )
    return table(rows, ("Measure", "echo bot", "this bot", "ratio", ""))


def report_statements(counts: dict[str, dict[str, int]]) -> str:
    rows = [
        (kind, str(c["statements"]), str(c["round_trips"]), str(c["fsm"]))
        for kind, c in counts.items()
    ]
    return table(rows, ("update (caches warm)", "SQL statements", "round trips", "FSM reads"))


def report_load(load: dict[str, Any]) -> str:
    o: Outcome = load["outcome"]
    e: Outcome = load["echo"]

    def ms(outcome: Outcome, of: list[float] | None = None) -> str:
        p50, p99 = outcome.percentile(0.5, of), outcome.percentile(0.99, of)
        return f"{p50 * 1000:.0f} / {p99 * 1000:.0f} ms"

    rows = [
        (
            f"100 updates/s for {load['seconds']} s (this bot: beside a 10,000-member fan-out)",
            f"{e.answered:,} of {e.pushed:,}, {e.failed} failed",
            f"{o.answered:,} of {o.pushed:,}, {o.failed} failed",
            "all",
            verdict(o.failed == 0),
        ),
        (
            "   p50 / p99, handed to the bot -> its answer",
            ms(e, e.in_bot),
            ms(o, o.in_bot),
            "p99 <= 50 ms",
            verdict(o.percentile(0.99, o.in_bot) <= 0.05),
        ),
        *(
            (f"     {k} ({share} %)", ms(e, e.by_kind.get(k)), ms(o, o.by_kind.get(k)), "", "")
            for k, share in LOAD_MIX
        ),
        ("   p50 / p99, queued at the fake -> answer (+ network)", ms(e), ms(o), "", ""),
        ("   messages sent per second (all)", "", f"{load['sends_per_s']:.1f}", "<= 30", ""),
        (
            "   429s provoked / limit violations",
            "",
            f"{load['429']} / {load['violations']}",
            "0",
            verdict(load["429"] == 0 and load["violations"] == 0),
        ),
    ]
    note = (
        "(the fake models 50 ms of network before each answer: a polling bot waits up to that"
        " for its next getUpdates, in the second p50 / p99 row)"
    )
    samples = "".join(f"\n   limit broken: {line}" for line in load.get("violation_samples", []))
    return table(rows, ("Measure", "echo bot", "this bot", "Target", "")) + "\n" + note + samples


def report_scale(fig: dict[str, Any]) -> str:
    rows = []
    for processes in (1, 2):
        for key, label in (
            ("distinct", f"{fig['distinct']:,} distinct users at once"),
            ("many", f"{fig['users']} users x {fig['each']} updates"),
        ):
            o: Outcome = fig[f"{key}{processes}"]
            rows.append(
                (
                    f"{processes} process{'es' if processes > 1 else ''}: {label}",
                    f"{o.failed} failed of {o.pushed:,}",
                    f"{o.rate:,.0f} updates/s, p99 {o.percentile(0.99) * 1000:.0f} ms",
                    verdict(o.failed == 0),
                )
            )
    return table(rows, ("PostgreSQL + Redis, webhook", "failures", "rate", ""))


def run(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench handlers", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="smaller bursts (a few minutes)")
    ap.add_argument(
        "--database-url", help="scratch PostgreSQL URL for scenario 5 (1-4 run on SQLite)"
    )
    ap.add_argument("--redis-url", help="Redis URL (with --database-url) for scenario 5")
    ap.add_argument("--only", help="comma-separated scenarios to run: throughput,sql,load,scale")
    ap.add_argument("--show-sql", action="store_true", help="print each update's statements")
    ap.add_argument("--profile", help="folder for py-spy's stacks of both bots' bursts")
    ap.add_argument("--probe-imports", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.probe_imports:
        probe_imports()
        return 0
    from bot.core.config import normalise_db_url

    db_url = normalise_db_url(args.database_url) if args.database_url else None
    only = set((args.only or "throughput,sql,load,scale").split(","))
    load_avg = os.getloadavg()
    print(
        f"Handler benchmark: {os.cpu_count()} CPUs, load average {load_avg[0]:.2f} "
        f"{load_avg[1]:.2f} {load_avg[2]:.2f} at start; scenarios 1-4 on a temporary SQLite "
        f"file" + (QUICK_NOTE if args.quick else ""),
        flush=True,
    )
    status = 0
    with tempfile.TemporaryDirectory() as folder:
        if "throughput" in only:
            print("[1-2] start-up, memory, throughput ...", flush=True)
            fig = asyncio.run(throughput(None, folder, args.quick, args.profile))
            print(report_throughput(fig, heavy_at_start()), flush=True)
        if "sql" in only:
            print("[3] SQL statements per update ...", flush=True)
            print(report_statements(asyncio.run(statements(args.show_sql))), flush=True)
        if "load" in only:
            print("[4] 100 updates/s beside a fan-out ...", flush=True)
            print(report_load(asyncio.run(under_load(None, folder, args.quick))), flush=True)
        if "scale" in only:
            if db_url and args.redis_url:
                print("[5] PostgreSQL + Redis bursts, 1 and 2 webhook processes ...", flush=True)
                fig = asyncio.run(scale_out(db_url, args.redis_url, folder, args.quick))
                print(report_scale(fig), flush=True)
            else:
                print("[5] skipped: give --database-url (PostgreSQL) and --redis-url")
    with contextlib.suppress(Exception):
        load_avg = os.getloadavg()
        print(f"load average at the end: {load_avg[0]:.2f} {load_avg[1]:.2f} {load_avg[2]:.2f}")
    return status


if __name__ == "__main__":
    sys.exit(run())
