"""Help, language, privacy, data export and erasure: open to every member, pending or not."""

from __future__ import annotations

import html
import json
from collections.abc import Callable

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot import geo
from bot.app import App
from bot.fsm_storage import forget_user_state
from bot.groups import Groups
from bot.i18n import LANGUAGE_NAMES, format_when
from handlers.onboarding import gender_labels, language_keyboard, privacy_text
from handlers.ui import clear_buttons
from models.member import Member, MemberStatus, delete_member
from models.member_data import export_member

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")
Gettext = Callable[..., str]


class ForgetCb(CallbackData, prefix="forget"):
    confirm: bool


def help_text(member: Member | None, _: Gettext) -> str:
    """What this person can do now, by status and role."""
    if member is None or member.status == MemberStatus.ONBOARDING:
        return _("Send /start to join. /privacy explains what we store.")
    lines = []
    if member.status == MemberStatus.PENDING:
        lines.append(_("Your membership is waiting for an admin's approval."))
    elif member.status == MemberStatus.DECLINED:
        lines.append(_("Your membership request was not approved."))
    else:
        lines.append(_("<b>What you can do</b>"))
        lines.append(_("/groups: join working groups and see their news"))
        lines.append(_("/polls: answer open consultations"))
        lines.append(_("/meetings: upcoming meetings in your time zone"))
        lines.append(_("/profile: see and edit your profile"))
    lines.append(_("/language: change language"))
    lines.append(_("/privacy: what we store and why"))
    lines.append(_("/mydata: download everything we store about you"))
    lines.append(_("/forget: erase your data"))
    if member.is_admin and member.is_active:
        lines.append("")
        lines.append(_("<b>As a network admin</b> you receive membership requests here."))
        lines.append(_("/newmeeting: schedule a meeting or find a date"))
    return "\n".join(lines)


@router.message(Command("help"))
async def show_help(message: Message, member: Member | None, _: Gettext) -> None:
    await message.answer(help_text(member, _))


@router.message(Command("privacy"))
async def show_privacy(message: Message, _: Gettext) -> None:
    await message.answer(privacy_text(_))


@router.message(Command("language"))
async def change_language(message: Message, state: FSMContext, _: Gettext, locale: str) -> None:
    """Language buttons; pressing one is handled by the onboarding router's LangCb handler."""
    await message.answer(_("Choose your language."), reply_markup=language_keyboard(locale))


def summary(data: dict[str, object], member: Member, _: Gettext) -> str:
    """The stored record as a short readable message."""
    none = "—"
    gender = gender_labels(_).get(member.gender or "", none)
    country = geo.country_name(member.country, member.locale) if member.country else none
    region = geo.region_name(member.region, member.locale) if member.region else none
    groups = data.get("working_groups") or []
    return "\n".join(
        [
            _("<b>What we store about you</b>"),
            _("Name: {value}").format(value=html.escape(member.display_name)),
            _("Language: {value}").format(value=LANGUAGE_NAMES.get(member.locale, member.locale)),
            _("Country: {value}").format(value=html.escape(country)),
            _("Region: {value}").format(value=html.escape(region)),
            _("Time zone: {value}").format(value=member.timezone or none),
            _("Organisation: {value}").format(value=html.escape(member.organisation or none)),
            _("Gender: {value}").format(value=gender),
            _("Status: {value}").format(value=member.status),
            _("Agreed to the privacy terms: {value}").format(
                value=format_when(member.consent_at, member.tz, member.locale, "short")
            ),
            _("Working groups: {value}").format(value=len(groups)),  # type: ignore[arg-type]
            _("Meeting replies: {value}").format(
                value=len(data.get("meeting_replies") or [])  # type: ignore[arg-type]
            ),
            "",
            _("The attached file holds all of it. /forget erases it."),
        ]
    )


@router.message(Command("mydata"))
async def my_data(
    message: Message, member: Member | None, session: AsyncSession, _: Gettext
) -> None:
    """Everything stored, as a message and as a JSON document."""
    if member is None:
        await message.answer(_("We store nothing about you."))
        return
    data = await export_member(session, member)
    await message.answer(summary(data, member, _))
    document = json.dumps(data, ensure_ascii=False, indent=2).encode()
    await message.answer_document(BufferedInputFile(document, filename="my-data.json"))


@router.message(Command("forget"))
async def forget(message: Message, member: Member | None, _: Gettext) -> None:
    """Ask for confirmation before erasing."""
    if member is None:
        await message.answer(_("We store nothing about you."))
        return
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Yes, erase everything"), callback_data=ForgetCb(confirm=True))
    kb.button(text=_("No, keep my data"), callback_data=ForgetCb(confirm=False))
    kb.adjust(1)
    await message.answer(
        _(
            "This erases your profile, your group memberships, your answers linked to you and "
            "your meeting replies. Secret ballots cannot be linked to you and stay counted. "
            "Are you sure?"
        ),
        reply_markup=kb.as_markup(),
    )


@router.callback_query(ForgetCb.filter())
async def forget_confirmed(
    call: CallbackQuery,
    callback_data: ForgetCb,
    member: Member | None,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    app: App,
) -> None:
    """Erase the member and every record linked to them."""
    assert isinstance(call.message, Message)
    await call.answer()
    await clear_buttons(call)
    if not callback_data.confirm:
        await call.message.answer(_("Nothing was erased."))
        return
    if member is not None:
        # Out of the working groups' chats first: without a record, the bot could not tell
        # them from a stranger any more.
        await Groups.of(session, app).leave_all_chats(member)
        await delete_member(session, member)
        await forget_user_state(session, call.from_user.id)
        await session.commit()
    await state.clear()
    await call.message.answer(
        _("Everything we stored about you has been erased. Send /start if you want to come back.")
    )
