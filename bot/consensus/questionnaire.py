"""Questionnaires (the annual evaluation): several questions answered one at a time, with
progress kept in the store so a member can stop and continue later, even across restarts.

Secret questionnaires store each answer as its own row with a random key and no member: no
row links a respondent's answers together. Named ones keep the member on every answer.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.queue import Priority, enqueue_broadcast
from bot.delivery.scheduler import schedule
from bot.polls.service import clean_comment
from bot.polls.tally import Cell, Counts, Tally, tally_cells
from models.base import hold_if
from models.consensus import (
    QuestionKind,
    Questionnaire,
    QuestionnaireAnswer,
    QuestionnaireProgress,
)
from models.group import active_member_ids
from models.member import Member, MemberStatus
from models.poll import SCALE_POINTS, new_token

if TYPE_CHECKING:
    from bot.core.app import App

Gettext = Callable[..., str]


class AnswerResult(enum.StrEnum):
    """What happened to an answer."""

    SAVED = "saved"
    CLOSED = "closed"
    NOT_FOR_YOU = "not_for_you"
    SENT = "sent"  # already sent: answers cannot change
    WRONG_KIND = "wrong_kind"  # e.g. a tap where a text is expected, or a forged option
    NOT_CURRENT = "not_current"


def evaluation_template(_: Gettext) -> tuple[str, list[dict[str, Any]]]:
    """The annual evaluation, in the coordinator's language: title and questions."""
    return _("Annual evaluation"), [
        {
            "kind": QuestionKind.SCALE,
            "text": _("How much progress did we make on our objectives this year?"),
            "options": [],
        },
        {"kind": QuestionKind.TEXT, "text": _("What worked well?"), "options": []},
        {"kind": QuestionKind.TEXT, "text": _("What should we change?"), "options": []},
        {
            "kind": QuestionKind.MULTIPLE,
            "text": _("What should our priorities be next year?"),
            "options": [_("Advocacy"), _("Litigation"), _("Research"), _("Training")],
        },
        {
            "kind": QuestionKind.SINGLE,
            "text": _("Will you take part in the group next year?"),
            "options": [_("Yes"), _("Not sure"), _("No")],
        },
    ]


def option_count(question: dict[str, Any]) -> int:
    if question["kind"] == QuestionKind.SCALE:
        return SCALE_POINTS
    return len(question.get("options") or [])


def valid_choice(question: dict[str, Any], choices: int) -> bool:
    """A non-empty set of existing options; exactly one unless multiple choice."""
    count = option_count(question)
    if question["kind"] == QuestionKind.TEXT or choices <= 0 or choices >= 1 << count:
        return False
    return question["kind"] == QuestionKind.MULTIPLE or choices & (choices - 1) == 0


async def in_audience(session: AsyncSession, questionnaire: Questionnaire, member: Member) -> bool:
    if member.status != MemberStatus.ACTIVE:
        return False
    if questionnaire.group_id is None:
        return True
    found = await session.scalar(
        active_member_ids(questionnaire.group_id).where(Member.id == member.id)
    )
    return found is not None


async def progress_of(
    session: AsyncSession, questionnaire: Questionnaire, member: Member
) -> QuestionnaireProgress:
    """The member's place and answers so far (created on first use)."""
    found = await session.get(QuestionnaireProgress, (questionnaire.id, member.id))
    if found is None:
        found = QuestionnaireProgress(
            questionnaire_id=questionnaire.id, member_id=member.id, position=0, answers={}
        )
        session.add(found)
        await session.flush()
    return found


async def check(
    session: AsyncSession,
    questionnaire: Questionnaire | None,
    member: Member | None,
    now: datetime,
) -> AnswerResult | None:
    """Why this member may not answer now, or None."""
    if questionnaire is None or member is None:
        return AnswerResult.NOT_FOR_YOU
    if not await in_audience(session, questionnaire, member):
        return AnswerResult.NOT_FOR_YOU
    if not questionnaire.is_open or now >= questionnaire.closes_at:
        return AnswerResult.CLOSED
    return None


def answer(
    questionnaire: Questionnaire,
    progress: QuestionnaireProgress,
    position: int,
    *,
    choices: int | None = None,
    text: str | None = None,
) -> AnswerResult:
    """Keep an answer to the current question and move to the next one."""
    if progress.sent:
        return AnswerResult.SENT
    if position != progress.position or not 0 <= position < len(questionnaire.questions):
        return AnswerResult.NOT_CURRENT
    question = questionnaire.questions[position]
    if question["kind"] == QuestionKind.TEXT:
        cleaned = clean_comment(text or "") if choices is None else None
        if cleaned is None:
            return AnswerResult.WRONG_KIND
        value: Any = cleaned
    else:
        if choices is None or not valid_choice(question, choices):
            return AnswerResult.WRONG_KIND
        value = choices
    progress.answers = {**progress.answers, str(position): value}
    progress.position = position + 1
    return AnswerResult.SAVED


