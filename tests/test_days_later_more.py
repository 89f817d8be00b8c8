"""Buttons pressed days later in the areas merged after issue 10's first pass: solidarity
alerts, consensus rounds and reviews, priorities, questionnaires, quiet hours and the audit
log. Telegram then sends an InaccessibleMessage and refuses to edit: the action must still be
done, and the answer come as a new message, never the polite error."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from bot.core.clock import FakeClock
from bot.sandbox.telegram import FakeTelegram
from models.audit import AuditAction, record
from models.consensus import Outcome, PriorityBallot, Questionnaire, QuestionnaireProgress
from models.member import Member
from models.poll import AnonymousBallot
from models.solidarity import CaseResponse, CaseSignature
from tests.botclient import BotClient
from tests.conftest import add_member
from tests.harness import RunningBot
from tests.test_days_later import no_error


def fresh(user: BotClient, old: dict[str, Any], text: str) -> dict[str, Any]:
    """The newest message with `text`, checked to be a new one (the old can't change)."""
    found = [m for m in user.messages() if text in str(m.get("text", ""))]
    assert found, user.texts()
    assert found[-1]["message_id"] != old["message_id"], "the screen comes as a new message"
    return found[-1]


async def count(bot: RunningBot, model: Any) -> int:
    return int(await bot.db(lambda s: s.scalar(select(func.count()).select_from(model))))


async def test_a_two_day_old_alert_seen_acted_on_and_signed(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    from tests.meeting_helpers import eventually, settle
    from tests.test_solidarity import alerts, raise_eviction

    await add_member(bot, 7400, "Admin Ann", locale="en", country="GB", role="admin")
    await add_member(bot, 7401, "Rosa", locale="es", country="UY")
    fake.add_user(7402, "Reader", language_code="en")
    await add_member(bot, 7402, "Reader", locale="en", country="AR", organisation="Terra Viva")
    admin, reporter = client(7400, "Admin Ann"), client(7401, "Rosa", language_code="es")
    reader = client(7402, "Reader")
    await raise_eviction(reporter)
    await reporter.click("✅")
    await eventually(lambda: any("El Pinar" in t for t in admin.texts()))
    await settle(fake)
    await admin.click("📄", [m for m in admin.messages() if "El Pinar" in m.get("text", "")][-1])
    await admin.send("We, the undersigned organisations, call for the eviction to stop.")
    audience = (await admin.click("🎯"))[-1]
    await admin.press_later("Latin America", audience, days=2)
    screen = fresh(admin, audience, "Who receives the alert?")
    assert "✓ Latin America" in " ".join(admin.buttons(screen)), admin.buttons(screen)
    await admin.click("✅ Done", screen)
    await admin.click("🚨")
    await eventually(lambda: bool(alerts(reader)))
    await settle(fake)
    alert = alerts(reader)[-1]

    await reader.press_later("✅ Seen", alert, days=2)
    assert "marked as seen" in str(reader.callback_answer())
    responses = list(await bot.db(lambda s: s.scalars(select(CaseResponse))))
    assert [r.seen_at is not None for r in responses] == [True]
    await reader.press_later("🙋 I can act", alert, days=1)
    actions = fresh(reader, alert, "Which of these can you do?")
    await reader.press_later("Contact authorities or embassies", actions, days=3)
    assert "noted" in str(reader.callback_answer())
    redrawn = fresh(reader, actions, "Which of these can you do?")
    assert "✓ Contact authorities or embassies" in reader.buttons(redrawn), redrawn
    await reader.press_later("✍️ Sign on", alert, days=2)
    assert "Terra Viva" in reader.last()["text"]
    await reader.press_later("✅ Confirm", days=2)
    assert "Signed on behalf of Terra Viva" in reader.last()["text"]
    assert await count(bot, CaseSignature) == 1
    no_error(fake, reader)
    no_error(fake, admin)


class TestConsensus:
    @pytest.fixture
    def clock(self) -> FakeClock:
        from tests.test_consensus import NOW

        return FakeClock(NOW)

    async def test_a_round_answered_days_later_then_amend_and_adopt_on_an_old_review(
        self, bot: RunningBot, client: Any, fake: FakeTelegram, clock: FakeClock
    ) -> None:
        from tests.test_consensus import (
            ANA,
            PEOPLE,
            close_round,
            eventually,
            has_text,
            network,
            poll_in,
            propose,
            round_poll,
            the_proposal,
        )
        from tests.test_poll_flows import count as count_in_poll

        await network(bot, fake)
        ana = client(ANA, "Ana")
        await propose(ana)
        await ana.click("✅ Send to the audience (6)")
        voters = [client(p[0], p[1], language_code=p[2]) for p in PEOPLE[:3]]
        await eventually(lambda: all(has_text(fake, v.user_id, "🗳") for v in voters))
        for voter in voters:
            label = "👍 Agree" if voter.user_id == 610_203 else "👍 De acuerdo"
            await voter.press_later(label, poll_in(fake, voter.user_id, "🗳"), days=2)
            assert "counted" in str(voter.callback_answer()) or "contad" in str(
                voter.callback_answer()
            ), voter.callback_answer()
            no_error(fake, voter)
        poll = await round_poll(bot, 1)
        assert await count_in_poll(bot, AnonymousBallot, poll.id) == 3, "secret ballots counted"

        # A block's reason travels in the replied-to message, which an old button no longer
        # carries: the block is not counted without it, and the member is told (no error).
        tom = client(610_205, "Tom")
        await eventually(lambda: has_text(fake, tom.user_id, "🗳"))
        await tom.click("⛔ Block", poll_in(fake, tom.user_id, "🗳"))
        confirm = next(m for m in await tom.send("Not costed") if m.get("reply_markup"))
        await tom.press_later("⛔ Block, with this reason", confirm, days=2)
        assert "needs a reason" in str(tom.callback_answer())
        assert await count_in_poll(bot, AnonymousBallot, poll.id) == 3
        no_error(fake, tom)
        bot.fake = fake  # type: ignore[attr-defined]
        await close_round(bot, clock, 1)
        review = next(m for m in fake.messages(ANA) if "Round 1 closed" in m.get("text", ""))

        await ana.press_later("✏️ Amend (round 2)", review, days=2)
        assert any("Send the amended text" in t for t in ana.texts()[-2:]), ana.texts()[-2:]
        await ana.press_later("✅ Adopt", review, days=3)
        assert "Recorded" in ana.last()["text"]
        assert (await the_proposal(bot)).status == Outcome.ADOPTED
        no_error(fake, ana)

    async def test_priorities_ranked_and_a_questionnaire_answered_on_old_messages(
        self, bot: RunningBot, client: Any, fake: FakeTelegram, clock: FakeClock
    ) -> None:
        from tests.test_consensus import ACTIONS, ANA, eventually, has_text, network

        await network(bot, fake)
        ana = client(ANA, "Ana")
        await ana.send("/priorities")
        await ana.click("Women and ESCR")
        await ana.send("What should we do in 2027?")
        await ana.send("\n".join(ACTIONS))
        await ana.click("🥇 Top 3 in order")
        await ana.click("In 3 days")
        await ana.click("✅ Send")
        await eventually(lambda: has_text(fake, 610_203, "🎯"))
        joy = client(610_203, "Joy")
        screen = joy.last()
        for pick in (1, 0, 2):
            await joy.press_later(f"{pick + 1}. {ACTIONS[pick]}", screen, days=2)
            screen = fresh(joy, screen, "🎯")
        await joy.press_later(joy.buttons(screen)[0], screen, days=2)
        assert "counted" in str(joy.callback_answer())
        assert "1st: Litigation training · 2nd: Housing campaign" in joy.last()["text"]
        assert await count(bot, PriorityBallot) == 1

        await ana.send("/evaluation")
        await ana.click("Women and ESCR")
        await ana.click("Next ▶")
        await ana.click("🔒 Secret")
        await ana.click("In 1 week")
        await ana.click("✅ Send")
        await eventually(lambda: has_text(fake, 610_203, "📝"))
        invitation = joy.last()
        await joy.press_later("▶ Start or continue", invitation, days=2)
        first = fresh(joy, invitation, "question 1 of 5")
        await joy.press_later("4", first, days=2)
        fresh(joy, first, "question 2 of 5")
        questionnaire = await bot.db(lambda s: s.scalar(select(Questionnaire)))
        progress = await bot.db(lambda s: s.scalar(select(QuestionnaireProgress)))
        assert progress.questionnaire_id == questionnaire.id and progress.position == 1
        no_error(fake, joy)


class TestAttention:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {"quiet_hours": True}

    async def test_the_quiet_hours_screen_used_days_later(
        self, bot: RunningBot, client: Any, fake: FakeTelegram
    ) -> None:
        await add_member(bot, 7410, "Lucía", locale="en", country="UY")
        lucia = client(7410, "Lucía")
        profile = (await lucia.send("/profile"))[-1]
        await lucia.press_later("🌙 Quiet hours and digest", profile, days=2)
        screen = fresh(lucia, profile, "Quiet hours and digest")
        await lucia.press_later("🔔 Turn quiet hours off", screen, days=3)
        assert "Saved" in str(lucia.callback_answer())
        redrawn = fresh(lucia, screen, "Quiet hours and digest")
        assert "🌙 Turn quiet hours on" in lucia.buttons(redrawn)
        row = await bot.db(lambda s: s.scalar(select(Member).where(Member.telegram_id == 7410)))
        assert row is not None and row.quiet_hours is False
        no_error(fake, lucia)


async def test_an_audit_page_turned_days_later(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    admin_row = await add_member(bot, 7420, "Admin", role="admin")

    async def history(session: Any) -> None:
        for i in range(12):
            await record(session, admin_row, AuditAction.ANNOUNCEMENT_SENT, object_id=i)
        await session.commit()

    await bot.db(history)
    admin = client(7420, "Admin")
    first = (await admin.send("/audit"))[-1]
    await admin.press_later("Older ▶", first, days=2)
    page = fresh(admin, first, "Audit")
    assert page["text"].count("sent an announcement") == 2, page["text"]
    await admin.press_later("📄 CSV", page, days=2)
    assert any("document" in m for m in admin.messages())
    no_error(fake, admin)
