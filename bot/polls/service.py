"""Consultations: who may create them, checking what coordinators type, voting, closing."""

from __future__ import annotations

import enum
import random
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from bot.core.config import SUPPORTED_LOCALES
from bot.core.privacy import keyed_token
from bot.polls.ballot_box import (
    empty_comments,
    empty_pool,
    pending_comments,
    seal_ballot,
    seal_comment,
)
from bot.polls.closing import check_closing
from bot.polls.tally import Tally, count_cells, tally, tally_cells
from models.audit import AuditAction, record_for_groups
from models.base import hold_if, keep, write_later
from models.group import (
    GroupMembership,
    GroupRole,
    MembershipStatus,
    WorkingGroup,
    coordinates_any,
)
from models.member import Member
from models.poll import (
    BLOCK,
    DISAGREE,
    AnonymousBallot,
    AnonymousComment,
    Audience,
    CommentCount,
    NamedVote,
    Participation,
    PendingBallot,
    PendingComment,
    Poll,
    PollComment,
    PollGroup,
    PollKind,
    PollOption,
    PollStatus,
    PollTranslation,
    VoterToken,
    add_participation,
    has_participated,
    member_in_audience,
    named_vote,
    new_token,
)

MIN_OPTIONS = 2
MAX_OPTIONS = 12
MAX_OPTION = 40  # characters: an inline button shows little more on a phone
MAX_QUESTION = 600  # leaves room for the header, the closing time and notes in 4096
MAX_COMMENT = 1000
SEAL_CHUNK = 5000
_shuffle = random.SystemRandom().shuffle