def back(progress: QuestionnaireProgress, position: int) -> AnswerResult:
    """One question back (answers kept, so they can be changed)."""
    if progress.sent:
        return AnswerResult.SENT
    if position != progress.position or position <= 0:
        return AnswerResult.NOT_CURRENT
    progress.position = position - 1
    return AnswerResult.SAVED


async def send_answers(
    session: AsyncSession,
    questionnaire: Questionnaire,
    progress: QuestionnaireProgress,
    member: Member,
) -> AnswerResult:
    """Store the answers (each its own row), keep only the fact that the member answered."""
    if progress.sent:
        return AnswerResult.SENT
    if progress.position < len(questionnaire.questions):
        return AnswerResult.NOT_CURRENT
    # checked inside the write: a close at the same moment counts these answers or refuses
    # them, never leaves them uncounted
    open_now = Questionnaire.closed_at.is_(None)
    if not await hold_if(session, Questionnaire.closed_at, questionnaire.id, open_now):
        return AnswerResult.CLOSED
    rows = []
    for key, value in sorted(progress.answers.items(), key=lambda kv: int(kv[0])):
        rows.append(
            {
                "id": new_token(),
                "questionnaire_id": questionnaire.id,
                "question": int(key),
                "choices": value if isinstance(value, int) else None,
                "text": value if isinstance(value, str) else None,
                "region": member.region,
                "gender": member.gender,
                "member_id": None if questionnaire.anonymous else member.id,
            }
        )
    if rows:
        await session.execute(insert(QuestionnaireAnswer), rows)
    progress.answers, progress.sent = {}, True
    await session.flush()
    return AnswerResult.SAVED


# --- counting and closing -----------------------------------------------------------------------


async def count_questions(
    session: AsyncSession, questionnaire: Questionnaire
) -> list[Tally | None]:
    """Per question: the tally with protected breakdowns (None for text questions); one
    GROUP BY for the whole questionnaire (frozen at the close for secret ones)."""
    if questionnaire.results is not None:
        return [Tally.from_json(r) if r is not None else None for r in questionnaire.results]
    query = (
        select(
            QuestionnaireAnswer.question,
            QuestionnaireAnswer.choices,
            QuestionnaireAnswer.region,
            QuestionnaireAnswer.gender,
            func.count(),
        )
        .where(
            QuestionnaireAnswer.questionnaire_id == questionnaire.id,
            QuestionnaireAnswer.choices.is_not(None),
        )
        .group_by(
            QuestionnaireAnswer.question,
            QuestionnaireAnswer.choices,
            QuestionnaireAnswer.region,
            QuestionnaireAnswer.gender,
        )
    )
    cells: dict[int, dict[Cell, Counts]] = {}
    for number, choices, region, gender, n in (await session.execute(query)).all():
        if not 0 <= number < len(questionnaire.questions):
            continue
        count = option_count(questionnaire.questions[number])
        per = cells.setdefault(number, {})
        per.setdefault((region, gender), Counts(0, [0] * count)).add(int(choices or 0), int(n))
    out: list[Tally | None] = []
    for i, question in enumerate(questionnaire.questions):
        if question["kind"] == QuestionKind.TEXT:
            out.append(None)
        else:
            out.append(tally_cells(option_count(question), cells.get(i, {})))
    return out


async def text_answers(
    session: AsyncSession, questionnaire: Questionnaire, question: int
) -> list[tuple[str | None, str]]:
    """(author on named questionnaires, text) for one text question."""
    rows = await session.execute(
        select(Member.display_name, QuestionnaireAnswer.text)
        .outerjoin(Member, Member.id == QuestionnaireAnswer.member_id)
        .where(
            QuestionnaireAnswer.questionnaire_id == questionnaire.id,
            QuestionnaireAnswer.question == question,
            QuestionnaireAnswer.text.is_not(None),
        )
        .order_by(QuestionnaireAnswer.id)
    )
    return [(name, str(text)) for name, text in rows.all()]


async def respondents(session: AsyncSession, questionnaire: Questionnaire) -> int:
    found = await session.scalar(
        select(func.count())
        .select_from(QuestionnaireProgress)
        .where(
            QuestionnaireProgress.questionnaire_id == questionnaire.id,
            QuestionnaireProgress.sent.is_(True),
        )
    )
    return int(found or 0)


