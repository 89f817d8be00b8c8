"""Find a date: the poll as each member sees it, and the coordinator's ranking of the times."""

from __future__ import annotations

import html
from collections.abc import Callable

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.core.i18n import format_when
from bot.meetings.callbacks import SlotCb
from bot.meetings.views import directed, meeting_body
from models.meeting import DatePoll, Meeting, SlotAnswer, SlotTally

Gettext = Callable[..., str]


def slot_answer_label(answer: str | None, _: Gettext) -> str:
    """Availability in words."""
    labels: dict[str, str] = {
        SlotAnswer.YES: _("✅ Yes"),
        SlotAnswer.IF_NEED_BE: _("🤔 If need be"),
        SlotAnswer.NO: _("❌ No"),
    }
    return labels.get(answer or "", _("not answered"))


SLOT_MARKS = {SlotAnswer.YES: "✅", SlotAnswer.IF_NEED_BE: "🤔", SlotAnswer.NO: "❌"}


def poll_text(
    meeting: Meeting,
    poll: DatePoll,
    group_name: str | None,
    answers: dict[int, str],
    locale: str,
    zone: str,
    _: Gettext,
) -> str:
    """A date poll as one member sees it: each slot in their zone, with their answers."""
    lines = ["🗓 " + _("<b>Find a date</b>"), ""]
    lines += meeting_body(meeting, group_name, locale, zone, _)
    lines += ["", _("When can you come? Answer for each time:")]
    for number, slot in enumerate(poll.slots, start=1):
        lines.append(
            f"{number}. {format_when(slot.start_at, zone, locale)} — "
            + slot_answer_label(answers.get(slot.id), _)
        )
    lines += ["", _("✅ Yes · 🤔 If need be · ❌ No")]
    return directed("\n".join(lines), locale)


def poll_keyboard(poll: DatePoll) -> InlineKeyboardMarkup:
    """One row per slot: Yes / If need be / No."""
    kb = InlineKeyboardBuilder()
    for number, slot in enumerate(poll.slots, start=1):
        for answer, mark in SLOT_MARKS.items():
            kb.button(
                text=f"{number} {mark}", callback_data=SlotCb(slot_id=slot.id, answer=answer)
            )
    kb.adjust(3)
    return kb.as_markup()


def poll_summary_text(
    meeting: Meeting,
    tallies: list[SlotTally],
    respondents: int,
    invited: int,
    locale: str,
    zone: str,
    _: Gettext,
) -> str:
    """The coordinator's view of a date poll: slots from best to worst, with names."""
    title = html.escape(meeting.text(locale)[0])
    lines = [
        "🗓 " + _("<b>Find a date:</b> {title}").format(title=title),
        _("Answered: {count} of {invited} invited.").format(count=respondents, invited=invited),
        "",
    ]
    for rank, tally in enumerate(tallies, start=1):
        star = "⭐ " if rank == 1 and (tally.yes or tally.if_need_be) else ""
        lines.append(f"{star}<b>{rank}. {format_when(tally.slot.start_at, zone, locale)}</b>")
        for mark, people in (("✅", tally.yes), ("🤔", tally.if_need_be), ("❌", tally.no)):
            listed = ", ".join(html.escape(name) for name in people) or "—"
            lines.append(f"   {mark} {len(people)}: {listed}")
    lines += ["", _("Tap a time to schedule the meeting then. Everyone will be invited.")]
    return directed("\n".join(lines), locale)
