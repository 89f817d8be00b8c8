"""What the coordinator sees at each step of creating a consultation: one question per screen,
Back and Cancel under each, and the preview exactly as members will receive the poll."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import geo
from bot.core.i18n import LANGUAGE_NAMES, Translator, format_when, zone_name
from bot.polls.ballot_box import POOL_BATCH
from bot.polls.closing import TimeProblem
from bot.polls.messages import PollMessage
from bot.polls.service import (
    MAX_OPTION,
    MAX_OPTIONS,
    MAX_QUESTION,
    MIN_OPTIONS,
    Draft,
    Problem,
    SendProblem,
    coordinated_groups,
    group_names,
)
from bot.polls.views import NewPollCb, audience_text, kind_name, poll_keyboard, poll_text
from models.member import Member
from models.poll import Audience, PollKind, audience_count

Gettext = Callable[..., str]
REMINDER_HOURS = (24, 3)


@dataclass
class Drafting:
    """What a screen is drawn from: the draft, who writes it, and the languages involved."""

    draft: Draft
    member: Member
    session: AsyncSession
    _: Gettext
    now: datetime
    default_locale: str
    i18n: Translator
    tr_locale: str = ""  # the language of the version being written
    preview_locale: str = ""  # the language of the preview

    def when(self, moment: datetime) -> str:
        return format_when(moment, self.member.tz, self.member.locale, "full")

    def reader(self, locale: str) -> Gettext:
        """Texts as a member reading `locale` gets them (the preview's)."""
        return lambda message: self.i18n.gettext(message, locale=locale)


def nav(kb: InlineKeyboardBuilder, _: Gettext, *, back: bool = True) -> InlineKeyboardMarkup:
    """Append the Back / Cancel row every step has, and build the markup."""
    rows = kb.export()
    row = InlineKeyboardBuilder()
    if back:
        row.button(text=_("◀ Back"), callback_data=NewPollCb(action="back"))
    row.button(text=_("✖ Cancel"), callback_data=NewPollCb(action="cancel"))
    built = InlineKeyboardBuilder.from_markup(InlineKeyboardMarkup(inline_keyboard=rows))
    built.attach(row)
    return built.as_markup()


def single(kb: InlineKeyboardBuilder) -> InlineKeyboardBuilder:
    """One button per row."""
    kb.adjust(1)
    return kb


def language(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


# --- question and kind --------------------------------------------------------------------------


async def question(ctx: Drafting) -> list[PollMessage]:
    draft, _ = ctx.draft, ctx._
    kb = InlineKeyboardBuilder()
    text = _(
        "🗳 <b>New consultation</b>\n\nSend the question as members will read it "
        "(up to {limit} characters), in {language}. You can add other languages later."
    ).format(limit=MAX_QUESTION, language=language(draft.locale))
    if draft.question:
        text += "\n\n" + _("Now: {question}").format(question=html.escape(draft.question))
        kb.button(text=_("Keep it"), callback_data=NewPollCb(action="keep"))
    return [PollMessage(text, nav(single(kb), _, back=False))]


async def kind(ctx: Drafting) -> list[PollMessage]:
    _ = ctx._
    kb = InlineKeyboardBuilder()
    for each in PollKind:
        kb.button(text=kind_name(each, _), callback_data=NewPollCb(action="kind", value=each))
    return [PollMessage(_("What kind of answer do you ask for?"), nav(single(kb), _))]


# --- options ------------------------------------------------------------------------------------


async def options(ctx: Drafting) -> list[PollMessage]:
    draft, _ = ctx.draft, ctx._
    lines = [
        _(
            "Send the answers members can choose, one per line ({low} to {high}, up to {limit} "
            "characters each, so they fit on a button). You can send them in several messages."
        ).format(low=MIN_OPTIONS, high=MAX_OPTIONS, limit=MAX_OPTION)
    ]
    kb = InlineKeyboardBuilder()
    if draft.options:
        lines.append("")
        lines.append(_("<b>Answers so far</b>"))
        lines.extend(f"{i}. {html.escape(o)}" for i, o in enumerate(draft.options, start=1))
        if len(draft.options) >= MIN_OPTIONS:
            kb.button(text=_("✅ Done"), callback_data=NewPollCb(action="optdone"))
        kb.button(text=_("↩ Remove the last one"), callback_data=NewPollCb(action="optundo"))
    return [PollMessage("\n".join(lines), nav(single(kb), _))]


def options_problem(problem: Problem, _: Gettext) -> str:
    """Why typed answers were refused (nothing of them was added)."""
    problems = {
        Problem.TOO_MANY: _("Too many answers: at most {high}. Nothing was added.").format(
            high=MAX_OPTIONS
        ),
        Problem.OPTION_TOO_LONG: _(
            "An answer is too long: at most {limit} characters each, so it fits on a button. "
            "Nothing was added."
        ).format(limit=MAX_OPTION),
        Problem.DUPLICATE: _("That answer is already in the list. Nothing was added."),
        Problem.EMPTY: _("Please send at least one answer."),
    }
    return problems.get(problem, problems[Problem.EMPTY])


# --- ballot and audience ------------------------------------------------------------------------


async def secrecy(ctx: Drafting) -> list[PollMessage]:
    _ = ctx._
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🔒 Secret ballot"), callback_data=NewPollCb(action="secret", value="1"))
    kb.button(text=_("👤 Named"), callback_data=NewPollCb(action="secret", value="0"))
    text = _(
        "<b>Secret ballot</b>: no one, not even you or the admins, can see who answered what; "
        "answers cannot be changed.\n<b>Named</b>: you see each member's answer; they can "
        "change it until the close."
    )
    return [PollMessage(text, nav(single(kb), _))]


async def audience_keyboard(ctx: Drafting) -> InlineKeyboardMarkup:
    """Group toggles (and, for admins, the whole network or a region)."""
    draft, member, _ = ctx.draft, ctx.member, ctx._
    kb = InlineKeyboardBuilder()
    if member.is_admin:
        kb.button(text=_("🌍 Whole network"), callback_data=NewPollCb(action="net"))
        kb.button(text=_("🗺 A region…"), callback_data=NewPollCb(action="reg"))
    for group in await coordinated_groups(ctx.session, member):
        ticked = draft.audience == Audience.GROUPS and group.id in draft.group_ids
        name = group.text(member.locale, ctx.default_locale)[0]
        kb.button(
            text=("☑ " if ticked else "☐ ") + name,
            callback_data=NewPollCb(action="grp", value=str(group.id)),
        )
    if draft.has_groups:
        kb.button(text=_("Next ▶"), callback_data=NewPollCb(action="audok"))
    return nav(single(kb), _)


async def audience(ctx: Drafting) -> list[PollMessage]:
    _ = ctx._
    if ctx.member.is_admin:
        text = _(
            "Who is this consultation for? Tick one or more working groups, or choose "
            "the whole network or a region."
        )
    else:
        text = _("Which of your working groups is this consultation for? Tick one or more.")
    return [PollMessage(text, await audience_keyboard(ctx))]


async def region(ctx: Drafting) -> list[PollMessage]:
    _ = ctx._
    kb = InlineKeyboardBuilder()
    for code in geo.REGIONS:
        kb.button(
            text=geo.region_name(code, ctx.member.locale),
            callback_data=NewPollCb(action="region", value=code),
        )
    return [PollMessage(_("Which region?"), nav(single(kb), _))]


# --- timing and reminders -----------------------------------------------------------------------


async def closing(ctx: Drafting) -> list[PollMessage]:
    draft, _ = ctx.draft, ctx._
    kb = InlineKeyboardBuilder()
    for value, label in (
        ("1d", _("In 1 day")),
        ("3d", _("In 3 days")),
        ("1w", _("In 1 week")),
    ):
        kb.button(text=label, callback_data=NewPollCb(action="quick", value=value))
    kb.adjust(3)
    text = _(
        "When does it close? Tap a button, or type a date and time in your time zone ({zone}), "
        "for example 2026-12-01 18:00 or 1/12 18:00 (day/month)."
    ).format(zone=zone_name(ctx.member.tz, ctx.member.locale))
    if draft.closing:
        text += "\n\n" + _("Now: {when}").format(when=ctx.when(draft.closing))
        kb.row()
        kb.button(text=_("Keep it"), callback_data=NewPollCb(action="keep"))
    return [PollMessage(text, nav(kb, _))]


def time_problem(problem: TimeProblem, zone: str, _: Gettext) -> str:
    """Why a typed closing time was refused, and what to do instead."""
    texts = {
        TimeProblem.UNREADABLE: _(
            "I could not read that date. Write it like 2026-12-01 18:00 or 1/12 18:00 "
            "(day/month), or tap a button."
        ),
        TimeProblem.NO_SUCH_DATE: _("That date does not exist. Please check the day and month."),
        TimeProblem.PAST: _("That time is already past. Please choose a time in the future."),
        TimeProblem.TOO_FAR: _("That is more than a year away. Please choose an earlier time."),
        TimeProblem.SKIPPED: _(
            "That time does not exist in {zone}: the clocks skip it when summer time starts. "
            "Please choose another time."
        ),
        TimeProblem.AMBIGUOUS: _(
            "That time happens twice in {zone}, when the clocks go back. "
            "Please choose another time, for example an hour later."
        ),
    }
    return texts[problem].format(zone=zone)


async def reminder(ctx: Drafting) -> list[PollMessage]:
    draft, _ = ctx.draft, ctx._
    closes = draft.closing
    assert closes is not None
    kb = InlineKeyboardBuilder()
    for hours in REMINDER_HOURS:
        if replace(draft, remind_hours=hours).remind_at(ctx.now) is None:
            continue
        label = (
            _("{hours} hours before (recommended)") if hours == 24 else _("{hours} hours before")
        )
        kb.button(
            text=label.format(hours=hours),
            callback_data=NewPollCb(action="remind", value=str(hours)),
        )
    kb.button(text=_("No reminder"), callback_data=NewPollCb(action="remind", value="0"))
    text = _("When should members who have not answered get a reminder? It closes {when}.").format(
        when=ctx.when(closes)
    )
    return [PollMessage(text, nav(single(kb), _))]


async def results(ctx: Drafting) -> list[PollMessage]:
    _ = ctx._
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("Only when it closes (recommended)"),
        callback_data=NewPollCb(action="live", value="0"),
    )
    kb.button(
        text=_("Live, once they answered"), callback_data=NewPollCb(action="live", value="1")
    )
    text = _("When may members see the results?")
    if ctx.draft.anonymous:
        text += "\n\n" + _(
            "This is a secret ballot: live results (yours too) change only in steps of at "
            "least {count} answers, and at the close, so that comparing them before and "
            "after someone answers never shows what that person chose."
        ).format(count=POOL_BATCH)
    return [PollMessage(text, nav(single(kb), _))]


async def share(ctx: Drafting) -> list[PollMessage]:
    _ = ctx._
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("Yes, send everyone who answered the results"),
        callback_data=NewPollCb(action="share", value="1"),
    )
    kb.button(text=_("No, only to me"), callback_data=NewPollCb(action="share", value="0"))
    text = _("When it closes, should everyone who answered get the results in their language?")
    return [PollMessage(text, nav(single(kb), _))]


