"""Button data of the working-group screens: our own ids only, never Telegram ids of people."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from bot.core.bounded import ChatId, RowId, Small


class GroupCb(CallbackData, prefix="wg"):
    """A member's tap on a group: show, join, leave, chat link; coordinators: members, requests."""

    action: str
    group_id: RowId = 0
    page: Small = 0


class RequestCb(CallbackData, prefix="wgreq"):
    """A coordinator's decision on a request to join; carries the membership id only."""

    membership_id: RowId
    approve: bool


class RemoveCb(CallbackData, prefix="wgrm"):
    """A coordinator removes a member (asked once, then confirmed)."""

    group_id: RowId
    member_id: RowId
    confirm: bool = False


class ManageCb(CallbackData, prefix="wga"):
    """A network admin's tap on a group's settings; `arg` is a language, a member id or a flag."""

    action: str
    group_id: RowId = 0
    arg: str = ""


class LinkCb(CallbackData, prefix="wglink"):
    """An admin confirms, in private, which group a Telegram chat belongs to."""

    chat_id: ChatId
    group_id: RowId


class AnnounceCb(CallbackData, prefix="ann"):
    """A coordinator's step while writing an announcement."""

    action: str
    group_id: RowId
    arg: str = ""
