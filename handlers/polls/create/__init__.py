"""The coordinator's guided conversation for a new consultation: one question per step, Back
and Cancel everywhere, and a preview exactly as members will see it before anything is sent.

`flow` holds the plumbing every step shares; one module per stage holds that stage's answers;
what each step shows is drawn by `bot.polls.screens`.
"""

from __future__ import annotations

from aiogram import Router

from handlers.polls.create import (
    audience,
    entry,
    launch,
    navigation,
    options,
    question,
    timing,
    translations,
)


def routers() -> list[Router]:
    """In the order they are tried: entry first (its ➕ button works in any state), navigation
    last (it takes any message the steps did not)."""
    return [
        entry.router,
        question.router,
        options.router,
        audience.router,
        timing.router,
        translations.router,
        launch.router,
        navigation.router,
    ]