class Problem(enum.StrEnum):
    """Why a question, an option list or a vote was refused."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    TOO_FEW = "too_few"
    TOO_MANY = "too_many"
    OPTION_TOO_LONG = "option_too_long"
    DUPLICATE = "duplicate"
    COUNT_MISMATCH = "count_mismatch"


class VoteResult(enum.StrEnum):
    """What happened to a vote."""

    RECORDED = "recorded"
    CHANGED = "changed"
    CLOSED = "closed"
    NOT_FOR_YOU = "not_for_you"
    OUT_OF_RANGE = "out_of_range"
    ALREADY_VOTED = "already_voted"
    REASON_NEEDED = "reason_needed"


def clean_line(text: str) -> str:
    """Control characters dropped and spaces collapsed."""
    kept = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch == "\n")
    return " ".join(kept.split())


def clean_question(text: str) -> str | Problem:
    """The question as it will be shown, or why it cannot be used."""
    kept = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch == "\n")
    lines = [" ".join(line.split()) for line in kept.strip().splitlines()]
    question = "\n".join(lines).strip()
    if not question or question.startswith("/"):
        return Problem.EMPTY
    if len(question) > MAX_QUESTION:
        return Problem.TOO_LONG
    return question


def clean_comment(text: str) -> str | None:
    """A comment or a reason as stored, or None when empty, a command or too long."""
    kept = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" or ch == "\n")
    comment = "\n".join(" ".join(line.split()) for line in kept.strip().splitlines()).strip()
    if not comment or comment.startswith("/") or len(comment) > MAX_COMMENT:
        return None
    return comment


def parse_options(text: str, existing: list[str] | None = None) -> list[str] | Problem:
    """Options typed one per line, added to those already given; every limit checked."""
    options = list(existing or [])
    for line in text.splitlines():
        label = clean_line(line).lstrip("•-*·").strip()
        if not label:
            continue
        if len(label) > MAX_OPTION:
            return Problem.OPTION_TOO_LONG
        if label.casefold() in {o.casefold() for o in options}:
            return Problem.DUPLICATE
        options.append(label)
    if len(options) == len(existing or []):
        return Problem.EMPTY
    if len(options) > MAX_OPTIONS:
        return Problem.TOO_MANY
    return options


def parse_translated_options(text: str, count: int) -> list[str] | Problem:
    """A translation of the options: exactly `count` lines, each within the limit."""
    options = parse_options(text)
    if isinstance(options, Problem):
        return options
    if len(options) != count:
        return Problem.COUNT_MISMATCH
    return options


def check_options(options: list[str]) -> Problem | None:
    """Whether a finished option list can be sent (2 to 12)."""
    if len(options) < MIN_OPTIONS:
        return Problem.TOO_FEW
    if len(options) > MAX_OPTIONS:
        return Problem.TOO_MANY
    return None


# --- who may do what ----------------------------------------------------------------------------


async def coordinated_groups(session: AsyncSession, member: Member) -> list[WorkingGroup]:
    """Groups this member may consult: every open group for admins, else those they coordinate."""
    query = select(WorkingGroup).where(WorkingGroup.archived.is_(False))
    if not member.is_admin:
        query = query.join(GroupMembership, GroupMembership.group_id == WorkingGroup.id).where(
            GroupMembership.member_id == member.id,
            GroupMembership.role == GroupRole.COORDINATOR,
            GroupMembership.status == MembershipStatus.ACTIVE,
        )
    rows = await session.scalars(query.order_by(WorkingGroup.code))
    return list(rows)


async def can_create(session: AsyncSession, member: Member | None) -> bool:
    """Network admins, and coordinators of at least one working group."""
    if member is None or not member.is_active:
        return False
    if member.is_admin:
        return True
    return await coordinates_any(session, member.id)


async def can_manage(session: AsyncSession, member: Member | None, poll: Poll) -> bool:
    """Who may see full results and close early: admins and the groups' coordinators as
    their roles stand now (an author who is no longer a coordinator loses the rights)."""
    if member is None or not member.is_active:
        return False
    if member.is_admin:
        return True
    if poll.audience != Audience.GROUPS:
        return False
    mine = {group.id for group in await coordinated_groups(session, member)}
    return bool(mine & set(poll.group_ids))


async def managed_polls(session: AsyncSession, member: Member, limit: int = 10) -> list[Poll]:
    """The most recent polls this member manages, open ones first."""
    if not member.is_active:
        return []
    query = select(Poll).order_by(Poll.status.desc(), Poll.id.desc())
    if not member.is_admin:
        mine = [group.id for group in await coordinated_groups(session, member)]
        query = query.where(
            Poll.id.in_(select(PollGroup.poll_id).where(PollGroup.group_id.in_(mine)))
        )
    return list(await session.scalars(query.limit(limit)))


# --- creating -----------------------------------------------------------------------------------


@dataclass
class Draft:
    """A poll being written in the creation conversation (kept in the FSM data as JSON)."""

    locale: str
    question: str = ""
    kind: str = PollKind.SINGLE
    options: list[str] = field(default_factory=list)
    anonymous: bool = True
    audience: str = Audience.GROUPS
    group_ids: list[int] = field(default_factory=list)
    region: str | None = None
    closes_at: str | None = None  # ISO, UTC
    remind_hours: int | None = 24
    results_live: bool = False
    share_results: bool = True
    translations: dict[str, dict[str, Any]] = field(default_factory=dict)
    voice_file_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Draft:
        known = {key: value for key, value in data.items() if key in cls.__dataclass_fields__}
        return cls(**known)

    @property
    def closing(self) -> datetime | None:
        return datetime.fromisoformat(self.closes_at) if self.closes_at else None

    @property
    def has_own_options(self) -> bool:
        return self.kind in (PollKind.SINGLE, PollKind.MULTIPLE)

    def other_locales(self) -> list[str]:
        """Languages a version can still be added in."""
        return [code for code in SUPPORTED_LOCALES if code != self.locale]

    def choose_kind(self, kind: str) -> None:
        """A new kind of answer: versions written for the old one no longer fit."""
        if self.kind != kind:
            self.translations = {}
        self.kind = kind

    def set_options(self, options: list[str]) -> None:
        """New answers: versions in other languages no longer match them."""
        self.options = options
        self.translations = {}

    def for_network(self) -> None:
        self.audience, self.group_ids, self.region = Audience.NETWORK, [], None

    def for_region(self, region: str) -> None:
        self.audience, self.group_ids, self.region = Audience.REGION, [], region

    def toggle_group(self, group_id: int) -> None:
        """Tick or untick a working group (ticking one leaves the network or a region)."""
        chosen = set(self.group_ids) if self.audience == Audience.GROUPS else set()
        chosen ^= {group_id}
        self.audience, self.group_ids, self.region = Audience.GROUPS, sorted(chosen), None

    @property
    def has_groups(self) -> bool:
        return self.audience == Audience.GROUPS and bool(self.group_ids)

    def add_version(self, locale: str, question: str, options: list[str]) -> None:
        """The question (and answers) in another language."""
        self.translations[locale] = {"question": question, "options": options}

    def remind_at(self, now: datetime) -> datetime | None:
        """When to remind, if that is still ahead."""
        closing = self.closing
        if closing is None or self.remind_hours is None:
            return None
        moment = closing - timedelta(hours=self.remind_hours)
        return moment if moment > now else None

    def build(self, creator_id: int | None, now: datetime) -> Poll:
        """The Poll this draft describes (transient until added to a session)."""
        closing = self.closing
        assert closing is not None
        poll = Poll(
            id=None,
            created_by_member_id=creator_id,
            locale=self.locale,
            question=self.question,
            kind=self.kind,
            anonymous=self.anonymous,
            audience=self.audience,
            region=self.region if self.audience == Audience.REGION else None,
            status=PollStatus.OPEN,
            closes_at=closing,
            remind_at=self.remind_at(now),
            results_live=self.results_live,
            share_results=self.share_results,
            voice_file_id=self.voice_file_id,
            created_at=now,
        )
        if self.has_own_options:
            poll.options = [
                PollOption(position=i, label=label) for i, label in enumerate(self.options)
            ]
        else:
            poll.options = []
        poll.translations = [
            PollTranslation(
                locale=code,
                question=version["question"],
                options=list(version.get("options") or []) if self.has_own_options else [],
            )
            for code, version in sorted(self.translations.items())
            if version.get("question")
        ]
        poll.groups = (
            [PollGroup(group_id=gid) for gid in self.group_ids]
            if self.audience == Audience.GROUPS
            else []
        )
        return poll


class SendProblem(enum.StrEnum):
    """Why a finished draft may not be sent now."""

    NOT_CREATOR = "not_creator"
    NOT_ADMIN = "not_admin"
    NOT_THEIR_GROUPS = "not_their_groups"
    INCOMPLETE = "incomplete"
    CLOSING_PAST = "closing_past"


def may_consult_network(member: Member) -> bool:
    """Only network admins consult the whole network or a region."""
    return member.is_admin


async def check_draft(
    session: AsyncSession, member: Member, draft: Draft, now: datetime
) -> SendProblem | None:
    """Why this member may not send this draft now (their role as it stands), or None."""
    if not await can_create(session, member):
        return SendProblem.NOT_CREATOR
    if draft.audience != Audience.GROUPS:
        if not may_consult_network(member):
            return SendProblem.NOT_ADMIN
    else:
        allowed = {group.id for group in await coordinated_groups(session, member)}
        if not draft.group_ids or not set(draft.group_ids) <= allowed:
            return SendProblem.NOT_THEIR_GROUPS
    if not draft.question or (draft.has_own_options and check_options(draft.options)):
        return SendProblem.INCOMPLETE
    closing = draft.closing
    if closing is None or check_closing(closing, now).moment is None:
        return SendProblem.CLOSING_PAST
    return None


async def save_poll(session: AsyncSession, draft: Draft, creator: Member, now: datetime) -> Poll:
    """Store the finished draft as an open poll."""
    poll = draft.build(creator.id, now)
    session.add(poll)
    await session.flush()
    await record_for_groups(
        session,
        creator,
        AuditAction.POLL_CREATED,
        poll.group_ids,
        object_kind="poll",
        object_id=poll.id,
    )
    return poll


@dataclass
class Comment:
    """A comment or a block's reason as coordinators see it: the author only on named polls."""

    author: str | None
    text: str | None
    voice_file_id: str | None
    versions: dict[str, str] | None = None  # the reason in other languages, kept with it


