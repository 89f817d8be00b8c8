"""Consultation rules without the bot: closing times, option limits, tallies and suppression,
the chart and the CSV, and a secret-ballot schema with nothing that points at a member."""

from __future__ import annotations

import csv
import io
import random
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
from bot.polls.tally import Counts, build_tally, protect, safe
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


def test_small_unanimous_groups_are_hidden_and_cannot_be_worked_out() -> None:
    def c(voters: int, *options: int) -> Counts:
        return Counts(voters, list(options))

    # b is small; alone it would be total - a - c: the next smallest is hidden with it
    assert protect({"a": c(20, 12, 8), "b": c(3, 1, 2), "c": c(9, 4, 5)}, 2) == {"b", "c"}
    assert protect({"a": c(20, 12, 8), "b": c(30, 10, 20)}, 2) == set()
    # seven people who all said the same: each one's answer is known, so hidden
    assert protect({"a": c(20, 12, 8), "b": c(7, 7, 0), "c": c(9, 4, 5)}, 2) == {"b", "c"}
    # two small groups that together are unanimous: hiding both is not enough
    hidden = protect({"a": c(20, 12, 8), "b": c(2, 2, 0), "c": c(3, 3, 0), "d": c(9, 4, 5)}, 2)
    assert hidden == {"b", "c", "d"}


def recoverable(result: Any) -> list[str]:
    """Play the attacker with everything published (the message, the chart's totals, the
    CSV): every shown group, and every published line's total minus its shown parts (which
    is what the hidden parts add up to), must reveal no vote."""
    found = []

    def check(name: str, counts: Counts, parts: int = 1) -> None:
        """(With nothing shown the remainder is the published total itself.)"""
        if parts and not safe(counts):
            found.append(f"{name}: {counts}")

    width = len(result.total.options)

    def minus(total: Counts, parts: list[Counts]) -> Counts:
        rest = Counts(total.voters, list(total.options))
        for part in parts:
            rest.voters -= part.voters
            rest.options = [a - b for a, b in zip(rest.options, part.options, strict=True)]
        return rest

    assert all(len(g.counts.options) == width for g in result.by_region if g.counts)
    for title, groups in (("region", result.by_region), ("gender", result.by_gender)):
        shown = [g.counts for g in groups if g.counts is not None]
        for counts in shown:
            check(f"shown {title}", counts)
        check(f"total minus shown {title}s", minus(result.total, shown), len(shown))
    regions = {g.key: g.counts for g in result.by_region}
    genders = {g.key: g.counts for g in result.by_gender}
    for cell in result.cross:
        if cell.counts is not None:
            check("shown cell", cell.counts)
    for key, margin in regions.items():
        if margin is not None:
            line = [c.counts for c in result.cross if c.region == key and c.counts is not None]
            check(f"region {key} minus its shown cells", minus(margin, line), len(line))
    for key, margin in genders.items():
        if margin is not None:
            line = [c.counts for c in result.cross if c.gender == key and c.counts is not None]
            check(f"gender {key} minus its shown cells", minus(margin, line), len(line))
    return found


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
    assert regions["202"].counts is None
    # Europe has 6, but alone it would be the total minus the others: hidden too
    assert regions["150"].counts is None
    genders = {group.key: group for group in result.by_gender}
    assert genders["woman"].counts is not None and genders["woman"].counts.voters == 11
    assert genders[None].counts is None and genders["man"].counts is None
    # the full grid is listed: a hidden cell does not say whether anyone is in it
    assert len(result.cross) == 3 * 3
    assert recoverable(result) == []


def test_no_hidden_cell_can_be_recovered_from_what_is_published() -> None:
    chooser = random.Random(5)
    regions = ["419", "202", "150", "142", None]
    genders = ["woman", "man", "other", None]
    for _round in range(400):
        width = chooser.choice([2, 3, 4])
        rows = []
        for _row in range(chooser.randint(1, 14)):
            rows.append(
                (
                    1 << chooser.randrange(width),
                    chooser.choice(regions),
                    chooser.choice(genders),
                    chooser.choice([1, 1, 2, 3, 4, 5, 6, 9, 15]),
                )
            )
        result = build_tally(width, rows)
        assert recoverable(result) == [], rows


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
    assert "oculto" in africa and africa[4:8] == ["", "", "", ""]
    hidden = [r[3] for r in rows[1:] if len(r) > 3 and r[3] and not r[3].isdigit()]
    assert set(hidden) == {"oculto"}, "one word for every hidden cell, whatever its size"
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
