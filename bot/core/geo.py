"""Countries, UN M49 regions and time zones for onboarding, localized through Babel/CLDR."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.core import get_global

# CLDR territory codes that are not ISO 3166-1 countries: groupings, pseudo-locales, "unknown",
# and the "exceptionally reserved" codes for places already covered by a parent country
# (AC/TA → SH, CP → FR, CQ → GG, DG → IO, EA/IC → ES). XK (Kosovo) is kept on purpose.
_NOT_COUNTRIES: frozenset[str] = frozenset(
    {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "ZZ"}
)

REGIONS: tuple[str, ...] = (
    "015",  # Northern Africa
    "202",  # Sub-Saharan Africa
    "419",  # Latin America and the Caribbean
    "021",  # Northern America
    "143",  # Central Asia
    "030",  # Eastern Asia
    "035",  # South-eastern Asia
    "034",  # Southern Asia
    "145",  # Western Asia
    "150",  # Europe
    "009",  # Oceania
)

# UN M49 assignment (sub-regions folded into the breakdown regions above). Deviations, because
# M49 does not list them: TW → 030 and XK → 150 (as CLDR does). AQ has no region.
_REGION_MEMBERS: dict[str, str] = {
    "015": "DZ EG EH LY MA SD TN",
    "202": (
        "BI DJ ER ET IO KE KM MG MU MW MZ RE RW SC SO SS TF TZ UG YT ZM ZW "  # Eastern
        "AO CD CF CG CM GA GQ ST TD "  # Middle
        "BW LS NA SZ ZA "  # Southern
        "BF BJ CI CV GH GM GN GW LR ML MR NE NG SH SL SN TG"  # Western
    ),
    "419": (
        "AG AI AW BB BL BQ BS CU CW DM DO GD GP HT JM KN KY LC MF MQ MS PR SX TC TT VC VG VI "
        "BZ CR GT HN MX NI PA SV "  # Central America
        "AR BO BR BV CL CO EC FK GF GS GY PE PY SR UY VE"  # South America
    ),
    "021": "BM CA GL PM US",
    "143": "KG KZ TJ TM UZ",
    "030": "CN HK JP KP KR MN MO TW",
    "035": "BN ID KH LA MM MY PH SG TH TL VN",
    "034": "AF BD BT IN IR LK MV NP PK",
    "145": "AE AM AZ BH CY GE IL IQ JO KW LB OM PS QA SA SY TR YE",
    "150": (
        "BG BY CZ HU MD PL RO RU SK UA "  # Eastern
        "AX DK EE FI FO GB GG IE IM IS JE LT LV NO SE SJ "  # Northern
        "AD AL BA ES GI GR HR IT ME MK MT PT RS SI SM VA XK "  # Southern
        "AT BE CH DE FR LI LU MC NL"  # Western
    ),
    "009": (
        "AU CC CX HM NF NZ "  # Australia and New Zealand
        "FJ NC PG SB VU "  # Melanesia
        "FM GU KI MH MP NR PW UM "  # Micronesia
        "AS CK NU PF PN TK TO TV WF WS"  # Polynesia
    ),
}

# Main zone first, then the zone preferred to stand for each offset group in zone_choices.
# Needed because Babel's order is by CLDR short id (US starts with America/Adak). Also the
# fallback where CLDR lists no zone: Kosovo keeps Serbia's clock (tz has no separate zone).
_PREFERRED_ZONES: dict[str, str] = {
    "AR": "America/Argentina/Buenos_Aires",
    "AU": (
        "Australia/Sydney Australia/Brisbane Australia/Adelaide Australia/Darwin "
        "Australia/Perth Australia/Lord_Howe Australia/Eucla"
    ),
    "BR": "America/Sao_Paulo America/Manaus America/Rio_Branco America/Noronha",
    "CA": (
        "America/Toronto America/Vancouver America/Edmonton America/Winnipeg America/Regina "
        "America/Halifax America/St_Johns America/Whitehorse"
    ),
    "CD": "Africa/Kinshasa Africa/Lubumbashi",
    "CL": "America/Santiago America/Punta_Arenas Pacific/Easter",
    "CN": "Asia/Shanghai Asia/Urumqi",
    "CY": "Asia/Nicosia",
    "EC": "America/Guayaquil Pacific/Galapagos",
    "ES": "Europe/Madrid Atlantic/Canary",
    "FM": "Pacific/Pohnpei Pacific/Chuuk Pacific/Kosrae",
    "GL": "America/Nuuk",
    "ID": "Asia/Jakarta Asia/Makassar Asia/Jayapura",
    "KI": "Pacific/Tarawa Pacific/Kanton Pacific/Kiritimati",
    "KZ": "Asia/Almaty",
    "MH": "Pacific/Majuro",
    "MN": "Asia/Ulaanbaatar Asia/Hovd",
    "MX": (
        "America/Mexico_City America/Cancun America/Mazatlan America/Tijuana "
        "America/Ciudad_Juarez America/Matamoros"
    ),
    "MY": "Asia/Kuala_Lumpur",
    "NZ": "Pacific/Auckland Pacific/Chatham",
    "PF": "Pacific/Tahiti",
    "PG": "Pacific/Port_Moresby",
    "PT": "Europe/Lisbon Atlantic/Azores",
    "RU": (
        "Europe/Moscow Europe/Kaliningrad Europe/Samara Asia/Yekaterinburg Asia/Omsk "
        "Asia/Novosibirsk Asia/Irkutsk Asia/Yakutsk Asia/Vladivostok Asia/Magadan "
        "Asia/Kamchatka"
    ),
    "UA": "Europe/Kyiv",
    "US": (
        "America/New_York America/Chicago America/Denver America/Phoenix "
        "America/Los_Angeles America/Anchorage Pacific/Honolulu America/Adak"
    ),
    "UZ": "Asia/Tashkent",
    "XK": "Europe/Belgrade",
}

# Common English names CLDR does not use, so members typing them still find their country.
_ALIASES: dict[str, str] = {
    "AE": "UAE",
    "CD": "DRC Democratic Republic of the Congo",
    "CI": "Ivory Coast",
    "CV": "Cabo Verde",
    "CZ": "Czech Republic",
    "GB": "UK Great Britain England Scotland Wales",
    "MK": "Macedonia",
    "PS": "Palestine",
    "SZ": "Swaziland",
    "TL": "East Timor",
    "TR": "Turkey",
    "US": "USA America",
    "VA": "Holy See",
}

_NON_ALNUM = re.compile(r"[\W_]+")
# Arabic spellings vary in teh marbuta/heh, alef maksura/yeh and decorative tatweel.
_ARABIC_FOLD = str.maketrans(
    {
        "\N{ARABIC LETTER TEH MARBUTA}": "\N{ARABIC LETTER HEH}",
        "\N{ARABIC LETTER ALEF MAKSURA}": "\N{ARABIC LETTER YEH}",
        "\N{ARABIC TATWEEL}": None,
    }
)
_ARABIC_ARTICLE = "\N{ARABIC LETTER ALEF}\N{ARABIC LETTER LAM}"
_SAMPLE_DAYS: tuple[int, ...] = tuple(range(0, 366, 30))
_MINUS = "\N{MINUS SIGN}"  # typographic minus, clearer than "-" next to digits


@lru_cache(maxsize=32)
def _locale(locale: str) -> Locale:
    """Parse once, falling back to English so an odd Telegram language code never breaks UI."""
    try:
        return Locale.parse(locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse("en")


def _fold(text: str) -> str:
    """Casefold and drop accents/punctuation so matching and sorting ignore them."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_ALNUM.sub(" ", bare.translate(_ARABIC_FOLD)).strip()


