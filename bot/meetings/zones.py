"""Time zones: found by a typed city, country or id, and the far zone a preview is shown in."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiogram.filters.callback_data import CallbackData
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import geo
from models.member import Member

Gettext = Callable[..., str]
SAMPLE_ZONES = ("Asia/Manila", "America/Montevideo", "Africa/Nairobi", "Europe/Paris")


def find_zones(query: str, locale: str, at: datetime | None = None, limit: int = 8) -> list[str]:
    """Zones matching a typed name: an IANA id, a UTC offset, a city in any shipped language,
    or a country (see geo.search_zones)."""
    return geo.search_zones(query, locale, at, limit)


def zone_prompt(_: Gettext) -> str:
    """Ask for a zone by name."""
    return _("Type a city, a country or a time zone, for example Paris, Kenya or America/Lima.")


def no_zone_text(query: str, _: Gettext) -> str:
    """Nothing matched what was typed."""
    return _("No time zone matches “{query}”. Try a city or a country name.").format(
        query=html.escape(query[:64])
    )


def zone_buttons(
    zones: list[str], locale: str, now: datetime, data: Callable[[str], CallbackData]
) -> InlineKeyboardBuilder:
    """One button a row per zone, labelled with its offset now; `data` makes its data."""
    kb = InlineKeyboardBuilder()
    for zone in zones:
        kb.button(text=geo.zone_label(zone, locale, now), callback_data=data(zone))
    kb.adjust(1)
    return kb


def valid_zone(zone: str) -> bool:
    """Whether a zone name (from a button) is one this system knows; never raises."""
    return geo.is_zone(zone)


async def preview_zone(
    session: AsyncSession, audience: Select[int], zone: str, at: datetime
) -> str:
    """The zone whose clock differs most from the coordinator's, among the invited members
    (or a few far-apart zones when the group is small), to preview what others will see."""
    zones = set(
        await session.scalars(
            select(Member.timezone).where(Member.id.in_(audience), Member.timezone.is_not(None))
        )
    )
    candidates = sorted(z for z in zones if z and valid_zone(z)) or list(SAMPLE_ZONES)

    def distance(other: str) -> int:
        here = at.astimezone(ZoneInfo(zone)).utcoffset() or timedelta(0)
        there = at.astimezone(ZoneInfo(other)).utcoffset() or timedelta(0)
        diff = abs(int((there - here).total_seconds()))
        return min(diff, 24 * 3600 - diff)

    best = max(candidates, key=distance)
    if distance(best) == 0:
        best = max(SAMPLE_ZONES, key=distance)
    return best
