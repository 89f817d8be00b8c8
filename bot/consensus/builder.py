"""The questionnaire builder: a draft (title and questions) kept in the conversation's data,
changed one step at a time — add a question of a kind, its text and options, re-word it,
change its kind, move it, remove it. Every change is checked here; a refused one changes
nothing. The annual evaluation opens as a draft made from its template."""

from __future__ import annotations

import enum
from typing import Any

from bot.consensus.service import MAX_TITLE, clean_text
from models.consensus import QuestionKind

MAX_QUESTIONS = 15
MIN_OPTIONS, MAX_OPTIONS = 2, 12
MAX_OPTION = 60
MAX_QUESTION = MAX_TITLE * 2
CHOICE_KINDS = (QuestionKind.SINGLE, QuestionKind.MULTIPLE)


class OptionsProblem(enum.StrEnum):
    """Why a list of options was refused."""

    TOO_FEW = "too_few"
    TOO_MANY = "too_many"
    DUPLICATE = "duplicate"
    TOO_LONG = "too_long"


def kind_of(value: str) -> QuestionKind | None:
    """A kind tapped (None for a forged one)."""
    try:
        return QuestionKind(value)
    except ValueError:
        return None


def parse_options(text: str) -> list[str] | OptionsProblem:
    """Options typed one per line: 2 to 12, none repeated, each short enough for a button."""
    options = [" ".join(line.split()) for line in text.splitlines()]
    options = ["".join(ch for ch in o if ch.isprintable()) for o in options]
    options = [o for o in options if o]
    if any(len(o) > MAX_OPTION for o in options):
        return OptionsProblem.TOO_LONG
    if len(options) < MIN_OPTIONS:
        return OptionsProblem.TOO_FEW
    if len(options) > MAX_OPTIONS:
        return OptionsProblem.TOO_MANY
    if len({o.casefold() for o in options}) < len(options):
        return OptionsProblem.DUPLICATE
    return options


def question_text(text: str) -> str | None:
    return clean_text(text, MAX_QUESTION)


def title_text(text: str) -> str | None:
    return clean_text(text, MAX_TITLE)


def valid_question(question: Any) -> bool:
    """A question as the builder makes them (checked again before sending)."""
    if not isinstance(question, dict) or kind_of(str(question.get("kind"))) is None:
        return False
    text, options = question.get("text"), question.get("options") or []
    if not isinstance(text, str) or question_text(text) != text:
        return False
    if question["kind"] in CHOICE_KINDS:
        return isinstance(parse_options("\n".join(map(str, options))), list) and all(
            isinstance(o, str) for o in options
        )
    return not options


def valid_draft(questions: Any) -> bool:
    return (
        isinstance(questions, list)
        and 1 <= len(questions) <= MAX_QUESTIONS
        and all(valid_question(q) for q in questions)
    )


def needs_options(kind: QuestionKind, question: dict[str, Any] | None) -> bool:
    """Whether a question becoming `kind` needs options typed (a choice without any yet)."""
    return kind in CHOICE_KINDS and not (question and question.get("options"))


def rekind(
    question: dict[str, Any], kind: QuestionKind, options: list[str] | None = None
) -> dict[str, Any]:
    """The question as another kind: choices keep (or get) their options, others have none."""
    if kind in CHOICE_KINDS:
        kept = options if options is not None else list(question.get("options") or [])
        return {"kind": kind.value, "text": question["text"], "options": kept}
    return {"kind": kind.value, "text": question["text"], "options": []}


def moved(questions: list[dict[str, Any]], index: int, step: int) -> list[dict[str, Any]] | None:
    """The questions with one moved up (-1) or down (+1); None when it cannot move."""
    target = index + step
    if not (0 <= index < len(questions) and 0 <= target < len(questions)):
        return None
    out = list(questions)
    out[index], out[target] = out[target], out[index]
    return out
