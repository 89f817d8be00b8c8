"""Consensus in the delivery engine and the scheduler.

Broadcast kinds: `consensus_round` (the proposal, and from round 2 what changed, to the
audience, just before the round's consent poll), `consensus_review` (the coordinator's screen
at a round's close), `consensus_record` (the decision record to every participant).
Job kind: `consensus_close`, keyed `consensus:<round id>:close`.
Priorities: broadcast kinds `priorities` (the options to rank) and `priorities_results`, jobs
`priorities_remind` (one reminder to those who have not answered: broadcast kind
`priorities_reminder`) and `priorities_close`. Questionnaires: `questionnaire` (the invitation),
`questionnaire_reminder` (once, to those who have not sent their answers),
`questionnaire_results`, job kinds `questionnaire_remind` and `questionnaire_close`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.consensus.priorities import (
    close_priorities,
    count_priorities,
    named_rankings,
    remind,
)
from bot.consensus.priority_views import (
    chart,
    csv_bytes,
    member_keyboard,
    member_text,
    report_text,
    results_text,
)
from bot.consensus.questionnaire import (
    close_questionnaire,
    count_questions,
    has_sent,
    remind_questionnaire,
    respondents,
    text_answers,
)
from bot.consensus.questionnaire_views import (
    intro_keyboard,
    intro_text,
    reminder_text,
    results_lines,
    split,
    table,
)
from bot.consensus.service import close_round
from bot.consensus.views import record_texts, review_keyboard, review_text, round_text
from bot.delivery.queue import Outgoing, RenderContext
from bot.delivery.scheduler import JobContext
from models.consensus import (
    Priorities,
    Proposal,
    Questionnaire,
    QuestionnaireAnswer,
    get_priorities,
    get_proposal,
    get_questionnaire,
    get_round,
    has_ranked,
)
from models.group import get_group
from models.member import Member


async def group_name(
    session: AsyncSession, proposal: Proposal, locale: str, default: str
) -> str | None:
    """The proposal's working group in `locale` (None: the whole network)."""
    if proposal.group_id is None:
        return None
    group = await get_group(session, proposal.group_id)
    return group.text(locale, default)[0] if group else None


async def run_round_close(ctx: JobContext) -> None:
    """Close a round at its time (its poll too, if the polls' own job has not yet)."""
    round_ = await get_round(ctx.session, int(ctx.job.payload["round_id"]))
    if round_ is not None:
        await close_round(ctx.session, ctx.app, round_, ctx.app.clock.now())


async def render_round(ctx: RenderContext) -> list[Outgoing] | None:
    """The proposal in the member's language; skipped once the round has closed."""
    round_ = await get_round(ctx.session, int(ctx.broadcast.payload["round_id"]))
    if round_ is None or round_.is_closed or ctx.member is None:
        return None
    proposal = await get_proposal(ctx.session, round_.proposal_id)
    if proposal is None:
        return None
    name = await group_name(ctx.session, proposal, ctx.locale, ctx.app.settings.default_locale)
    out = [Outgoing(text=round_text(proposal, round_, name, ctx.locale, ctx._))]
    if round_.attachment and round_.attachment_kind == "voice":
        out.append(Outgoing(voice=round_.attachment))
    elif round_.attachment:
        out.append(Outgoing(document=round_.attachment))
    return out


async def render_review(ctx: RenderContext) -> list[Outgoing] | None:
    """The coordinator's screen: counts, quorum, objections, and what they can do next."""
    round_ = await get_round(ctx.session, int(ctx.broadcast.payload["round_id"]))
    if round_ is None:
        return None
    proposal = await get_proposal(ctx.session, round_.proposal_id)
    if proposal is None:
        return None
    text = review_text(proposal, round_, ctx.locale, ctx._)
    markup = review_keyboard(proposal, round_, ctx._) if proposal.is_open else None
    return [Outgoing(text=text, reply_markup=markup)]


async def render_record(ctx: RenderContext) -> list[Outgoing] | None:
    """The decision record in the participant's language and zone."""
    proposal = await get_proposal(ctx.session, int(ctx.broadcast.payload["proposal_id"]))
    if proposal is None or ctx.member is None:
        return None
    name = await group_name(ctx.session, proposal, ctx.locale, ctx.app.settings.default_locale)
    texts = record_texts(proposal, name, ctx.locale, ctx.member.tz, ctx._)
    return [Outgoing(text=text) for text in texts]


