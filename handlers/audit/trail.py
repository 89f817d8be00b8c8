"""/audit: pages of recorded actions, filtered by group or person, and their CSV."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audit.callbacks import AuditCb
from bot.audit.views import audit_csv, audit_screen, groups_screen, people_screen, scope
from bot.core.config import Settings
from handlers.ui import pressed, replace_message
from models.member import Member

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")
Gettext = Callable[..., str]


def refusal(_: Gettext) -> str:
    return _("Only network admins and coordinators can read the audit trail.")


@router.message(Command("audit"))
async def show_audit(
    message: Message, member: Member | None, session: AsyncSession, settings: Settings, _: Gettext
) -> None:
    """The newest entries the reader may see."""
    allowed = await scope(session, member)
    if member is None or allowed is None:
        await message.answer(refusal(_))
        return
    text, markup = await audit_screen(
        session, member, allowed, AuditCb(), settings.default_locale, _
    )
    await message.answer(text, reply_markup=markup)


@router.callback_query(AuditCb.filter())
async def browse(
    call: CallbackQuery,
    callback_data: AuditCb,
    member: Member | None,
    session: AsyncSession,
    settings: Settings,
    _: Gettext,
) -> None:
    """Page, filter, or export; access is checked again at every tap."""
    allowed = await scope(session, member)
    if member is None or allowed is None:
        await call.answer(refusal(_), show_alert=True)
        return
    default = settings.default_locale
    await call.answer()
    if callback_data.view == "csv":
        data = await audit_csv(session, allowed, callback_data, default, _)
        await pressed(call).answer_document(BufferedInputFile(data, filename="audit.csv"))
        return
    if callback_data.view == "groups":
        screen = await groups_screen(session, allowed, callback_data, member.locale, default, _)
    elif callback_data.view == "people":
        screen = await people_screen(session, allowed, callback_data, _)
    else:
        screen = await audit_screen(session, member, allowed, callback_data, default, _)
    await replace_message(call, *screen)
