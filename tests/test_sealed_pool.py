"""The sealed pool against someone holding a copy of the database but not the privacy key.

While fewer than POOL_BATCH secret ballots wait in the pool, a pending ballot still shares its
transaction with its voter's participation (PostgreSQL: the same xmin; SQLite: one commit
between two copies of the file). The attacker here makes that pairing, and reads the raw rows
and pages: the ballot paired with a voter must tell nothing without the key. The same for a
comment on a secret poll and its author's keyed counter."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from bot.core.privacy import SealError, seal, unseal
from bot.polls.ballot_box import (
    POOL_BATCH,
    SEALED_SIZE,
    open_ballot,
    open_comment,
    seal_ballot,
    seal_comment,
)
from bot.sandbox.telegram import FakeTelegram
from models.member import Member
from models.poll import AnonymousBallot, AnonymousComment, CommentCount, PollKind
from tests.harness import RunningBot
from tests.test_poll_flows import quick_poll, rows_in
from tests.test_polls import COORDINATOR, NOW, eventually, has_text, network, poll_message

QUESTION = "Do we join the coalition on water rights?"
REASON = "The coalition funds a mining company's water programme"
COMMENT = "Ask the river communities before we sign anything"
WRONG_KEY = b"a key the attacker guessed"
# Amina and Wanjiru are both women in Kenya and both agree: two identical ballots.
VOTES = [
    (600_214, "Amina", "👍 Agree"),
    (600_215, "Wanjiru", "👍 Agree"),
    (600_203, "Joy", "⛔ Block"),
    (600_207, "Tom", "👎 Disagree"),
]
FIFTH = (600_212, "Hugo", "👍 Agree")
POOL_COLUMNS = ["id", "poll_id", "sealed"]


def sqlite_copy(backend: dict[str, Any], folder: Path, name: str) -> Path:
    """A copy of the SQLite file and its write-ahead log, as a backup or a thief takes it."""
    path = Path(backend["db_url"].split(":///", 1)[1])
    copy = folder / name
    copy.mkdir()
    shutil.copyfile(path, copy / "db.sqlite3")
    if Path(f"{path}-wal").exists():
        shutil.copyfile(f"{path}-wal", copy / "db.sqlite3-wal")
    return copy / "db.sqlite3"


def raw_sqlite(backend: dict[str, Any]) -> bytes:
    """Every byte of the SQLite file and its log (deleted rows included, if any were left)."""
    path = Path(backend["db_url"].split(":///", 1)[1])
    wal = Path(f"{path}-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def read_copy(copy: Path, poll_id: int) -> tuple[set[int], dict[str, bytes], list[str]]:
    """From a copy: who answered the poll, its pool's rows by key, and the pool's columns."""
    conn = sqlite3.connect(copy)
    try:
        voters = {
            row[0]
            for row in conn.execute(
                "SELECT member_id FROM poll_participations WHERE poll_id = ?", (poll_id,)
            )
        }
        cursor = conn.execute("SELECT * FROM poll_pending_ballots WHERE poll_id = ?", (poll_id,))
        columns = [column[0] for column in cursor.description]
        pool = {row[0]: bytes(row[2]) for row in cursor.fetchall()}
    finally:
        conn.close()
    return voters, pool, columns


async def raw_pg(bot: RunningBot, table: str) -> bytes:
    """The table's pages and its TOAST table's pages, byte for byte (pageinspect), dead row
    versions included: what the heap files on disk hold."""

    async def read(session: Any) -> bytes:
        await session.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        toast = await session.scalar(
            text("SELECT reltoastrelid::regclass::text FROM pg_class WHERE relname = :t"),
            {"t": table},
        )
        found = b""
        for relation in (table, toast):
            if not relation or relation == "-":
                continue
            pages = await session.scalar(text(f"SELECT pg_relation_size('{relation}') / 8192"))
            for page in range(int(pages or 0)):
                found += bytes(
                    await session.scalar(text(f"SELECT get_raw_page('{relation}', {page})"))
                )
        await session.commit()
        return found

    result: bytes = await bot.db(read)
    return result


async def xmin_pairs(bot: RunningBot, poll_id: int, table: str, other: str) -> list[Any]:
    """Rows of `table` paired with rows of `other` written in the same transaction."""

    async def read(session: Any) -> list[Any]:
        rows = await session.execute(
            text(
                f"SELECT o.*, t.* FROM {other} o JOIN {table} t "
                "ON t.xmin::text = o.xmin::text WHERE t.poll_id = :p AND o.poll_id = :p"
            ),
            {"p": poll_id},
        )
        return [dict(row) for row in rows.mappings().all()]

    result: list[Any] = await bot.db(read)
    return result


async def pool_rows(bot: RunningBot, poll_id: int) -> tuple[list[str], list[tuple[Any, ...]]]:
    """`SELECT *` of the poll's pool, as anyone with SQL access reads it."""

    async def read(session: Any) -> tuple[list[str], list[tuple[Any, ...]]]:
        result = await session.execute(
            text("SELECT * FROM poll_pending_ballots WHERE poll_id = :p"), {"p": poll_id}
        )
        return list(result.keys()), [tuple(row) for row in result.all()]

    found: tuple[list[str], list[tuple[Any, ...]]] = await bot.db(read)
    return found


