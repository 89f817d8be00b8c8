"""What members tell about themselves, checked before it is stored: country, zone, gender."""

from __future__ import annotations

from datetime import datetime

from bot.core import geo
from models.member import Gender, Member

MAX_NAME = 64
MAX_ORGANISATION = 120


def set_country(member: Member, code: str) -> bool:
    """Store a country from the list with its region; its zone is settled next. False if no
    such country."""
    if code not in geo.country_codes():
        return False
    member.country = code
    member.region = geo.region_of(code)
    member.timezone = None
    return True


def zone_choices(member: Member, now: datetime) -> list[tuple[str, str]]:
    """The zones to choose from where the country has several; else its zone is set at once
    and there is nothing to choose."""
    choices = geo.zone_choices(member.country or "", member.locale, at=now)
    if len(choices) > 1:
        return choices
    zones = geo.timezones_for(member.country or "")
    member.timezone = choices[0][0] if choices else (zones[0] if zones else "UTC")
    return []


def set_zone(member: Member, zone: str) -> bool:
    """Store a zone of the member's country; False for any other."""
    if zone not in geo.timezones_for(member.country or ""):
        return False
    member.timezone = zone
    return True


def set_gender(member: Member, value: str) -> bool:
    """Store one of the gender answers; False for anything else."""
    if value not in set(Gender):
        return False
    member.gender = value
    return True
