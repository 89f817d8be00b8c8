"""The raise-a-case conversation's questions: for each step, its text and buttons, built from
the draft so far. Every step but the first has Back; every step has Cancel."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core import geo
from bot.solidarity.callbacks import RaiseCb
from bot.solidarity.service import AFFECTED, ASKS, MAX_NAME
from bot.solidarity.views import affected_label, ask_label, button, draft_summary, keyboard

Gettext = Callable[..., str]
Question = tuple[str, InlineKeyboardMarkup]


def tap(step: str, action: str, text: str, value: str = "") -> InlineKeyboardButton:
    """A button of one step."""
    return button(text, RaiseCb(step=step, action=action, value=value).pack())


def nav(step: str, _: Gettext, *, back: bool = True) -> list[InlineKeyboardButton]:
    """Back (except on the first question) and Cancel."""
    row = [tap(step, "back", _("⬅️ Back"))] if back else []
    return [*row, tap(step, "cancel", _("✖️ Cancel"))]


def what(draft: dict[str, Any], _: Gettext) -> Question:
    """What happened: text and/or a voice note."""
    have = bool(draft.get("text")) or bool(draft.get("voice"))
    text = _(
        "🆘 <b>Raise a case</b>\n\nWhat happened? Write it in a message, or send a voice note "
        "(or both). Say who, when, and what is needed."
    )
    if have:
        got = []
        if draft.get("text"):
            got.append(_("text received"))
        if draft.get("voice"):
            got.append(_("voice note received"))
        text += "\n\n✓ " + ", ".join(got)
    next_row = [tap("what", "next", _("Next ➡️"))] if have else []
    return text, keyboard(next_row, nav("what", _, back=False))


def country(draft: dict[str, Any], _: Gettext) -> Question:
    """Where: a country, typed and then picked."""
    matches: list[tuple[str, str]] = draft.get("matches") or []
    text = _("Where did it happen? Type the country's name.")
    picks = [[tap("country", "pick", name, code)] for code, name in matches]
    return text, keyboard(*picks, nav("country", _))


def affected(draft: dict[str, Any], _: Gettext) -> Question:
    """Who is affected."""
    rows = [[tap("affected", "pick", affected_label(kind, _), kind)] for kind in AFFECTED]
    return _("Who is affected?"), keyboard(*rows, nav("affected", _))


def name(draft: dict[str, Any], _: Gettext) -> Question:
    """An optional name, seen only by admins unless the reporter chooses otherwise."""
    text = _(
        "Their name (optional, up to {limit} characters). By default only the network's admins "
        "see it. Type it, or skip."
    ).format(limit=MAX_NAME)
    return text, keyboard([tap("name", "skip", _("Skip"))], nav("name", _))


def urgency(draft: dict[str, Any], _: Gettext) -> Question:
    """How urgent."""
    rows = [
        [tap("urgency", "pick", _("🔴 Urgent: hours matter"), "urgent")],
        [tap("urgency", "pick", _("🟠 Ongoing"), "ongoing")],
    ]
    return _("How urgent is it?"), keyboard(*rows, nav("urgency", _))


def asks(draft: dict[str, Any], _: Gettext) -> Question:
    """What is asked of members: several allowed."""
    chosen = draft.get("asks", [])
    rows = [
        [tap("asks", "toggle", ("✓ " if ask in chosen else "") + ask_label(ask, _), ask)]
        for ask in ASKS
    ]
    done = [tap("asks", "next", _("Next ➡️"))] if chosen else []
    text = _("What do you ask of members? Choose one or more, then tap Next.")
    return text, keyboard(*rows, done, nav("asks", _))


def share(draft: dict[str, Any], _: Gettext) -> Question:
    """What members may see: the reporter's name, the affected person's name."""
    mine = (
        _("✓ Show my name to members")
        if draft.get("share_reporter")
        else _("Show my name to members")
    )
    theirs = (
        _("✓ Show the affected name to members")
        if draft.get("share_affected")
        else _("Show the affected name to members")
    )
    rows = [[tap("share", "toggle", mine, "reporter")]]
    if draft.get("name"):
        rows.append([tap("share", "toggle", theirs, "affected")])
    rows.append([tap("share", "next", _("Next ➡️"))])
    text = _(
        "What may be shared with members? By default names are seen only by the network's "
        "admins. Tap to change, then Next."
    )
    return text, keyboard(*rows, nav("share", _))


def preview(draft: dict[str, Any], _: Gettext) -> Question:
    """The whole case before it is submitted."""
    text = draft_summary(draft, _)
    return text, keyboard([tap("preview", "submit", _("✅ Submit"))], nav("preview", _))


QUESTIONS: dict[str, Callable[[dict[str, Any], Gettext], Question]] = {
    "what": what,
    "country": country,
    "affected": affected,
    "name": name,
    "urgency": urgency,
    "asks": asks,
    "share": share,
    "preview": preview,
}


def country_matches(query: str, locale: str) -> list[tuple[str, str]]:
    """Countries matching what was typed, for the picker."""
    return geo.search_countries(query, locale, limit=6)