def _words(folded: str) -> list[str]:
    """Words of a folded name, plus Arabic words without the article, for prefix matching."""
    words = folded.split()
    article = len(_ARABIC_ARTICLE)
    return words + [w[article:] for w in words if w.startswith(_ARABIC_ARTICLE) and len(w) > 3]


@lru_cache(maxsize=16)
def _countries(locale: str) -> tuple[tuple[str, str], ...]:
    """Build the sorted country list once per locale; Babel lookups are not free."""
    names = _locale(locale).territories
    pairs = [
        (code, name)
        for code, name in names.items()
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    ]
    return tuple(sorted(pairs, key=lambda p: (_fold(p[1]), p[1])))


def countries(locale: str) -> list[tuple[str, str]]:
    """Return (ISO code, localized name) sorted for the member's language, for the picker."""
    return list(_countries(locale))


def _initial(name: str) -> str:
    """The letter a name is filed under: accents folded, Arabic article dropped."""
    words = _words(_fold(name))
    if not words:
        return "#"
    first = words[0]
    if first.startswith(_ARABIC_ARTICLE) and len(first) > 3:
        first = first[len(_ARABIC_ARTICLE) :]
    return first[0].upper()


@lru_cache(maxsize=16)
def _by_letter(locale: str) -> dict[str, tuple[tuple[str, str], ...]]:
    """Countries grouped by initial, in the locale's order, for tap-only browsing."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for code, name in _countries(locale):
        groups.setdefault(_initial(name), []).append((code, name))
    return {letter: tuple(groups[letter]) for letter in sorted(groups)}


def country_letters(locale: str) -> list[str]:
    """The initials that have at least one country, for the first picker screen."""
    return list(_by_letter(locale))


def countries_by_letter(letter: str, locale: str) -> list[tuple[str, str]]:
    """Countries filed under one initial (empty for an unknown one)."""
    return list(_by_letter(locale).get(letter, ()))


@lru_cache(maxsize=1)
def country_codes() -> frozenset[str]:
    """Every code a member may pick; callback data is checked against it."""
    return frozenset(code for code, _name in _countries("en"))


def country_name(code: str, locale: str) -> str:
    """Show a stored country code in the member's language, or the code if unknown."""
    return _locale(locale).territories.get(code.upper(), code)


