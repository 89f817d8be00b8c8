"""What may happen to a case: the choices a reporter has, the case a draft becomes, and the
secretariat's actions (issue, decline, update, close), each recorded on the case."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import geo
from bot.delivery.queue import Priority, enqueue_broadcast
from bot.delivery.scheduler import cancel_jobs, schedule
from models.member import Member, list_admins
from models.solidarity import (
    CaseStatus,
    SolidarityCase,
    alerted_ids,
    anonymise_reports,
    audience_ids,
    record_event,
    responder_ids,
)

if TYPE_CHECKING:
    from bot.core.app import App

AFFECTED = ("defender", "organisation", "community")
ASKS = ("statement", "authorities", "share", "message", "support", "visit")
OUTCOMES = ("released", "stopped", "ongoing", "other")
MAX_TEXT = 3000
MAX_NAME = 200
MAX_ORGANISATION = 120
ESCALATE_JOB = "solidarity_escalate"
DELETE_JOB = "solidarity_delete"
ESCALATE_HOURS = (1, 3, 6, 12, 24, 48)
ESCALATE_SHARES = (25, 50, 75, 90)
DELETE_HOURS = (0, 6, 24, 47)  # bots may delete their messages in private chats within 48 h
DELETE_BATCH = 100
DEFAULT_HOURS = {True: 6, False: 24}
DEFAULT_SHARE = 50


def new_draft(member: Member) -> dict[str, Any]:
    """An empty case in the reporter's language; names are private unless they choose."""
    return {
        "steps": [],
        "locale": str(member.locale),
        "text": "",
        "voice": None,
        "asks": [],
        "share_reporter": False,
        "share_affected": False,
    }


def build_case(draft: dict[str, Any], reporter: Member) -> SolidarityCase:
    """The case a finished draft becomes; nothing goes to members yet."""
    country = str(draft["country"])
    urgent = bool(draft.get("urgent", True))
    return SolidarityCase(
        reporter_id=reporter.id,
        status=CaseStatus.SUBMITTED,
        locale=str(draft["locale"]),
        texts={str(draft["locale"]): str(draft.get("text") or "")},
        voice_file_id=draft.get("voice"),
        country=country,
        region=geo.region_of(country),
        affected_kind=str(draft["affected"]),
        affected_name=draft.get("name") or None,
        urgent=urgent,
        asks=[ask for ask in ASKS if ask in draft.get("asks", [])],
        share_reporter=bool(draft.get("share_reporter")),
        share_affected=bool(draft.get("share_affected")),
        audience={"everyone": True},
        escalate_hours=DEFAULT_HOURS[urgent],
        escalate_share=DEFAULT_SHARE,
    )


async def submit(session: AsyncSession, draft: dict[str, Any], reporter: Member) -> SolidarityCase:
    """Store the case and tell every admin, each in their language."""
    case = build_case(draft, reporter)
    session.add(case)
    await session.flush()
    await record_event(session, case, reporter, "submitted")
    admins = [admin.id for admin in await list_admins(session) if admin.is_active]
    await enqueue_broadcast(
        session,
        kind="solidarity_review",
        payload={"case_id": case.id},
        recipients=admins,
        priority=Priority.URGENT if case.urgent else Priority.HIGH,
        created_by_id=reporter.id,
        dedupe_key=f"solidarity:{case.id}:review",
    )
    return case


def toggle_audience(audience: dict[str, Any], value: str) -> dict[str, Any]:
    """Add or remove one region (r-), language (l-) or group (g-); "everyone" clears them."""
    regions = list(audience.get("regions", []))
    locales = list(audience.get("locales", []))
    groups = list(audience.get("groups", []))
    kind, _, code = value.partition("-")
    chosen = {"r": regions, "l": locales}.get(kind)
    if kind == "g" and code.isdigit():
        number = int(code)
        groups.remove(number) if number in groups else groups.append(number)
    elif chosen is not None and code:
        chosen.remove(code) if code in chosen else chosen.append(code)
    else:
        return {"everyone": True}
    everyone = not (regions or locales or groups)
    return {"everyone": everyone, "regions": regions, "locales": locales, "groups": groups}


