"""Who may manage a consultation, tried end to end by everyone who may not: a plain member, a
pending member, a coordinator of another group, the poll's own author once dismissed, and a
stranger. And an option with HTML characters survives the refresh after a vote."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update

from bot.polls.service import MAX_COMMENTS
from bot.sandbox.telegram import FakeTelegram
from models.group import GroupMembership, GroupRole
from models.member import Member
from models.poll import AnonymousComment, PendingComment, Poll, PollKind, PollStatus
from tests.conftest import add_member
from tests.harness import RunningBot
from tests.test_poll_flows import CLOSES, quick_poll
from tests.test_polls import (
    COORDINATOR,
    NOW,
    eventually,
    has_text,
    make_group,
    network,
    poll_message,
    texts,
    wake,
)

REFUSED = "Only the coordinators of this consultation"


async def dismiss(bot: RunningBot, telegram_id: int) -> None:
    """An admin dismissed this coordinator: a plain member of the group now."""

    async def go(session: Any) -> None:
        member = await session.scalar(select(Member).where(Member.telegram_id == telegram_id))
        await session.execute(
            update(GroupMembership)
            .where(GroupMembership.member_id == member.id)
            .values(role=GroupRole.MEMBER)
        )
        await session.commit()

    await bot.db(go)


async def test_everyone_without_the_right_is_refused_every_management_action(
    bot: RunningBot, fake: FakeTelegram, client: Callable[..., Any], clock: Any
) -> None:
    clock.set(NOW)
    await network(bot, fake)
    poll_id = await quick_poll(bot, COORDINATOR, question="Budget?", kind=PollKind.CONSENT)
    fake.add_user(600_400, "Kofi")
    await add_member(bot, 600_400, "Kofi", locale="en", country="GH")
    await make_group(bot, "land", {"en": "Land rights"}, [600_400], [])
    fake.add_user(600_401, "Pending")
    await add_member(bot, 600_401, "Pending", status="pending")
    fake.add_user(600_402, "Stranger")
    await dismiss(bot, COORDINATOR)  # Ana wrote the poll, then stopped coordinating
    people = {
        "plain member": client(600_207, "Tom"),
        "pending member": client(600_401, "Pending"),
        "other group's coordinator": client(600_400, "Kofi"),
        "dismissed author": client(COORDINATOR, "Ana"),
        "stranger": client(600_402, "Stranger"),
    }
    for who, person in people.items():
        await person.send("/help")
        for data in (f"px:{poll_id}:0", f"px:{poll_id}:1", f"pe:{poll_id}", f"pl:{poll_id}"):
            await person.press_data(data)
            answer = str(person.callback_answer())
            assert REFUSED in answer, (who, data, answer)
        await person.press_data(f"pr:{poll_id}")
        assert "By region" not in texts(fake, person.chat_id)[-1], who
        if who != "other group's coordinator":  # he consults his own group, not this one
            reply = await person.send("/newpoll")
            assert "Only working group coordinators and network admins" in reply[-1]["text"], who
        assert not any("document" in m for m in fake.messages(person.chat_id)), (
            f"{who} got a chart or a CSV"
        )
    poll = await bot.db(lambda s: s.get(Poll, poll_id))
    assert poll.status == PollStatus.OPEN

    # at the close the dismissed author gets no report either
    clock.set(CLOSES + timedelta(seconds=1))
    wake(bot)
    await eventually(lambda: _closed(bot, poll_id))
    await fake.settle(COORDINATOR)
    assert not has_text(fake, COORDINATOR, "📊 Results")


async def _closed(bot: RunningBot, poll_id: int) -> bool:
    status = await bot.db(lambda s: s.scalar(select(Poll.status).where(Poll.id == poll_id)))
    return bool(status == PollStatus.CLOSED)


async def test_an_option_with_html_characters_survives_the_refresh(
    bot: RunningBot, fake: FakeTelegram, client: Callable[..., Any], clock: Any
) -> None:
    clock.set(NOW)
    await network(bot, fake)
    question = "Which <b>motto</b>?"
    await quick_poll(
        bot,
        COORDINATOR,
        question=question,
        kind=PollKind.SINGLE,
        options=["Salt & <Water>", "Land"],
        anonymous=False,
    )
    await eventually(lambda: has_text(fake, 600_203, question))
    joy = client(600_203, "Joy")
    await joy.click("1. Salt & <Water>", poll_message(fake, 600_203, question))
    assert "counted" in str(joy.callback_answer())
    refreshed = poll_message(fake, 600_203, question)
    assert "Your answer: Salt & <Water>" in refreshed["text"]


async def test_comments_are_bounded_per_member_and_read_a_page_at_a_time(
    bot: RunningBot, fake: FakeTelegram, client: Callable[..., Any], clock: Any
) -> None:
    clock.set(NOW)
    await network(bot, fake)
    question = "What do we ask the ministry?"
    poll_id = await quick_poll(
        bot, COORDINATOR, question=question, kind=PollKind.SINGLE, options=["Water", "Land"]
    )
    voters = [600_203, 600_207, 600_212]  # English speakers
    for voter in voters:
        await eventually(lambda voter=voter: has_text(fake, voter, question))
        user = client(voter, "Voter")
        await user.click("1. Water", poll_message(fake, voter, question))
        for n in range(MAX_COMMENTS):
            await user.click("💬 Add a comment", poll_message(fake, voter, question))
            reply = await user.send(f"Comment {n} from {voter}")
            assert "comment was saved" in reply[-1]["text"]
        await user.click("💬 Add a comment", poll_message(fake, voter, question))
        reply = await user.send("One too many")
        assert "the most one person can leave" in reply[-1]["text"]
    # sealed until the close, then in the box
    stored = await bot.db(lambda s: s.scalar(select(func.count()).select_from(PendingComment)))
    assert stored == len(voters) * MAX_COMMENTS
    boxed = await bot.db(lambda s: s.scalar(select(func.count()).select_from(AnonymousComment)))
    assert boxed == 0

    ana = client(COORDINATOR, "Ana")
    await dismiss(bot, COORDINATOR)
    await ana.press_data(f"pl:{poll_id}")
    assert REFUSED in str(ana.callback_answer())
    await make_group(bot, "ana2", {"en": "Second"}, [COORDINATOR], [])

    async def reinstate(session: Any) -> None:
        member = await session.scalar(select(Member).where(Member.telegram_id == COORDINATOR))
        await session.execute(
            update(GroupMembership)
            .where(GroupMembership.member_id == member.id)
            .values(role=GroupRole.COORDINATOR)
        )
        await session.commit()

    await bot.db(reinstate)
    reply = await ana.press_data(f"pl:{poll_id}")
    first = reply[-1]
    assert "(1 of 2)" in first["text"] and first["text"].count("Comment ") == 10
    assert ana.buttons(first) == ["Next ▶"]
    reply = await ana.click("Next ▶", first)
    assert "(2 of 2)" in reply[-1]["text"] and reply[-1]["text"].count("Comment ") == 5
    assert ana.buttons(reply[-1]) == ["◀ Previous"]
    last = reply[-1]
    reply = await ana.press_data(f"pm:{poll_id}:9999", last)
    assert "(2 of 2)" in reply[-1]["text"], "a page past the end shows the last page"
    reply = await ana.press_data(f"pm:{poll_id}:99999999999999999999", last)
    assert not reply and "no longer valid" in str(ana.callback_answer()), "a huge page is refused"
