"""The rules behind consensus rounds and priorities, without Telegram: quorum, adoption,
word-by-word changes, versions typed as one message, picks carried by buttons, Borda points."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.consensus.priorities import (
    RankResult,
    check_picks,
    fold,
    needed,
    parse_picks,
    reminder_time,
)
from bot.consensus.questionnaire import AnswerResult, answer, back, evaluation_template
from bot.consensus.questionnaire_views import table
from bot.consensus.service import Refusal, adoptable, parse_version, quorum_met
from bot.consensus.views import reason_lines, word_diff
from models.consensus import (
    WEIGHTS,
    Priorities,
    PriorityMode,
    Questionnaire,
    QuestionnaireProgress,
    Round,
)

CLOSES = datetime(2026, 12, 1, tzinfo=UTC)


def consultation(mode: PriorityMode, options: int = 4) -> Priorities:
    return Priorities(
        id=1, title="t", options=[f"o{i}" for i in range(options)], mode=mode, closes_at=CLOSES
    )


def test_quorum_is_a_share_of_the_audience() -> None:
    assert quorum_met(3, 6, 50) and not quorum_met(2, 6, 50)
    assert quorum_met(5, 6, 75) and not quorum_met(4, 6, 75)
    assert not quorum_met(0, 0, 25), "no audience, no quorum"


def test_adoption_needs_no_block_and_the_quorum() -> None:
    def closed(options: list[int], met: bool) -> Round:
        return Round(result={"options": options, "voters": sum(options), "quorum_met": met})

    assert adoptable(closed([3, 0, 1, 0], True)) is None
    assert adoptable(closed([3, 0, 0, 1], True)) is Refusal.BLOCKED
    assert adoptable(closed([1, 0, 0, 0], False)) is Refusal.NO_QUORUM


def test_changes_are_shown_word_by_word() -> None:
    shown = word_diff("We meet in May.", "We meet in June, online.")
    assert shown == "We meet in <s>May.</s> <u>June, online.</u>"
    assert word_diff("a <b>", "a <b> c") == "a &lt;b&gt; <u>c</u>"


def test_a_version_is_a_title_line_then_the_text() -> None:
    assert parse_version("Título\nEl texto\nsigue") == ("Título", "El texto\nsigue")
    assert parse_version("Solo un título") is None
    assert parse_version("\nsin título") is None


def test_picks_carried_by_buttons_are_checked() -> None:
    assert parse_picks("") == [] and parse_picks("3.0.11") == [3, 0, 11]
    for forged in ("x", "1..2", "1.2.3.4.5.6", "999", "-1", "1.2."):
        assert parse_picks(forged) is None, forged
    rank = consultation(PriorityMode.RANK)
    assert check_picks(rank, [0, 0], complete=False) is RankResult.TWICE
    assert check_picks(rank, [4], complete=False) is RankResult.INVALID
    assert check_picks(rank, [0, 1, 2, 3], complete=False) is RankResult.INVALID
    assert check_picks(rank, [0, 1], complete=True) is RankResult.INCOMPLETE
    assert check_picks(rank, [2, 0, 1], complete=True) is None
    points = consultation(PriorityMode.POINTS)
    assert check_picks(points, [1, 1, 1, 0, 2], complete=True) is None, "points may repeat"
    assert needed(consultation(PriorityMode.RANK, options=2)) == 2


def test_borda_points_and_point_totals() -> None:
    # rows: (region, gender, position, option, count)
    rows = [
        ("419", "woman", 0, 0, 2),
        ("419", "woman", 1, 1, 2),
        ("419", "woman", 2, 2, 2),
        ("150", None, 0, 1, 1),
        ("150", None, 1, 0, 1),
        ("150", None, 2, 3, 1),
    ]
    cells = fold(rows, WEIGHTS[PriorityMode.RANK], 4)
    assert cells[("419", "woman")].voters == 2
    assert cells[("419", "woman")].options == [6, 4, 2, 0]
    assert cells[("150", None)].options == [2, 3, 0, 1]
    totals = fold([("419", None, p, 1, 1) for p in range(5)], WEIGHTS[PriorityMode.POINTS], 4)
    assert totals[("419", None)].voters == 1 and totals[("419", None)].options == [0, 5, 0, 0]


def evaluation(anonymous: bool) -> Questionnaire:
    _ = str
    title, questions = evaluation_template(_)
    return Questionnaire(
        id=1, title=title, questions=questions, anonymous=anonymous, closes_at=CLOSES
    )


def test_questionnaire_answers_of_the_wrong_kind_are_refused() -> None:
    questionnaire = evaluation(anonymous=True)
    progress = QuestionnaireProgress(position=0, answers={}, sent=False)
    assert answer(questionnaire, progress, 0, text="four") is AnswerResult.WRONG_KIND
    assert answer(questionnaire, progress, 0, choices=1 << 5) is AnswerResult.WRONG_KIND
    assert answer(questionnaire, progress, 0, choices=0b11) is AnswerResult.WRONG_KIND
    assert answer(questionnaire, progress, 1, choices=1) is AnswerResult.NOT_CURRENT
    assert answer(questionnaire, progress, 0, choices=1 << 3) is AnswerResult.SAVED
    assert answer(questionnaire, progress, 1, choices=1) is AnswerResult.WRONG_KIND, "a text"
    assert answer(questionnaire, progress, 1, text="/start") is AnswerResult.WRONG_KIND
    assert answer(questionnaire, progress, 1, text="Campaigns") is AnswerResult.SAVED
    assert back(progress, 2) is AnswerResult.SAVED and progress.position == 1
    assert progress.answers == {"0": 8, "1": "Campaigns"}


def test_the_spreadsheet_of_a_secret_questionnaire_links_no_answers() -> None:
    secret = evaluation(anonymous=True)
    texts = {1: [(None, "Campaigns")], 2: [(None, "=cmd")]}
    tallies = [None] * 5
    sheet = table(secret, tallies, texts, [], str).decode("utf-8-sig").splitlines()
    assert sheet[0] == "Question,Answer,Answers"
    assert "What worked well?,Campaigns," in sheet and "What should we change?,'=cmd," in sheet
    named = evaluation(anonymous=False)
    rows = [("Joy", {0: 8, 1: "Campaigns & training", 3: 0b101, 4: 1})]
    sheet = table(named, tallies, {}, rows, str).decode("utf-8-sig").splitlines()
    assert sheet[0].startswith("Respondent,How much progress")
    assert sheet[1] == 'Joy,4,Campaigns & training,,"Advocacy, Research",Yes'


def test_builder_options_kinds_and_moves() -> None:
    from datetime import timedelta

    from bot.consensus.builder import (
        OptionsProblem,
        moved,
        parse_options,
        rekind,
        valid_draft,
    )
    from bot.consensus.questionnaire import reminder_time
    from models.consensus import QuestionKind

    assert parse_options(" Yes \n\n  No  ") == ["Yes", "No"]
    assert parse_options("Yes") is OptionsProblem.TOO_FEW
    assert parse_options("Yes\nyes") is OptionsProblem.DUPLICATE
    assert parse_options("\n".join(str(n) for n in range(13))) is OptionsProblem.TOO_MANY
    assert parse_options("a" * 61 + "\nb") is OptionsProblem.TOO_LONG
    choice = {"kind": "single", "text": "Q?", "options": ["A", "B"]}
    assert rekind(choice, QuestionKind.SCALE) == {"kind": "scale", "text": "Q?", "options": []}
    assert rekind(choice, QuestionKind.MULTIPLE)["options"] == ["A", "B"]
    scale = {"kind": "scale", "text": "S?", "options": []}
    assert moved([choice, scale], 0, 1) == [scale, choice]
    assert moved([choice, scale], 0, -1) is None and moved([choice, scale], 5, 1) is None
    assert valid_draft([choice, scale]) and not valid_draft([])
    assert not valid_draft([{"kind": "single", "text": "Q?", "options": ["A"]}])
    assert not valid_draft([{"kind": "bogus", "text": "Q?", "options": []}])
    assert not valid_draft([scale] * 16)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    assert reminder_time(start, start + timedelta(days=7)) == start + timedelta(days=6)
    assert reminder_time(start, start + timedelta(days=1)) == start + timedelta(hours=12)


def test_a_preview_of_fifteen_long_questions_shows_them_all() -> None:
    from bot.consensus.builder import MAX_OPTION, MAX_OPTIONS, MAX_QUESTION, MAX_QUESTIONS
    from bot.consensus.builder_views import preview_text
    from bot.polls.views import utf16_len

    question = {
        "kind": "multiple",
        "text": "&" * MAX_QUESTION,
        "options": [f"{n:02d}" + "é" * (MAX_OPTION - 2) for n in range(MAX_OPTIONS)],
    }
    data = {"title": "T" * 120, "questions": [question] * MAX_QUESTIONS}
    text = preview_text(data, lambda s: s)
    assert utf16_len(text) <= 4096 and "(shortened)" not in text
    assert all(f"\n{n}. ☑️ &amp;" in text for n in range(1, MAX_QUESTIONS + 1))


def test_the_questionnaire_chart_mirrors_for_arabic() -> None:
    """One bar per option of each counted question; in Arabic the bars grow leftwards."""
    import io

    from PIL import Image

    from bot.consensus.questionnaire_chart import chart_png
    from bot.polls.tally import Counts, tally_cells

    questionnaire = Questionnaire(
        id=1,
        title="التقييم السنوي",
        questions=[
            {"kind": "single", "text": "هل ستشارك؟", "options": ["نعم", "لا"]},
            {"kind": "text", "text": "ماذا نغير؟", "options": []},
        ],
        anonymous=True,
        closes_at=CLOSES,
    )
    counts = Counts(0, [0, 0])
    counts.add(0b01, 3)
    tallies = [tally_cells(2, {("002", "woman"): counts}), None]
    for locale, bar_side in (("en", "left"), ("ar", "right")):
        image = Image.open(io.BytesIO(chart_png(questionnaire, tallies, 3, locale, str) or b""))
        rgb = image.convert("RGB")
        blue = [
            x
            for x in range(rgb.width)
            for y in range(0, rgb.height, 4)
            if rgb.getpixel((x, y)) == (0x2E, 0x6D, 0xB4)
        ]
        assert blue, locale
        # the labels take the reading side (300 px), the longest bar runs to the other side
        start, end = (min(blue), max(blue)) if bar_side == "left" else (max(blue), min(blue))
        assert abs(start - rgb.width / 2) > 100 and abs(end - rgb.width / 2) > 250, locale
        assert (start < rgb.width / 2) == (bar_side == "left"), (locale, start)
    assert chart_png(questionnaire, [None, None], 0, "en", str) is None


def test_a_reason_and_its_versions_side_by_side_the_readers_language_first() -> None:
    item = {"code": "block", "text": "As written", "versions": {"es": "Versión", "fr": "Version"}}

    def plain(text: str, *args: object, **kwargs: object) -> str:
        return text

    assert reason_lines(item, "es", plain, "") == [
        "• [Español] Versión",
        "   [as written] As written",
        "   [Français] Version",
    ]
    assert reason_lines(item, "en", plain, " — Ana") == [
        "• As written — Ana",
        "   [Español] Versión",
        "   [Français] Version",
    ]
    assert reason_lines({"code": "block", "text": "Only"}, "es", plain, "") == ["• Only"]


def test_one_priorities_reminder_a_day_before_or_half_way() -> None:
    opened = datetime(2026, 11, 23, 12, tzinfo=UTC)
    assert reminder_time(opened, opened + timedelta(days=3)) == opened + timedelta(days=2)
    assert reminder_time(opened, opened + timedelta(hours=20)) == opened + timedelta(hours=10)
    assert reminder_time(opened, opened + timedelta(minutes=90)) is None


def test_priorities_in_the_readers_language_else_as_written() -> None:
    found = consultation(PriorityMode.RANK, 2)
    found.versions = {"es": {"title": "¿Qué?", "options": ["a", "b"]}}
    assert found.text("es") == ("¿Qué?", ["a", "b"])
    assert found.text("fr") == ("t", ["o0", "o1"])