# --- priorities ---------------------------------------------------------------------------------


async def audience_name(ctx: RenderContext, consultation: Priorities) -> str:
    """The consultation's group in the reader's language (or the whole network)."""
    if consultation.group_id is None:
        return ctx._("Whole network")
    group = await get_group(ctx.session, consultation.group_id)
    default = ctx.app.settings.default_locale
    return group.text(ctx.locale, default)[0] if group else ""


async def render_priorities(ctx: RenderContext) -> list[Outgoing] | None:
    """The options to rank by taps; skipped once closed or answered."""
    consultation = await get_priorities(ctx.session, int(ctx.broadcast.payload["consultation_id"]))
    member = ctx.member
    if consultation is None or member is None or not consultation.is_open:
        return None
    if await has_ranked(ctx.session, consultation.id, member.id):
        return None
    name = await audience_name(ctx, consultation)
    text = member_text(consultation, name, [], ctx.locale, member.tz, ctx._)
    markup = member_keyboard(consultation, [], ctx._, ctx.locale)
    return [Outgoing(text=text, reply_markup=markup)]


async def render_priorities_reminder(ctx: RenderContext) -> list[Outgoing] | None:
    """The one reminder, with the buttons again; skipped once closed or answered."""
    consultation = await get_priorities(ctx.session, int(ctx.broadcast.payload["consultation_id"]))
    member = ctx.member
    if consultation is None or member is None or not consultation.is_open:
        return None
    if await has_ranked(ctx.session, consultation.id, member.id):
        return None
    name = await audience_name(ctx, consultation)
    note = ctx._("⏰ <b>Reminder</b>: you have not answered yet. It closes soon.")
    text = member_text(consultation, name, [], ctx.locale, member.tz, ctx._, note)
    markup = member_keyboard(consultation, [], ctx._, ctx.locale)
    return [Outgoing(text=text, reply_markup=markup)]


async def render_priorities_results(ctx: RenderContext) -> list[Outgoing] | None:
    """The ranking for participants; for the coordinator with breakdowns, chart and CSV."""
    consultation = await get_priorities(ctx.session, int(ctx.broadcast.payload["consultation_id"]))
    if consultation is None:
        return None
    result = await count_priorities(ctx.session, consultation)
    if not ctx.broadcast.payload.get("report"):
        return [Outgoing(text=results_text(consultation, result, ctx.locale, ctx._))]
    name = f"priorities-{consultation.id}"
    people = await named_rankings(ctx.session, consultation)
    table = csv_bytes(consultation, result, ctx.locale, ctx._, people)
    return [
        Outgoing(text=report_text(consultation, result, ctx.locale, ctx._, people)),
        Outgoing(document=(f"{name}.png", chart(consultation, result.total, ctx.locale, ctx._))),
        Outgoing(document=(f"{name}.csv", table)),
    ]


async def run_priorities_remind(ctx: JobContext) -> None:
    """The one reminder before the close, to the audience members who have not answered."""
    consultation = await get_priorities(ctx.session, int(ctx.job.payload["consultation_id"]))
    if consultation is not None:
        await remind(ctx.session, consultation, ctx.app.clock.now())


async def run_priorities_close(ctx: JobContext) -> None:
    """Close a priorities consultation at its time, once."""
    consultation = await get_priorities(ctx.session, int(ctx.job.payload["consultation_id"]))
    if consultation is not None:
        await close_priorities(ctx.session, ctx.app, consultation, ctx.app.clock.now())


# --- questionnaires -----------------------------------------------------------------------------


async def questionnaire_audience(ctx: RenderContext, questionnaire: Questionnaire) -> str:
    if questionnaire.group_id is None:
        return ctx._("Whole network")
    group = await get_group(ctx.session, questionnaire.group_id)
    return group.text(ctx.locale, ctx.app.settings.default_locale)[0] if group else ""


