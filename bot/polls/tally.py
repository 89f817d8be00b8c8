"""Counting answers, with breakdowns that never show a group small enough to reveal a vote."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.poll import AnonymousBallot, NamedVote, Poll

SMALL_GROUP = 5
Cell = tuple[str | None, str | None]  # (region, gender)


@dataclass
class Counts:
    """How many answered, and how many chose each option."""

    voters: int = 0
    options: list[int] = field(default_factory=list)

    def add(self, choices: int, voters: int) -> None:
        self.voters += voters
        for position in range(len(self.options)):
            if choices >> position & 1:
                self.options[position] += voters

    def to_json(self) -> dict[str, Any]:
        return {"voters": self.voters, "options": list(self.options)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Counts:
        return cls(int(data["voters"]), [int(n) for n in data["options"]])


@dataclass
class Group:
    """One group of a breakdown; `counts` is None when it is hidden."""

    key: str | None
    counts: Counts | None
    small: bool = False  # hidden because fewer than SMALL_GROUP answered (not just to protect)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "counts": self.counts.to_json() if self.counts else None,
            "small": self.small,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Group:
        counts = data.get("counts")
        return cls(data.get("key"), Counts.from_json(counts) if counts else None, data["small"])


@dataclass
class CrossCell:
    """One region × gender cell; `counts` is None when it is hidden."""

    region: str | None
    gender: str | None
    counts: Counts | None
    small: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "gender": self.gender,
            "counts": self.counts.to_json() if self.counts else None,
            "small": self.small,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CrossCell:
        counts = data.get("counts")
        return cls(
            data.get("region"),
            data.get("gender"),
            Counts.from_json(counts) if counts else None,
            data["small"],
        )


@dataclass
class Tally:
    """Totals and the three breakdowns of one poll, safe to show."""

    total: Counts
    by_region: list[Group]
    by_gender: list[Group]
    cross: list[CrossCell]

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total.to_json(),
            "by_region": [g.to_json() for g in self.by_region],
            "by_gender": [g.to_json() for g in self.by_gender],
            "cross": [c.to_json() for c in self.cross],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Tally:
        return cls(
            Counts.from_json(data["total"]),
            [Group.from_json(g) for g in data["by_region"]],
            [Group.from_json(g) for g in data["by_gender"]],
            [CrossCell.from_json(c) for c in data["cross"]],
        )


def safe(counts: Counts) -> bool:
    """Whether publishing these counts reveals no one's answer: nobody, or at least
    SMALL_GROUP people whose answers are not all the same (a unanimous group of any size
    tells each member's answer to whoever knows who is in it)."""
    if counts.voters == 0:
        return True
    if counts.voters < SMALL_GROUP:
        return False
    return all(n != counts.voters for n in counts.options)


def _sum(parts: Iterable[Counts], width: int) -> Counts:
    total = Counts(0, [0] * width)
    for part in parts:
        total.voters += part.voters
        total.options = [a + b for a, b in zip(total.options, part.options, strict=True)]
    return total


def protect(groups: Mapping[Any, Counts], width: int) -> set[Any]:
    """Keys to hide so that nothing published, nor the line's total minus what is shown,
    reveals a vote: unsafe groups first, then the smallest shown ones until the hidden
    remainder (which anyone can compute by subtraction) is safe too."""
    hidden = {key for key, counts in groups.items() if not safe(counts)}
    shown = sorted(
        (counts.voters, str(key), key)
        for key, counts in groups.items()
        if key not in hidden and counts.voters
    )
    while shown and not safe(_sum((groups[key] for key in hidden), width)):
        hidden.add(shown.pop(0)[2])
    return hidden


def _groups(totals: Mapping[str | None, Counts], width: int) -> list[Group]:
    """A one-dimension breakdown with unsafe groups (and their protectors) hidden."""
    hidden = protect(totals, width)
    ordered = sorted(totals.items(), key=lambda item: (item[0] is None, item[0] or ""))
    return [
        Group(key, None if key in hidden else counts, key in hidden) for key, counts in ordered
    ]


def _cross(
    cells: Mapping[Cell, Counts],
    hidden_regions: set[Any],
    hidden_genders: set[Any],
    width: int,
) -> list[CrossCell]:
    """The full region × gender grid: empty and unsafe cells hidden alike (so a hidden cell
    says nothing about its size), whole rows/columns whose margin is hidden, and more cells
    until the hidden remainder of every published row and column is safe."""
    regions = {cell[0] for cell in cells}
    genders = {cell[1] for cell in cells}
    grid = {
        (region, gender): cells.get((region, gender), Counts(0, [0] * width))
        for region in regions
        for gender in genders
    }
    hidden = {
        cell
        for cell, counts in grid.items()
        if counts.voters == 0
        or not safe(counts)
        or cell[0] in hidden_regions
        or cell[1] in hidden_genders
    }
    lines = [[cell for cell in grid if cell[0] == region] for region in regions - hidden_regions]
    lines += [[cell for cell in grid if cell[1] == gender] for gender in genders - hidden_genders]
    changed = True
    while changed:
        changed = False
        for line in lines:
            rest = _sum((grid[cell] for cell in line if cell in hidden), width)
            shown = sorted(
                (grid[cell].voters, str(cell), cell) for cell in line if cell not in hidden
            )
            if shown and not safe(rest):
                hidden.add(shown[0][2])
                changed = True
    ordered = sorted(grid.items(), key=lambda item: tuple((k is None, k or "") for k in item[0]))
    return [
        CrossCell(cell[0], cell[1], None if cell in hidden else counts, cell in hidden)
        for cell, counts in ordered
    ]


def build_tally(
    option_count: int,
    rows: Iterable[tuple[int, str | None, str | None, int]],
) -> Tally:
    """Turn GROUP BY rows (choices, region, gender, count) into totals and safe breakdowns."""
    cells: dict[Cell, Counts] = {}
    for choices, region, gender, count in rows:
        cells.setdefault((region, gender), Counts(0, [0] * option_count)).add(choices, count)
    return tally_cells(option_count, cells)


def tally_cells(option_count: int, cells: Mapping[Cell, Counts]) -> Tally:
    """Totals and safe breakdowns from the counts of each region × gender cell."""
    total = Counts(0, [0] * option_count)
    regions: dict[str | None, Counts] = {}
    genders: dict[str | None, Counts] = {}

    def empty() -> Counts:
        return Counts(0, [0] * option_count)

    for (region, gender), counts in cells.items():
        for target in (
            total,
            regions.setdefault(region, empty()),
            genders.setdefault(gender, empty()),
        ):
            target.voters += counts.voters
            target.options = [a + b for a, b in zip(target.options, counts.options, strict=True)]
    by_region = _groups(regions, option_count)
    by_gender = _groups(genders, option_count)
    hidden_regions = {g.key for g in by_region if g.counts is None}
    hidden_genders = {g.key for g in by_gender if g.counts is None}
    cross = _cross(cells, hidden_regions, hidden_genders, option_count)
    return Tally(total, by_region, by_gender, cross)


async def count_cells(session: AsyncSession, poll: Poll) -> dict[Cell, Counts]:
    """The poll's votes counted per region × gender cell and per option, in the database.

    The inner GROUP BY follows the tally index (few rows for one-answer polls); the outer
    one folds the combinations of a multiple choice into per-option counts, so a row per
    cell comes back however many combinations twelve options allow.
    """
    table = AnonymousBallot if poll.anonymous else NamedVote
    combos = (
        select(table.choices, table.region, table.gender, func.count().label("n"))
        .where(table.poll_id == poll.id)
        .group_by(table.choices, table.region, table.gender)
        .subquery()
    )
    per_option = [
        func.sum(case((combos.c.choices.op("&")(1 << position) != 0, combos.c.n), else_=0))
        for position in range(poll.option_count)
    ]
    query = select(combos.c.region, combos.c.gender, func.sum(combos.c.n), *per_option).group_by(
        combos.c.region, combos.c.gender
    )
    return {
        (row[0], row[1]): Counts(int(row[2]), [int(n or 0) for n in row[3:]])
        for row in (await session.execute(query)).all()
    }


async def tally(session: AsyncSession, poll: Poll) -> Tally:
    """The poll's results: frozen at the close for secret ballots, else counted now."""
    if poll.results is not None:
        return Tally.from_json(poll.results)
    return tally_cells(poll.option_count, await count_cells(session, poll))
