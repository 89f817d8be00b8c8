"""How the questionnaire builder looks: the preview of the questions with their buttons, the
menu of one question, the kinds to pick from, secret or named, and the last check before
sending."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Annotated, Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import Field

from bot.consensus.builder import (
    MAX_OPTION,
    MAX_OPTIONS,
    MAX_QUESTION,
    MAX_QUESTIONS,
    MIN_OPTIONS,
    OptionsProblem,
    VersionProblem,
    version_template,
)
from bot.consensus.questionnaire_views import split
from bot.consensus.service import MAX_TITLE
from bot.consensus.views import ProposeCb
from bot.core.bounded import Small
from bot.core.config import SUPPORTED_LOCALES
from bot.polls.screens import language as language_name
from bot.polls.views import fit
from models.consensus import QuestionKind

Gettext = Callable[..., str]
PREVIEW_LINE = 220  # characters of a question (and its answers) in the preview
TEMPLATE_PART = 3500  # characters of the original's template per message
ICONS = {
    QuestionKind.SINGLE: "🔘",
    QuestionKind.MULTIPLE: "☑️",
    QuestionKind.SCALE: "📶",
    QuestionKind.TEXT: "✍️",
}


class BuildCb(CallbackData, prefix="qb"):
    """A tap in the builder: `i` a question's place (checked against the draft), `kind` a
    question kind, a closing choice or a secrecy."""

    action: Annotated[str, Field(max_length=8)]
    i: Small = 0
    kind: Annotated[str, Field(max_length=8)] = ""


def kind_names(_: Gettext) -> dict[QuestionKind, str]:
    return {
        QuestionKind.SINGLE: _("One answer"),
        QuestionKind.MULTIPLE: _("Several answers"),
        QuestionKind.SCALE: _("Scale 1–5"),
        QuestionKind.TEXT: _("Short text"),
    }


def question_line(i: int, question: dict[str, Any], limit: int = 0) -> str:
    """A question with its answers; cut to `limit` characters in the preview, so that all
    fifteen always fit in one message."""
    icon = ICONS.get(QuestionKind(question["kind"]), "")
    options = ", ".join(question.get("options") or [])
    plain = question["text"] + (f" ({options})" if options else "")
    shown, n = html.escape(plain), len(plain)
    while limit and len(shown) > limit:  # measured as sent: "&" counts as "&amp;"
        n -= 1
        shown = html.escape(plain[:n]) + "…"
    return f"{i + 1}. {icon} {shown}"


def preview_text(data: dict[str, Any], _: Gettext) -> str:
    """The title and every question as members will get them, in order."""
    questions = data["questions"]
    lines = [
        _("👀 <b>{title}</b> · preview").format(title=html.escape(data["title"])),
        _("{count} of at most {limit} questions.").format(
            count=len(questions), limit=MAX_QUESTIONS
        ),
        "",
    ]
    lines += [question_line(i, q, PREVIEW_LINE) for i, q in enumerate(questions)]
    if not questions:
        lines.append(_("No questions yet: tap ➕ to add the first one."))
    versions = data.get("versions") or {}
    if versions:
        names = ", ".join(language_name(code) for code in sorted(versions))
        lines += ["", _("🌐 Also in: {languages}").format(languages=names)]
    for code in data.get("dropped") or []:
        lines.append(
            _(
                "The version in {language} was removed: the questions changed after it was "
                "written. Add it again if you wish."
            ).format(language=language_name(code))
        )
    lines += [
        "",
        " · ".join(f"{ICONS[k]} {name}" for k, name in kind_names(_).items()),
        _("Tap a number to change, move or remove that question."),
    ]
    return fit(lines, _("(shortened)"))


def preview_keyboard(data: dict[str, Any], _: Gettext) -> InlineKeyboardMarkup:
    questions = data["questions"]
    kb = InlineKeyboardBuilder()
    for i in range(len(questions)):
        kb.button(
            text=_("✏️ {number}").format(number=i + 1), callback_data=BuildCb(action="menu", i=i)
        )
    sizes = [5] * ((len(questions) + 4) // 5)
    if len(questions) < MAX_QUESTIONS:
        kb.button(text=_("➕ Add a question"), callback_data=BuildCb(action="add"))
        sizes.append(1)
    kb.button(text=_("🏷 Change the title"), callback_data=BuildCb(action="title"))
    sizes.append(1)
    if questions:
        kb.button(text=_("🌐 Other languages"), callback_data=BuildCb(action="langs"))
        sizes.append(1)
        kb.button(text=_("Next ▶"), callback_data=BuildCb(action="next"))
        sizes.append(1)
    kb.button(text=_("✖ Cancel"), callback_data=ProposeCb(action="cancel"))
    kb.adjust(*sizes, 1)
    return kb.as_markup()


def kinds_text(number: int, _: Gettext) -> str:
    return _("What kind of answer does question {number} take?").format(number=number)


def kinds_keyboard(index: int, _: Gettext) -> InlineKeyboardMarkup:
    """The four kinds for the question at `index` (a new one when it is the next place)."""
    kb = InlineKeyboardBuilder()
    for kind, name in kind_names(_).items():
        kb.button(
            text=f"{ICONS[kind]} {name}",
            callback_data=BuildCb(action="kind", i=index, kind=kind.value),
        )
    kb.button(text=_("◀ Back"), callback_data=BuildCb(action="back"))
    kb.adjust(2, 2, 1)
    return kb.as_markup()


def menu_text(i: int, question: dict[str, Any], _: Gettext) -> str:
    name = kind_names(_)[QuestionKind(question["kind"])]
    return "\n".join(
        [
            _("Question {number} · {kind}").format(number=i + 1, kind=name),
            "",
            question_line(i, question),
        ]
    )


def menu_keyboard(
    i: int, count: int, question: dict[str, Any], _: Gettext
) -> InlineKeyboardMarkup:
    """What can be done to one question."""
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✏️ Change the text"), callback_data=BuildCb(action="text", i=i))
    if question["kind"] in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        kb.button(text=_("📝 Change the options"), callback_data=BuildCb(action="opts", i=i))
    kb.button(text=_("🔀 Change the kind"), callback_data=BuildCb(action="rekind", i=i))
    if i > 0:
        kb.button(text=_("⬆️ Move up"), callback_data=BuildCb(action="up", i=i))
    if i < count - 1:
        kb.button(text=_("⬇️ Move down"), callback_data=BuildCb(action="down", i=i))
    kb.button(text=_("🗑 Remove"), callback_data=BuildCb(action="del", i=i))
    kb.button(text=_("◀ Back to the preview"), callback_data=BuildCb(action="back"))
    kb.adjust(1)
    return kb.as_markup()


def ask_text(number: int, _: Gettext) -> str:
    return _("Send the text of question {number} (one message).").format(number=number)


def ask_options(number: int, _: Gettext) -> str:
    return _(
        "Send the answers members can choose for question {number}, one per line "
        "({least} to {most})."
    ).format(number=number, least=MIN_OPTIONS, most=MAX_OPTIONS)


def options_problem(problem: OptionsProblem, _: Gettext) -> str:
    texts = {
        OptionsProblem.TOO_FEW: _("A choice needs at least {least} answers, one per line."),
        OptionsProblem.TOO_MANY: _("At most {most} answers, please."),
        OptionsProblem.DUPLICATE: _("Each answer must be different: one appears twice."),
        OptionsProblem.TOO_LONG: _("Each answer can have at most {limit} characters."),
    }
    return (
        texts[problem].format(least=MIN_OPTIONS, most=MAX_OPTIONS, limit=MAX_OPTION)
        + "\n"
        + _("Nothing was changed: send the answers again.")
    )


def secrecy_keyboard(_: Gettext) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("🔒 Secret"), callback_data=BuildCb(action="secret", kind="1"))
    kb.button(text=_("👤 Named"), callback_data=BuildCb(action="secret", kind="0"))
    kb.button(text=_("◀ Back"), callback_data=BuildCb(action="back"))
    kb.adjust(2, 1)
    return kb.as_markup()


def secrecy_text(_: Gettext) -> str:
    return _(
        "Secret or named?\n🔒 Secret: answers are stored with no link to anyone.\n"
        "👤 Named: you will see who answered what."
    )


def confirm_text(data: dict[str, Any], when: str, audience: int, _: Gettext) -> str:
    secrecy = _("🔒 Secret") if data["anonymous"] else _("👤 Named")
    versions = sorted(data.get("versions") or {})
    also = ", ".join(language_name(code) for code in versions)
    return (
        "\n".join(
            [
                _("📝 <b>{title}</b>").format(title=html.escape(data["title"])),
                _("{count} questions").format(count=len(data["questions"])),
                *([_("🌐 Also in: {languages}").format(languages=also)] if versions else []),
                secrecy,
                _("Closes: {when}").format(when=when),
                _("Members who have not finished get one reminder before the close."),
            ]
        )
        + "\n"
        + _("It goes to {count} members.").format(count=audience)
    )


def confirm_keyboard(_: Gettext) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ Send"), callback_data=BuildCb(action="send"))
    kb.button(text=_("◀ Back to the preview"), callback_data=BuildCb(action="back"))
    kb.button(text=_("✖ Cancel"), callback_data=ProposeCb(action="cancel"))
    kb.adjust(1)
    return kb.as_markup()


# --- versions in other languages ----------------------------------------------------------------


def languages_text(data: dict[str, Any], _: Gettext) -> str:
    versions = data.get("versions") or {}
    lines = [
        _(
            "🌐 <b>Versions in other languages</b>\n"
            "Members read the questionnaire in their language where you add a version; the "
            "others read it as you wrote it. Tap a language to add or replace its version."
        )
    ]
    if versions:
        names = ", ".join(language_name(code) for code in sorted(versions))
        lines += ["", _("Added: {languages}").format(languages=names)]
    return "\n".join(lines)


def languages_keyboard(data: dict[str, Any], _: Gettext) -> InlineKeyboardMarkup:
    """A button per other language (✓ when added), a remove button per version, Back."""
    versions = data.get("versions") or {}
    others = [code for code in SUPPORTED_LOCALES if code != data.get("locale")]
    kb = InlineKeyboardBuilder()
    for code in others:
        mark = "✓ " if code in versions else "+ "
        kb.button(text=mark + language_name(code), callback_data=BuildCb(action="lang", kind=code))
    added = [code for code in others if code in versions]
    for code in added:
        kb.button(
            text=_("🗑 Remove {language}").format(language=language_name(code)),
            callback_data=BuildCb(action="unlang", kind=code),
        )
    kb.button(text=_("◀ Back to the preview"), callback_data=BuildCb(action="back"))
    kb.adjust(*([2] * ((len(others) + 1) // 2)), *([1] * len(added)), 1)
    return kb.as_markup()


def ask_version(data: dict[str, Any], code: str, _: Gettext) -> list[str]:
    """What to send for a version, with the original in that very form to copy (in several
    messages when it is long: the version may then be sent in several too)."""
    template = version_template(str(data["title"]), list(data["questions"]))
    count = len(data["questions"])
    ngettext = _  # the catalogue's plural forms
    head = ngettext(
        "Send the version in {language} as one message: the title on the first line, then "
        "the {count} question numbered, with its answers under it, one per line, each "
        'starting with "-". Here is the original in that form:',
        "Send the version in {language} as one message: the title on the first line, then "
        "the {count} questions numbered, each with its answers under it, one per line, each "
        'starting with "-". Here is the original in that form:',
        count,
    ).format(language=language_name(code), count=count)
    whole = head + "\n\n<code>" + html.escape(template) + "</code>"
    if len(whole) <= TEMPLATE_PART:
        return [whole]
    parts = split([html.escape(line) for line in template.splitlines()], TEMPLATE_PART)
    note = _(
        "It is long: you may send it in several messages, in order; I will say when "
        "something is still missing."
    )
    return [head + "\n" + note, *(f"<code>{part}</code>" for part in parts)]


def version_so_far(number: int, count: int, _: Gettext) -> str:
    """A version received up to question `number` of `count`: the rest may follow."""
    return _(
        "Received up to question {number} of {count}. Send the rest (from where it stopped), "
        "or tap the language again to start over."
    ).format(number=number, count=count)


def version_problem(problem: VersionProblem, number: int, count: int, _: Gettext) -> str:
    ngettext = _  # the catalogue's plural forms
    texts = {
        VersionProblem.NO_TITLE: _("The first line must be the title."),
        VersionProblem.QUESTIONS: ngettext(
            "The original has {count} question: send exactly {count}, numbered 1.",
            "The original has {count} questions: send exactly {count}, numbered 1., 2. and so on.",
            count,
        ),
        VersionProblem.ANSWERS: _(
            "Question {number} must have as many answers as the original, each on its own "
            'line starting with "-".'
        ),
        VersionProblem.TOO_LONG: _(
            "Something is too long: the title up to {title} characters, each question up to "
            "{question}, each answer up to {answer}."
        ),
    }
    return (
        texts[problem].format(
            count=count,
            number=number,
            title=MAX_TITLE,
            question=MAX_QUESTION,
            answer=MAX_OPTION,
        )
        + "\n"
        + _("Nothing was changed: send the version again.")
    )
