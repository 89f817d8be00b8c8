"""The secret ballot against someone holding a copy of the database: pairing ballots with
voters by row order, transaction ids (PostgreSQL xmin), physical position (ctid) or the
write-ahead log (SQLite) must do no better than chance, and /forget gives no second vote."""

from __future__ import annotations

import itertools
import json
import random
import sqlite3
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from bot.polls.answering import ANSWER_TTL, expire_answers
from bot.polls.ballot_box import POOL_BATCH
from bot.sandbox.telegram import FakeTelegram
from models.poll import AnonymousBallot, Participation, PendingBallot, PollKind, VoterToken
from tests.conftest import add_member
from tests.harness import RunningBot
from tests.test_poll_flows import CLOSES, count, quick_poll
from tests.test_polls import (
    COORDINATOR,
    NOW,
    PEOPLE,
    backend_of,
    eventually,
    fsm_rows,
    has_text,
    network,
    poll_message,
    wake,
)

QUESTION = "Which campaign do we lead in 2027?"
OPTIONS = [f"Campaign {letter}" for letter in "ABCDEFGHIJKL"]
VOTERS = [person[0] for person in PEOPLE[:12]]
# More right pairings than this out of 12 is what a random guess reaches with p < 0.001.
CHANCE_LIMIT = 5


def sqlite_path(backend: dict[str, Any]) -> Path:
    return Path(backend["db_url"].split(":///", 1)[1])


def wal_replay(backend: dict[str, Any], poll_id: int) -> list[tuple[set[int], list[str]]]:
    """Replay a copy of the SQLite file and its write-ahead log commit by commit: for each
    commit, who had answered the poll and which ballots (box and pool) existed."""
    path = sqlite_path(backend)
    main = path.read_bytes()
    wal_path = Path(f"{path}-wal")
    wal = wal_path.read_bytes() if wal_path.exists() else b""
    ends = [0]
    if len(wal) >= 32:
        frame = 24 + int.from_bytes(wal[8:12], "big")
        offset = 32
        while offset + frame <= len(wal):
            if int.from_bytes(wal[offset + 4 : offset + 8], "big"):  # a commit frame
                ends.append(offset + frame)
            offset += frame
    states = []
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "copy.sqlite3"
        for end in ends:
            for leftover in Path(folder).iterdir():
                leftover.unlink()
            copy.write_bytes(main)
            if end:
                Path(f"{copy}-wal").write_bytes(wal[:end])
            conn = sqlite3.connect(copy)
            try:
                voters = {
                    row[0]
                    for row in conn.execute(
                        "SELECT member_id FROM poll_participations WHERE poll_id = ?", (poll_id,)
                    )
                }
                # a ballot in the box by its choice, one in the pool by its sealed bytes
                ballots = [
                    str(row[0])
                    for table, column in (
                        ("poll_ballots", "choices"),
                        ("poll_pending_ballots", "hex(sealed)"),
                    )
                    for row in conn.execute(
                        f"SELECT {column} FROM {table} WHERE poll_id = ?", (poll_id,)
                    )
                ]
            finally:
                conn.close()
            states.append((voters, sorted(ballots)))
    return states


def replay_pairings(states: list[tuple[set[int], list[str]]]) -> list[tuple[int, str]]:
    """(voter, ballot) for every replayed commit that added one participation and one ballot,
    and commits that changed the ballots at all (what a log still shows of the voting)."""
    pairs = []
    for (voters, ballots), (after_voters, after_ballots) in itertools.pairwise(states):
        new_voters = after_voters - voters
        new_ballots = list(after_ballots)
        for ballot in ballots:
            if ballot in new_ballots:
                new_ballots.remove(ballot)
        if len(new_voters) == 1 and len(new_ballots) == 1:
            pairs.append((new_voters.pop(), new_ballots[0]))
    return pairs


def log_touches_ballots(states: list[tuple[set[int], list[str]]]) -> bool:
    """Whether any commit still in the log changed the poll's ballots or participants."""
    return any(state != states[0] for state in states[1:])


