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


def protect(sizes: Mapping[Any, int]) -> tuple[set[Any], set[Any]]:
    """Keys to hide: groups under SMALL_GROUP, then the smallest others until what is hidden
    adds up to none or at least SMALL_GROUP (so totals minus the shown groups reveal no vote).

    Returns (hidden, hidden because small).
    """
    small = {key for key, size in sizes.items() if 0 < size < SMALL_GROUP}
    hidden = set(small)
    shown = sorted(
        (size, str(key), key) for key, size in sizes.items() if size and key not in hidden
    )
    while 0 < sum(sizes[key] for key in hidden) < SMALL_GROUP and shown:
        hidden.add(shown.pop(0)[2])
    return hidden, small


def _groups(totals: Mapping[str | None, Counts]) -> list[Group]:
    """A one-dimension breakdown with small groups (and their protectors) hidden."""
    hidden, small = protect({key: counts.voters for key, counts in totals.items()})
    ordered = sorted(totals.items(), key=lambda item: (item[0] is None, item[0] or ""))
    return [Group(key, None if key in hidden else counts, key in small) for key, counts in ordered]


def _cross(
    cells: Mapping[Cell, Counts], hidden_regions: set[Any], hidden_genders: set[Any]
) -> list[CrossCell]:
    """Region × gender cells: small ones hidden, whole rows/columns whose margin is hidden, and
    more cells until each published row and column hides none or at least SMALL_GROUP."""
    sizes = {cell: counts.voters for cell, counts in cells.items()}
    small = {cell for cell, size in sizes.items() if 0 < size < SMALL_GROUP}
    hidden = set(small) | {
        cell for cell in cells if cell[0] in hidden_regions or cell[1] in hidden_genders
    }
    changed = True
    while changed:
        changed = False
        lines: list[list[Cell]] = []
        for region in {cell[0] for cell in cells} - hidden_regions:
            lines.append([cell for cell in cells if cell[0] == region])
        for gender in {cell[1] for cell in cells} - hidden_genders:
            lines.append([cell for cell in cells if cell[1] == gender])
        for line in lines:
            mass = sum(sizes[cell] for cell in line if cell in hidden)
            shown = sorted(
                (sizes[cell], str(cell), cell)
                for cell in line
                if cell not in hidden and sizes[cell]
            )
            if 0 < mass < SMALL_GROUP and shown:
                hidden.add(shown[0][2])
                changed = True
    ordered = sorted(cells.items(), key=lambda item: tuple((k is None, k or "") for k in item[0]))
    return [
        CrossCell(cell[0], cell[1], None if cell in hidden else counts, cell in small)
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
    by_region = _groups(regions)
    by_gender = _groups(genders)
    hidden_regions = {g.key for g in by_region if g.counts is None}
    hidden_genders = {g.key for g in by_gender if g.counts is None}
    cross = _cross(cells, hidden_regions, hidden_genders)
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
