"""Translations and locale-aware formatting: catalogues compiled on start, Babel for dates."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n
from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime, get_timezone_location
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

from bot.core.config import LOCALES_DIR, SUPPORTED_LOCALES, shipped_locales

DOMAIN = "messages"
RLM = "\u200f"


def language_name(code: str, reader: str | None = None) -> str:
    """A language's name from CLDR: in itself ("Español", "العربية") for language buttons, or
    in the reader's language ("inglés") when `reader` is given."""
    try:
        name = Locale.parse(code).get_display_name(reader or code) or code
    except (ValueError, UnknownLocaleError):
        return code
    return name if reader else name[:1].upper() + name[1:]


def is_rtl(code: str) -> bool:
    """Whether CLDR says the language is written right to left."""
    return bool(Locale.parse(code).character_order == "right-to-left")


LANGUAGE_NAMES: dict[str, str] = {code: language_name(code) for code in SUPPORTED_LOCALES}
RTL_LOCALES: frozenset[str] = frozenset(code for code in SUPPORTED_LOCALES if is_rtl(code))


def compile_catalogues(path: Path = LOCALES_DIR) -> list[Path]:
    """Compile every `.po` whose `.mo` is missing or older, so no one runs a manual step."""
    written = []
    languages = set(shipped_locales(path))
    for po_path in sorted(path.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        if po_path.parent.parent.name not in languages:
            continue  # a folder that is not a language Babel knows
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog, use_fuzzy=False)
        written.append(mo_path)
    return written


class Translator(I18n):
    """aiogram's I18n plus a right-to-left mark for Arabic, so bubbles align and read right."""

    def gettext(
        self, singular: str, plural: str | None = None, n: int = 1, locale: str | None = None
    ) -> str:
        text = super().gettext(singular, plural, n, locale)
        if (locale or self.current_locale) in RTL_LOCALES and not text.startswith(RLM):
            return RLM + text
        return text


def create_i18n(default_locale: str) -> Translator:
    """Compile catalogues if needed and load them."""
    compile_catalogues()
    return Translator(path=LOCALES_DIR, default_locale=default_locale, domain=DOMAIN)


def match_locale(language_code: str | None, default: str) -> str:
    """Map Telegram's `language_code` (e.g. `pt-br`, `es-419`) to a shipped locale."""
    if language_code:
        base = language_code.replace("_", "-").split("-")[0].lower()
        if base in SUPPORTED_LOCALES:
            return base
    return default


def format_when(moment: datetime, zone: str, locale: str, fmt: str = "full") -> str:
    """A date and time in the member's zone and language, with the zone named."""
    tz = ZoneInfo(zone)
    local = moment.astimezone(tz)
    if fmt == "full":
        text = format_datetime(local, "EEEE d MMMM y, HH:mm", tzinfo=tz, locale=locale)
    else:
        text = format_datetime(local, "medium", tzinfo=tz, locale=locale)
    return f"{text} ({zone_name(zone, locale)}, {utc_offset(local)})"


def zone_name(zone: str, locale: str) -> str:
    """A place-based zone name people recognise (e.g. 'hora de Uruguay')."""
    if zone == "UTC" or zone.startswith("Etc/"):
        return fixed_zone_name(zone)
    return get_timezone_location(ZoneInfo(zone), locale=locale)


def fixed_zone_name(zone: str) -> str:
    """ "UTC+3" for the fixed-offset zone Etc/GMT-3 (POSIX ids invert the sign), else "UTC"."""
    hours = zone.removeprefix("Etc/").removeprefix("GMT").removeprefix("UTC")
    if not hours.lstrip("+-").isdigit():
        return "UTC"
    east = -int(hours)
    return "UTC" if east == 0 else f"UTC{'+' if east > 0 else '−'}{abs(east)}"


def utc_offset(local: datetime) -> str:
    """`UTC+03:00` for an aware local datetime."""
    offset = local.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    sign = "+" if minutes >= 0 else "−"
    minutes = abs(minutes)
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def format_number(value: float, locale: str) -> str:
    """A number with the locale's separators."""
    return format_decimal(value, locale=locale)


def format_share(value: float, locale: str) -> str:
    """A fraction (0..1) as a percentage in the locale's style."""
    return format_percent(value, format="#,##0.#%", locale=locale)