async def render_questionnaire(ctx: RenderContext) -> list[Outgoing] | None:
    """The invitation with its Start button; skipped once closed."""
    questionnaire = await get_questionnaire(
        ctx.session, int(ctx.broadcast.payload["questionnaire_id"])
    )
    if questionnaire is None or ctx.member is None or not questionnaire.is_open:
        return None
    name = await questionnaire_audience(ctx, questionnaire)
    shown = questionnaire.in_language(ctx.locale)
    text = intro_text(shown, name, ctx.locale, ctx.member.tz, ctx._)
    return [Outgoing(text=text, reply_markup=intro_keyboard(questionnaire, ctx._))]


async def named_rows(
    session: AsyncSession, questionnaire: Questionnaire
) -> list[tuple[str, dict[int, Any]]]:
    """Named questionnaires: each respondent's answers, by name."""
    rows = await session.execute(
        select(
            Member.id,
            Member.display_name,
            QuestionnaireAnswer.question,
            QuestionnaireAnswer.choices,
            QuestionnaireAnswer.text,
        )
        .join(Member, Member.id == QuestionnaireAnswer.member_id)
        .where(QuestionnaireAnswer.questionnaire_id == questionnaire.id)
        .order_by(Member.display_name, Member.id)
    )
    people: dict[int, tuple[str, dict[int, Any]]] = {}
    for member_id, name, question, choices, text in rows.all():
        entry = people.setdefault(member_id, (name, {}))
        entry[1][int(question)] = text if text is not None else choices
    return list(people.values())


async def render_questionnaire_results(ctx: RenderContext) -> list[Outgoing] | None:
    """Counts per question to respondents; to the coordinator breakdowns, texts and the CSV."""
    questionnaire = await get_questionnaire(
        ctx.session, int(ctx.broadcast.payload["questionnaire_id"])
    )
    if questionnaire is None:
        return None
    tallies = await count_questions(ctx.session, questionnaire)
    report = bool(ctx.broadcast.payload.get("report"))
    texts = {
        i: await text_answers(ctx.session, questionnaire, i)
        for i, result in enumerate(tallies)
        if result is None
    }
    total = await respondents(ctx.session, questionnaire)
    shown = questionnaire.in_language(ctx.locale)  # the reader's version where there is one
    lines = results_lines(shown, tallies, texts, total, ctx.locale, ctx._, report=report)
    out = [Outgoing(text=text) for text in split(lines)]
    if report:
        people = [] if questionnaire.anonymous else await named_rows(ctx.session, questionnaire)
        data = table(shown, tallies, texts, people, ctx._)
        out.append(Outgoing(document=(f"questionnaire-{questionnaire.id}.csv", data)))
        # Pillow is imported only when a report is drawn, never at start-up.
        from bot.consensus.questionnaire_chart import chart_png

        image = chart_png(shown, tallies, total, ctx.locale, ctx._)
        if image is not None:
            out.insert(-1, Outgoing(document=(f"questionnaire-{questionnaire.id}.png", image)))
    return out


async def render_questionnaire_reminder(ctx: RenderContext) -> list[Outgoing] | None:
    """The invitation again under a reminder; skipped once closed or answered."""
    questionnaire = await get_questionnaire(
        ctx.session, int(ctx.broadcast.payload["questionnaire_id"])
    )
    member = ctx.member
    if questionnaire is None or member is None or not questionnaire.is_open:
        return None
    if await has_sent(ctx.session, questionnaire, member):
        return None
    name = await questionnaire_audience(ctx, questionnaire)
    shown = questionnaire.in_language(ctx.locale)
    text = reminder_text(shown, name, ctx.locale, member.tz, ctx._)
    return [Outgoing(text=text, reply_markup=intro_keyboard(questionnaire, ctx._))]


async def run_questionnaire_remind(ctx: JobContext) -> None:
    """The one reminder before the close."""
    questionnaire = await get_questionnaire(ctx.session, int(ctx.job.payload["questionnaire_id"]))
    if questionnaire is not None:
        await remind_questionnaire(ctx.session, questionnaire)


async def run_questionnaire_close(ctx: JobContext) -> None:
    """Close a questionnaire at its time, once."""
    questionnaire = await get_questionnaire(ctx.session, int(ctx.job.payload["questionnaire_id"]))
    if questionnaire is not None:
        await close_questionnaire(ctx.session, ctx.app, questionnaire, ctx.app.clock.now())