def nothing_readable(blob: bytes, poll_id: int) -> None:
    """What the attacker can do with one sealed ballot: nothing."""
    assert len(blob) == 12 + SEALED_SIZE + 16  # nonce, padded payload, tag: one size for all
    for marker in (b'"choices"', b'"region"', b'"gender"', b'"reason"', REASON.encode()):
        assert marker not in blob
    with pytest.raises(SealError):
        open_ballot(WRONG_KEY, poll_id, blob)


async def vote(client: Callable[..., Any], fake: FakeTelegram, who: tuple[int, str, str]) -> None:
    telegram_id, name, label = who
    user = client(telegram_id, name)
    reply = await user.click(label, poll_message(fake, telegram_id, QUESTION))
    if label == "⛔ Block":
        assert "say why" in reply[-1]["text"]
        reply = await user.send(REASON)
        await user.click("⛔ Block, with this reason", reply[-1])
    assert "counted" in str(user.callback_answer())


async def test_pending_ballots_paired_with_their_voters_tell_nothing_without_the_key(
    bot: RunningBot, fake: FakeTelegram, client: Callable[..., Any], clock: Any, backend: Any
) -> None:
    clock.set(NOW)
    await network(bot, fake)
    poll_id = await quick_poll(bot, COORDINATOR, question=QUESTION, kind=PollKind.CONSENT)
    await eventually(lambda: all(has_text(fake, who[0], QUESTION) for who in [*VOTES, FIFTH]))
    assert bot.app is not None
    key = bot.app.privacy_key
    ids = await bot.db(lambda s: s.execute(select(Member.telegram_id, Member.id)))
    member_of = dict(ids.all())
    people = await bot.db(lambda s: s.execute(select(Member.id, Member.region, Member.gender)))
    attributes = {row[0]: (row[1], row[2]) for row in people.all()}
    choice_of = {"👍 Agree": 1, "👎 Disagree": 1 << 2, "⛔ Block": 1 << 3}
    truth = {member_of[t]: choice_of[label] for t, _name, label in VOTES}

    with tempfile.TemporaryDirectory() as folder:
        for i, who in enumerate(VOTES):
            if backend["name"] == "sqlite":
                before = sqlite_copy(backend, Path(folder), f"before-{i}")
            await vote(client, fake, who)
            columns, rows = await pool_rows(bot, poll_id)
            assert len(rows) == i + 1 < POOL_BATCH  # all of them wait in the pool
            assert await rows_in(bot, AnonymousBallot, poll_id) == 0
            # no column holds a choice, a region, a gender or a reason; the random key and
            # the poll are all there is besides the sealed blob
            assert columns == POOL_COLUMNS
            for row_id, row_poll, blob in rows:
                assert len(row_id) == 32 and row_poll == poll_id
                nothing_readable(bytes(blob), poll_id)

            if backend["name"] == "postgres":
                # the attacker pairs each pending ballot with its voter by transaction id...
                pairs = await xmin_pairs(
                    bot, poll_id, "poll_pending_ballots", "poll_participations"
                )
                assert len(pairs) == i + 1
                for pair in pairs:
                    # ...and holds a row of nothing but a sealed blob; with the key (which the
                    # attacker has not) the pairing would be exact: the test pairs correctly
                    assert set(pair) == {"poll_id", "member_id", "id", "sealed"}
                    nothing_readable(bytes(pair["sealed"]), poll_id)
                    opened = open_ballot(key, poll_id, bytes(pair["sealed"]))
                    assert opened["choices"] == truth[pair["member_id"]]
                    region, gender = attributes[pair["member_id"]]
                    assert (opened["region"], opened["gender"]) == (region, gender)
                raw = await raw_pg(bot, "poll_pending_ballots")
            else:
                # two copies around one vote: one new participation, one new pending ballot
                after = sqlite_copy(backend, Path(folder), f"after-{i}")
                voters_before, pool_before, _ = read_copy(before, poll_id)
                voters_after, pool_after, columns = read_copy(after, poll_id)
                assert voters_after - voters_before == {member_of[who[0]]}
                new = set(pool_after) - set(pool_before)
                assert len(new) == 1 and columns == POOL_COLUMNS
                nothing_readable(pool_after[new.pop()], poll_id)
                raw = raw_sqlite(backend)
            # the raw pages (files and log on SQLite: the whole database) hold no reason
            assert REASON.encode() not in raw and b'"choices"' not in raw

    # the two identical ballots (same answer, region and gender) were sealed differently
    _, rows = await pool_rows(bot, poll_id)
    opened = [(open_ballot(key, poll_id, bytes(blob)), bytes(blob)) for _i, _p, blob in rows]
    agreeing = [blob for fields, blob in opened if fields["choices"] == 1]
    assert len(agreeing) == 2 and agreeing[0] != agreeing[1]
    assert open_ballot(key, poll_id, agreeing[0]) == open_ballot(key, poll_id, agreeing[1])
    assert len({blob[:12] for _fields, blob in opened}) == len(opened)  # fresh nonces
    # a ballot moved to another poll does not open either (the poll is bound into the seal)
    with pytest.raises(SealError):
        open_ballot(key, poll_id + 1, agreeing[0])
    reasons = [fields["reason"] for fields, _blob in opened if fields["reason"]]
    assert reasons == [REASON]

    # the fifth vote fills a batch: the box gains all five, opened, shuffled; none is lost
    await vote(client, fake, FIFTH)
    assert await rows_in(bot, AnonymousBallot, poll_id) == POOL_BATCH
    assert (await pool_rows(bot, poll_id))[1] == []
    boxed = await bot.db(
        lambda s: s.execute(
            select(AnonymousBallot.choices, AnonymousBallot.reason).where(
                AnonymousBallot.poll_id == poll_id
            )
        )
    )
    assert sorted(boxed.all(), key=lambda row: row[0]) == [
        (1, None),
        (1, None),
        (1, None),
        (1 << 2, None),
        (1 << 3, REASON),
    ]
    if backend["name"] == "postgres":
        # the same reader finds the reason in the box's pages (in a batch of 5): the check
        # above could see it, had the pool held it
        assert REASON.encode() in await raw_pg(bot, "poll_ballots")

    # the coordinator's report counts every ballot, and the close too
    ana = client(COORDINATOR, "Ana")
    await ana.send("/polls")
    await ana.click(f"📊 {QUESTION}")
    assert "Answers: 5" in ana.last()["text"]
    shown = len(reports(fake))
    await ana.click("🔒 Close now")
    await ana.click("Yes, close it now")
    await eventually(lambda: len(reports(fake)) > shown)
    final = reports(fake)[-1]
    assert "closed" in final and "Answers: 5" in final and "⛔ Block: 1" in final
    assert await rows_in(bot, AnonymousBallot, poll_id) == POOL_BATCH


