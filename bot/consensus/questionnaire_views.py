"""How a questionnaire looks: the invitation, one question at a time with progress, the
summary before sending, the results, the coordinator's report and its spreadsheet."""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import Field

from bot.consensus.questionnaire import AnswerResult, option_count
from bot.core.i18n import format_number, format_when
from bot.polls.screens import language as language_name
from bot.polls.tally import Tally
from bot.polls.views import fit, gender_name, hidden_text, region_label
from models.consensus import QuestionKind, Questionnaire

Gettext = Callable[..., str]
Id = Annotated[int, Field(ge=0, lt=2**31)]


class QuestionCb(CallbackData, prefix="qq"):
    """A tap in a questionnaire: `pos` is the question it was shown for (stale taps are
    refused), `value` an option set (bit i: option i)."""

    q: Id
    pos: Annotated[int, Field(ge=0, lt=100)]
    action: Annotated[str, Field(max_length=8)]
    value: Annotated[int, Field(ge=0, lt=2**12)] = 0


def labels(question: dict[str, Any]) -> list[str]:
    if question["kind"] == QuestionKind.SCALE:
        return [str(point) for point in range(1, option_count(question) + 1)]
    return [str(option) for option in question.get("options") or []]


def answer_text(question: dict[str, Any], value: Any, *, markup: bool = True) -> str:
    """An answer as text: escaped for a message, or plain (`markup=False`) for the CSV."""
    if isinstance(value, str):
        plain = value
    else:
        plain = ", ".join(n for i, n in enumerate(labels(question)) if int(value) >> i & 1)
    return html.escape(plain) if markup else plain


def as_written(questionnaire: Questionnaire, locale: str, _: Gettext) -> list[str]:
    """A note when a reader's language has no version: shown as written (the original)."""
    if not locale or locale == questionnaire.locale:
        return []
    return [
        _("🌐 Not available in your language: shown as written, in {language}.").format(
            language=language_name(questionnaire.locale)
        )
    ]


def intro_text(
    questionnaire: Questionnaire, audience: str, locale: str, zone: str, _: Gettext
) -> str:
    """The invitation every member of the audience gets (`questionnaire` as the reader sees
    it: see Questionnaire.in_language)."""
    secrecy = (
        _("🔒 Secret: your answers are stored apart, with no link to you or to each other.")
        if questionnaire.anonymous
        else _("👤 Named: the coordinators see your answers.")
    )
    return "\n".join(
        [
            _("📝 <b>Questionnaire</b> · {audience}").format(audience=html.escape(audience)),
            "",
            f"<b>{html.escape(questionnaire.title)}</b>",
            _("{count} questions, one at a time. You can stop and continue later.").format(
                count=len(questionnaire.questions)
            ),
            secrecy,
            _("Closes: {when}").format(when=format_when(questionnaire.closes_at, zone, locale)),
            *as_written(questionnaire, locale, _),
        ]
    )


def reminder_text(
    questionnaire: Questionnaire, audience: str, locale: str, zone: str, _: Gettext
) -> str:
    """The invitation again, headed by a reminder."""
    head = _(
        "⏰ <b>Reminder</b>: you have not sent your answers to this questionnaire yet. "
        "It closes {when}."
    ).format(when=format_when(questionnaire.closes_at, zone, locale))
    return head + "\n\n" + intro_text(questionnaire, audience, locale, zone, _)


def intro_keyboard(questionnaire: Questionnaire, _: Gettext) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("▶ Start or continue"),
        callback_data=QuestionCb(q=questionnaire.id, pos=0, action="go"),
    )
    return kb.as_markup()