# --- answering ----------------------------------------------------------------------------------


def valid_choices(poll: Poll, choices: int) -> bool:
    """A non-empty set of existing options; exactly one unless multiple choice."""
    count = poll.option_count
    if choices <= 0 or choices >= 1 << count:
        return False
    return poll.kind == PollKind.MULTIPLE or choices & (choices - 1) == 0


def is_block(poll: Poll, choices: int) -> bool:
    return poll.kind == PollKind.CONSENT and choices == 1 << BLOCK


def asks_reason(poll: Poll, choices: int) -> bool:
    """A block always needs its reason; a disagreement too where the poll asks (consensus)."""
    disagrees = poll.kind == PollKind.CONSENT and choices == 1 << DISAGREE
    return is_block(poll, choices) or (disagrees and poll.reason_on_disagree)


def needs_reason(poll: Poll, choices: int) -> bool:
    """Only a block must carry its reason; a disagreement's is welcome but optional."""
    return is_block(poll, choices)


def voter_token(key: bytes, poll: Poll, member: Member) -> str:
    """The keyed one-way token saying this member voted in this poll (outlives /forget)."""
    return keyed_token(key, "poll", poll.id, member.telegram_id)


async def voted_before_erasure(
    session: AsyncSession, poll: Poll, member: Member, key: bytes
) -> bool:
    """A secret poll's voter token matches this member: they voted, then erased themselves."""
    if not poll.anonymous or not key:
        return False
    found = await session.get(VoterToken, (poll.id, voter_token(key, poll, member)))
    return found is not None


