"""The meetings' buttons: every one a CallbackData factory carrying our ids, never Telegram's."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from bot.core.bounded import RowId


class RsvpCb(CallbackData, prefix="rsvp"):
    """A member's Going / Maybe / Not going on a meeting (our id, never a Telegram id)."""

    meeting_id: RowId
    answer: str


class SlotCb(CallbackData, prefix="slot"):
    """A member's Yes / If need be / No on one proposed slot."""

    slot_id: RowId
    answer: str


class MeetingCb(CallbackData, prefix="mtg"):
    """Open, download or manage one meeting."""

    action: str
    meeting_id: RowId


class ManageCb(CallbackData, prefix="mm"):
    """A coordinator's action on one meeting."""

    action: str
    meeting_id: RowId
    value: str = ""


class NewCb(CallbackData, prefix="nm"):
    """A button of one step of the new-meeting conversation."""

    step: str
    action: str
    value: str = ""