# --- translations and voice ---------------------------------------------------------------------


async def translations(ctx: Drafting) -> list[PollMessage]:
    draft, _ = ctx.draft, ctx._
    kb = InlineKeyboardBuilder()
    for code in draft.other_locales():
        mark = "✓ " if code in draft.translations else "+ "
        kb.button(
            text=mark + LANGUAGE_NAMES[code], callback_data=NewPollCb(action="lang", value=code)
        )
    kb.adjust(2)
    kb.row()
    kb.button(text=_("Next ▶"), callback_data=NewPollCb(action="trnext"))
    done = [LANGUAGE_NAMES[code] for code in sorted(draft.translations)]
    text = _(
        "Add the question in other languages? Members get the version in their language; the "
        "others get yours ({language})."
    ).format(language=language(draft.locale))
    if done:
        text += "\n\n" + _("Versions added: {languages}").format(languages=", ".join(done))
    return [PollMessage(text, nav(kb, _))]


async def tr_question(ctx: Drafting) -> list[PollMessage]:
    _ = ctx._
    text = _("Send the question in {language}:\n\n{question}").format(
        language=language(ctx.tr_locale), question=html.escape(ctx.draft.question)
    )
    return [PollMessage(text, nav(InlineKeyboardBuilder(), _))]


async def tr_options(ctx: Drafting) -> list[PollMessage]:
    draft, _ = ctx.draft, ctx._
    listing = "\n".join(f"{i}. {html.escape(o)}" for i, o in enumerate(draft.options, start=1))
    text = _(
        "Now the {count} answers in {language}, one per line, in this order:\n\n{answers}"
    ).format(count=len(draft.options), language=language(ctx.tr_locale), answers=listing)
    return [PollMessage(text, nav(InlineKeyboardBuilder(), _))]