@lru_cache(maxsize=16)
def _search_index(locale: str) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """Pre-fold every searchable name of each country so a search is a cheap scan."""
    english = dict(_countries("en"))
    index = []
    for code, name in _countries(locale):
        forms = [_fold(name), _fold(english.get(code, code))]
        forms += [_fold(alias) for alias in _ALIASES.get(code, "").split(" ") if alias]
        index.append((code, name, tuple(dict.fromkeys(forms))))
    return tuple(index)


def _match_rank(query: str, form: str) -> int | None:
    """Rank a folded name against a folded query: 0 exact, 1 prefix, 2 word prefix, 3 inside."""
    if form == query:
        return 0
    if form.startswith(query):
        return 1
    if any(w.startswith(query) for w in _words(form)) or f" {query}" in f" {form}":
        return 2
    if query in form:
        return 3
    return None


def search_countries(query: str, locale: str, limit: int = 8) -> list[tuple[str, str]]:
    """Find countries by a typed fragment in any language/case/accents, best matches first."""
    folded = _fold(query)
    if not folded or limit <= 0:
        return []
    code_query = query.strip().upper()
    hits: list[tuple[int, int, int, str, str]] = []
    for position, (code, name, forms) in enumerate(_search_index(locale)):
        best: tuple[int, int] | None = (0, 0) if code == code_query else None
        for source, form in enumerate(forms):
            rank = _match_rank(folded, form)
            if rank is not None and (best is None or (rank, min(source, 1)) < best):
                best = (rank, min(source, 1))
        if best is not None:
            hits.append((best[0], best[1], position, code, name))
    hits.sort()
    return [(code, name) for *_, code, name in hits[:limit]]


@lru_cache(maxsize=1)
def _region_table() -> dict[str, str]:
    """Invert the compact region table to country → region once."""
    return {
        code: region for region, members in _REGION_MEMBERS.items() for code in members.split()
    }


def region_of(country: str) -> str | None:
    """Give the UN M49 breakdown region of a country, None where none applies (Antarctica)."""
    return _region_table().get(country.upper())


def region_name(code: str, locale: str) -> str:
    """Name an M49 region in the member's language, for poll breakdowns."""
    return _locale(locale).territories.get(code, code)