async def check_vote(
    session: AsyncSession,
    poll: Poll | None,
    member: Member,
    choices: int,
    now: datetime,
    key: bytes = b"",
) -> VoteResult | None:
    """Why this vote cannot be taken, or None when it can (`key`: the server's privacy key,
    whose token stops a second secret vote by someone who erased themselves since)."""
    if poll is None or not member.is_active or not await member_in_audience(session, poll, member):
        return VoteResult.NOT_FOR_YOU
    if not poll.is_open or now >= poll.closes_at:
        return VoteResult.CLOSED
    if not valid_choices(poll, choices):
        return VoteResult.OUT_OF_RANGE
    if poll.anonymous and await has_participated(session, poll.id, member.id):
        return VoteResult.ALREADY_VOTED
    if await voted_before_erasure(session, poll, member, key):
        return VoteResult.ALREADY_VOTED
    return None


async def still_open(session: AsyncSession, poll: Poll) -> bool:
    """Hold the poll's row until commit and say whether it is still open (a close running
    at the same moment waits for this transaction, or this one sees the poll closed)."""
    if await hold_if(session, Poll.status, poll.id, Poll.status == PollStatus.OPEN):
        return True
    await session.refresh(poll, ["status"])
    return False


async def cast_vote(
    session: AsyncSession,
    poll: Poll | None,
    member: Member,
    choices: int,
    now: datetime,
    reason: Comment | None = None,
    key: bytes = b"",
) -> VoteResult:
    """Record an answer: a secret ballot (sealed with `key` into the pool, see ballot_box) plus
    the bare fact of participation and its keyed token, or a named vote. A block (and a
    disagreement where asked) counts only with a reason (text or voice). A secret vote needs
    the privacy key (SealError without it)."""
    refused = await check_vote(session, poll, member, choices, now, key)
    if refused is not None:
        return refused
    assert poll is not None
    given = reason is not None and bool(reason.text or reason.voice_file_id)
    if not asks_reason(poll, choices) or not given:
        if needs_reason(poll, choices):
            open_now = await still_open(session, poll)
            return VoteResult.REASON_NEEDED if open_now else VoteResult.CLOSED
        reason = None
    text = reason.text if reason else None
    voice = reason.voice_file_id if reason else None
    versions = (reason.versions or None) if reason and text else None
    # A first answer in an open poll (the usual case) is one insert, which holds the poll
    # until commit: a close at the same moment waits for this vote (and counts it), or this
    # vote sees the poll closed. Otherwise the poll's row tells which it was.
    first = await add_participation(session, poll.id, member.id)
    if not first:
        if not await still_open(session, poll):
            return VoteResult.CLOSED
        if poll.anonymous:
            return VoteResult.ALREADY_VOTED
        vote = await named_vote(session, poll.id, member.id)
        if vote is not None:
            vote.choices, vote.voted_at = choices, now
            vote.reason, vote.reason_voice_file_id = text, voice
            vote.reason_versions = versions
            vote.region, vote.gender = member.region, member.gender
            await session.flush()
            return VoteResult.CHANGED
    # The poll is shown again right after the vote, which reads the participation (and a
    # named vote) back: keep them in this session's identity map so it need not.
    if first:
        participation = Participation(poll_id=poll.id, member_id=member.id)
        make_transient_to_detached(participation)
        session.add(participation)
        keep(session, participation)
    if poll.anonymous:
        if key:
            session.add(VoterToken(poll_id=poll.id, token=voter_token(key, poll, member)))
        sealed = seal_ballot(
            key,
            poll.id,
            choices=choices,
            region=member.region,
            gender=member.gender,
            reason=text,
            reason_voice_file_id=voice,
            reason_versions=versions,
        )
        session.add(PendingBallot(poll_id=poll.id, sealed=sealed))
    else:
        answer: dict[str, Any] = {
            "poll_id": poll.id,
            "member_id": member.id,
            "choices": choices,
            "region": member.region,
            "gender": member.gender,
            "reason": text,
            "reason_voice_file_id": voice,
            "reason_versions": versions,
            "voted_at": now,
        }
        # One plain INSERT (the unit of work costs more than the statement), sent with the
        # commit; the answer shown right after is this one, kept in memory.
        await write_later(session, insert(cast(Table, NamedVote.__table__)).values(answer))
        keep(session, NamedVote(**answer))
    await session.flush()
    return VoteResult.RECORDED


