"""Priorities: members rank up to 12 possible collective actions (their top 3 in order, or 5
points spread by taps); a Borda count or point totals, with the polls' protected breakdowns."""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, literal, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.queue import Priority, enqueue_broadcast
from bot.delivery.scheduler import schedule
from bot.polls.tally import Cell, Counts, Tally, tally_cells
from models.base import hold_if
from models.consensus import (
    Priorities,
    PriorityBallot,
    PriorityMode,
    PriorityParticipation,
)
from models.group import active_member_ids
from models.member import Member, MemberStatus

if TYPE_CHECKING:
    from bot.core.app import App

PICK_COLUMNS = ("p1", "p2", "p3", "p4", "p5")
_PICKS = re.compile(r"^(\d{1,2}(\.\d{1,2}){0,4})?$")


class RankResult(enum.StrEnum):
    """What happened to a ranking."""

    RECORDED = "recorded"
    CLOSED = "closed"
    NOT_FOR_YOU = "not_for_you"
    ALREADY = "already"
    INVALID = "invalid"  # an option that does not exist, or too many picks
    TWICE = "twice"  # the same option ranked twice
    INCOMPLETE = "incomplete"


def parse_picks(text: str) -> list[int] | None:
    """Picks carried by a button ("3.0.7"), or None when the text is not picks at all."""
    if not _PICKS.match(text):
        return None
    return [int(part) for part in text.split(".")] if text else []


def check_picks(
    consultation: Priorities, picks: Sequence[int], *, complete: bool
) -> RankResult | None:
    """Why these picks cannot stand (a forged button), or None."""
    if any(not 0 <= p < len(consultation.options) for p in picks):
        return RankResult.INVALID
    if len(picks) > consultation.picks:
        return RankResult.INVALID
    if consultation.mode == PriorityMode.RANK and len(set(picks)) != len(picks):
        return RankResult.TWICE
    if complete and len(picks) != min(consultation.picks, needed(consultation)):
        return RankResult.INCOMPLETE
    return None


def needed(consultation: Priorities) -> int:
    """How many picks complete a ballot (a ranking of 2 options has only 2 places)."""
    if consultation.mode == PriorityMode.RANK:
        return min(consultation.picks, len(consultation.options))
    return consultation.picks


async def in_audience(session: AsyncSession, consultation: Priorities, member: Member) -> bool:
    """The group's active members (every active member for the network)."""
    if member.status != MemberStatus.ACTIVE:
        return False
    if consultation.group_id is None:
        return True
    found = await session.scalar(
        active_member_ids(consultation.group_id).where(Member.id == member.id)
    )
    return found is not None


OPEN = Priorities.closed_at.is_(None)


async def rank(
    session: AsyncSession,
    consultation: Priorities | None,
    member: Member,
    picks: Sequence[int],
    now: datetime,
) -> RankResult:
    """Store a ranking (secret: with no member; named: with the member) and the fact that
    the member answered."""
    if consultation is None or not await in_audience(session, consultation, member):
        return RankResult.NOT_FOR_YOU
    if not consultation.is_open or now >= consultation.closes_at:
        return RankResult.CLOSED
    refused = check_picks(consultation, picks, complete=True)
    if refused is not None:
        return refused
    # checked again inside the write: a close at the same moment counts this ranking or
    # refuses it, never leaves it uncounted
    if not await hold_if(
        session, Priorities.closed_at, consultation.id, Priorities.closed_at.is_(None)
    ):
        return RankResult.CLOSED
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = await session.execute(
        dialect.insert(PriorityParticipation)
        .values(consultation_id=consultation.id, member_id=member.id)
        .on_conflict_do_nothing()
        .returning(PriorityParticipation.member_id)
    )
    if inserted.first() is None:
        return RankResult.ALREADY
    ordered = sorted(picks) if consultation.mode == PriorityMode.POINTS else list(picks)
    columns = dict(zip(PICK_COLUMNS, ordered, strict=False))
    session.add(
        PriorityBallot(
            consultation_id=consultation.id,
            region=member.region,
            gender=member.gender,
            member_id=None if consultation.anonymous else member.id,
            **columns,
        )
    )
    await session.flush()
    return RankResult.RECORDED


# --- counting -----------------------------------------------------------------------------------


def fold(
    rows: Sequence[Sequence[Any]], weights: Sequence[int], options: int
) -> dict[Cell, Counts]:
    """Rows of (region, gender, position, option, count) into points per option for each
    cell; every ballot has a first pick, so position 0 counts the voters."""
    cells: dict[Cell, Counts] = {}
    for region, gender, position, option, n in rows:
        counts = cells.get((region, gender))
        if counts is None:
            counts = cells[(region, gender)] = Counts(0, [0] * options)
        if position == 0:
            counts.voters += int(n)
        if option is not None and 0 <= option < options and position < len(weights):
            counts.options[option] += weights[position] * int(n)
    return cells


