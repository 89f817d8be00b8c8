"""Countries, UN M49 regions and time zones for onboarding, localized through Babel/CLDR."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.core import get_global

from bot.core.config import SUPPORTED_LOCALES
from bot.core.i18n import fixed_zone_name

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

# Zones most people of the country keep first (roughly by population), each standing for its
# offset group in zone_choices. Needed because Babel's order is by CLDR short id (US starts
# with America/Adak). Also the
# fallback where CLDR lists no zone: Kosovo keeps Serbia's clock (tz has no separate zone).
_PREFERRED_ZONES: dict[str, str] = {
    "AR": "America/Argentina/Buenos_Aires",
    "AU": (
        "Australia/Sydney Australia/Brisbane Australia/Perth Australia/Adelaide "
        "Australia/Darwin Australia/Lord_Howe Australia/Eucla"
    ),
    "BR": "America/Sao_Paulo America/Manaus America/Rio_Branco America/Noronha",
    "CA": (
        "America/Toronto America/Vancouver America/Edmonton America/Halifax America/Winnipeg "
        "America/Regina America/St_Johns America/Whitehorse"
    ),
    "CD": "Africa/Kinshasa Africa/Lubumbashi",
    "CL": "America/Santiago America/Punta_Arenas America/Coyhaique Pacific/Easter",
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
        "America/Mexico_City America/Mazatlan America/Tijuana America/Cancun "
        "America/Ciudad_Juarez America/Matamoros"
    ),
    "MY": "Asia/Kuala_Lumpur",
    "NZ": "Pacific/Auckland Pacific/Chatham",
    "PF": "Pacific/Tahiti",
    "PG": "Pacific/Port_Moresby",
    "PT": "Europe/Lisbon Atlantic/Azores",
    "RU": (
        "Europe/Moscow Asia/Yekaterinburg Asia/Novosibirsk Europe/Samara Asia/Omsk "
        "Asia/Irkutsk Asia/Vladivostok Asia/Krasnoyarsk Europe/Kaliningrad Asia/Yakutsk "
        "Asia/Kamchatka Asia/Magadan"
    ),
    "UA": "Europe/Kyiv",
    "US": (
        "America/New_York America/Chicago America/Los_Angeles America/Denver "
        "America/Phoenix Pacific/Honolulu America/Anchorage America/Adak"
    ),
    "UZ": "Asia/Tashkent",
    "XK": "Europe/Belgrade",
}

# Names people type that CLDR does not use, in any language, "|" between names. CLDR gives
# each country's name in every shipped language; these are the other names and abbreviations.
_ALIASES: dict[str, str] = {
    "AE": "UAE|EAU|Emiratos|Emirados|Emirats|الامارات",
    "BO": "Bolivia Plurinational State",
    "BR": "Brasil|Brazil",
    "CD": "DRC|RDC|RD Congo|DR Congo|Congo Kinshasa|Zaire",
    "CG": "Congo Brazzaville",
    "CI": "Ivory Coast|Costa de Marfil|Cote d Ivoire",
    "CV": "Cabo Verde|Cape Verde",
    "CZ": "Czech Republic|Republica Checa|Republique tcheque",
    "GB": (
        "UK|Great Britain|Britain|England|Scotland|Wales|Northern Ireland|Inglaterra|"
        "Angleterre|Gran Bretana|Grande Bretagne|Gra Bretanha|Escocia|Ecosse|بريطانيا|انجلترا"
    ),
    "KP": "DPRK",
    "KR": "Korea",
    "MK": "Macedonia",
    "MM": "Burma|Birmania|Birmanie",
    "NL": "Holland|Holanda|Hollande",
    "PS": "Palestine|Palestina|فلسطين|Gaza|West Bank|Cisjordania|Cisjordanie",
    "RU": "Russian Federation|Federacion de Rusia",
    "SZ": "Swaziland|Suazilandia",
    "TL": "East Timor|Timor Oriental|Timor Leste",
    "TR": "Turkey|Turkiye",
    "TZ": "Tanganyika|Zanzibar",
    "US": "USA|US|EEUU|EE UU|EUA|America|Estados Unidos de America|امريكا",
    "VA": "Holy See|Vatican|Vaticano",
    "VE": "Venezuela Bolivarian Republic",
}
_FUZZY_CUTOFF = 80  # rapidfuzz ratio (0-100) a typo must reach: one slip in six letters passes

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
    """Pre-fold every searchable name of each country so a search is a cheap scan: its name in
    the member's language first, then in every shipped language, then the other names."""
    named = [dict(_countries(code)) for code in SUPPORTED_LOCALES]
    index = []
    for code, name in _countries(locale):
        forms = [_fold(name), *(_fold(names.get(code, code)) for names in named)]
        forms += [_fold(alias) for alias in _ALIASES.get(code, "").split("|") if alias]
        forms += [form.replace(" ", "") for form in forms if " " in form]  # "EE. UU." = eeuu
        index.append((code, name, tuple(dict.fromkeys(forms))))
    return tuple(index)