MAX_COMMENTS = 5  # per member and poll


class CommentResult(enum.StrEnum):
    """What happened to a comment."""

    SAVED = "saved"
    CLOSED = "closed"
    NOT_ANSWERED = "not_answered"
    TOO_MANY = "too_many"


async def add_comment(
    session: AsyncSession,
    poll: Poll,
    member: Member,
    now: datetime,
    text: str | None = None,
    voice_file_id: str | None = None,
    key: bytes = b"",
) -> CommentResult:
    """A comment by someone who answered, at most MAX_COMMENTS per poll; on a secret ballot
    it is stored without its author (the count is kept under a keyed one-way token) and
    sealed with `key` until the close (the counter shares its transaction)."""
    if not poll.is_open:
        return CommentResult.CLOSED
    if not await has_participated(session, poll.id, member.id):
        return CommentResult.NOT_ANSWERED
    if poll.anonymous:
        token = keyed_token(key, "comments", poll.id, member.telegram_id)
        counted = await session.get(CommentCount, (poll.id, token), with_for_update=True)
        if counted is None:
            counted = CommentCount(poll_id=poll.id, token=token, count=0)
            session.add(counted)
        if counted.count >= MAX_COMMENTS:
            return CommentResult.TOO_MANY
        counted.count += 1
        sealed = seal_comment(key, poll.id, text, voice_file_id)
        session.add(PendingComment(poll_id=poll.id, sealed=sealed))
    else:
        written = await session.scalar(
            select(func.count())
            .select_from(PollComment)
            .where(PollComment.poll_id == poll.id, PollComment.member_id == member.id)
        )
        if int(written or 0) >= MAX_COMMENTS:
            return CommentResult.TOO_MANY
        session.add(
            PollComment(
                poll_id=poll.id,
                member_id=member.id,
                text=text,
                voice_file_id=voice_file_id,
                created_at=now,
            )
        )
    await session.flush()
    return CommentResult.SAVED


# --- closing ------------------------------------------------------------------------------------


async def seal_ballots(session: AsyncSession, poll: Poll) -> None:
    """Re-write a closed poll's secret ballots and comments in random order, under new keys,
    without region and gender: what the store kept of insertion order or rare attributes is
    gone, and the (already protected) breakdowns stay frozen on the poll."""
    for table, columns in (
        (
            AnonymousBallot,
            (
                AnonymousBallot.choices,
                AnonymousBallot.reason,
                AnonymousBallot.reason_voice_file_id,
                AnonymousBallot.reason_versions,
            ),
        ),
        (AnonymousComment, (AnonymousComment.text, AnonymousComment.voice_file_id)),
    ):
        rows = [
            dict(row._mapping)
            for row in await session.execute(select(*columns).where(table.poll_id == poll.id))
        ]
        await session.execute(delete(table).where(table.poll_id == poll.id))
        _shuffle(rows)
        for row in rows:
            row.update(id=new_token(), poll_id=poll.id)
        for start in range(0, len(rows), SEAL_CHUNK):
            await session.execute(insert(table), rows[start : start + SEAL_CHUNK])


