"""Time zones: found by a typed city, country or id, and the far zone a preview is shown in."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from aiogram.filters.callback_data import CallbackData
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import geo
from bot.meetings.dates import fold_text
from models.member import Member

Gettext = Callable[..., str]
SAMPLE_ZONES = ("Asia/Manila", "America/Montevideo", "Africa/Nairobi", "Europe/Paris")


@lru_cache(maxsize=1)
def _zone_index() -> tuple[tuple[str, str], ...]:
    """(folded city, zone) for every zone on this system."""
    index = []
    for zone in sorted(available_timezones()):
        if "/" not in zone or zone.startswith(("Etc/", "SystemV/", "posix/", "right/")):
            continue
        city = zone.rsplit("/", 1)[-1].replace("_", " ")
        index.append((fold_text(city), zone))
    return tuple(index)


def find_zones(query: str, locale: str, limit: int = 8) -> list[str]:
    """Zones matching a typed name: an IANA id, a city, or a country."""
    text = query.strip()
    if not text or len(text) > 64:
        return []
    if text.upper() in ("UTC", "GMT"):
        return ["UTC"]
    if "/" in text and valid_zone(text):
        return [text]
    folded = fold_text(text)
    found: list[str] = [z for city, z in _zone_index() if city == folded]
    found += [z for city, z in _zone_index() if city.startswith(folded) and z not in found]
    for code, _name in geo.search_countries(text, locale, limit=3):
        found += [z for z in geo.timezones_for(code) if z not in found]
    return found[:limit]


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


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    """The zone ids of this system's tz database (not its folders, such as "America")."""
    return frozenset(available_timezones()) | {"UTC"}


def valid_zone(zone: str) -> bool:
    """Whether a zone name (typed, or from a button) is one this system knows.

    Checked against the list, not by loading it: "America" or "Etc" name folders of the tz
    database and opening them fails with IsADirectoryError.
    """
    if zone not in _known_zones():
        return False
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


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