async def issue(session: AsyncSession, case: SolidarityCase, admin: Member, now: datetime) -> None:
    """Issue the alert to the audience at urgent priority and plan the escalation check."""
    case.status = CaseStatus.ISSUED
    case.issued_at = now
    broadcast = await enqueue_broadcast(
        session,
        kind="solidarity_alert",
        payload={"case_id": case.id},
        recipients=audience_ids(case.audience),
        priority=Priority.URGENT,
        created_by_id=admin.id,
        progress_chat_id=admin.telegram_id,
        dedupe_key=f"solidarity:{case.id}:alert",
    )
    case.alert_broadcast_id = broadcast.id
    chosen = case.audience
    audience = (
        "everyone"
        if chosen.get("everyone", True)
        else " ".join(
            [*chosen.get("regions", []), *chosen.get("locales", [])]
            + [f"group {g}" for g in chosen.get("groups", [])]
        )
    )
    settings = (
        f"{case.escalate_hours} h / {case.escalate_share}%, delete {case.delete_after_hours} h"
    )
    detail = f"{broadcast.total} · {audience} · {settings}"
    await record_event(session, case, admin, "issued", detail)
    await schedule(
        session,
        kind=ESCALATE_JOB,
        due_at=now + timedelta(hours=case.escalate_hours),
        payload={"case_id": case.id},
        key=f"solidarity:{case.id}:escalate",
    )
    if case.delete_after_hours:
        await schedule_deletion(session, case, now + timedelta(hours=case.delete_after_hours), 0)


async def schedule_deletion(
    session: AsyncSession, case: SolidarityCase, due: datetime, after: int
) -> None:
    """Delete a sensitive alert from members' chats (in batches, from delivery `after` on),
    never later than Telegram allows."""
    assert case.issued_at is not None
    await schedule(
        session,
        kind=DELETE_JOB,
        due_at=due,
        payload={"case_id": case.id, "after": after},
        key=f"solidarity:{case.id}:delete:{after}",
        not_after=case.issued_at + timedelta(hours=48),
    )


def next_option(options: tuple[int, ...], current: int) -> int:
    """The option after `current` (the first after the last, or for an unknown one)."""
    if current not in options:
        return options[0]
    return options[(options.index(current) + 1) % len(options)]


async def decline(session: AsyncSession, case: SolidarityCase, admin: Member, reason: str) -> None:
    """Decline the case; the reporter is told why."""
    case.status = CaseStatus.DECLINED
    case.decline_reason = reason
    await record_event(session, case, admin, "declined", reason)
    await tell_reporter(session, case, admin, "solidarity_declined", {"reason": reason})


async def tell_reporter(
    session: AsyncSession,
    case: SolidarityCase,
    admin: Member,
    kind: str,
    extra: dict[str, Any],
) -> None:
    """A message of the secretariat to the case's reporter (if they are still a member)."""
    if case.reporter_id is None:
        return
    await enqueue_broadcast(
        session,
        kind=kind,
        payload={"case_id": case.id, **extra},
        recipients=[case.reporter_id],
        priority=Priority.HIGH,
        created_by_id=admin.id,
    )


async def post_update(
    session: AsyncSession,
    case: SolidarityCase,
    admin: Member,
    update: dict[str, Any],
    everyone: bool,
) -> int:
    """Send an update to those who responded, or to the whole audience alerted."""
    recipients = alerted_ids(case) if everyone else responder_ids(case.id)
    broadcast = await enqueue_broadcast(
        session,
        kind="solidarity_update",
        payload={"case_id": case.id, **update},
        recipients=recipients,
        priority=Priority.HIGH,
        created_by_id=admin.id,
        progress_chat_id=admin.telegram_id,
        dedupe_key=f"solidarity:{case.id}:update:{uuid.uuid4().hex}",  # found by the deletion
    )
    await record_event(session, case, admin, "updated", "all" if everyone else "responders")
    return broadcast.total


async def close(
    session: AsyncSession, case: SolidarityCase, admin: Member, outcome: str, now: datetime
) -> None:
    """Close the case with its outcome; those who responded are told."""
    case.status = CaseStatus.CLOSED
    case.outcome = outcome
    case.closed_at = now
    await cancel_jobs(session, f"solidarity:{case.id}:escalate")
    await record_event(session, case, admin, "closed", outcome)
    await enqueue_broadcast(
        session,
        kind="solidarity_closed",
        payload={"case_id": case.id},
        recipients=responder_ids(case.id),
        priority=Priority.HIGH,
        created_by_id=admin.id,
    )


def organisation_key(name: str) -> str:
    """One organisation however it is typed (case and spaces)."""
    return " ".join(name.casefold().split())[:MAX_ORGANISATION]


async def forget_reporter(session: AsyncSession, app: App, member: Member) -> None:
    """/forget: the member's reports stay for the network, anonymised (their responses and
    signatures go with their row)."""
    await anonymise_reports(session, member)
