"""Typed meeting times are read in the coordinator's zone, and refused rather than guessed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.config import SUPPORTED_LOCALES
from bot.meetings.dates import (
    Ambiguous,
    WhenError,
    WhenProblem,
    after_gap,
    parse_local,
    parse_when,
)
from bot.meetings.views import format_duration
from bot.meetings.zones import find_zones

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
LOCAL_NOW = datetime(2027, 3, 1, 9, 0)  # Montevideo wall time at NOW


@pytest.mark.parametrize(
    "text",
    [
        "14/03/2027 18:30",
        "14.03.2027 18:30",
        "14-03-2027 18h30",
        "2027-03-14 18:30",
        "2027-03-14T18:30",
        "14/03 18:30",
        "14/3/27 6:30 pm",
        "14 March 2027 18:30",
        "March 14, 2027 6:30pm",
        "Sunday 14 March 18h30",
        "14 de marzo 18:30",
        "domingo 14 de marzo de 2027, 18:30",
        "14 mars à 18h30",
        "dim. 14 mars 18 h 30",
        "14 de março 18:30",
        "14 mar 18.30",
        "١٤/٠٣/٢٠٢٧ ١٨:٣٠",
        "14 مارس 6:30 م",
    ],
)
def test_many_ways_of_writing_the_same_time(text: str) -> None:
    assert parse_local(text, LOCAL_NOW) == datetime(2027, 3, 14, 18, 30)


def test_relative_days_and_year_rollover() -> None:
    assert parse_local("tomorrow 9:00", LOCAL_NOW) == datetime(2027, 3, 2, 9, 0)
    assert parse_local("mañana 9h", LOCAL_NOW) == datetime(2027, 3, 2, 9, 0)
    assert parse_local("aujourd'hui 18h", LOCAL_NOW) == datetime(2027, 3, 1, 18, 0)
    # 10 January without a year is next January, not one that has passed
    assert parse_local("10/01 10:00", LOCAL_NOW) == datetime(2028, 1, 10, 10, 0)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("next week sometime", WhenProblem.UNPARSABLE),
        ("", WhenProblem.UNPARSABLE),
        ("14 March", WhenProblem.NO_TIME),
        ("18:30", WhenProblem.NO_DATE),
        ("31/04/2027 10:00", WhenProblem.BAD_DATE),
        ("14/03/2027 25:00", WhenProblem.UNPARSABLE),
        ("14/03/2027 13pm", WhenProblem.UNPARSABLE),
        ("14 March 18", WhenProblem.NO_TIME),
    ],
)
def test_refusals(text: str, problem: WhenProblem) -> None:
    with pytest.raises(WhenError) as caught:
        parse_when(text, "America/Montevideo", NOW)
    assert caught.value.problem == problem


def test_time_in_zone_is_converted_to_utc() -> None:
    assert parse_when("14/03/2027 18:30", "America/Montevideo", NOW) == datetime(
        2027, 3, 14, 21, 30, tzinfo=UTC
    )
    assert parse_when("14/03/2027 18:30", "Asia/Manila", NOW) == datetime(
        2027, 3, 14, 10, 30, tzinfo=UTC
    )


def test_past_time_is_refused() -> None:
    with pytest.raises(WhenError) as caught:
        parse_when("01/03/2027 08:00", "America/Montevideo", NOW)
    assert caught.value.problem == WhenProblem.PAST


def test_spring_forward_gap_is_refused_with_a_suggestion() -> None:
    # Paris: 28 March 2027, 02:00 -> 03:00
    with pytest.raises(WhenError) as caught:
        parse_when("28/03/2027 02:30", "Europe/Paris", NOW)
    assert caught.value.problem == WhenProblem.GAP
    assert caught.value.local is not None
    assert after_gap(caught.value.local, "Europe/Paris") == datetime(2027, 3, 28, 3, 30)


def test_fall_back_overlap_offers_both_moments() -> None:
    # Paris: 31 October 2027, 03:00 -> 02:00; 02:30 happens twice
    result = parse_when("31/10/2027 02:30", "Europe/Paris", NOW)
    assert isinstance(result, Ambiguous)
    assert result.earlier == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
    assert result.later == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)


def test_zones_found_by_city_country_or_id() -> None:
    assert find_zones("Europe/Paris", "en") == ["Europe/Paris"]
    assert "America/Sao_Paulo" in find_zones("sao paulo", "en")
    assert "Africa/Cairo" in find_zones("Egypt", "en")
    assert "Africa/Cairo" in find_zones("Egipto", "es")
    assert find_zones("utc", "en") == ["UTC"]
    assert find_zones("nowhere-at-all", "en") == []


def test_durations_in_words() -> None:
    assert format_duration(90, "en") == "1 hour 30 minutes"
    assert format_duration(120, "es") == "2 horas"


def typed_in(locale: str) -> list[str]:
    """14 March 2027, 18:30 written as that language's own calendar writes it (from CLDR)."""
    from datetime import date, time

    from babel import Locale
    from babel.dates import format_date, format_time

    day = date(2027, 3, 14)
    at = format_time(time(18, 30), "h:mm a", locale=locale)
    return [
        format_date(day, "d MMMM y", locale=locale) + " 18:30",
        format_date(day, "EEEE d MMMM", locale=locale) + " 18:30",
        format_date(day, "d MMM", locale=locale) + " " + at,
        format_date(day, "MMMM d", locale=locale) + " 18h30",
        Locale.parse(locale).months["stand-alone"]["wide"][3] + " 14 18:30",
    ]


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_dates_in_every_shipped_language(locale: str) -> None:
    for text in typed_in(locale):
        assert parse_local(text, LOCAL_NOW) == datetime(2027, 3, 14, 18, 30), (locale, text)


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_today_tomorrow_and_the_day_after_in_every_shipped_language(locale: str) -> None:
    from babel import Locale

    words = Locale.parse(locale)._data["date_fields"]["day"]["relative"]
    assert parse_local(f"{words[0]} 18:00", LOCAL_NOW) == datetime(2027, 3, 1, 18, 0)
    assert parse_local(f"{words[1]} 9:00", LOCAL_NOW) == datetime(2027, 3, 2, 9, 0)
    if 2 in words:
        assert parse_local(f"{words[2]} 9:00", LOCAL_NOW) == datetime(2027, 3, 3, 9, 0)


@pytest.mark.parametrize("locale", ["sw", "de", "tr"])
def test_a_newly_added_language_parses_with_no_code_change(locale: str) -> None:
    from babel import Locale

    added = (*SUPPORTED_LOCALES, locale)
    tomorrow = Locale.parse(locale)._data["date_fields"]["day"]["relative"][1]
    with pytest.raises(WhenError):  # not shipped yet: its name of March means nothing
        parse_local(typed_in(locale)[0], LOCAL_NOW)
    for text in typed_in(locale):
        assert parse_local(text, LOCAL_NOW, added) == datetime(2027, 3, 14, 18, 30), text
    assert parse_local(f"{tomorrow} 9:00", LOCAL_NOW, added) == datetime(2027, 3, 2, 9, 0)


def test_digits_of_other_scripts() -> None:
    assert parse_local("۱۴/۰۳ ۱۸:۳۰", LOCAL_NOW) == datetime(2027, 3, 14, 18, 30)  # Persian
    assert parse_local("१४/०३ १८:३०", LOCAL_NOW) == datetime(2027, 3, 14, 18, 30)  # Devanagari
