"""Search in the member's words: countries and time zones found by names in every shipped
language, other common names, typos, abbreviations and UTC offsets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core import geo
from bot.core.config import SUPPORTED_LOCALES
from bot.core.i18n import format_when

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)  # southern summer: Santiago at UTC-3


def first(query: str, locale: str) -> str:
    """The code of the first country offered."""
    found = geo.search_countries(query, locale)
    assert found, f"nothing for {query!r} in {locale}"
    return found[0][0]


@pytest.mark.parametrize(
    ("query", "locale", "code"),
    [
        ("Palestina", "es", "PS"),  # CLDR says "Territorios Palestinos"
        ("Palestina", "pt", "PS"),
        ("فلسطين", "ar", "PS"),
        ("Palestine", "fr", "PS"),
        ("brasil", "es", "BR"),
        ("brasil", "en", "BR"),  # a Brazilian member who chose English
        ("urguay", "es", "UY"),  # a typo
        ("urgu", "es", "UY"),  # a typo while still typing
        ("Uruguai", "ar", "UY"),  # the Portuguese name, typed by an Arabic reader
        ("EEUU", "es", "US"),
        ("EE. UU.", "es", "US"),
        ("EUA", "pt", "US"),
        ("Kenia", "es", "KE"),
        ("Kenia", "en", "KE"),  # the Spanish name in an English screen
        ("Quênia", "fr", "KE"),
        ("Inglaterra", "es", "GB"),
        ("Costa de Marfil", "es", "CI"),
        ("RDC", "fr", "CD"),
        ("Nigiria", "en", "NG"),
        ("Mejico", "es", "MX"),
        ("Égypte", "ar", "EG"),
        ("مصر", "en", "EG"),
        ("الجزاير", "ar", "DZ"),  # hamza left out
    ],
)
def test_countries_in_the_members_words(query: str, locale: str, code: str) -> None:
    assert first(query, locale) == code


def test_names_come_back_in_the_readers_language() -> None:
    assert geo.search_countries("Kenia", "ar")[0] == ("KE", "كينيا")
    assert geo.search_countries("urguay", "fr")[0] == ("UY", "Uruguay")
    assert geo.search_countries("Palestina", "en")[0] == ("PS", "Palestinian Territories")


def test_typos_only_when_nothing_matches_and_never_for_short_input() -> None:
    assert [code for code, _ in geo.search_countries("peru", "es")] == ["PE"]
    assert geo.search_countries("qqqqzz", "en") == []
    assert geo.search_countries("xyz", "en") == []


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_country_is_found_by_its_name_in_every_language(locale: str) -> None:
    for code, name in geo.countries(locale):
        for other in SUPPORTED_LOCALES:
            typed = geo.country_name(code, other)
            found = [c for c, _ in geo.search_countries(typed, locale, limit=50)]
            assert code in found, (locale, other, typed, name)


@pytest.mark.parametrize(
    ("query", "locale", "zone"),
    [
        ("Nueva York", "es", "America/New_York"),
        ("nueva york", "en", "America/New_York"),
        ("القاهرة", "ar", "Africa/Cairo"),
        ("القاهره", "en", "Africa/Cairo"),  # heh for teh marbuta
        ("Genève", "fr", "Europe/Zurich"),
        ("Ginebra", "es", "Europe/Zurich"),
        ("جنيف", "ar", "Europe/Zurich"),
        ("Le Caire", "pt", "Africa/Cairo"),
        ("Ciudad de México", "en", "America/Mexico_City"),
        ("Calcuta", "es", "Asia/Kolkata"),
        ("Nairbi", "en", "Africa/Nairobi"),  # a typo
        ("Kenia", "es", "Africa/Nairobi"),  # a country
        ("Europe/Paris", "en", "Europe/Paris"),
        ("europe/paris", "en", "Europe/Paris"),
    ],
)
def test_zones_by_city_in_any_language(query: str, locale: str, zone: str) -> None:
    assert geo.search_zones(query, locale, NOW)[0] == zone


@pytest.mark.parametrize(
    ("query", "fixed", "place"),
    [
        ("UTC+3", "Etc/GMT-3", "Africa/Nairobi"),
        ("utc +3", "Etc/GMT-3", "Europe/Moscow"),
        ("GMT-3", "Etc/GMT+3", "America/Sao_Paulo"),
        ("UTC−03:00", "Etc/GMT+3", "America/Montevideo"),
        ("+8", "Etc/GMT-8", "Asia/Manila"),
    ],
)
def test_zones_by_utc_offset(query: str, fixed: str, place: str) -> None:
    found = geo.search_zones(query, "en", NOW)
    assert found[0] == fixed
    assert place in found
    assert all(geo._offset_seconds(zone, NOW) == geo._offset_seconds(fixed, NOW) for zone in found)


def test_half_hour_offsets_and_nonsense_offsets() -> None:
    assert geo.search_zones("UTC+5:30", "en", NOW)[0] == "Asia/Kolkata"
    assert geo.search_zones("UTC+25", "en", NOW) == []
    assert geo.search_zones("UTC+3:17", "en", NOW) == []


def test_fixed_offset_zone_is_named_by_its_offset() -> None:
    assert geo.zone_label("Etc/GMT-3", "es", NOW) == "UTC+3 (UTC+03:00)"
    shown = format_when(NOW, "Etc/GMT+3", "fr")
    assert "UTC−3" in shown and "Unknown" not in shown and "inconnue" not in shown


def test_abbreviations_find_their_zones_not_lookalike_countries() -> None:
    eat = geo.search_zones("EAT", "en", NOW)
    assert eat[0] == "Africa/Nairobi" and "Europe/London" not in eat
    assert "Europe/London" not in geo.search_zones("eat", "es", NOW)
    assert geo.search_zones("CET", "fr", NOW)[0] == "Europe/Paris"
    assert geo.search_zones("utc", "en", NOW) == ["UTC"]


def test_a_country_lists_its_most_populous_zone_first() -> None:
    chile = geo.search_zones("Chile", "es", NOW)
    assert chile[0] == "America/Santiago"
    assert chile.index("America/Santiago") < chile.index("Pacific/Easter")
    assert geo.search_zones("Estados Unidos", "es", NOW)[:2] == [
        "America/New_York",
        "America/Chicago",
    ]


@pytest.mark.parametrize(
    "query", ["America", "Etc", "etc/", "America/", "../../etc/passwd", "posix", "Europe//Paris"]
)
def test_folder_names_and_odd_input_never_crash(query: str) -> None:
    found = geo.search_zones(query, "en", NOW)
    assert all(geo.is_zone(zone) for zone in found)
    assert not geo.is_zone(query)


def test_is_zone() -> None:
    assert geo.is_zone("America/Montevideo") and geo.is_zone("Etc/GMT-3")
    assert not geo.is_zone("America") and not geo.is_zone("") and not geo.is_zone("x" * 100)
