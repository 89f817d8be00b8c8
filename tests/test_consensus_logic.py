"""The rules behind consensus rounds and priorities, without Telegram: quorum, adoption,
word-by-word changes, versions typed as one message, picks carried by buttons, Borda points."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.consensus.priorities import RankResult, check_picks, fold, needed, parse_picks
from bot.consensus.service import Refusal, adoptable, parse_version, quorum_met
from bot.consensus.views import word_diff
from models.consensus import WEIGHTS, Priorities, PriorityMode, Round

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