def question_text(
    questionnaire: Questionnaire,
    position: int,
    answers: dict[str, Any],
    _: Gettext,
    mask: int = 0,
    locale: str = "",
) -> str:
    """One question with its progress ("3 of 7") and the answer given before, if any."""
    question = questionnaire.questions[position]
    lines = [
        _("📝 {title} · question {number} of {total}").format(
            title=html.escape(questionnaire.title),
            number=position + 1,
            total=len(questionnaire.questions),
        ),
        *as_written(questionnaire, locale, _),
        "",
        f"<b>{html.escape(question['text'])}</b>",
        "",
    ]
    hints = {
        QuestionKind.SINGLE: _("Tap one answer."),
        QuestionKind.MULTIPLE: _("Tick every answer that applies, then tap Next."),
        QuestionKind.SCALE: _("Answer from 1 (not at all) to 5 (completely)."),
        QuestionKind.TEXT: _("Send your answer as a message (up to 1000 characters)."),
    }
    lines.append(hints[QuestionKind(question["kind"])])
    given = answers.get(str(position))
    if given is not None:
        lines += ["", _("Your answer: {answer}").format(answer=answer_text(question, given))]
    return fit(lines, _("(shortened)"))


def question_keyboard(
    questionnaire: Questionnaire, position: int, _: Gettext, mask: int = 0
) -> InlineKeyboardMarkup:
    """Answer buttons for the kind, then Back and Continue later."""
    question = questionnaire.questions[position]
    kb = InlineKeyboardBuilder()
    q, kind = questionnaire.id, question["kind"]
    names = labels(question)
    sizes: list[int] = []
    if kind == QuestionKind.MULTIPLE:
        for i, name in enumerate(names):
            mark = "☑ " if mask >> i & 1 else "☐ "
            kb.button(
                text=mark + name,
                callback_data=QuestionCb(q=q, pos=position, action="tick", value=mask ^ (1 << i)),
            )
        kb.button(
            text=_("Next ▶"),
            callback_data=QuestionCb(q=q, pos=position, action="next", value=mask),
        )
        sizes += [1] * (len(names) + 1)
    elif kind != QuestionKind.TEXT:
        for i, name in enumerate(names):
            kb.button(
                text=name, callback_data=QuestionCb(q=q, pos=position, action="pick", value=1 << i)
            )
        sizes.append(len(names) if kind == QuestionKind.SCALE else 1)
        if kind == QuestionKind.SINGLE:
            sizes = [1] * len(names)
    extra = 0
    if position > 0:
        kb.button(text=_("◀ Back"), callback_data=QuestionCb(q=q, pos=position, action="back"))
        extra += 1
    kb.button(
        text=_("⏸ Continue later"), callback_data=QuestionCb(q=q, pos=position, action="later")
    )
    kb.adjust(*sizes, extra + 1)
    return kb.as_markup()


def summary_text(questionnaire: Questionnaire, answers: dict[str, Any], _: Gettext) -> str:
    """Every answer before sending."""
    lines = [
        _("📝 <b>Your answers</b> · {title}").format(title=html.escape(questionnaire.title)),
        "",
    ]
    for i, question in enumerate(questionnaire.questions):
        lines.append(f"{i + 1}. {html.escape(question['text'])}")
        lines.append("   → " + answer_text(question, answers.get(str(i), "")))
    lines += ["", _("Send them? Once sent they cannot be changed.")]
    return fit(lines, _("(shortened)"))


def summary_keyboard(
    questionnaire: Questionnaire, position: int, _: Gettext
) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    q = questionnaire.id
    kb.button(
        text=_("📨 Send my answers"), callback_data=QuestionCb(q=q, pos=position, action="send")
    )
    kb.button(text=_("◀ Back"), callback_data=QuestionCb(q=q, pos=position, action="back"))
    kb.adjust(1)
    return kb.as_markup()


def refusal(result: AnswerResult, _: Gettext) -> str:
    texts = {
        AnswerResult.CLOSED: _("This consultation is closed: answers are no longer accepted."),
        AnswerResult.NOT_FOR_YOU: _("This consultation is not meant for you."),
        AnswerResult.SENT: _("Your answers were already sent; they cannot be changed."),
        AnswerResult.WRONG_KIND: _("That is not an answer this question takes."),
        AnswerResult.NOT_CURRENT: _(
            "That question is not the one you are at: use the newest message."
        ),
    }
    return texts.get(result, _("This button is no longer valid."))