def reports(fake: FakeTelegram) -> list[str]:
    """The results the coordinator was shown, oldest first."""
    found = [str(message.get("text", "")) for message in fake.messages(COORDINATOR)]
    return [text for text in found if text.startswith("📊 Results")]


async def test_a_secret_comment_paired_with_its_counter_tells_nothing_without_the_key(
    bot: RunningBot, fake: FakeTelegram, client: Callable[..., Any], clock: Any, backend: Any
) -> None:
    clock.set(NOW)
    await network(bot, fake)
    poll_id = await quick_poll(bot, COORDINATOR, question=QUESTION, kind=PollKind.CONSENT)
    await eventually(lambda: has_text(fake, 600_203, QUESTION))
    assert bot.app is not None
    key = bot.app.privacy_key
    joy = client(600_203, "Joy")
    await vote(client, fake, (600_203, "Joy", "👍 Agree"))
    await joy.click("💬 Add a comment", poll_message(fake, 600_203, QUESTION))
    reply = await joy.send(COMMENT)
    assert "comment was saved" in reply[-1]["text"]

    if backend["name"] == "postgres":
        # the comment and its author's keyed counter share a transaction id...
        pairs = await xmin_pairs(bot, poll_id, "poll_pending_comments", "poll_comment_counts")
        assert len(pairs) == 1
        assert set(pairs[0]) == {"poll_id", "token", "count", "id", "sealed"}
        # ...and the comment is a sealed blob of the common size
        blob = bytes(pairs[0]["sealed"])
        raw = await raw_pg(bot, "poll_pending_comments")
    else:
        found = await bot.db(lambda s: s.execute(text("SELECT * FROM poll_pending_comments")))
        rows = [dict(row) for row in found.mappings().all()]
        assert len(rows) == 1 and set(rows[0]) == set(POOL_COLUMNS)
        blob = bytes(rows[0]["sealed"])
        raw = raw_sqlite(backend)
    assert len(blob) == 12 + SEALED_SIZE + 16
    assert COMMENT.encode() not in blob and COMMENT.encode() not in raw
    with pytest.raises(SealError):
        open_comment(WRONG_KEY, poll_id, blob)
    with pytest.raises(SealError):
        open_ballot(key, poll_id, blob)  # a comment is no ballot: another derived key
    assert open_comment(key, poll_id, blob)["text"] == COMMENT
    assert await rows_in(bot, AnonymousComment, poll_id) == 0

    # the coordinator reads it while the poll is open (the bot holds the key)
    ana = client(COORDINATOR, "Ana")
    await ana.send("/polls")
    await ana.click(f"📊 {QUESTION}")
    assert "💬 Comments: 1" in ana.last()["text"]
    reply = await ana.click("💬 Comments")
    assert any(COMMENT in message.get("text", "") for message in reply)

    # at the close it enters the box, opened; the sealed row and the counter are gone
    await ana.click("🔒 Close now")
    await ana.click("Yes, close it now")
    stored = await bot.db(lambda s: s.scalars(select(AnonymousComment.text)))
    assert list(stored) == [COMMENT]
    assert await rows_in(bot, CommentCount, poll_id) == 0
    found = await bot.db(lambda s: s.scalar(text("SELECT count(*) FROM poll_pending_comments")))
    assert found == 0


