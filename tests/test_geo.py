"""Unit tests for bot.core.geo: country lists, search, M49 regions and time-zone choices."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from babel.core import get_global

from bot.core import geo

LOCALES = ("en", "es", "fr", "pt", "ar")
WINTER = datetime(2025, 1, 15, 12, tzinfo=UTC)
SUMMER = datetime(2025, 7, 15, 12, tzinfo=UTC)


def codes(pairs: list[tuple[str, str]]) -> list[str]:
    """Keep only the codes of (code, name) pairs."""
    return [code for code, _ in pairs]


# --- countries -------------------------------------------------------------------------------


def test_spanish_list_contains_known_names() -> None:
    es = geo.countries("es")
    assert ("UY", "Uruguay") in es
    assert ("EG", "Egipto") in es


@pytest.mark.parametrize("locale", LOCALES)
def test_list_is_countries_only(locale: str) -> None:
    found = codes(geo.countries(locale))
    assert len(found) == len(set(found))
    assert all(len(code) == 2 and code.isalpha() and code.isupper() for code in found)
    for grouping in ("EU", "EZ", "UN", "QO", "ZZ", "XA", "XB", "EA", "IC", "AC"):
        assert grouping not in found
    for kept in ("XK", "PS", "EH", "TW", "AQ", "UY", "EG"):
        assert kept in found
    assert 245 <= len(found) <= 252


def test_same_countries_in_every_locale() -> None:
    english = set(codes(geo.countries("en")))
    for locale in LOCALES:
        assert set(codes(geo.countries(locale))) == english


def test_french_sort_ignores_accents() -> None:
    names = [name for _, name in geo.countries("fr")]
    assert names.index("Danemark") < names.index("Égypte") < names.index("Espagne")
    assert names.index("Égypte") < names.index("Équateur") < names.index("Espagne")


def test_spanish_and_portuguese_sorted() -> None:
    es = [name for _, name in geo.countries("es")]
    assert es.index("Afganistán") < es.index("Albania") < es.index("Alemania")
    assert es.index("Egipto") < es.index("El Salvador") < es.index("España")
    pt = [name for _, name in geo.countries("pt")]
    assert pt.index("África do Sul") < pt.index("Albânia") < pt.index("Brasil")


def test_returned_list_is_a_copy() -> None:
    first = geo.countries("es")
    first.clear()
    assert geo.countries("es")


def test_country_name() -> None:
    assert geo.country_name("EG", "fr") == "Égypte"
    assert geo.country_name("uy", "es") == "Uruguay"
    assert geo.country_name("EG", "ar") == "مصر"
    assert geo.country_name("BR", "pt") == "Brasil"
    assert geo.country_name("QQ", "es") == "QQ"
    assert geo.country_name("EG", "pt-BR") == "Egito"
    assert geo.country_name("EG", "xx-unknown") == "Egypt"


# --- search --------------------------------------------------------------------------------------


def test_search_spanish() -> None:
    assert codes(geo.search_countries("uru", "es"))[0] == "UY"
    assert "UY" in codes(geo.search_countries("ur", "es"))
    assert codes(geo.search_countries("EGIPTO", "es")) == ["EG"]
    assert codes(geo.search_countries("peru", "es"))[0] == "PE"  # accent-insensitive: Perú


def test_search_french_accents_and_words() -> None:
    assert codes(geo.search_countries("egy", "fr"))[0] == "EG"
    assert codes(geo.search_countries("Équateur", "fr"))[0] == "EC"
    assert codes(geo.search_countries("ivoire", "fr")) == ["CI"]
    assert codes(geo.search_countries("cote d'iv", "fr")) == ["CI"]


def test_search_portuguese() -> None:
    assert codes(geo.search_countries("bras", "pt"))[0] == "BR"
    assert codes(geo.search_countries("moçambique", "pt"))[0] == "MZ"
    assert codes(geo.search_countries("mocam", "pt"))[0] == "MZ"


def test_search_arabic() -> None:
    assert codes(geo.search_countries("egy", "ar")) == ["EG"]
    assert codes(geo.search_countries("مصر", "ar"))[0] == "EG"
    assert codes(geo.search_countries("ارجنتين", "ar"))[0] == "AR"  # no hamza, no article
    assert geo.search_countries("egy", "ar")[0][1] == "مصر"


def test_search_by_code_and_english_name() -> None:
    assert codes(geo.search_countries("uy", "es"))[0] == "UY"
    assert codes(geo.search_countries("germany", "es"))[0] == "DE"
    assert codes(geo.search_countries("turkey", "fr")) == ["TR"]


def test_search_ranking() -> None:
    # exact beats prefix: "Guinea" before "Guinea-Bisáu", then a later word ("Papúa Nueva Guinea")
    assert codes(geo.search_countries("guinea", "es")) == ["GN", "GW", "GQ", "PG"]
    # prefix of the name > prefix of a later word > substring
    found = codes(geo.search_countries("su", "es", limit=50))
    assert {"ZA", "SD", "SE", "CH", "SR"} == set(found[:6]) - {"SS"}
    assert found.index("SR") < found.index("KR")  # "Surinam" < "Corea del Sur"
    assert found.index("KR") < found.index("BW")  # "Corea del Sur" < "Botsuana"
    assert found.index("SZ") < found.index("KR")  # "Suazilandia", its former name, is a prefix
    # an exact English name or ISO code ranks first even if the local name differs
    assert codes(geo.search_countries("mexico", "ar"))[0] == "MX"


def test_search_limits_and_empty() -> None:
    assert len(geo.search_countries("a", "en")) == 8
    assert len(geo.search_countries("a", "en", limit=3)) == 3
    assert geo.search_countries("", "en") == []
    assert geo.search_countries("  ", "en") == []
    assert geo.search_countries("zzzzqq", "en") == []


# --- regions ---------------------------------------------------------------------------------


def test_every_country_has_a_region_except_antarctica() -> None:
    missing = [code for code in codes(geo.countries("en")) if geo.region_of(code) is None]
    assert missing == ["AQ"]


def test_region_table_only_lists_known_countries_once() -> None:
    known = set(codes(geo.countries("en")))
    listed = [code for members in geo._REGION_MEMBERS.values() for code in members.split()]
    assert len(listed) == len(set(listed))
    assert set(listed) <= known
    assert set(geo._REGION_MEMBERS) == set(geo.REGIONS)


@pytest.mark.parametrize(
    ("country", "region"),
    [
        ("EG", "015"),
        ("SD", "015"),
        ("MA", "015"),
        ("KE", "202"),
        ("NG", "202"),
        ("ZA", "202"),
        ("CD", "202"),
        ("MX", "419"),
        ("BR", "419"),
        ("UY", "419"),
        ("HT", "419"),
        ("US", "021"),
        ("CA", "021"),
        ("GL", "021"),
        ("BM", "021"),
        ("KZ", "143"),
        ("CN", "030"),
        ("JP", "030"),
        ("PH", "035"),
        ("ID", "035"),
        ("IN", "034"),
        ("PK", "034"),
        ("IR", "034"),
        ("TR", "145"),
        ("IL", "145"),
        ("PS", "145"),
        ("SA", "145"),
        ("GE", "145"),
        ("AM", "145"),
        ("AZ", "145"),
        ("RU", "150"),
        ("UA", "150"),
        ("GB", "150"),
        ("XK", "150"),
        ("AU", "009"),
        ("FJ", "009"),
        ("NZ", "009"),
        ("uy", "419"),
    ],
)
def test_region_of(country: str, region: str) -> None:
    assert geo.region_of(country) == region


def test_region_of_unknown() -> None:
    assert geo.region_of("AQ") is None
    assert geo.region_of("QQ") is None


def test_region_names() -> None:
    name = geo.region_name("419", "es")
    assert "Latinoamérica" in name or "América Latina" in name
    assert geo.region_name("150", "fr") == "Europe"
    for locale in LOCALES:
        for region in geo.REGIONS:
            assert geo.region_name(region, locale) != region


# --- time zones ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "zones"),
    [
        ("UY", ["America/Montevideo"]),
        ("EG", ["Africa/Cairo"]),
        ("KE", ["Africa/Nairobi"]),
        ("PH", ["Asia/Manila"]),
    ],
)
def test_single_zone_countries(country: str, zones: list[str]) -> None:
    assert geo.timezones_for(country) == zones


def test_multi_zone_main_first_and_loadable() -> None:
    assert geo.timezones_for("US")[0] == "America/New_York"
    assert geo.timezones_for("RU")[0] == "Europe/Moscow"
    assert geo.timezones_for("BR")[0] == "America/Sao_Paulo"
    assert geo.timezones_for("AR")[0] == "America/Argentina/Buenos_Aires"
    assert len(geo.timezones_for("US")) > 10
    for code in codes(geo.countries("en")):
        for zone in geo.timezones_for(code):
            ZoneInfo(zone)


def test_every_inhabited_country_has_a_zone() -> None:
    no_zone = {code for code in codes(geo.countries("en")) if not geo.timezones_for(code)}
    assert no_zone <= {"BV", "HM"}  # uninhabited
    assert geo.timezones_for("XK") == ["Europe/Belgrade"]  # CLDR lists none for Kosovo


def test_preferred_zones_exist_in_babel() -> None:
    zones = get_global("territory_zones")
    for country, preferred in geo._PREFERRED_ZONES.items():
        for zone in preferred.split():
            assert zone in zones.get(country, [zone]), (country, zone)
            ZoneInfo(zone)


def test_zone_offset_label() -> None:
    assert geo.zone_offset_label("America/Montevideo", WINTER) == "UTC\N{MINUS SIGN}03:00"
    assert geo.zone_offset_label("Africa/Cairo", WINTER) == "UTC+02:00"
    assert geo.zone_offset_label("Asia/Kolkata", WINTER) == "UTC+05:30"
    assert geo.zone_offset_label("Asia/Kathmandu", WINTER) == "UTC+05:45"
    assert geo.zone_offset_label("Europe/London", WINTER) == "UTC+00:00"
    assert geo.zone_offset_label("America/New_York", WINTER) == "UTC\N{MINUS SIGN}05:00"
    assert geo.zone_offset_label("America/New_York", SUMMER) == "UTC\N{MINUS SIGN}04:00"
    naive = datetime(2025, 1, 15, 12)
    assert geo.zone_offset_label("America/New_York", naive) == "UTC\N{MINUS SIGN}05:00"
    assert geo.zone_offset_label("UTC").startswith("UTC+00:00")


def test_zone_label() -> None:
    label = geo.zone_label("America/Argentina/Buenos_Aires", "es", WINTER)
    assert label == "Buenos Aires (UTC\N{MINUS SIGN}03:00)"
    assert "UTC" in geo.zone_label("Africa/Cairo", "ar")
    assert geo.zone_label("Africa/Cairo", "fr", WINTER) == "Le Caire (UTC+02:00)"
    assert (
        geo.zone_label("America/New_York", "es", WINTER) == "Nueva York (UTC\N{MINUS SIGN}05:00)"
    )
    # renamed zones still get CLDR's localized city (Babel keys them by the old id)
    assert geo.zone_label("Asia/Kolkata", "es", WINTER).startswith("Calcuta")
    assert geo.zone_label("Europe/Kyiv", "ar", WINTER).startswith("كييف")
    assert geo.zone_label("America/Indiana/Knox", "en", WINTER).startswith("Knox")


def test_zone_choices_argentina_collapses() -> None:
    choices = geo.zone_choices("AR", "es", WINTER)
    assert choices == [("America/Argentina/Buenos_Aires", "Buenos Aires (UTC\N{MINUS SIGN}03:00)")]


def test_zone_choices_single_zone_country() -> None:
    assert [zone for zone, _ in geo.zone_choices("UY", "es")] == ["America/Montevideo"]


@pytest.mark.parametrize("at", [WINTER, SUMMER])
def test_zone_choices_united_states(at: datetime) -> None:
    choices = geo.zone_choices("US", "en", at)
    zones = [zone for zone, _ in choices]
    labels = [label for _, label in choices]
    for main in ("America/New_York", "America/Chicago", "America/Denver"):
        assert main in zones
    assert "America/Los_Angeles" in zones
    assert "America/Phoenix" in zones  # no DST: must not be merged with Denver or LA
    assert "America/Indiana/Indianapolis" not in zones  # same clock as New York
    assert len({geo.zone_offset_label(zone, at) for zone in zones}) >= 5
    assert len(labels) == len(set(labels))
    assert all("UTC" in label for label in labels)
    # most people first: Eastern, Central, Pacific, then Mountain; Adak (a few hundred) last
    assert zones[:4] == [
        "America/New_York",
        "America/Chicago",
        "America/Los_Angeles",
        "America/Denver",
    ]
    assert zones[-1] == "America/Adak"


def test_zone_choices_most_populous_first() -> None:
    chile = [zone for zone, _ in geo.zone_choices("CL", "es", WINTER)]
    assert chile[0] == "America/Santiago" and chile[-1] == "Pacific/Easter"
    assert geo.timezones_for("CL")[0] == "America/Santiago"
    assert geo.timezones_for("CL").index("America/Santiago") < geo.timezones_for("CL").index(
        "Pacific/Easter"
    )
    assert geo.zone_choices("BR", "pt", WINTER)[0][0] == "America/Sao_Paulo"
    assert [zone for zone, _ in geo.zone_choices("RU", "en", WINTER)][:2] == [
        "Europe/Moscow",
        "Asia/Yekaterinburg",
    ]


def test_zone_choices_limit_keeps_main_zone() -> None:
    choices = geo.zone_choices("RU", "es", WINTER, limit=3)
    assert len(choices) == 3
    assert "Europe/Moscow" in [zone for zone, _ in choices]
    assert len(geo.zone_choices("RU", "es", WINTER)) > 3
    assert len(geo.zone_choices("RU", "es", WINTER)) <= 12


def test_zone_choices_brazil_localized() -> None:
    choices = dict(geo.zone_choices("BR", "pt", WINTER))
    assert choices["America/Sao_Paulo"] == "São Paulo (UTC\N{MINUS SIGN}03:00)"
    assert "America/Manaus" in choices
    assert len(choices) == 4


def test_zone_choices_unknown_country() -> None:
    assert geo.zone_choices("QQ", "en") == []
    assert geo.timezones_for("QQ") == []