def counts_line(question: dict[str, Any], options: Sequence[int], locale: str) -> str:
    return " · ".join(
        f"{html.escape(name)}: {format_number(n, locale)}"
        for name, n in zip(labels(question), options, strict=False)
    )


def results_lines(
    questionnaire: Questionnaire,
    tallies: Sequence[Tally | None],
    texts: dict[int, list[tuple[str | None, str]]],
    respondents: int,
    locale: str,
    _: Gettext,
    *,
    report: bool,
) -> list[str]:
    """Per question: counts (and for the coordinator breakdowns and the text answers)."""
    lines = [
        _("📝 <b>Results</b> · {title}").format(title=html.escape(questionnaire.title)),
        _("Respondents: {count}").format(count=format_number(respondents, locale)),
    ]
    for i, question in enumerate(questionnaire.questions):
        lines += ["", f"<b>{i + 1}. {html.escape(question['text'])}</b>"]
        result = tallies[i]
        if result is None:
            answers = texts.get(i, [])
            lines.append(_("Text answers: {count}").format(count=len(answers)))
            if report:
                for author, said in answers:
                    who = f" — {html.escape(author)}" if author else ""
                    lines.append(f"• {html.escape(said)}{who}")
            continue
        lines.append(counts_line(question, result.total.options, locale))
        if not report:
            continue
        for group in result.by_region:
            name = region_label(group.key, locale, _)
            shown = (
                hidden_text(group.small, _)
                if group.counts is None
                else counts_line(question, group.counts.options, locale)
            )
            lines.append(f"   {html.escape(name)}: {shown}")
        for group in result.by_gender:
            shown = (
                hidden_text(group.small, _)
                if group.counts is None
                else counts_line(question, group.counts.options, locale)
            )
            lines.append(f"   {html.escape(gender_name(group.key, _))}: {shown}")
    return lines


def split(lines: Sequence[str], limit: int = 4000) -> list[str]:
    """Lines in as few messages as Telegram allows."""
    out: list[str] = []
    chunk: list[str] = []
    for line in lines:
        if chunk and len("\n".join([*chunk, line]).encode("utf-16-le")) // 2 > limit:
            out.append("\n".join(chunk))
            chunk = []
        chunk.append(line[:limit])
    if chunk:
        out.append("\n".join(chunk))
    return out


def table(
    questionnaire: Questionnaire,
    tallies: Sequence[Tally | None],
    texts: dict[int, list[tuple[str | None, str]]],
    named_rows: Sequence[tuple[str, dict[int, Any]]],
    _: Gettext,
) -> bytes:
    """The spreadsheet: a row per respondent when named; when secret a row per question and
    answer (counts, and each text on its own row), so no row links one person's answers."""
    from bot.polls.export import safe_cell  # with Pillow: only when a report is made

    out = io.StringIO()
    writer = csv.writer(out)
    questions = questionnaire.questions
    if not questionnaire.anonymous:
        writer.writerow([_("Respondent"), *(safe_cell(q["text"]) for q in questions)])
        for name, answers in named_rows:
            cells = [
                safe_cell(answer_text(q, answers[i], markup=False) if i in answers else "")
                for i, q in enumerate(questions)
            ]
            writer.writerow([safe_cell(name), *cells])
    else:
        writer.writerow([_("Question"), _("Answer"), _("Answers")])
        for i, question in enumerate(questions):
            result = tallies[i]
            if result is None:
                for _author, said in texts.get(i, []):
                    writer.writerow([safe_cell(question["text"]), safe_cell(said), ""])
                continue
            for name, n in zip(labels(question), result.total.options, strict=False):
                writer.writerow([safe_cell(question["text"]), safe_cell(name), n])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