def right_pairings(ballots: list[int], voters: list[int], truth: dict[int, int]) -> int:
    """How many ballots a pairing by position (i-th ballot with i-th voter) gets right."""
    return sum(truth[voter] == choice for choice, voter in zip(ballots, voters, strict=False))


async def storage_view(bot: RunningBot, backend: dict[str, Any], poll_id: int) -> dict[str, Any]:
    """What a copy of the store shows: the ballots and participations in every order a
    database gives away (storage order; on PostgreSQL transaction id and position too)."""

    async def read(session: Any) -> dict[str, Any]:
        # storage order: the primary key's B-tree on SQLite, the heap's order on PostgreSQL
        scan = "NOT INDEXED" if backend["name"] == "sqlite" else ""
        order = "" if backend["name"] == "sqlite" else "ORDER BY ctid"
        seen: dict[str, Any] = {}
        for key, column, table in (
            ("ballots", "choices", "poll_ballots"),
            ("voters", "member_id", "poll_participations"),
        ):
            rows = await session.execute(
                text(f"SELECT {column} FROM {table} {scan} WHERE poll_id = :p {order}"),
                {"p": poll_id},
            )
            seen[key] = [row[0] for row in rows.all()]
        if backend["name"] == "postgres":
            rows = await session.execute(
                text(
                    "SELECT choices, xmin::text::bigint, ctid::text FROM poll_ballots "
                    "WHERE poll_id = :p"
                ),
                {"p": poll_id},
            )
            seen["pg_ballots"] = [tuple(row) for row in rows.all()]
            rows = await session.execute(
                text(
                    "SELECT member_id, xmin::text::bigint, ctid::text FROM poll_participations "
                    "WHERE poll_id = :p"
                ),
                {"p": poll_id},
            )
            seen["pg_voters"] = [tuple(row) for row in rows.all()]
        return seen

    result: dict[str, Any] = await bot.db(read)
    return result


def ctid_key(ctid: str) -> tuple[int, int]:
    page, item = ctid.strip("()").split(",")
    return int(page), int(item)


def attacks(seen: dict[str, Any], vote_order: list[int]) -> dict[str, tuple[list[int], list[int]]]:
    """Each attack lines the ballots up against the voters in some order the store gives."""
    found = {
        "storage order vs storage order": (seen["ballots"], seen["voters"]),
        "storage order vs true vote order": (seen["ballots"], vote_order),
    }
    if "pg_ballots" in seen:
        by_xmin = [row[0] for row in sorted(seen["pg_ballots"], key=lambda r: (r[1], r[2]))]
        by_ctid = [row[0] for row in sorted(seen["pg_ballots"], key=lambda r: ctid_key(r[2]))]
        voters_xmin = [row[0] for row in sorted(seen["pg_voters"], key=lambda r: r[1])]
        voters_ctid = [row[0] for row in sorted(seen["pg_voters"], key=lambda r: ctid_key(r[2]))]
        found |= {
            "xmin vs xmin": (by_xmin, voters_xmin),
            "ctid vs ctid": (by_ctid, voters_ctid),
            "ctid vs xmin": (by_ctid, voters_xmin),
            "xmin vs true order": (by_xmin, vote_order),
        }
    return found


