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


# --- versions in other languages ----------------------------------------------------------------


class VersionProblem(enum.StrEnum):
    """Why a version in another language was refused."""

    NO_TITLE = "no_title"
    QUESTIONS = "questions"  # more numbered questions than the original, or out of order
    INCOMPLETE = "incomplete"  # the first questions, well formed: the rest may follow
    ANSWERS = "answers"  # a question with a different number of answers
    TOO_LONG = "too_long"


def version_template(title: str, questions: list[dict[str, Any]]) -> str:
    """The original in the form a version is sent: the title, then each question numbered
    with its answers under it, one per line, each starting with "-"."""
    lines = [title]
    for i, question in enumerate(questions):
        lines.append(f"{i + 1}. {question['text']}")
        lines += [f"- {option}" for option in question.get("options") or []]
    return "\n".join(lines)


def parse_version(
    text: str, questions: list[dict[str, Any]]
) -> dict[str, Any] | tuple[VersionProblem, int]:
    """A version typed in the template's form, checked against the original: the same number
    of questions, each with as many answers. The problem comes with the question it concerns
    (1-based; 0 when it is about the whole)."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    lines = ["".join(ch for ch in line if ch.isprintable()) for line in lines]
    lines = [line for line in lines if line]
    if not lines or lines[0][:1] in "-•" or _numbered(lines[0]) is not None:
        return VersionProblem.NO_TITLE, 0
    title = title_text(lines[0])
    if title is None:
        return VersionProblem.TOO_LONG, 0
    found: list[dict[str, Any]] = []
    for line in lines[1:]:
        number = _numbered(line)
        if number is not None and number[0] == len(found) + 1:
            found.append({"text": number[1], "options": []})
        elif line[:1] in "-•" and found:
            found[-1]["options"].append(line[1:].strip())
        elif found:  # a question's text on two lines
            if found[-1]["options"]:
                return VersionProblem.ANSWERS, len(found)
            found[-1]["text"] += " " + line
        else:
            return VersionProblem.QUESTIONS, 0
    if len(found) > len(questions):
        return VersionProblem.QUESTIONS, 0
    for i, (mine, original) in enumerate(zip(found, questions, strict=False)):
        expected = len(original.get("options") or [])
        last_of_part = len(found) < len(questions) and i == len(found) - 1
        if question_text(mine["text"]) is None:
            return VersionProblem.TOO_LONG, i + 1
        if len(mine["options"]) > expected or (
            len(mine["options"]) < expected and not last_of_part
        ):
            return VersionProblem.ANSWERS, i + 1
        if any(not o or len(o) > MAX_OPTION for o in mine["options"]):
            return VersionProblem.TOO_LONG, i + 1
    if len(found) < len(questions):
        return VersionProblem.INCOMPLETE, len(found)
    return {"title": title, "questions": found}


def starts_anew(text: str) -> bool:
    """Whether a message is a whole version (a title line, then question 1) rather than the
    rest of one sent in parts."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return (
        bool(lines)
        and lines[0][:1] not in "-•"
        and _numbered(lines[0]) is None
        and any((_numbered(line) or (0, ""))[0] == 1 for line in lines[1:])
    )


def _numbered(line: str) -> tuple[int, str] | None:
    """ "3. text" or "3) text" as (3, "text")."""
    head, dot, rest = line.partition(".")
    if not dot:
        head, dot, rest = line.partition(")")
    if dot and head.strip().isdigit() and rest.strip():
        return int(head), rest.strip()
    return None


def version_matches(version: Any, title: str, questions: list[dict[str, Any]]) -> bool:
    """Whether a version was written for these very questions (changed since: dropped)."""
    return isinstance(version, dict) and version.get("of") == {
        "title": title,
        "questions": questions,
    }