def tr_options_problem(problem: Problem, count: int, _: Gettext) -> str:
    """Why a translation of the answers was refused."""
    if problem is Problem.OPTION_TOO_LONG:
        return _("An answer is too long: at most {limit} characters each.").format(
            limit=MAX_OPTION
        )
    return _("Please send exactly {count} lines, one per answer, in the same order.").format(
        count=count
    )


async def voice(ctx: Drafting) -> list[PollMessage]:
    draft, _ = ctx.draft, ctx._
    kb = InlineKeyboardBuilder()
    if draft.voice_file_id:
        kb.button(text=_("Keep the voice note"), callback_data=NewPollCb(action="keepvoice"))
        kb.button(text=_("Remove the voice note"), callback_data=NewPollCb(action="novoice"))
    else:
        kb.button(text=_("Skip"), callback_data=NewPollCb(action="novoice"))
    text = _(
        "You can add a voice note for members who prefer listening: record it now, or tap Skip."
    )
    return [PollMessage(text, nav(single(kb), _))]


# --- preview and launch -------------------------------------------------------------------------


async def preview(ctx: Drafting) -> list[PollMessage]:
    """The poll as members in `preview_locale` will get it, then what happens when it is sent."""
    draft, _ = ctx.draft, ctx._
    locale = ctx.preview_locale or draft.locale
    poll = draft.build(ctx.member.id, ctx.now)
    reader = ctx.reader(locale)
    groups = await group_names(ctx.session, poll, locale, ctx.default_locale)
    shown = audience_text(poll, groups, locale, reader)
    header = _("👁 <b>Preview</b> in {language}: exactly what members will receive.").format(
        language=language(locale)
    )
    count = await audience_count(ctx.session, poll)
    mine = audience_text(poll, groups, ctx.member.locale, _)
    return [
        PollMessage(header),
        PollMessage(
            poll_text(poll, locale, ctx.member.tz, reader, shown),
            poll_keyboard(poll, locale, reader),
            poll.voice_file_id,
        ),
        PollMessage(*preview_summary(ctx, count, mine, locale)),
    ]