async def close_poll(session: AsyncSession, poll: Poll, now: datetime, key: bytes) -> bool:
    """Close an open poll once; returns False when it was already closed. `key`: the privacy
    key, which opens a secret poll's pool and sealed comments."""
    if not await still_open(session, poll):
        return False
    poll.status = PollStatus.CLOSED
    poll.closed_at = now
    # comments are over: the keyed counts of who commented go
    await session.execute(delete(CommentCount).where(CommentCount.poll_id == poll.id))
    if poll.anonymous:
        await empty_pool(session, poll.id, key, everything=True)
        await empty_comments(session, poll.id, key)
        poll.results = tally_cells(poll.option_count, await count_cells(session, poll)).to_json()
        await seal_ballots(session, poll)
    await session.flush()
    return True


async def results_of(session: AsyncSession, poll: Poll) -> Tally:
    """The poll's tally (frozen at the close for secret ballots)."""
    return await tally(session, poll)


async def block_reasons(session: AsyncSession, poll: Poll, option: int = BLOCK) -> list[Comment]:
    """Reasons given with blocks (or with another consent `option`), named only on named
    polls."""
    if poll.kind != PollKind.CONSENT:
        return []
    if poll.anonymous:
        rows = await session.execute(
            select(
                AnonymousBallot.reason,
                AnonymousBallot.reason_voice_file_id,
                AnonymousBallot.reason_versions,
            )
            .where(AnonymousBallot.poll_id == poll.id, AnonymousBallot.choices == 1 << option)
            .order_by(AnonymousBallot.id)
        )
        return [
            Comment(None, text, voice, versions)
            for text, voice, versions in rows.all()
            if text or voice
        ]
    named = await session.execute(
        select(
            Member.display_name,
            NamedVote.reason,
            NamedVote.reason_voice_file_id,
            NamedVote.reason_versions,
        )
        .join(Member, Member.id == NamedVote.member_id)
        .where(NamedVote.poll_id == poll.id, NamedVote.choices == 1 << option)
        .order_by(Member.display_name)
    )
    return [
        Comment(name, text, voice, versions)
        for name, text, voice, versions in named.all()
        if text or voice
    ]


async def objections(session: AsyncSession, poll: Poll) -> dict[str, list[Comment]]:
    """Every reason given with a Block or a Disagree, grouped (consensus rounds read them)."""
    return {
        "block": await block_reasons(session, poll, BLOCK),
        "disagree": await block_reasons(session, poll, DISAGREE),
    }


async def comments_on(session: AsyncSession, poll: Poll, key: bytes) -> list[Comment]:
    """Every comment on the poll (authors named only on named polls; `key` opens those still
    sealed on an open secret poll)."""
    if poll.anonymous:
        rows = await session.execute(
            select(AnonymousComment.text, AnonymousComment.voice_file_id)
            .where(AnonymousComment.poll_id == poll.id)
            .order_by(AnonymousComment.id)
        )
        found = [Comment(None, text, voice) for text, voice in rows.all()]
        if poll.is_open:
            for row in await pending_comments(session, poll.id, key):
                found.append(Comment(None, row["text"], row["voice_file_id"]))
        return found
    named = await session.execute(
        select(Member.display_name, PollComment.text, PollComment.voice_file_id)
        .join(Member, Member.id == PollComment.member_id)
        .where(PollComment.poll_id == poll.id)
        .order_by(PollComment.id)
    )
    return [Comment(name, text, voice) for name, text, voice in named.all()]


async def group_names(session: AsyncSession, poll: Poll, locale: str, default: str) -> list[str]:
    """Names of the poll's working groups in `locale`."""
    if not poll.group_ids:
        return []
    rows = await session.scalars(
        select(WorkingGroup).where(WorkingGroup.id.in_(poll.group_ids)).order_by(WorkingGroup.id)
    )
    return [group.text(locale, default)[0] for group in rows]