@lru_cache(maxsize=1024)
def _loadable(zone: str) -> bool:
    """Keep only zones this system's tz database knows, so stored zones always resolve."""
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "America": a folder, not a zone
        return False
    return True


def _preferred(country: str) -> list[str]:
    """Return the curated main/representative zones of a country, main first."""
    return _PREFERRED_ZONES.get(country, "").split()


def timezones_for(country: str) -> list[str]:
    """List a country's IANA zones, main zone first, then Babel's order, to store one."""
    code = country.upper()
    listed = get_global("territory_zones").get(code) or _preferred(code)
    zones = [z for z in listed if _loadable(z)]
    main = next((z for z in _preferred(code) if z in zones), None)
    if main is not None:
        zones.remove(main)
        zones.insert(0, main)
    return zones


def _aware(at: datetime | None) -> datetime:
    """Default to now and read naive datetimes as UTC so offsets are never ambiguous."""
    if at is None:
        return datetime.now(UTC)
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _offset_seconds(zone: str, at: datetime) -> int:
    """Return the UTC offset of a zone at an instant, in seconds."""
    offset = _aware(at).astimezone(ZoneInfo(zone)).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def zone_offset_label(zone: str, at: datetime | None = None) -> str:
    """Format the zone's UTC offset at `at` as "UTC+03:00" (true minus sign) for buttons."""
    seconds = _offset_seconds(zone, _aware(at))
    sign = _MINUS if seconds < 0 else "+"
    hours, minutes = divmod(round(abs(seconds) / 60), 60)
    return f"UTC{sign}{hours:02d}:{minutes:02d}"


@lru_cache(maxsize=2048)
def _city(zone: str, locale: str) -> str:
    """Localized exemplar city; looks up CLDR's older zone ids, which Babel itself misses."""
    time_zones = _locale(locale).time_zones
    cldr_ids = get_global("meta_zones")  # keyed by CLDR's own (often older) zone ids
    candidates = [zone]
    if zone not in cldr_ids:  # e.g. Europe/Kyiv is still Europe/Kiev in CLDR
        aliases = get_global("zone_aliases").items()
        candidates += [old for old, new in aliases if new == zone and old in cldr_ids]
    for candidate in candidates:
        city = time_zones.get(candidate, {}).get("city")
        if city:
            return city
    return zone.rsplit("/", 1)[-1].replace("_", " ")


def zone_label(zone: str, locale: str, at: datetime | None = None) -> str:
    """Short button label, city plus offset, so members recognise their zone at a glance."""
    return f"{_city(zone, locale)} ({zone_offset_label(zone, at)})"


def zone_choices(
    country: str, locale: str, at: datetime | None = None, limit: int = 12
) -> list[tuple[str, str]]:
    """Offer one button per distinct clock in the country; one result means don't ask."""
    when = _aware(at)
    zones = timezones_for(country)
    preferred = _preferred(country.upper())
    samples = [when + timedelta(days=d) for d in _SAMPLE_DAYS]
    # Zones agreeing now and across the next year are interchangeable for scheduling.
    groups: dict[tuple[int, ...], list[str]] = {}
    for zone in zones:
        groups.setdefault(tuple(_offset_seconds(zone, t) for t in samples), []).append(zone)

    def pick(members: list[str]) -> str:
        """Stand for a group by its preferred zone, else the first in Babel's order."""
        return min(members, key=lambda z: preferred.index(z) if z in preferred else 99)

    def importance(members: list[str]) -> tuple[int, int, int]:
        """Keep curated groups, then bigger ones, when there are more groups than limit."""
        rank = min((preferred.index(z) for z in members if z in preferred), default=99)
        return (rank, -len(members), zones.index(members[0]))

    kept = sorted(groups.values(), key=importance)[: max(limit, 0)]
    labelled = [(zone, zone_label(zone, locale, when)) for zone in map(pick, kept)]
    labelled.sort(key=lambda p: (_offset_seconds(p[0], when), _fold(p[1]), p[1]))
    return labelled
