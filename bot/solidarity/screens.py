"""The /solidarity screen and a case's panel, put together from the store for one reader."""

from __future__ import annotations

import html
from collections.abc import Callable

from aiogram.types import InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.solidarity.callbacks import SolidarityCb
from bot.solidarity.jobs import group_names, reporter_name
from bot.solidarity.views import ask_label, button, case_panel, keyboard, panel_keyboard, where
from models.member import Member
from models.solidarity import (
    SolidarityCase,
    case_events,
    cases_waiting,
    get_response,
    open_cases_for,
    signatures_of,
)

Gettext = Callable[..., str]


async def home(
    session: AsyncSession, member: Member, _: Gettext
) -> tuple[str, InlineKeyboardMarkup]:
    """Open cases the member received, with what they did; admins also see cases to review."""
    lines = [_("🤝 <b>System of Solidarity</b>")]
    rows = []
    cases = await open_cases_for(session, member)
    if not cases:
        lines.append(_("No open alerts for you right now."))
    for case in cases:
        lines.append(await member_line(session, case, member, _))
    if member.is_admin:
        for case in await cases_waiting(session):
            label = _("🗂 Case #{id}: {place}").format(
                id=case.id, place=where(case.country, member.locale)
            )
            rows.append([button(label, SolidarityCb(action="open", case_id=case.id).pack())])
    rows.append([button(_("➕ Raise a case"), SolidarityCb(action="raise").pack())])
    return "\n\n".join(lines), keyboard(*rows)


async def member_line(
    session: AsyncSession, case: SolidarityCase, member: Member, _: Gettext
) -> str:
    """One open case and what the member did about it."""
    response = await get_response(session, case.id, member.id)
    signed = await signatures_of(session, case.id, member.id)
    did = []
    if response and response.seen_at:
        did.append(_("seen"))
    did += [ask_label(a, _) for a in (response.actions if response else [])]
    did += [_("signed for {org}").format(org=html.escape(s.organisation)) for s in signed]
    head = _("🆘 #{id} {place}").format(
        id=case.id, place=html.escape(where(case.country, member.locale))
    )
    return head + "\n" + (", ".join(did) if did else _("not answered yet"))


async def panel(
    session: AsyncSession, case: SolidarityCase, reader: Member, default_locale: str, _: Gettext
) -> tuple[str, InlineKeyboardMarkup]:
    """The secretariat's view of a case with its actions."""
    name = await reporter_name(session, case)
    events = await case_events(session, case.id)
    groups = await group_names(session, reader.locale, default_locale)
    text = case_panel(case, name, events, groups, reader.locale, _)
    return text, panel_keyboard(case, _)