async def count_priorities(session: AsyncSession, consultation: Priorities) -> Tally:
    """Borda points (or point totals) per option, with the protected breakdowns: per pick
    position, one GROUP BY of (region, gender, option) — a few hundred rows in all."""
    if consultation.results is not None:
        return Tally.from_json(consultation.results)
    parts = []
    for position, name in enumerate(PICK_COLUMNS[: consultation.picks]):
        column = getattr(PriorityBallot, name)
        parts.append(
            select(
                PriorityBallot.region,
                PriorityBallot.gender,
                literal(position).label("position"),
                column.label("option"),
                func.count().label("n"),
            )
            .where(PriorityBallot.consultation_id == consultation.id)
            .group_by(PriorityBallot.region, PriorityBallot.gender, column)
        )
    rows = (await session.execute(union_all(*parts))).all()
    options = len(consultation.options)
    return tally_cells(options, fold([tuple(r) for r in rows], consultation.weights, options))


def ranking(consultation: Priorities, total: Counts) -> list[tuple[int, int]]:
    """(option, points), most points first; ties keep the order the coordinator listed."""
    order = sorted(range(len(consultation.options)), key=lambda i: (-total.options[i], i))
    return [(i, total.options[i]) for i in order]


async def named_rankings(
    session: AsyncSession, consultation: Priorities
) -> list[tuple[str, list[int]]]:
    """A named consultation's rankings: who picked what, by name (none when secret)."""
    if consultation.anonymous:
        return []
    columns = [getattr(PriorityBallot, name) for name in PICK_COLUMNS]
    rows = await session.execute(
        select(Member.display_name, *columns)
        .join(Member, Member.id == PriorityBallot.member_id)
        .where(PriorityBallot.consultation_id == consultation.id)
        .order_by(Member.display_name, Member.id)
    )
    return [(str(row[0]), [int(p) for p in row[1:] if p is not None]) for row in rows.all()]


# --- sending and closing ------------------------------------------------------------------------


def audience_ids(consultation: Priorities) -> Any:
    """SELECT of the ids of the members the consultation is for."""
    if consultation.group_id is None:
        return select(Member.id).where(Member.status == MemberStatus.ACTIVE)
    return active_member_ids(consultation.group_id)


def not_answered_ids(consultation: Priorities) -> Any:
    """SELECT of the audience members who have not answered yet."""
    answered = select(PriorityParticipation.member_id).where(
        PriorityParticipation.consultation_id == consultation.id
    )
    return audience_ids(consultation).where(Member.id.not_in(answered))


def reminder_time(opened: datetime, closes: datetime) -> datetime | None:
    """One reminder: a day before the close, or half-way when the consultation is shorter
    than two days; none when it lasts less than two hours."""
    if closes - opened < timedelta(hours=2):
        return None
    return max(closes - timedelta(days=1), opened + (closes - opened) / 2)


async def launch(session: AsyncSession, consultation: Priorities, creator: Member) -> None:
    """Send the consultation to its audience, schedule its close and its one reminder."""
    await enqueue_broadcast(
        session,
        kind="priorities",
        payload={"consultation_id": consultation.id},
        recipients=audience_ids(consultation),
        created_by_id=creator.id,
        progress_chat_id=creator.telegram_id,
        dedupe_key=f"priorities:{consultation.id}",
    )
    await schedule(
        session,
        kind="priorities_close",
        due_at=consultation.closes_at,
        payload={"consultation_id": consultation.id},
        key=f"priorities:{consultation.id}:close",
    )
    if consultation.remind_at is not None:
        await schedule(
            session,
            kind="priorities_remind",
            due_at=consultation.remind_at,
            payload={"consultation_id": consultation.id},
            key=f"priorities:{consultation.id}:remind",
            not_after=consultation.closes_at,
        )


async def remind(session: AsyncSession, consultation: Priorities, now: datetime) -> bool:
    """Remind, once, the audience members who have not answered (an open consultation)."""
    if not consultation.is_open or now >= consultation.closes_at:
        return False
    await enqueue_broadcast(
        session,
        kind="priorities_reminder",
        payload={"consultation_id": consultation.id},
        recipients=not_answered_ids(consultation),
        dedupe_key=f"priorities:{consultation.id}:remind",
    )
    return True


async def close_priorities(
    session: AsyncSession, app: App, consultation: Priorities, now: datetime
) -> bool:
    """Close once: freeze the protected results, drop region and gender from the ballots,
    then send the ranking to participants and the report to the coordinator."""
    if not await hold_if(
        session, Priorities.closed_at, consultation.id, Priorities.closed_at.is_(None)
    ):
        await session.refresh(consultation, ["closed_at"])
        return False
    consultation.results = (await count_priorities(session, consultation)).to_json()
    consultation.closed_at = now
    await session.execute(
        update(PriorityBallot)
        .where(PriorityBallot.consultation_id == consultation.id)
        .values(region=None, gender=None)
    )
    await enqueue_broadcast(
        session,
        kind="priorities_results",
        payload={"consultation_id": consultation.id},
        recipients=select(PriorityParticipation.member_id).where(
            PriorityParticipation.consultation_id == consultation.id
        ),
        dedupe_key=f"priorities:{consultation.id}:results",
    )
    if consultation.created_by_member_id is not None:
        await enqueue_broadcast(
            session,
            kind="priorities_results",
            payload={"consultation_id": consultation.id, "report": True},
            recipients=[consultation.created_by_member_id],
            priority=Priority.HIGH,
            dedupe_key=f"priorities:{consultation.id}:report",
        )
    await session.flush()
    return True
