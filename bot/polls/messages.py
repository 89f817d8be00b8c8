"""Whole poll messages for one reader: the poll in its current state, reminders and results."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.i18n import format_when
from bot.polls.service import (
    block_reasons,
    can_create,
    comments_on,
    group_names,
    managed_polls,
    results_of,
)
from bot.polls.views import (
    CommentPage,
    Gettext,
    NewPollCb,
    ResultsCb,
    ShowCb,
    audience_text,
    choice_names,
    comment_page,
    manager_keyboard,
    poll_keyboard,
    poll_text,
    results_text,
    short,
)
from models.member import Member
from models.poll import Poll, answered_poll_ids, has_participated, named_vote, open_polls_for


@dataclass
class PollMessage:
    """A text with its buttons, and the poll's voice note to send before it."""

    text: str
    markup: InlineKeyboardMarkup | None = None
    voice: str | None = None


@dataclass
class Report:
    """A coordinator's report: text and buttons, the chart and the spreadsheet."""

    text: str
    markup: InlineKeyboardMarkup
    chart: tuple[str, bytes] | None = None
    table: tuple[str, bytes] | None = None


async def poll_message(
    session: AsyncSession,
    poll: Poll,
    reader: Member | None,
    locale: str,
    zone: str,
    _: Gettext,
    default_locale: str,
) -> PollMessage:
    """The poll as this reader should see it now: to answer, answered, or closed."""
    groups = await group_names(session, poll, locale, default_locale)
    text = poll_text(poll, locale, zone, _, audience_text(poll, groups, locale, _))
    if not poll.is_open:
        return PollMessage(text + "\n\n" + _("🔒 This consultation is closed."), None)
    voted = reader is not None and bool(poll.id)
    if voted and reader is not None:
        voted = await has_participated(session, poll.id, reader.id)
    live = poll.results_live
    if voted and poll.anonymous:
        note = _("✅ Your secret ballot was counted. Thank you!")
        markup = poll_keyboard(poll, locale, _, chosen=0, comment=True, live=live)
        return PollMessage(f"{text}\n\n{note}", markup, poll.voice_file_id)
    if voted and reader is not None:
        vote = await named_vote(session, poll.id, reader.id)
        if vote is not None:
            note = _("✅ Your answer: {answer}. You can change it until the poll closes.").format(
                answer=choice_names(poll, vote.choices, locale, _)
            )
            markup = poll_keyboard(
                poll, locale, _, chosen=vote.choices, comment=True, live=live, mask=vote.choices
            )
            return PollMessage(f"{text}\n\n{note}", markup, poll.voice_file_id)
    return PollMessage(text, poll_keyboard(poll, locale, _), poll.voice_file_id)


async def poll_for(
    session: AsyncSession, poll: Poll, member: Member, _: Gettext, default_locale: str
) -> PollMessage:
    """The poll in the member's own language and zone."""
    return await poll_message(session, poll, member, member.locale, member.tz, _, default_locale)


async def reminder_message(
    session: AsyncSession,
    poll: Poll,
    reader: Member,
    locale: str,
    zone: str,
    _: Gettext,
    default_locale: str,
) -> PollMessage | None:
    """The poll again, headed by a reminder; None when the reader answered or it closed."""
    if not poll.is_open or await has_participated(session, poll.id, reader.id):
        return None
    message = await poll_message(session, poll, reader, locale, zone, _, default_locale)
    head = _("⏰ <b>Reminder</b>: you have not answered this consultation yet. It closes {when}.")
    message.text = head.format(when=format_when(poll.closes_at, zone, locale, "full")) + (
        "\n\n" + message.text
    )
    return message


async def member_results(
    session: AsyncSession, poll: Poll, locale: str, zone: str, _: Gettext
) -> str:
    """Counts and shares, as every participant may see them."""
    result = await results_of(session, poll)
    return results_text(poll, result, locale, zone, _)


async def manager_report(
    session: AsyncSession,
    poll: Poll,
    locale: str,
    zone: str,
    _: Gettext,
    *,
    key: bytes,
    files: bool = True,
) -> Report:
    """Results with breakdowns and block reasons, and (with `files`) the chart and the CSV,
    for coordinators (`key`, the privacy key, opens a secret poll's sealed comments)."""
    result = await results_of(session, poll)
    reasons = await block_reasons(session, poll)
    comments = await comments_on(session, poll, key)
    text = results_text(
        poll, result, locale, zone, _, manager=True, reasons=reasons, comments=len(comments)
    )
    markup = manager_keyboard(poll, _, comments=bool(comments or reasons))
    if not files:
        return Report(text, markup)
    from bot.polls.export import chart_png, results_csv  # Pillow: only when a report is made

    chart = (f"poll-{poll.id}.png", chart_png(poll, result.total, locale, _))
    table = (f"poll-{poll.id}.csv", results_csv(poll, result, locale, _, reasons, comments))
    return Report(text, markup, chart, table)


async def polls_overview(session: AsyncSession, member: Member, _: Gettext) -> PollMessage:
    """/polls: open polls for the member (answered or not); for coordinators also the polls
    they manage and 'New consultation'."""
    polls = await open_polls_for(session, member)
    answered = await answered_poll_ids(session, member.id)
    kb = InlineKeyboardBuilder()
    if polls:
        lines = [_("<b>Open consultations</b>")]
        for poll in polls:
            mark = "✅" if poll.id in answered else "🗳"
            question = poll.text(member.locale)[0]
            kb.button(text=f"{mark} {short(question)}", callback_data=ShowCb(poll=poll.id))
        lines.append(_("✅ answered · 🗳 waiting for your answer"))
    else:
        lines = [_("There are no open consultations for you right now.")]
    managed = await managed_polls(session, member)
    if managed:
        for poll in managed:
            mark = "📊" if poll.is_open else "🗂"
            question = poll.text(member.locale)[0]
            kb.button(text=f"{mark} {short(question)}", callback_data=ResultsCb(poll=poll.id))
        lines.append(_("📊 results of the consultations you coordinate"))
    if await can_create(session, member):
        kb.button(text=_("➕ New consultation"), callback_data=NewPollCb(action="start"))
    kb.adjust(1)
    return PollMessage("\n".join(lines), kb.as_markup())


async def comments_report(
    session: AsyncSession, poll: Poll, page: int, _: Gettext, key: bytes
) -> CommentPage:
    """Reasons for blocking and comments, for coordinators, a page at a time."""
    items = [(_("Reason for blocking"), c) for c in await block_reasons(session, poll)]
    items += [(_("Comment"), c) for c in await comments_on(session, poll, key)]
    return comment_page(poll.id, items, page, _)
