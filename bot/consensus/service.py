"""Consensus rounds: who may propose and decide, opening a round as a consent poll, reading
its close, and the outcome. Voting itself is the polls area's (secret ballots included)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import SUPPORTED_LOCALES
from bot.delivery.queue import Priority, enqueue_broadcast
from bot.delivery.scheduler import schedule
from bot.polls.closing import check_closing
from bot.polls.jobs import finish_poll, launch_poll
from bot.polls.service import Comment, coordinated_groups, objections, results_of, save_poll
from bot.polls.service import Draft as PollDraft
from models.consensus import DEFAULT_QUORUM, Outcome, Proposal, Round, participant_ids
from models.group import MembershipStatus, WorkingGroup, get_membership
from models.member import Member
from models.poll import (
    BLOCK,
    DISAGREE,
    Participation,
    Poll,
    PollKind,
    audience_count,
    audience_ids,
    get_poll,
)

if TYPE_CHECKING:
    from bot.core.app import App

MAX_TITLE = 120
MAX_TEXT = 2500  # room for the header, the changes and the objections in 4096
QUORUMS = (25, 33, 50, 66, 75)
NETWORK = 0  # group_id of a proposal to the whole network


class Refusal(enum.StrEnum):
    """Why a consensus action was refused."""

    NOT_COORDINATOR = "not_coordinator"
    GONE = "gone"
    DECIDED = "decided"
    NOT_CURRENT = "not_current"  # a forged or outdated round
    STILL_OPEN = "still_open"
    BLOCKED = "blocked"
    NO_QUORUM = "no_quorum"
    INCOMPLETE = "incomplete"
    CLOSING_PAST = "closing_past"


@dataclass
class Draft:
    """A proposal (or an amendment of one) being written; kept in the FSM data as JSON."""

    locale: str
    group_id: int = NETWORK
    proposal_id: int | None = None  # set when amending
    after_round: int | None = None  # the round an amendment follows
    title: str = ""
    text: str = ""
    versions: dict[str, dict[str, str]] = field(default_factory=dict)
    quorum: int = DEFAULT_QUORUM
    anonymous: bool = True
    closes_at: str | None = None
    attachment: str | None = None  # a voice note's or a document's Telegram file id
    attachment_kind: str | None = None  # "voice" or "document"

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Draft:
        known = {key: value for key, value in data.items() if key in cls.__dataclass_fields__}
        return cls(**known)

    @property
    def closing(self) -> datetime | None:
        return datetime.fromisoformat(self.closes_at) if self.closes_at else None

    def other_locales(self) -> list[str]:
        """Languages a version can still be written in."""
        return [code for code in SUPPORTED_LOCALES if code != self.locale]


def clean_text(text: str, limit: int) -> str | None:
    """Text as it will be shown (lines kept, spaces collapsed), or None when unusable."""
    lines = [" ".join(line.split()) for line in text.strip().splitlines()]
    kept = "\n".join(lines).strip()
    kept = "".join(ch for ch in kept if ch == "\n" or ch.isprintable())
    if not kept or kept.startswith("/") or len(kept) > limit:
        return None
    return kept


def parse_version(text: str) -> tuple[str, str] | None:
    """A version typed as one message: the title on the first line, the text below."""
    head, _, body = text.strip().partition("\n")
    title, body_text = clean_text(head, MAX_TITLE), clean_text(body, MAX_TEXT)
    if title is None or body_text is None:
        return None
    return title, body_text


# --- who may do what ----------------------------------------------------------------------------


async def proposable_groups(session: AsyncSession, member: Member) -> list[WorkingGroup]:
    """Groups the member may put a proposal to (the polls area's rule: coordinators, admins)."""
    return await coordinated_groups(session, member)


async def may_propose(session: AsyncSession, member: Member | None, group_id: int) -> bool:
    """A coordinator of the group, as they stand now; the network is for admins only."""
    if member is None or not member.is_active:
        return False
    if group_id == NETWORK:
        return member.is_admin
    return group_id in {g.id for g in await proposable_groups(session, member)}


async def may_decide(session: AsyncSession, member: Member | None, proposal: Proposal) -> bool:
    """Who may adopt, amend or withdraw: the group's coordinators (admins for the network)."""
    return await may_propose(session, member, proposal.group_id or NETWORK)


async def may_read(session: AsyncSession, member: Member | None, group_id: int) -> bool:
    """Decisions are for the group's active members (the network's for every member)."""
    if member is None or not member.is_active:
        return False
    if group_id == NETWORK or member.is_admin:
        return True
    link = await get_membership(session, group_id, member.id)
    return link is not None and link.status == MembershipStatus.ACTIVE


# --- opening a round ----------------------------------------------------------------------------


def check_draft(draft: Draft, now: datetime) -> Refusal | None:
    """Why the draft cannot be sent yet, or None."""
    if not draft.title or not draft.text:
        return Refusal.INCOMPLETE
    closing = draft.closing
    if closing is None or check_closing(closing, now).moment is None:
        return Refusal.CLOSING_PAST
    return None


def poll_draft(draft: Draft, group_id: int | None) -> PollDraft:
    """The consent poll of a round: its question is the title, in every version's language."""
    poll = PollDraft(
        locale=draft.locale,
        question=draft.title,
        kind=PollKind.CONSENT,
        anonymous=draft.anonymous,
        closes_at=draft.closes_at,
    )
    if group_id is None:
        poll.for_network()
    else:
        poll.toggle_group(group_id)
    for code, version in draft.versions.items():
        poll.add_version(code, version["title"], [])
    return poll


async def check_amendment(
    session: AsyncSession, member: Member | None, proposal: Proposal | None, round_id: int
) -> Refusal | None:
    """Why this member may not amend (or decide on) this round now, or None."""
    if proposal is None or not proposal.rounds:
        return Refusal.GONE
    if not await may_decide(session, member, proposal):
        return Refusal.NOT_COORDINATOR
    if not proposal.is_open:
        return Refusal.DECIDED
    if proposal.last_round.id != round_id:
        return Refusal.NOT_CURRENT
    if not proposal.last_round.is_closed:
        return Refusal.STILL_OPEN
    return None


async def open_round(
    session: AsyncSession, app: App, draft: Draft, member: Member, now: datetime
) -> Round:
    """Store the proposal (when new) and its next round, and send the round's consent poll."""
    if draft.proposal_id is None:
        proposal = Proposal(
            group_id=draft.group_id or None,
            created_by_member_id=member.id,
            locale=draft.locale,
            quorum=draft.quorum,
            anonymous=draft.anonymous,
            status=Outcome.OPEN,
            created_at=now,
            rounds=[],
        )
        session.add(proposal)
        await session.flush()
    else:
        found = await session.get(Proposal, draft.proposal_id)
        assert found is not None
        proposal = found
    pd = poll_draft(draft, proposal.group_id)
    pd.anonymous = proposal.anonymous
    poll = await save_poll(session, pd, member, now)
    poll.reason_on_disagree = True
    closing = draft.closing
    assert closing is not None
    number = len(proposal.rounds) + 1
    round_ = Round(
        proposal_id=proposal.id,
        number=number,
        poll_id=poll.id,
        title=draft.title,
        text=draft.text,
        versions=dict(draft.versions),
        attachment=draft.attachment,
        attachment_kind=draft.attachment_kind,
        closes_at=closing,
    )
    proposal.rounds.append(round_)
    await session.flush()
    # The proposal (and what changed) first, then the consent poll under it.
    await enqueue_broadcast(
        session,
        kind="consensus_round",
        payload={"round_id": round_.id},
        recipients=audience_ids(poll),
        created_by_id=member.id,
        dedupe_key=f"consensus:{round_.id}",
    )
    await launch_poll(session, app, poll, member)
    await schedule(
        session,
        kind="consensus_close",
        due_at=closing,
        payload={"round_id": round_.id},
        key=f"consensus:{round_.id}:close",
    )
    return round_


# --- closing a round ----------------------------------------------------------------------------


def quorum_met(voters: int, audience: int, quorum: int) -> bool:
    """At least `quorum` per cent of the audience took part."""
    return audience > 0 and voters * 100 >= quorum * audience


def comment_json(code: str, comment: Comment) -> dict[str, Any]:
    return {
        "code": code,
        "author": comment.author,
        "text": comment.text,
        "voice": comment.voice_file_id,
        "versions": dict(comment.versions or {}),
    }


async def close_round(session: AsyncSession, app: App, round_: Round, now: datetime) -> bool:
    """Close the round's poll (once), freeze what it showed, and tell the coordinator."""
    if round_.is_closed or round_.poll_id is None:
        return False
    poll = await get_poll(session, round_.poll_id)
    if poll is None:
        return False
    await finish_poll(session, app, poll, now)  # nothing happens if the poll closed already
    if round_.is_closed:
        return True  # the poll's close step (round_poll_closed) froze the round just now
    total = (await results_of(session, poll)).total
    proposal = await session.get(Proposal, round_.proposal_id)
    assert proposal is not None
    audience = await audience_count(session, poll)
    grouped = await objections(session, poll)
    round_.result = {
        "voters": total.voters,
        "options": list(total.options),
        "audience": audience,
        "quorum_met": quorum_met(total.voters, audience, proposal.quorum),
        "objections": [comment_json(code, c) for code, found in grouped.items() for c in found],
    }
    round_.closed_at = now
    await session.flush()
    if proposal.created_by_member_id is not None:
        await enqueue_broadcast(
            session,
            kind="consensus_review",
            payload={"round_id": round_.id},
            recipients=[proposal.created_by_member_id],
            priority=Priority.HIGH,
            dedupe_key=f"consensus:{round_.id}:review",
        )
    return True


async def round_poll_closed(session: AsyncSession, app: App, poll: Poll, now: datetime) -> None:
    """A round's consent poll closed (at its time, or early with "Close now"): the round
    closes with it and the coordinator's review goes out at once."""
    if poll.kind != PollKind.CONSENT:
        return
    round_ = await session.scalar(select(Round).where(Round.poll_id == poll.id))
    if round_ is not None:
        await close_round(session, app, round_, now)


def blocks(round_: Round) -> int:
    return int((round_.result or {}).get("options", [0] * 4)[BLOCK])


def disagreements(round_: Round) -> int:
    return int((round_.result or {}).get("options", [0] * 4)[DISAGREE])


def adoptable(round_: Round) -> Refusal | None:
    """Why the closed round's proposal cannot be adopted, or None."""
    if blocks(round_):
        return Refusal.BLOCKED
    if not (round_.result or {}).get("quorum_met"):
        return Refusal.NO_QUORUM
    return None


async def decide(
    session: AsyncSession,
    app: App,
    member: Member | None,
    proposal: Proposal | None,
    round_id: int,
    outcome: Outcome,
    now: datetime,
) -> Refusal | None:
    """Adopt, record as not adopted, or withdraw after the latest round's close; the record
    then goes to every participant."""
    refused = await check_amendment(session, member, proposal, round_id)
    if refused is not None:
        return refused
    assert proposal is not None
    last = proposal.last_round
    if outcome in (Outcome.ADOPTED, Outcome.STAND_ASIDES):
        refused = adoptable(last)
        if refused is not None:
            return refused
        outcome = Outcome.STAND_ASIDES if disagreements(last) else Outcome.ADOPTED
    proposal.status = outcome
    proposal.decided_at = now
    await session.flush()
    recipients = set(await session.scalars(participant_ids(proposal)))
    if proposal.created_by_member_id is not None:
        recipients.add(proposal.created_by_member_id)
    if member is not None:
        recipients.add(member.id)
    await enqueue_broadcast(
        session,
        kind="consensus_record",
        payload={"proposal_id": proposal.id},
        recipients=sorted(recipients),
        dedupe_key=f"consensus:proposal:{proposal.id}:record",
    )
    return None


def amendment(proposal: Proposal) -> Draft:
    """A draft for the next round, starting from the latest text."""
    last = proposal.last_round
    return Draft(
        locale=proposal.locale,
        group_id=proposal.group_id or NETWORK,
        proposal_id=proposal.id,
        after_round=last.id,
        title=last.title,
        text=last.text,
        versions={},
        quorum=proposal.quorum,
        anonymous=proposal.anonymous,
        attachment=last.attachment,
        attachment_kind=last.attachment_kind,
    )


async def forget_objector(session: AsyncSession, app: App, member: Member) -> None:
    """/forget: a named vote's objections keep their text but lose the member's name."""
    polls = select(Participation.poll_id).where(Participation.member_id == member.id)
    rounds = await session.scalars(select(Round).where(Round.poll_id.in_(polls)))
    for round_ in rounds:
        result = dict(round_.result or {})
        objections_ = [dict(o) for o in result.get("objections", [])]
        changed = False
        for objection in objections_:
            if objection.get("author") and objection["author"] == member.display_name:
                objection["author"] = None
                changed = True
        if changed:
            result["objections"] = objections_
            round_.result = result
    await session.flush()