async def test_no_pairing_of_ballots_and_voters_beats_chance(
    bot: RunningBot, fake: FakeTelegram, client: Callable[..., Any], clock: Any, backend: Any
) -> None:
    clock.set(NOW)
    await network(bot, fake)
    poll_id = await quick_poll(
        bot, COORDINATOR, question=QUESTION, kind=PollKind.SINGLE, options=OPTIONS
    )
    await eventually(lambda: all(has_text(fake, voter, QUESTION) for voter in VOTERS))
    ids = await bot.db(
        lambda s: s.execute(
            text("SELECT telegram_id, id FROM members WHERE telegram_id >= 600200")
        )
    )
    member_of = dict(ids.all())
    # each voter picks a different campaign (in no relation to their ids): a right pairing
    # is unmistakable
    picks = random.Random(11).sample(range(len(VOTERS)), len(VOTERS))
    truth = {member_of[voter]: 1 << picks[i] for i, voter in enumerate(VOTERS)}
    vote_order = [member_of[voter] for voter in VOTERS]
    for i, voter in enumerate(VOTERS):
        user = client(voter, "Voter")
        label = f"{picks[i] + 1}. {OPTIONS[picks[i]]}"
        await user.click(label, poll_message(fake, voter, QUESTION))
        assert "counted" in str(user.callback_answer()) or "contada" in str(user.callback_answer())
        box = await count_box(bot, poll_id)
        # the box only ever gains whole batches; what waits is in the pool
        assert box == (i + 1) // POOL_BATCH * POOL_BATCH
        assert box + await count_pool(bot, poll_id) == i + 1
        if backend["name"] == "sqlite":
            # a copy of the file and its log taken now: replaying it commit by commit
            await eventually(lambda: not replay_pairings(wal_replay(backend, poll_id)))

    seen = await storage_view(bot, backend, poll_id)
    if backend["name"] == "postgres":
        # while open, a ballot can be narrowed down to its batch of at least POOL_BATCH voters
        batches: dict[int, int] = {}
        for _choice, xmin, _ctid in seen["pg_ballots"]:
            batches[xmin] = batches.get(xmin, 0) + 1
        assert all(size >= POOL_BATCH for size in batches.values()), batches
        assert len({row[1] for row in seen["pg_voters"]}) == len(VOTERS)  # one per vote

    # the close puts the rest in and re-seals the whole box in one shuffled transaction
    ana = client(COORDINATOR, "Ana")
    await ana.send("/polls")
    await ana.click(f"📊 {QUESTION}")
    await ana.click("🔒 Close now")
    await ana.click("Yes, close it now")
    assert await count_box(bot, poll_id) == len(VOTERS) and await count_pool(bot, poll_id) == 0
    await eventually(lambda: scrubbed(bot, backend, poll_id))

    seen = await storage_view(bot, backend, poll_id)
    if backend["name"] == "postgres":
        assert len({row[1] for row in seen["pg_ballots"]}) == 1, "one transaction for all"
    for name, (ballots, voters) in attacks(seen, vote_order).items():
        assert len(ballots) == len(voters) == len(VOTERS), name
        right = right_pairings(ballots, voters, truth)
        assert right <= CHANCE_LIMIT, f"{name}: {right} of {len(VOTERS)} paired"


async def count_box(bot: RunningBot, poll_id: int) -> int:
    return await count(bot, AnonymousBallot, poll_id) - await count_pool(bot, poll_id)


async def count_pool(bot: RunningBot, poll_id: int) -> int:
    return int(
        await bot.db(
            lambda s: s.scalar(
                select(text("count(*)"))
                .select_from(PendingBallot)
                .where(PendingBallot.poll_id == poll_id)
            )
        )
    )


async def scrubbed(bot: RunningBot, backend: dict[str, Any], poll_id: int) -> bool:
    """No old row versions left: SQLite's log is empty; PostgreSQL's pool file is empty and
    the box's file holds no dead row (its size is that of the live rows only)."""
    if backend["name"] == "sqlite":
        return not log_touches_ballots(wal_replay(backend, poll_id))

    async def dead(session: Any) -> int:
        """Row versions on disk (read page by page, as pageinspect shows them) that are not
        live rows: what VACUUM FULL must have left none of."""
        await session.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        await session.execute(text("CHECKPOINT"))
        found = 0
        for table in ("poll_ballots", "poll_pending_ballots"):
            physical = await session.scalar(
                text(
                    f"SELECT count(*) FROM generate_series(0, "
                    f"(pg_relation_size('{table}') / 8192)::int - 1) AS page, "
                    f"heap_page_items(get_raw_page('{table}', page)) WHERE t_data IS NOT NULL"
                )
            )
            live = await session.scalar(text(f"SELECT count(*) FROM {table}"))
            found += int(physical or 0) - int(live or 0)
        await session.commit()
        return found

    return await bot.db(dead) == 0