def test_a_sealed_value_has_one_size_and_needs_the_key_and_its_scope() -> None:
    key = b"the server's privacy key"
    plain = seal_ballot(key, 7, choices=1, region=None, gender=None)
    long_reason = "🌊" * 1000  # the longest reason: 1,000 characters of 4 bytes each
    voiced = seal_ballot(
        key, 7, choices=8, region="419", gender="woman", reason=long_reason,
        reason_voice_file_id="v" * 255,
    )  # fmt: skip
    assert len(plain) == len(voiced) == len(seal_comment(key, 7, long_reason, "v" * 255))
    assert open_ballot(key, 7, voiced)["reason"] == long_reason
    for wrong in (b"another key", b""):
        with pytest.raises(SealError):
            open_ballot(wrong, 7, plain)
    with pytest.raises(SealError):
        seal_ballot(b"", 7, choices=1, region=None, gender=None)  # never sealed without a key
    tampered = plain[:-1] + bytes([plain[-1] ^ 1])
    with pytest.raises(SealError):
        open_ballot(key, 7, tampered)
    # beyond the common size a payload still seals, in whole blocks
    big = seal(key, b"test", b"scope", b"x" * (SEALED_SIZE + 1), SEALED_SIZE)
    assert unseal(key, b"test", b"scope", big) == b"x" * (SEALED_SIZE + 1)
    assert len(big) > len(plain)
