"""System of Solidarity: cases raised by members, the alerts issued for them, members'
responses and sign-ons, and the record of every admin action on a case."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    Select,
    String,
    Text,
    UniqueConstraint,
    delete,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow
from models.delivery import Delivery
from models.group import GroupMembership, GroupRole, MembershipStatus
from models.member import Member, MemberStatus


class CaseStatus(enum.StrEnum):
    """A case waits for review, is issued as an alert, declined, or closed with an outcome."""

    SUBMITTED = "submitted"
    ISSUED = "issued"
    DECLINED = "declined"
    CLOSED = "closed"


class SolidarityCase(Base):
    """One case: what happened, where, to whom, what is asked, and how the alert went out."""

    __tablename__ = "solidarity_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    reporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.SUBMITTED)
    locale: Mapped[str] = mapped_column(String(8))
    texts: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    voice_file_id: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(3))
    affected_kind: Mapped[str] = mapped_column(String(16))
    affected_name: Mapped[str | None] = mapped_column(String(200))
    urgent: Mapped[bool] = mapped_column(Boolean, default=True)
    asks: Mapped[list[str]] = mapped_column(JSON, default=list)
    share_reporter: Mapped[bool] = mapped_column(Boolean, default=False)
    share_affected: Mapped[bool] = mapped_column(Boolean, default=False)
    statement: Mapped[str] = mapped_column(Text, default="")
    statement_file_id: Mapped[str | None] = mapped_column(String(200))
    statement_file_name: Mapped[str | None] = mapped_column(String(200))
    audience: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    escalate_hours: Mapped[int] = mapped_column(Integer, default=6)
    escalate_share: Mapped[int] = mapped_column(Integer, default=50)
    delete_after_hours: Mapped[int] = mapped_column(Integer, default=0)
    alert_broadcast_id: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str | None] = mapped_column(String(32))
    decline_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def is_open(self) -> bool:
        """Members can respond to it."""
        return self.status == CaseStatus.ISSUED


class CaseEvent(Base):
    """Who did what to a case, and when (issued, edited, escalated, closed, downloaded...)."""

    __tablename__ = "solidarity_case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("solidarity_cases.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaseResponse(Base):
    """A member's Seen and the actions they can take; erased with the member."""

    __tablename__ = "solidarity_responses"
    __table_args__ = (UniqueConstraint("case_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("solidarity_cases.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    actions: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaseSignature(Base):
    """An organisation signed on to a case's statement through a member; erased with them."""

    __tablename__ = "solidarity_signatures"
    __table_args__ = (UniqueConstraint("case_id", "member_id", "organisation_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("solidarity_cases.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    organisation: Mapped[str] = mapped_column(String(120))
    organisation_key: Mapped[str] = mapped_column(String(120))
    country: Mapped[str | None] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(3))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- queries -----------------------------------------------------------------------------------


async def get_case(session: AsyncSession, case_id: int) -> SolidarityCase | None:
    """A case by id (callback data carries it)."""
    return await session.get(SolidarityCase, case_id)


async def record_event(
    session: AsyncSession,
    case: SolidarityCase,
    actor: Member | None,
    action: str,
    detail: str = "",
) -> None:
    """Add one line to the case's record of admin actions."""
    session.add(
        CaseEvent(
            case_id=case.id, actor_id=actor.id if actor else None, action=action, detail=detail
        )
    )
    await session.flush()


async def case_events(session: AsyncSession, case_id: int) -> list[tuple[CaseEvent, str | None]]:
    """The case's record, oldest first, with who acted (their display name)."""
    rows = await session.execute(
        select(CaseEvent, Member.display_name)
        .outerjoin(Member, Member.id == CaseEvent.actor_id)
        .where(CaseEvent.case_id == case_id)
        .order_by(CaseEvent.id)
    )
    return [(event, name) for event, name in rows.all()]


def audience_ids(audience: dict[str, Any]) -> Select[Any]:
    """Active members in the chosen audience: everyone, or any of the chosen regions,
    languages and working groups."""
    query = select(Member.id).where(Member.status == MemberStatus.ACTIVE)
    if audience.get("everyone", True):
        return query
    regions = [str(r) for r in audience.get("regions", [])]
    locales = [str(code) for code in audience.get("locales", [])]
    groups = [int(g) for g in audience.get("groups", [])]
    in_groups = exists().where(
        GroupMembership.member_id == Member.id,
        GroupMembership.group_id.in_(groups),
        GroupMembership.status == MembershipStatus.ACTIVE,
    )
    return query.where(or_(Member.region.in_(regions), Member.locale.in_(locales), in_groups))


def alerted_ids(case: SolidarityCase) -> Select[Any]:
    """Members the case's alert was queued for."""
    return select(Delivery.member_id).where(
        Delivery.broadcast_id == (case.alert_broadcast_id or 0), Delivery.member_id.is_not(None)
    )


def unseen_ids(case: SolidarityCase) -> Select[Any]:
    """Members who got the alert and have not pressed Seen."""
    seen = select(CaseResponse.member_id).where(
        CaseResponse.case_id == case.id, CaseResponse.seen_at.is_not(None)
    )
    return alerted_ids(case).where(Delivery.member_id.not_in(seen))


def responder_ids(case_id: int) -> Select[Any]:
    """Members who pressed anything on the case (Seen, an action, or signed)."""
    responded = select(CaseResponse.member_id).where(CaseResponse.case_id == case_id)
    signed = select(CaseSignature.member_id).where(CaseSignature.case_id == case_id)
    return select(Member.id).where(or_(Member.id.in_(responded), Member.id.in_(signed)))


def region_coordinator_ids(region: str | None) -> Select[Any]:
    """Active coordinators of any working group who live in the region."""
    coordinates = exists().where(
        GroupMembership.member_id == Member.id,
        GroupMembership.role == GroupRole.COORDINATOR,
        GroupMembership.status == MembershipStatus.ACTIVE,
    )
    return select(Member.id).where(
        Member.region == (region or ""), Member.status == MemberStatus.ACTIVE, coordinates
    )


async def count_alerted(session: AsyncSession, case: SolidarityCase) -> tuple[int, int]:
    """(members alerted, of them pressed Seen)."""
    total = await session.scalar(select(func.count()).select_from(alerted_ids(case).subquery()))
    unseen = await session.scalar(select(func.count()).select_from(unseen_ids(case).subquery()))
    return int(total or 0), int(total or 0) - int(unseen or 0)


async def get_response(session: AsyncSession, case_id: int, member_id: int) -> CaseResponse | None:
    """The member's response to a case, if any."""
    return await session.scalar(
        select(CaseResponse).where(
            CaseResponse.case_id == case_id, CaseResponse.member_id == member_id
        )
    )


async def signatures_of(
    session: AsyncSession, case_id: int, member_id: int | None = None
) -> list[CaseSignature]:
    """A case's sign-ons (one member's only, if given), by organisation."""
    query = select(CaseSignature).where(CaseSignature.case_id == case_id)
    if member_id is not None:
        query = query.where(CaseSignature.member_id == member_id)
    return list(await session.scalars(query.order_by(CaseSignature.organisation_key)))


async def withdraw_signatures(session: AsyncSession, case_id: int, member_id: int) -> int:
    """Remove the member's sign-ons to a case; returns how many."""
    result = await session.execute(
        delete(CaseSignature).where(
            CaseSignature.case_id == case_id, CaseSignature.member_id == member_id
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def counts_by_region(session: AsyncSession, case_id: int) -> dict[str, dict[str, int]]:
    """Live counts per region: seen, acting per action, signed."""
    counts: dict[str, dict[str, int]] = {}
    rows = await session.execute(
        select(Member.region, CaseResponse.seen_at, CaseResponse.actions)
        .join(Member, Member.id == CaseResponse.member_id)
        .where(CaseResponse.case_id == case_id)
    )
    for region, seen_at, actions in rows.all():
        bucket = counts.setdefault(region or "", {})
        if seen_at is not None:
            bucket["seen"] = bucket.get("seen", 0) + 1
        for action in actions or []:
            bucket[f"act:{action}"] = bucket.get(f"act:{action}", 0) + 1
    signed = await session.execute(
        select(CaseSignature.region, func.count())
        .where(CaseSignature.case_id == case_id)
        .group_by(CaseSignature.region)
    )
    for region, count in signed.all():
        bucket = counts.setdefault(region or "", {})
        bucket["signed"] = int(count)
    return counts


async def open_cases_for(session: AsyncSession, member: Member) -> list[SolidarityCase]:
    """Issued cases the member received or responded to, newest first."""
    received = select(Delivery.id).where(
        Delivery.broadcast_id == SolidarityCase.alert_broadcast_id,
        Delivery.member_id == member.id,
    )
    responded = select(CaseResponse.id).where(
        CaseResponse.case_id == SolidarityCase.id, CaseResponse.member_id == member.id
    )
    rows = await session.scalars(
        select(SolidarityCase)
        .where(
            SolidarityCase.status == CaseStatus.ISSUED,
            or_(received.exists(), responded.exists()),
        )
        .order_by(SolidarityCase.id.desc())
        .limit(20)
    )
    return list(rows)


async def cases_waiting(session: AsyncSession) -> list[SolidarityCase]:
    """Cases the secretariat has not closed or declined, newest first."""
    rows = await session.scalars(
        select(SolidarityCase)
        .where(SolidarityCase.status.in_([CaseStatus.SUBMITTED, CaseStatus.ISSUED]))
        .order_by(SolidarityCase.id.desc())
        .limit(20)
    )
    return list(rows)


async def export_solidarity(session: AsyncSession, member: Member) -> dict[str, Any]:
    """The member's reports, responses and signatures, for /mydata."""
    reports = await session.scalars(
        select(SolidarityCase).where(SolidarityCase.reporter_id == member.id)
    )
    responses = await session.scalars(
        select(CaseResponse).where(CaseResponse.member_id == member.id)
    )
    signatures = await session.scalars(
        select(CaseSignature).where(CaseSignature.member_id == member.id)
    )
    return {
        "solidarity_reports": [
            {
                "case": case.id,
                "status": case.status,
                "text": case.texts.get(case.locale, ""),
                "country": case.country,
                "affected_name": case.affected_name,
                "created_at": case.created_at.isoformat(),
            }
            for case in reports
        ],
        "solidarity_responses": [
            {
                "case": response.case_id,
                "seen_at": response.seen_at.isoformat() if response.seen_at else None,
                "actions": list(response.actions or []),
            }
            for response in responses
        ],
        "solidarity_signatures": [
            {
                "case": signature.case_id,
                "organisation": signature.organisation,
                "country": signature.country,
                "signed_at": signature.signed_at.isoformat(),
            }
            for signature in signatures
        ],
    }


async def anonymise_reports(session: AsyncSession, member: Member) -> None:
    """/forget: the member's cases stay for the network, without who raised them."""
    rows = await session.scalars(
        select(SolidarityCase).where(SolidarityCase.reporter_id == member.id)
    )
    for case in rows:
        case.reporter_id = None
        case.share_reporter = False
        case.voice_file_id = None
    await session.flush()


async def was_alerted(session: AsyncSession, case: SolidarityCase, member_id: int) -> bool:
    """Whether the case's alert was queued for this member (forged buttons of others are not)."""
    found = await session.scalar(alerted_ids(case).where(Delivery.member_id == member_id).limit(1))
    return found is not None


async def response_of(
    session: AsyncSession, case_id: int, member_id: int, now: datetime
) -> CaseResponse:
    """The member's response to the case, created on their first tap."""
    response = await get_response(session, case_id, member_id)
    if response is None:
        response = CaseResponse(case_id=case_id, member_id=member_id, actions=[], updated_at=now)
        session.add(response)
        await session.flush()
    return response


async def add_signature(
    session: AsyncSession,
    case_id: int,
    member: Member,
    organisation: str,
    key: str,
    place: tuple[str | None, str | None],
) -> bool:
    """Sign on for an organisation in a (country, region); False if this member already signed
    for it."""
    taken = await session.scalar(
        select(CaseSignature.id).where(
            CaseSignature.case_id == case_id,
            CaseSignature.member_id == member.id,
            CaseSignature.organisation_key == key,
        )
    )
    if taken is not None:
        return False
    session.add(
        CaseSignature(
            case_id=case_id,
            member_id=member.id,
            organisation=organisation,
            organisation_key=key,
            country=place[0],
            region=place[1],
        )
    )
    await session.flush()
    return True


async def counts_by_group(session: AsyncSession, case_id: int) -> dict[int, dict[str, int]]:
    """Live counts per working group of the members who responded: seen, acting, signed."""
    counts: dict[int, dict[str, int]] = {}
    rows = await session.execute(
        select(GroupMembership.group_id, CaseResponse.seen_at, CaseResponse.actions)
        .join(CaseResponse, CaseResponse.member_id == GroupMembership.member_id)
        .where(CaseResponse.case_id == case_id, GroupMembership.status == MembershipStatus.ACTIVE)
    )
    for group_id, seen_at, actions in rows.all():
        bucket = counts.setdefault(int(group_id), {})
        bucket["seen"] = bucket.get("seen", 0) + (seen_at is not None)
        bucket["acting"] = bucket.get("acting", 0) + bool(actions)
    signed = await session.execute(
        select(GroupMembership.group_id, func.count(func.distinct(CaseSignature.id)))
        .join(CaseSignature, CaseSignature.member_id == GroupMembership.member_id)
        .where(CaseSignature.case_id == case_id, GroupMembership.status == MembershipStatus.ACTIVE)
        .group_by(GroupMembership.group_id)
    )
    for group_id, count in signed.all():
        counts.setdefault(int(group_id), {})["signed"] = int(count)
    return counts
