"""Membership decisions: finishing onboarding, asking admins, telling the member the outcome."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from datetime import datetime

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.context import FSMContext
from aiogram.types import InaccessibleMessage, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import geo
from bot.core.app import App
from bot.core.i18n import Translator
from bot.members.callbacks import ReviewCb
from models.member import Member, MemberStatus, Role, list_admins

log = logging.getLogger(__name__)
Gettext = Callable[..., str]


def review_keyboard(member_id: int, _: Gettext) -> InlineKeyboardMarkup:
    """Approve / Decline buttons for admins."""
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ Approve"), callback_data=ReviewCb(member_id=member_id, approve=True))
    kb.button(text=_("Decline"), callback_data=ReviewCb(member_id=member_id, approve=False))
    return kb.as_markup()


def request_text(candidate: Member, _: Gettext, locale: str) -> str:
    """What an admin sees of a request: name, country and organisation only."""
    country = geo.country_name(candidate.country, locale) if candidate.country else "—"
    return _(
        "<b>New membership request</b>\nName: {name}\nCountry: {country}\nOrganisation: {org}"
    ).format(
        name=html.escape(candidate.display_name),
        country=html.escape(country),
        org=html.escape(candidate.organisation or "—"),
    )


async def register(
    session: AsyncSession, *, telegram_id: int, name: str, locale: str, now: datetime
) -> Member:
    """The member record, created when the person accepts the privacy terms (not before)."""
    member = Member(
        telegram_id=telegram_id,
        display_name=name,
        locale=locale,
        status=MemberStatus.ONBOARDING,
        consent_at=now,
        created_at=now,
        last_seen_at=now,
    )
    session.add(member)
    await session.flush()
    return member


async def finish_onboarding(
    message: Message | InaccessibleMessage,
    state: FSMContext,
    member: Member,
    session: AsyncSession,
    _: Gettext,
    app: App,
    after: str | None,
) -> None:
    """Approve at once (open registration or a bootstrap admin), else ask the admins.

    A deep link followed before the approval is acted on now, as far as it can be (a working
    group request waits for the approval).
    """
    await state.set_data({})
    settings = app.settings
    if member.telegram_id in settings.admin_ids:
        member.role = Role.ADMIN
    if settings.open_registration or member.is_admin:
        member.status = MemberStatus.ACTIVE
        await message.answer(
            _(
                "You're all set, {name}! Use /groups to join working groups, /polls for open "
                "consultations and /meetings for meetings. /help lists everything."
            ).format(name=html.escape(member.display_name))
        )
        if after:
            await follow_deep_link(message, member, session, app, _, after)
        return
    member.status = MemberStatus.PENDING
    await session.flush()
    await message.answer(
        _(
            "Thank you, {name}! A network admin will review your request and you will get a "
            "message here. Meanwhile you can use /help, /language, /privacy, /mydata and /forget."
        ).format(name=html.escape(member.display_name))
    )
    await notify_admins(session, app.bot, app.i18n, member)
    if after:
        # A group asked for through a deep link waits for the approval (see bot/groups/service.py).
        await follow_deep_link(message, member, session, app, _, after)


async def follow_deep_link(
    message: Message | InaccessibleMessage,
    member: Member,
    session: AsyncSession,
    app: App,
    _: Gettext,
    payload: str,
) -> None:
    """`t.me/<bot>?start=<payload>`: the area that registered the prefix takes it from here."""
    for prefix, follow in app.registry.deep_links.items():
        if payload.startswith(prefix):
            await follow(message, member, session, app, _, payload[len(prefix) :])
            return
    if not member.is_active:
        await message.answer(_("This link will work once your membership is approved."))
        return
    await message.answer(_("This link is not valid any more."))


async def notify_admins(
    session: AsyncSession, bot: Bot, i18n: Translator, candidate: Member
) -> int:
    """Send the request to every admin in their language; returns how many were reached."""
    reached = 0
    for admin in await list_admins(session):
        if admin.id == candidate.id or admin.unreachable_at is not None:
            continue

        def t(msg: str, loc: str = admin.locale) -> str:
            return i18n.gettext(msg, locale=loc)

        try:
            await bot.send_message(
                admin.telegram_id,
                request_text(candidate, t, admin.locale),
                reply_markup=review_keyboard(candidate.id, t),
            )
            reached += 1
        except TelegramAPIError as exc:
            log.warning("could not reach admin %s: %s", admin.id, exc)
    if not reached:
        log.warning("membership request %s reached no admin; set ADMIN_IDS", candidate.id)
    return reached


async def tell_member(bot: Bot, i18n: Translator, member: Member, approved: bool) -> bool:
    """Tell the member the admins' decision in their own language."""

    def _(msg: str) -> str:
        return i18n.gettext(msg, locale=member.locale)

    if approved:
        text = _(
            "Good news: your membership has been approved! Use /groups to join working groups. "
            "/help lists everything you can do."
        )
    else:
        text = _(
            "Your membership request was not approved. If you think this is a mistake, contact "
            "the network's secretariat. You can erase your data with /forget."
        )
    try:
        await bot.send_message(member.telegram_id, text)
    except TelegramAPIError as exc:
        log.warning("could not tell member %s: %s", member.id, exc)
        return False
    return True
