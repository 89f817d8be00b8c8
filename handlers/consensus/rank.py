"""Members rank by taps: each tap adds a pick (carried by the buttons, nothing stored), Start
again clears them, Submit stores one secret ballot; forged picks are refused."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import F, Router
from aiogram.types import CallbackQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bot.consensus.priorities import RankResult, check_picks, in_audience, parse_picks, rank
from bot.consensus.priority_views import (
    RankPickCb,
    RankSubmitCb,
    member_keyboard,
    member_text,
    refusal,
)
from bot.core.app import App
from bot.core.clock import Clock
from handlers.ui import replace_message
from models.consensus import Priorities, get_priorities, has_ranked
from models.group import get_group
from models.member import Member

router = Router(name=__name__)
router.callback_query.filter(F.message.chat.type == "private")
Gettext = Callable[..., str]


async def audience(
    session: AsyncSession, consultation: Priorities, locale: str, app: App, _: Gettext
) -> str:
    if consultation.group_id is None:
        return _("Whole network")
    group = await get_group(session, consultation.group_id)
    return group.text(locale, app.settings.default_locale)[0] if group else ""


async def checked(
    session: AsyncSession,
    consultation_id: int,
    member: Member | None,
    picks_text: str,
    clock: Clock,
) -> tuple[Priorities, list[int]] | RankResult:
    """The consultation and the picks, or why the tap changes nothing."""
    consultation = await get_priorities(session, consultation_id) if consultation_id else None
    picks = parse_picks(picks_text)
    if (
        consultation is None
        or member is None
        or not await in_audience(session, consultation, member)
    ):
        return RankResult.NOT_FOR_YOU
    if not consultation.is_open or clock.now() >= consultation.closes_at:
        return RankResult.CLOSED
    if await has_ranked(session, consultation.id, member.id):
        return RankResult.ALREADY
    if picks is None:
        return RankResult.INVALID
    refused = check_picks(consultation, picks, complete=False)
    return refused if refused is not None else (consultation, picks)


@router.callback_query(RankPickCb.filter())
async def pick(
    call: CallbackQuery,
    callback_data: RankPickCb,
    member: Member | None,
    session: AsyncSession,
    clock: Clock,
    app: App,
    _: Gettext,
) -> None:
    """Show the picks so far and what can still be tapped."""
    found = await checked(session, callback_data.c, member, callback_data.picks, clock)
    if isinstance(found, RankResult):
        await call.answer(refusal(found, _), show_alert=True)
        return
    assert member is not None
    consultation, picks = found
    name = await audience(session, consultation, member.locale, app, _)
    text = member_text(consultation, name, picks, member.locale, member.tz, _)
    await call.answer()
    await replace_message(call, text, member_keyboard(consultation, picks, _, member.locale))


@router.callback_query(RankSubmitCb.filter())
async def submit(
    call: CallbackQuery,
    callback_data: RankSubmitCb,
    member: Member | None,
    session: AsyncSession,
    clock: Clock,
    app: App,
    _: Gettext,
) -> None:
    """Store the ranking (secret, or named), then show it as counted."""
    found = await checked(session, callback_data.c, member, callback_data.picks, clock)
    if isinstance(found, RankResult):
        await call.answer(refusal(found, _), show_alert=True)
        return
    assert member is not None
    consultation, picks = found
    result = await rank(session, consultation, member, picks, clock.now())
    if result is not RankResult.RECORDED:
        await call.answer(refusal(result, _), show_alert=True)
        return
    await session.commit()
    name = await audience(session, consultation, member.locale, app, _)
    if consultation.anonymous:
        note = _("✅ Your secret ranking was counted. Thank you!")
    else:
        note = _("✅ Your ranking was counted. Thank you!")
    await call.answer(note)
    await replace_message(
        call, member_text(consultation, name, picks, member.locale, member.tz, _, note)
    )
