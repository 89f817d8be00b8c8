"""Button data of the members' screens: our own ids and fixed codes, never Telegram ids."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class LangCb(CallbackData, prefix="lang"):
    """A language picked, in onboarding or from /language."""

    code: str


class ConsentCb(CallbackData, prefix="consent"):
    """Accept or decline the privacy terms, before anything is stored."""

    accept: bool


class KeepNameCb(CallbackData, prefix="keepname"):
    """Keep the Telegram name as the display name."""


class LetterCb(CallbackData, prefix="letter"):
    """A first letter of country names ("*": all letters again), and a page of its countries."""

    letter: str
    page: int = 0


class CountryCb(CallbackData, prefix="country"):
    """A country, by ISO code."""

    code: str


class ZoneCb(CallbackData, prefix="tz"):
    """A time zone of the member's country."""

    zone: str


class SkipCb(CallbackData, prefix="skip"):
    """Skip an optional question."""

    step: str


class GenderCb(CallbackData, prefix="gender"):
    """A gender answer, "prefer not to say" included."""

    value: str


class EditCb(CallbackData, prefix="edit"):
    """A field of /profile to change."""

    field: str


class ReviewCb(CallbackData, prefix="review"):
    """An admin's decision on a membership request; carries our id, never a Telegram id."""

    member_id: int
    approve: bool


class ForgetCb(CallbackData, prefix="forget"):
    """Confirm or cancel /forget."""

    confirm: bool


class AttentionCb(CallbackData, prefix="att"):
    """A change to the member's quiet hours or digest; `hour` is a local hour, 0-23."""

    action: str
    hour: int = 0