def audience_ids(group_id: int | None) -> Any:
    """SELECT of the members a questionnaire goes to: the group's, or the whole network's."""
    if group_id is None:
        return select(Member.id).where(Member.status == MemberStatus.ACTIVE)
    return active_member_ids(group_id)


async def audience_size(session: AsyncSession, group_id: int | None) -> int:
    found = await session.scalar(
        select(func.count()).select_from(audience_ids(group_id).subquery())
    )
    return int(found or 0)


def unfinished_ids(questionnaire: Questionnaire) -> Any:
    """SELECT of the audience members who have not sent their answers (the reminder's)."""
    sent = exists().where(
        QuestionnaireProgress.questionnaire_id == questionnaire.id,
        QuestionnaireProgress.member_id == Member.id,
        QuestionnaireProgress.sent.is_(True),
    )
    return audience_ids(questionnaire.group_id).where(~sent)


def reminder_time(created: datetime, closes: datetime) -> datetime | None:
    """A day before the close, or halfway when it closes within two days (None if too soon)."""
    moment = max(created + (closes - created) / 2, closes - timedelta(days=1))
    return moment if created < moment < closes else None


async def launch_questionnaire(
    session: AsyncSession, questionnaire: Questionnaire, creator: Member
) -> None:
    """Send it to its audience, schedule its one reminder and its close."""
    await enqueue_broadcast(
        session,
        kind="questionnaire",
        payload={"questionnaire_id": questionnaire.id},
        recipients=audience_ids(questionnaire.group_id),
        created_by_id=creator.id,
        progress_chat_id=creator.telegram_id,
        dedupe_key=f"questionnaire:{questionnaire.id}",
    )
    remind_at = reminder_time(questionnaire.created_at, questionnaire.closes_at)
    if remind_at is not None:
        await schedule(
            session,
            kind="questionnaire_remind",
            due_at=remind_at,
            payload={"questionnaire_id": questionnaire.id},
            key=f"questionnaire:{questionnaire.id}:remind",
        )
    await schedule(
        session,
        kind="questionnaire_close",
        due_at=questionnaire.closes_at,
        payload={"questionnaire_id": questionnaire.id},
        key=f"questionnaire:{questionnaire.id}:close",
    )


async def remind_questionnaire(session: AsyncSession, questionnaire: Questionnaire) -> None:
    """One reminder to those who have not sent their answers, while it is open."""
    if not questionnaire.is_open:
        return
    await enqueue_broadcast(
        session,
        kind="questionnaire_reminder",
        payload={"questionnaire_id": questionnaire.id},
        recipients=unfinished_ids(questionnaire),
        dedupe_key=f"questionnaire:{questionnaire.id}:remind",
        deadline=questionnaire.closes_at,
    )


async def has_sent(session: AsyncSession, questionnaire: Questionnaire, member: Member) -> bool:
    found = await session.get(QuestionnaireProgress, (questionnaire.id, member.id))
    return found is not None and found.sent


async def close_questionnaire(
    session: AsyncSession, app: App, questionnaire: Questionnaire, now: datetime
) -> bool:
    """Close once (a secret one's tallies frozen, its answers stripped of region and gender);
    results to respondents and the report to the author."""
    open_now = Questionnaire.closed_at.is_(None)
    if not await hold_if(session, Questionnaire.closed_at, questionnaire.id, open_now):
        await session.refresh(questionnaire, ["closed_at"])
        return False
    if questionnaire.anonymous:
        tallies = await count_questions(session, questionnaire)
        questionnaire.results = [t.to_json() if t is not None else None for t in tallies]
        await session.execute(
            update(QuestionnaireAnswer)
            .where(QuestionnaireAnswer.questionnaire_id == questionnaire.id)
            .values(region=None, gender=None)
        )
    questionnaire.closed_at = now
    await enqueue_broadcast(
        session,
        kind="questionnaire_results",
        payload={"questionnaire_id": questionnaire.id},
        recipients=select(QuestionnaireProgress.member_id).where(
            QuestionnaireProgress.questionnaire_id == questionnaire.id,
            QuestionnaireProgress.sent.is_(True),
        ),
        dedupe_key=f"questionnaire:{questionnaire.id}:results",
    )
    if questionnaire.created_by_member_id is not None:
        await enqueue_broadcast(
            session,
            kind="questionnaire_results",
            payload={"questionnaire_id": questionnaire.id, "report": True},
            recipients=[questionnaire.created_by_member_id],
            priority=Priority.HIGH,
            dedupe_key=f"questionnaire:{questionnaire.id}:report",
        )
    await session.flush()
    return True