def preview_summary(
    ctx: Drafting, count: int, audience: str, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    """Audience, closing, reminder and results settings; Send, and the other languages."""
    draft, _ = ctx.draft, ctx._
    reminder = draft.remind_at(ctx.now)
    closes = draft.closing
    assert closes is not None
    lines = [
        _("Audience: {audience} (now: {count})").format(
            audience=html.escape(audience), count=count
        ),
        _("Closes: {when}").format(when=ctx.when(closes)),
        _("Reminder: {when}").format(when=ctx.when(reminder)) if reminder else _("Reminder: none"),
        _("Results for members: {when}").format(
            when=_("live, once they answered") if draft.results_live else _("when it closes")
        ),
        _("Results sent to everyone who answered: {answer}").format(
            answer=_("yes") if draft.share_results else _("no")
        ),
    ]
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("✅ Send to the audience ({count})").format(count=count),
        callback_data=NewPollCb(action="send"),
    )
    for code in [draft.locale, *sorted(draft.translations)]:
        if code != locale:
            kb.button(
                text=_("👁 Preview in {language}").format(language=LANGUAGE_NAMES[code]),
                callback_data=NewPollCb(action="pvlang", value=code),
            )
    return "\n".join(lines), nav(single(kb), _)


def send_problem(problem: SendProblem, _: Gettext) -> str:
    """Why the draft was not sent."""
    texts = {
        SendProblem.NOT_CREATOR: _(
            "Only working group coordinators and network admins can create consultations."
        ),
        SendProblem.NOT_ADMIN: _("Only network admins can consult the whole network or a region."),
        SendProblem.NOT_THEIR_GROUPS: _("You can only consult the working groups you coordinate."),
        SendProblem.INCOMPLETE: _("The draft is incomplete. Please go back and finish it."),
        SendProblem.CLOSING_PAST: _(
            "The closing time is already past. Please go back and choose a new one."
        ),
    }
    return texts[problem]
