"""Consultation rules without the bot: closing times, option limits, tallies and suppression,
the chart and the CSV, and a secret-ballot schema with nothing that points at a member."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import DateTime, inspect

from bot.core.i18n import create_i18n
from bot.polls.closing import TimeProblem, parse_closing, quick_closing
from bot.polls.export import chart_png, results_csv, safe_cell
from bot.polls.service import (
    MAX_COMMENT,
    MAX_OPTION,
    MAX_OPTIONS,
    Comment,
    Draft,
    Problem,
    clean_comment,
    parse_options,
    parse_translated_options,
    valid_choices,
)
from bot.polls.tally import SMALL_GROUP, build_tally, protect
from bot.polls.views import PickCb, VoteCb, poll_keyboard
from models.base import UTCDateTime
from models.poll import (
    AnonymousBallot,
    AnonymousComment,
    Participation,
    Poll,
    PollKind,
    new_token,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def make(**fields: Any) -> Poll:
    """A transient poll built the way the creation conversation builds it."""
    fields.setdefault("locale", "en")
    fields.setdefault("closes_at", NOW.isoformat())
    return Draft(**fields).build(None, NOW)


# --- closing times ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        ("2026-12-01 18:00", "America/Montevideo", datetime(2026, 12, 1, 21, 0, tzinfo=UTC)),
        ("1/12 18:00", "America/Montevideo", datetime(2026, 12, 1, 21, 0, tzinfo=UTC)),
        ("1.12.2026 6pm", "Africa/Nairobi", datetime(2026, 12, 1, 15, 0, tzinfo=UTC)),
        ("01-12-26 18h30", "Europe/Paris", datetime(2026, 12, 1, 17, 30, tzinfo=UTC)),
        ("1/12", "UTC", datetime(2026, 12, 1, 23, 59, tzinfo=UTC)),  # date only: end of day
        ("5/1 09:00", "UTC", datetime(2027, 1, 5, 9, 0, tzinfo=UTC)),  # no year: next 5 January
    ],
)
def test_closing_times_are_read_leniently(text: str, zone: str, expected: datetime) -> None:
    assert parse_closing(text, zone, NOW).moment == expected


@pytest.mark.parametrize(
    ("text", "zone", "problem"),
    [
        ("next friday", "UTC", TimeProblem.UNREADABLE),
        ("31/2 10:00", "UTC", TimeProblem.NO_SUCH_DATE),
        ("25:00 1/12", "UTC", TimeProblem.UNREADABLE),
        ("2026-11-01 10:00", "UTC", TimeProblem.PAST),
        ("22/11 08:00", "America/Montevideo", TimeProblem.PAST),  # today, but earlier
        ("2028-01-01 10:00", "UTC", TimeProblem.TOO_FAR),
        ("2027-03-14 02:30", "America/New_York", TimeProblem.SKIPPED),
        ("2027-11-07 01:30", "America/New_York", TimeProblem.AMBIGUOUS),
        ("28/3/2027 01:30", "Europe/Lisbon", TimeProblem.SKIPPED),
    ],
)
def test_bad_closing_times_are_refused(text: str, zone: str, problem: TimeProblem) -> None:
    parsed = parse_closing(text, zone, NOW)
    assert parsed.moment is None and parsed.problem == problem


def test_quick_closing_buttons() -> None:
    assert quick_closing("3d", NOW) == datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    later = NOW + timedelta(seconds=1.5)
    assert quick_closing("1w", later) == datetime(2026, 11, 29, 12, 1, tzinfo=UTC)
    assert quick_closing("forged", NOW) is None


# --- options ------------------------------------------------------------------------------------


def test_options_are_checked_against_telegram_limits() -> None:
    assert parse_options("Yes\n- No\n\n• Maybe") == ["Yes", "No", "Maybe"]
    assert parse_options("x" * (MAX_OPTION + 1)) is Problem.OPTION_TOO_LONG
    many = "\n".join(f"Option {i}" for i in range(MAX_OPTIONS + 1))
    assert parse_options(many) is Problem.TOO_MANY
    assert parse_options("Yes", ["yes"]) is Problem.DUPLICATE
    assert parse_options("   \n ") is Problem.EMPTY
    assert parse_translated_options("Sí\nNo", 3) is Problem.COUNT_MISMATCH
    assert parse_translated_options("Sí\nNo\nQuizá", 3) == ["Sí", "No", "Quizá"]


def test_comments_and_reasons_are_cleaned_and_limited() -> None:
    assert clean_comment("  Falta   consultar\x07\n a las comunidades ") == (
        "Falta consultar\na las comunidades"
    )
    assert clean_comment("x" * MAX_COMMENT) == "x" * MAX_COMMENT
    assert clean_comment("x" * (MAX_COMMENT + 1)) is None
    assert clean_comment("/help") is None and clean_comment(" \n ") is None


def test_every_button_fits_telegram_callback_limit() -> None:
    draft = Draft(
        locale="en",
        question="q",
        kind=PollKind.MULTIPLE,
        options=["x" * MAX_OPTION] * MAX_OPTIONS,
        closes_at=NOW.isoformat(),
    )
    poll = draft.build(None, NOW)
    poll.id = 2_147_483_647
    markup = poll_keyboard(poll, "en", str, mask=(1 << MAX_OPTIONS) - 1, chosen=1, comment=True)
    assert markup is not None
    for row in markup.inline_keyboard:
        for button in row:
            assert len((button.callback_data or "").encode()) <= 64
    assert len(VoteCb(poll=2_147_483_647, option=11).pack()) <= 64
    assert len(PickCb(poll=2_147_483_647, option=11, mask=4095).pack()) <= 64


def test_choices_must_be_existing_options() -> None:
    single = make(kind=PollKind.SINGLE, options=["a", "b", "c"])
    assert valid_choices(single, 0b100)
    assert not valid_choices(single, 0b1000)  # out of range
    assert not valid_choices(single, 0b011)  # two answers to a single-choice poll
    assert not valid_choices(single, 0)
    multiple = make(kind=PollKind.MULTIPLE, options=["a", "b", "c"])
    assert valid_choices(multiple, 0b011)
    consent = make(kind=PollKind.CONSENT)
    assert consent.option_count == 4 and valid_choices(consent, 0b1000)


# --- tallies and suppression --------------------------------------------------------------------


def test_small_groups_are_hidden_and_cannot_be_worked_out() -> None:
    hidden, small = protect({"a": 20, "b": 3, "c": 9, "d": 0})
    assert small == {"b"}
    # b alone would be total - a - c: the next smallest is hidden with it
    assert hidden == {"b", "c"}
    assert protect({"a": 20, "b": 3, "c": 4}) == ({"b", "c"}, {"b", "c"})
    assert protect({"a": 20, "b": 30}) == (set(), set())


def test_tally_counts_every_option_and_breaks_down_safely() -> None:
    rows = [
        # (choices, region, gender, count)
        (0b001, "419", "woman", 6),
        (0b010, "419", "man", 5),
        (0b011, "419", "man", 2),  # multiple choice: counted for both options
        (0b100, "202", "woman", 2),
        (0b001, "202", None, 1),
        (0b100, "150", "woman", 3),
        (0b010, "150", "man", 3),
    ]
    result = build_tally(3, rows)
    assert result.total.voters == 22
    assert result.total.options == [9, 10, 5]
    regions = {group.key: group for group in result.by_region}
    assert regions["419"].counts is not None and regions["419"].counts.voters == 13
    assert regions["202"].counts is None and regions["202"].small
    # Europe has 6, but alone it would be the total minus the others: hidden too, not "small"
    assert regions["150"].counts is None and not regions["150"].small
    genders = {group.key: group for group in result.by_gender}
    assert genders["woman"].counts is not None and genders["woman"].counts.voters == 11
    assert genders[None].counts is None and genders[None].small  # a group of one
    assert genders["man"].counts is None and not genders["man"].small  # protects it
    # the hidden mass of every published line is none or at least SMALL_GROUP
    for line in _lines(result):
        hidden = sum(size for size, shown in line if not shown)
        assert hidden == 0 or hidden >= SMALL_GROUP


def _lines(result: Any) -> list[list[tuple[int, bool]]]:
    """Rows and columns of the region × gender table, as (size, shown) pairs."""
    sizes = {
        (cell.region, cell.gender): (cell.counts.voters if cell.counts else None)
        for cell in result.cross
    }
    regions = {g.key: g for g in result.by_region}
    genders = {g.key: g for g in result.by_gender}
    truth = {(c.region, c.gender) for c in result.cross}
    lines = []
    for region in {r for r, _ in truth}:
        if regions[region].counts is None:
            continue
        total = regions[region].counts.voters
        shown = [sizes[c] for c in truth if c[0] == region and sizes[c] is not None]
        lines.append([(sum(shown), True), (total - sum(shown), False)])
    for gender in {g for _, g in truth}:
        if genders[gender].counts is None:
            continue
        total = genders[gender].counts.voters
        shown = [sizes[c] for c in truth if c[1] == gender and sizes[c] is not None]
        lines.append([(sum(shown), True), (total - sum(shown), False)])
    return lines


def test_tally_survives_the_json_round_trip() -> None:
    result = build_tally(4, [(0b1000, "419", "woman", 7), (0b0001, "419", "man", 2)])
    again = type(result).from_json(result.to_json())
    assert again == result


# --- chart and CSV ------------------------------------------------------------------------------


def consent_poll(locale: str = "en") -> Poll:
    poll = make(
        locale=locale, question="¿Aprobamos el plan de acción 2027?", kind=PollKind.CONSENT
    )
    poll.id = 7
    return poll


def test_chart_is_a_png_labelled_in_the_readers_language() -> None:
    i18n = create_i18n("en")
    result = build_tally(4, [(0b0001, "419", "woman", 12), (0b1000, "202", "man", 1)])
    for locale in ("es", "ar"):

        def _(message: str, locale: str = locale) -> str:
            return i18n.gettext(message, locale=locale)

        data = chart_png(consent_poll(), result.total, locale, _)
        image = Image.open(io.BytesIO(data))
        assert image.format == "PNG" and image.width == 900 and image.height > 200


def test_csv_has_counts_breakdowns_and_suppression_in_the_readers_language() -> None:
    i18n = create_i18n("en")

    def _(message: str) -> str:
        return i18n.gettext(message, locale="es")

    result = build_tally(
        4,
        [
            (0b0001, "419", "woman", 6),
            (0b0100, "419", "man", 5),
            (0b1000, "202", "woman", 1),
        ],
    )
    reasons = [Comment(None, '=HYPERLINK("http://x")', None)]
    data = results_csv(consent_poll("es"), result, "es", _, reasons, [])
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Desglose", "Región", "Género", "Respuestas"]
    assert "👍 De acuerdo" in rows[0]
    assert rows[1][:4] == ["Total", "", "", "12"] and rows[1][4:8] == ["6", "0", "5", "1"]
    africa = next(row for row in rows if "África subsahariana" in row)
    assert "menos de 5" in africa and africa[4:8] == ["", "", "", ""]
    reason = next(row for row in rows if row and row[0] == "Motivo del bloqueo")
    assert reason[2].startswith("'=")  # not run as a formula
    assert safe_cell("-1") == "'-1" and safe_cell("Plan") == "Plan"


# --- the secret ballot's schema -----------------------------------------------------------------


@pytest.mark.parametrize("table", [AnonymousBallot.__table__, AnonymousComment.__table__])
def test_secret_tables_hold_nothing_that_points_at_a_member(table: Any) -> None:
    columns = {column.name: column for column in table.columns}
    assert not [name for name in columns if "member" in name or "telegram" in name]
    assert all(fk.column.table.name == "polls" for fk in table.foreign_keys)
    assert not [c for c in columns.values() if isinstance(c.type, DateTime | UTCDateTime)]
    (key,) = table.primary_key.columns
    assert key.name == "id" and key.type.python_type is str
    assert table.dialect_options["sqlite"]["with_rowid"] is False  # no hidden insertion order


def test_participation_says_only_that_a_member_answered() -> None:
    columns = {column.name for column in inspect(Participation).columns}
    assert columns == {"poll_id", "member_id"}
    assert Participation.__table__.dialect_options["sqlite"]["with_rowid"] is False


def test_ballot_keys_carry_no_order() -> None:
    keys = [new_token() for _ in range(200)]
    assert len(set(keys)) == 200
    assert sum(a < b for a, b in pairwise(keys)) not in (0, 199)