async def test_few_voters_wait_for_the_close_and_forget_gives_no_second_vote(
    bot: RunningBot, fake: FakeTelegram, client: Callable[..., Any], clock: Any, backend: Any
) -> None:
    clock.set(NOW)
    await network(bot, fake)
    poll_id = await quick_poll(
        bot, COORDINATOR, question=QUESTION, kind=PollKind.SINGLE, options=OPTIONS[:3]
    )
    voter = VOTERS[2]  # Joy, English
    await eventually(lambda: has_text(fake, voter, QUESTION))
    joy = client(voter, "Joy")
    await joy.click(f"1. {OPTIONS[0]}", poll_message(fake, voter, QUESTION))
    assert "counted" in str(joy.callback_answer())
    assert await count_box(bot, poll_id) == 0 and await count_pool(bot, poll_id) == 1
    assert await bot.db(lambda s: s.scalar(select(text("count(*)")).select_from(VoterToken))) == 1

    # she erases herself, comes back, and tries to vote again: the keyed token says no
    await joy.send("/forget")
    await joy.click("Yes, erase everything")
    assert (
        await bot.db(lambda s: s.scalar(select(text("count(*)")).select_from(Participation))) == 0
    )
    await add_member(bot, voter, "Joy again", country="UY")
    await bot.db(lambda s: rejoin(s, voter))
    await joy.press_data(f"pv:{poll_id}:1", poll_message(fake, voter, QUESTION))
    assert "already answered" in str(joy.callback_answer())
    assert await count(bot, AnonymousBallot, poll_id) == 1
    # and the reminder before the close is not for her (it is for those who have not voted)
    clock.set(CLOSES - timedelta(hours=24) + timedelta(seconds=1))
    wake(bot)
    await eventually(lambda: has_text(fake, 600_207, "Reminder"))  # Tom did not vote
    await fake.settle()
    assert not has_text(fake, voter, "Reminder")

    # at the close the lone ballot enters the box, and the log of it is checkpointed away
    ana = client(COORDINATOR, "Ana")
    await eventually(lambda: has_text(fake, COORDINATOR, "Reminder"))  # she is a member too
    listing = await ana.send("/polls")
    await ana.click(f"📊 {QUESTION}", listing[-1])
    await ana.click("🔒 Close now")
    await ana.click("Yes, close it now")
    assert await count_box(bot, poll_id) == 1 and await count_pool(bot, poll_id) == 0
    await eventually(lambda: scrubbed(bot, backend, poll_id))


async def rejoin(session: Any, telegram_id: int) -> None:
    """Put the member back in the 'women' group, as a coordinator would."""
    from models.group import GroupMembership, WorkingGroup
    from models.member import Member

    member = await session.scalar(select(Member).where(Member.telegram_id == telegram_id))
    group = await session.scalar(select(WorkingGroup).where(WorkingGroup.code == "women"))
    session.add(GroupMembership(group_id=group.id, member_id=member.id))
    await session.commit()


async def test_an_abandoned_block_reason_leaves_no_choice_and_expires(
    bot: RunningBot, fake: FakeTelegram, client: Callable[..., Any], clock: Any
) -> None:
    clock.set(NOW)
    await network(bot, fake)
    question = "Do we sign the joint letter?"
    await quick_poll(bot, COORDINATOR, question=question, kind=PollKind.CONSENT)
    voter = VOTERS[2]
    await eventually(lambda: has_text(fake, voter, question))
    joy = client(voter, "Joy")
    await joy.click("⛔ Block", poll_message(fake, voter, question))
    stored = await fsm_rows(bot, backend_of(bot), voter)
    assert stored and "choices" not in json.dumps(stored) and "block" not in json.dumps(stored)
    assert bot.app is not None
    assert await expire_answers(bot.app) == 0  # not abandoned yet
    clock.set(NOW + ANSWER_TTL + timedelta(minutes=1))
    assert await expire_answers(bot.app) == 1
    assert await fsm_rows(bot, backend_of(bot), voter) == {}
    # what she writes now is not taken as a reason
    reply = await joy.send("I changed my mind")
    assert not any("block" in m.get("text", "").lower() for m in reply)
    assert await count(bot, AnonymousBallot, 1) == 0