@lru_cache(maxsize=16)
def _fuzzy_choices(locale: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Every name and every longer word of a name, with its country's place in the index."""
    choices: list[str] = []
    owners: list[int] = []
    for position, (_code, _name, forms) in enumerate(_search_index(locale)):
        for text in dict.fromkeys(
            [*forms, *(w for form in forms for w in _words(form) if len(w) > 3)]
        ):
            choices.append(text)
            owners.append(position)
    return tuple(choices), tuple(owners)


def _match_rank(query: str, form: str, inside: bool = True) -> int | None:
    """Rank a folded name against a folded query: 0 exact, 1 prefix, 2 word prefix, 3 inside."""
    if query not in form:  # every other rank needs the query somewhere in the name
        return None
    if form == query:
        return 0
    if form.startswith(query):
        return 1
    if any(w.startswith(query) for w in _words(form)) or f" {query}" in f" {form}":
        return 2
    if inside and query in form:
        return 3
    return None


def _typo_hits(folded: str, locale: str) -> list[tuple[float, int]]:
    """Countries whose name (or its beginning) is one or two slips away from the query."""
    from rapidfuzz import fuzz, process

    if len(folded) < 4:
        return []
    choices, owners = _fuzzy_choices(locale)
    cut = len(folded) + 1  # compare with the name's beginning: "urgu" is a slip in "urug…"
    best: dict[int, float] = {}
    for _text, score, i in process.extract(
        folded,
        choices,
        scorer=fuzz.ratio,
        processor=lambda text: text[:cut],
        score_cutoff=_FUZZY_CUTOFF,
        limit=None,
    ):
        best[owners[i]] = max(score, best.get(owners[i], 0.0))
    return sorted(((-score, position) for position, score in best.items()))


def search_countries(
    query: str, locale: str, limit: int = 8, inside: bool = True
) -> list[tuple[str, str]]:
    """Find countries by a typed fragment in any shipped language, another common name or with
    a typo, ignoring case and accents; best matches first. `inside=False` skips matches in the
    middle of a word (for short codes such as "EAT" that are not names)."""
    folded = _fold(query)
    if not folded or limit <= 0:
        return []
    code_query = query.strip().upper()
    index = _search_index(locale)
    hits: list[tuple[int, int, int, str, str]] = []
    for position, (code, name, forms) in enumerate(index):
        best: tuple[int, int] | None = (0, 0) if code == code_query else None
        for source, form in enumerate(forms):
            rank = _match_rank(folded, form, inside)
            if rank is not None and (best is None or (rank, min(source, 1)) < best):
                best = (rank, min(source, 1))
        if best is not None:
            hits.append((best[0], best[1], position, code, name))
    hits.sort()
    found = [(code, name) for *_, code, name in hits[:limit]]
    if not found:
        found = [index[position][:2] for _score, position in _typo_hits(folded, locale)]
    return found[:limit]


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
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "America" is a folder
        return False
    return True


def _preferred(country: str) -> list[str]:
    """Return the curated main/representative zones of a country, main first."""
    return _PREFERRED_ZONES.get(country, "").split()


def timezones_for(country: str) -> list[str]:
    """List a country's IANA zones, most populous first (the curated ones, then Babel's
    order), to store one."""
    code = country.upper()
    listed = get_global("territory_zones").get(code) or _preferred(code)
    zones = [z for z in listed if _loadable(z)]
    preferred = _preferred(code)
    return sorted(zones, key=lambda z: preferred.index(z) if z in preferred else len(preferred))


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
    if zone == "UTC" or zone.startswith("Etc/"):
        return fixed_zone_name(zone)  # not a place: "UTC+3"
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
    """Offer one button per distinct clock in the country, the clock most people keep first;
    one result means don't ask."""
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
        """Curated (populous) groups first, then bigger ones; the limit drops the last."""
        rank = min((preferred.index(z) for z in members if z in preferred), default=99)
        return (rank, -len(members), zones.index(members[0]))

    kept = sorted(groups.values(), key=importance)[: max(limit, 0)]
    return [(zone, zone_label(zone, locale, when)) for zone in map(pick, kept)]


# --- time-zone search ----------------------------------------------------------------------

# Abbreviations people write after a time. Only these are read as zones, so "EAT" finds East
# Africa, not a country with "eat" inside its name; the ambiguous ones list every reading.
_ZONE_ABBREVIATIONS: dict[str, str] = {
    "EAT": "Africa/Nairobi Africa/Addis_Ababa Africa/Dar_es_Salaam Africa/Kampala",
    "CAT": "Africa/Maputo Africa/Harare Africa/Lusaka Africa/Lubumbashi",
    "WAT": "Africa/Lagos Africa/Kinshasa Africa/Luanda Africa/Douala",
    "SAST": "Africa/Johannesburg",
    "WET": "Europe/Lisbon Atlantic/Canary",
    "WEST": "Europe/Lisbon Atlantic/Canary",
    "CET": "Europe/Paris Europe/Berlin Europe/Madrid Europe/Brussels",
    "CEST": "Europe/Paris Europe/Berlin Europe/Madrid Europe/Brussels",
    "EET": "Africa/Cairo Europe/Athens Europe/Kyiv Asia/Beirut",
    "EEST": "Europe/Athens Europe/Kyiv Asia/Beirut",
    "BST": "Europe/London Asia/Dhaka",
    "IST": "Asia/Kolkata Europe/Dublin Asia/Jerusalem",
    "MSK": "Europe/Moscow",
    "TRT": "Europe/Istanbul",
    "GST": "Asia/Dubai",
    "IRST": "Asia/Tehran",
    "PKT": "Asia/Karachi",
    "NPT": "Asia/Kathmandu",
    "ICT": "Asia/Bangkok Asia/Ho_Chi_Minh",
    "WIB": "Asia/Jakarta",
    "WITA": "Asia/Makassar",
    "WIT": "Asia/Jayapura",
    "PHT": "Asia/Manila",
    "PHST": "Asia/Manila",
    "SGT": "Asia/Singapore",
    "MYT": "Asia/Kuala_Lumpur",
    "HKT": "Asia/Hong_Kong",
    "JST": "Asia/Tokyo",
    "KST": "Asia/Seoul",
    "AEST": "Australia/Sydney Australia/Brisbane",
    "AEDT": "Australia/Sydney",
    "AWST": "Australia/Perth",
    "NZST": "Pacific/Auckland",
    "NZDT": "Pacific/Auckland",
    "EST": "America/New_York America/Bogota America/Lima",
    "EDT": "America/New_York",
    "CST": "America/Chicago America/Mexico_City Asia/Shanghai America/Guatemala",
    "CDT": "America/Chicago",
    "MST": "America/Denver America/Phoenix",
    "MDT": "America/Denver",
    "PST": "America/Los_Angeles Asia/Manila",
    "PDT": "America/Los_Angeles",
    "AKST": "America/Anchorage",
    "HST": "Pacific/Honolulu",
    "AST": "Asia/Riyadh America/Puerto_Rico America/Halifax",
    "BRT": "America/Sao_Paulo",
    "ART": "America/Argentina/Buenos_Aires",
    "UYT": "America/Montevideo",
    "CLT": "America/Santiago",
    "CLST": "America/Santiago",
    "PYT": "America/Asuncion",
    "BOT": "America/La_Paz",
    "PET": "America/Lima",
    "COT": "America/Bogota",
    "ECT": "America/Guayaquil",
    "VET": "America/Caracas",
}

# Cities that are not a time zone's own city but are where members meet, in several languages.
_CITY_ALIASES: dict[str, str] = {
    "Europe/Zurich": "Geneva|Geneve|Ginebra|Genebra|Genf|Ginevra|جنيف|Bern|Berne|Berna",
    "America/New_York": "Washington|New York City|NYC|Boston|Miami|Atlanta",
    "America/Chicago": "Houston|Dallas|San Antonio",
    "America/Los_Angeles": "San Francisco|Seattle",
    "America/Toronto": "Ottawa|Montreal",
    "America/Sao_Paulo": "Rio de Janeiro|Brasilia|Belo Horizonte|Salvador|Porto Alegre|Recife",
    "America/Guayaquil": "Quito",
    "America/La_Paz": "Sucre|Santa Cruz de la Sierra|Cochabamba",
    "America/Bogota": "Medellin|Cali",
    "America/Mexico_City": "Guadalajara|Oaxaca|Puebla",
    "Europe/Amsterdam": "The Hague|La Haya|La Haye|Den Haag|Haia|لاهاي",
    "Europe/Paris": "Strasbourg|Estrasburgo|Lyon|Marseille",
    "Europe/Berlin": "Bonn|Hamburg|Munich",
    "Europe/Rome": "Milan|Milano",
    "Europe/Madrid": "Barcelona|Sevilla|Valencia|Bilbao",
    "Africa/Lagos": "Abuja|Kano|Ibadan",
    "Africa/Johannesburg": "Pretoria|Cape Town|Ciudad del Cabo|Le Cap|Cidade do Cabo|Durban",
    "Africa/Casablanca": "Rabat|Marrakech|Fes|Tanger|الرباط",
    "Africa/Abidjan": "Yamoussoukro",
    "Africa/Dar_es_Salaam": "Dodoma|Zanzibar|Arusha",
    "Africa/Nairobi": "Mombasa|Kisumu",
    "Asia/Kolkata": "Delhi|New Delhi|Nueva Delhi|Mumbai|Bombay|Bangalore|Bengaluru|Chennai",
    "Asia/Shanghai": "Beijing|Pekin|Pequim|Peking|Guangzhou|Shenzhen",
    "Asia/Karachi": "Islamabad|Lahore",
    "Asia/Riyadh": "Jeddah|Mecca|جدة|مكة",
    "Asia/Dubai": "Abu Dhabi|ابوظبي",
    "Asia/Manila": "Quezon City|Cebu|Davao",
    "Europe/Istanbul": "Ankara|Izmir",
    "Australia/Sydney": "Canberra|Melbourne",
}

# Zones roughly by how many people keep their clock, so a search lists the likely one first.
_POPULOUS_ZONES = """
    Asia/Shanghai Asia/Kolkata America/New_York Asia/Jakarta Asia/Karachi Africa/Lagos
    America/Sao_Paulo Asia/Dhaka Europe/Moscow America/Mexico_City Asia/Tokyo Asia/Manila
    Africa/Addis_Ababa Africa/Cairo Africa/Kinshasa Asia/Ho_Chi_Minh Asia/Tehran Europe/Istanbul
    Europe/Berlin Asia/Bangkok Europe/Paris Europe/London America/Chicago Africa/Johannesburg
    Africa/Dar_es_Salaam Africa/Nairobi America/Bogota Asia/Seoul Europe/Madrid Europe/Rome
    America/Argentina/Buenos_Aires Africa/Algiers Africa/Khartoum Asia/Baghdad Africa/Kampala
    Asia/Kabul America/Los_Angeles Africa/Casablanca Asia/Riyadh America/Lima Asia/Tashkent
    Asia/Kuala_Lumpur Africa/Accra Africa/Luanda Asia/Yangon Africa/Maputo Asia/Kathmandu
    America/Caracas Asia/Aden Africa/Abidjan Australia/Sydney Asia/Taipei Africa/Douala
    Europe/Kyiv Africa/Niamey Asia/Colombo Africa/Bamako America/Santiago America/Guatemala
    Africa/Lusaka Africa/Dakar America/Guayaquil Africa/Harare America/Denver Asia/Almaty
    Europe/Amsterdam Asia/Damascus Africa/Ndjamena Africa/Mogadishu Asia/Phnom_Penh
    America/Toronto Africa/Kigali America/La_Paz Africa/Tunis America/Havana
    America/Santo_Domingo America/Port-au-Prince Europe/Athens Asia/Amman Asia/Jerusalem
    America/Tegucigalpa Asia/Dubai America/Asuncion America/Managua America/El_Salvador
    America/Costa_Rica America/Panama America/Montevideo America/Phoenix America/Halifax
    Pacific/Auckland Asia/Singapore Asia/Hong_Kong Asia/Gaza Asia/Beirut Pacific/Honolulu
    America/Anchorage Pacific/Easter"""
_OFFSET = re.compile(
    r"^(?:utc|gmt|z)?\s*([+\-\N{MINUS SIGN}])\s*(\d{1,2})(?:\s*[:h.]?\s*(\d{2}))?$"
)


@lru_cache(maxsize=1)
def _populous() -> tuple[str, ...]:
    """The populous zones as a list, most people first."""
    return tuple(_POPULOUS_ZONES.split())


@lru_cache(maxsize=1)
def _zone_ids() -> dict[str, str]:
    """Lower-cased IANA id → id, for the zones a member may pick (no Etc/posix/right copies)."""
    from zoneinfo import available_timezones

    return {
        zone.lower(): zone
        for zone in available_timezones()
        if "/" in zone and not zone.startswith(("Etc/", "SystemV/", "posix/", "right/"))
    }


@lru_cache(maxsize=1)
def _fixed_ids() -> dict[str, str]:
    """Lower-cased Etc/GMT±N ids (and UTC) → id, accepted when typed exactly."""
    from zoneinfo import available_timezones

    return {z.lower(): z for z in available_timezones() if z.startswith("Etc/") or z == "UTC"}


def _popularity(zone: str) -> tuple[int, str]:
    """Sort key: populous zones first, the rest by id."""
    order = _populous()
    return (order.index(zone) if zone in order else len(order)), zone


@lru_cache(maxsize=1)
def _city_index() -> dict[str, tuple[str, ...]]:
    """Folded city name in every shipped language (and common other cities) → its zones."""
    index: dict[str, list[str]] = {}

    def add(name: str, zone: str) -> None:
        for key in {_fold(name), _fold(name).replace(" ", "")}:
            if key and zone not in index.setdefault(key, []):
                index[key].append(zone)

    for zone in _zone_ids().values():
        add(zone.rsplit("/", 1)[-1].replace("_", " "), zone)
        for locale in SUPPORTED_LOCALES:
            add(_city(zone, locale), zone)
    for zone, names in _CITY_ALIASES.items():
        for name in names.split("|"):
            add(name, zone)
    return {key: tuple(sorted(zones, key=_popularity)) for key, zones in index.items()}


def _offset_zones(match: re.Match[str], at: datetime, limit: int) -> list[str]:
    """ "UTC+3": the fixed zone of that offset, then the populous places on it at `at`."""
    sign = -1 if match.group(1) != "+" else 1
    hours, minutes = int(match.group(2)), int(match.group(3) or 0)
    if hours > 14 or minutes not in (0, 15, 30, 45):
        return []
    seconds = sign * (hours * 3600 + minutes * 60)
    found = []
    if minutes == 0:
        found.append("UTC" if hours == 0 else f"Etc/GMT{'-' if sign > 0 else '+'}{hours}")
    places = [z for z in _populous() if _loadable(z) and _offset_seconds(z, at) == seconds]
    if not places:
        places = [z for z in sorted(_zone_ids().values()) if _offset_seconds(z, at) == seconds]
    return (found + places)[:limit]


def _abbreviated(text: str) -> list[str] | None:
    """Zones for an abbreviation such as EAT or CET; None when the text is not one."""
    key = text.strip().upper()
    if key in ("UTC", "GMT", "Z"):
        return ["UTC"]
    if key not in _ZONE_ABBREVIATIONS:
        return None
    return [zone for zone in _ZONE_ABBREVIATIONS[key].split() if _loadable(zone)]


def search_zones(query: str, locale: str, at: datetime | None = None, limit: int = 8) -> list[str]:
    """Zones matching what a member typed: an IANA id, a UTC offset, an abbreviation, a city in
    any shipped language, or a country; likely ones first. Never raises on odd input."""
    text = query.strip()
    if not text or len(text) > 64 or limit <= 0:
        return []
    offset = _OFFSET.match(text.casefold())
    if offset:
        return _offset_zones(offset, _aware(at), limit)
    exact = _zone_ids().get(text.lower()) or _fixed_ids().get(text.lower())
    if exact:
        return [exact]
    abbreviated = _abbreviated(text)
    if abbreviated is not None:
        return abbreviated[:limit]
    folded = _fold(text)
    if not folded:
        return []
    cities = _city_index()
    found: list[str] = list(cities.get(folded, ()))
    prefixed = [zone for key, zones in cities.items() if key.startswith(folded) for zone in zones]
    found += [z for z in sorted(set(prefixed), key=_popularity) if z not in found]
    for code, _name in search_countries(text, locale, limit=3, inside=False):
        found += [z for z in timezones_for(code) if z not in found]
    if not found and len(folded) >= 4:
        found = _typo_cities(folded)
    return found[:limit]


def _typo_cities(folded: str) -> list[str]:
    """Zones whose city is one slip away from the query ("Bogta", "Nairbi")."""
    from rapidfuzz import fuzz, process

    cities = _city_index()
    hits = process.extract(
        folded, list(cities), scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF, limit=5
    )
    found: list[str] = []
    for key, _score, _i in hits:
        found += [z for z in cities[key] if z not in found]
    return found


def is_zone(zone: str) -> bool:
    """Whether a zone id (from a button or the store) loads here; never raises (a folder name
    such as "America" is not a zone)."""
    return bool(zone) and len(zone) <= 64 and _loadable(zone)
