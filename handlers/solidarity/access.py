"""Who may use the solidarity handlers: approved members in private chats; and one check for
every secretariat action, made at the moment of the tap (forged buttons included)."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import F, Router
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.filters import ActiveMember, network_admin
from handlers.ui import AnyMessage, pressed
from models.member import Member
from models.solidarity import CaseStatus, SolidarityCase, get_case

Gettext = Callable[..., str]


def solidarity_router(name: str) -> Router:
    """A router for approved members in private chats."""
    router = Router(name=name)
    router.message.filter(F.chat.type == "private", ActiveMember())
    router.callback_query.filter(F.message.chat.type == "private", ActiveMember())
    return router


def refusal(
    member: Member, case: SolidarityCase | None, statuses: tuple[CaseStatus, ...], _: Gettext
) -> str | None:
    """Why this admin action is refused now, or None if it may go ahead."""
    if not network_admin(member):
        return _("Only the network's admins can do this.")
    if case is None:
        return _("This case is no longer available.")
    if case.status not in statuses:
        return _("This case has moved on: this action is no longer possible.")
    return None


async def admin_case(
    call: CallbackQuery,
    member: Member,
    session: AsyncSession,
    case_id: int,
    _: Gettext,
    *statuses: CaseStatus,
) -> SolidarityCase | None:
    """The case, if the member is an admin and the case is in one of `statuses`; else the tap
    is answered with the reason and None returned."""
    case = await get_case(session, case_id)
    why = refusal(member, case, statuses or (CaseStatus.SUBMITTED,), _)
    if why is not None:
        await call.answer(why, show_alert=True)
        return None
    return case


def tapped(call: CallbackQuery) -> AnyMessage:
    """The message whose button was tapped: complete, or only its chat and id when old."""
    return pressed(call)
