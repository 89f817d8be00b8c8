"""Solidarity through the delivery engine and the scheduler: the review request to admins,
the alert, reminders, updates and closing notes, each rendered per member in their language;
and the escalation check, run once at the time set at issue."""

from __future__ import annotations

import contextlib
import html
from datetime import datetime, timedelta

from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.queue import Outgoing, Priority, RenderContext, enqueue_broadcast
from bot.delivery.scheduler import JobContext
from bot.solidarity.callbacks import AlertCb
from bot.solidarity.service import DELETE_BATCH, schedule_deletion
from bot.solidarity.views import (
    alert_keyboard,
    alert_text,
    button,
    case_panel,
    fallback_note,
    fit,
    keyboard,
    outcome_label,
    panel_keyboard,
    pick_text,
    statement_text,
)
from models.delivery import Broadcast, Delivery
from models.group import list_groups
from models.member import get_member_by_id
from models.solidarity import (
    CaseStatus,
    SolidarityCase,
    case_events,
    count_alerted,
    get_case,
    record_event,
    region_coordinator_ids,
    unseen_ids,
)


async def _case(ctx: RenderContext) -> SolidarityCase | None:
    """The broadcast's case, loaded once per broadcast."""
    if "case" not in ctx.cache:
        ctx.cache["case"] = await get_case(ctx.session, int(ctx.broadcast.payload["case_id"]))
    case: SolidarityCase | None = ctx.cache["case"]
    return case


async def reporter_name(session: AsyncSession, case: SolidarityCase) -> str | None:
    """The reporter's display name (admins see it; members only if the reporter chose)."""
    if case.reporter_id is None:
        return None
    reporter = await get_member_by_id(session, case.reporter_id)
    return reporter.display_name if reporter else None


async def group_names(session: AsyncSession, locale: str, default: str) -> dict[int, str]:
    """Working groups by id with their names in the reader's language, for the audience."""
    return {group.id: group.name(locale, default) for group in await list_groups(session)}


async def render_review(ctx: RenderContext) -> list[Outgoing] | None:
    """The new case for an admin, with the review actions."""
    case = await _case(ctx)
    if case is None or case.status != CaseStatus.SUBMITTED:
        return None
    name = await reporter_name(ctx.session, case)
    events = await case_events(ctx.session, case.id)
    groups = await group_names(ctx.session, ctx.locale, ctx.app.settings.default_locale)
    text = ctx._("🆘 A member raised a case. Please review it.") + "\n\n"
    text += case_panel(case, name, events, groups, ctx.locale, ctx._)
    markup = panel_keyboard(case, ctx._)  # names inside: protected like the alert
    parts = [Outgoing(text=fit(text, 4096), reply_markup=markup, protect_content=True)]
    if case.voice_file_id:
        parts.append(Outgoing(voice=case.voice_file_id, protect_content=True))
    return parts


def _alert(
    ctx: RenderContext, case: SolidarityCase, reporter: str | None, head: str
) -> list[Outgoing]:
    """The protected alert, its statement document and (if the reporter shares their name)
    their voice note.

    A sensitive alert is at most two messages (the engine keeps the first and the last
    message id of a delivery, which the deletion needs): the statement joins the alert's
    message and no voice note is attached.
    """
    text = (head + "\n\n" if head else "") + alert_text(
        case, reporter, ctx.locale, ctx.app.settings.default_locale, ctx._
    )
    sensitive = bool(case.delete_after_hours)
    statement = statement_text(case, ctx._)
    together = statement is not None and len(text) + len(statement) + 2 <= 4096
    if statement is not None and (together or sensitive):
        text = f"{text}\n\n{statement}"
    markup = alert_keyboard(case, ctx._)
    parts = [Outgoing(text=fit(text, 4096), reply_markup=markup, protect_content=True)]
    if statement is not None and not (together or sensitive):  # a long one follows on its own
        parts.append(Outgoing(text=statement, protect_content=True))
    if case.statement_file_id:
        parts.append(Outgoing(document=case.statement_file_id, protect_content=True))
    if case.voice_file_id and case.share_reporter and not sensitive:
        parts.append(Outgoing(voice=case.voice_file_id, protect_content=True))
    return parts


async def render_alert(ctx: RenderContext) -> list[Outgoing] | None:
    """The alert in the member's language, protected from forwarding."""
    case = await _case(ctx)
    if case is None or not case.is_open:
        return None
    if "reporter" not in ctx.cache:
        ctx.cache["reporter"] = await reporter_name(ctx.session, case)
    return _alert(ctx, case, ctx.cache["reporter"], "")


DELETED_KINDS = ("solidarity_alert", "solidarity_reminder", "solidarity_update")


def deleted_by_now(case: SolidarityCase, now: datetime) -> bool:
    """A sensitive alert whose time in members' chats is over (no reminder brings it back)."""
    if not case.delete_after_hours or case.issued_at is None:
        return False
    return now >= case.issued_at + timedelta(hours=case.delete_after_hours)


async def render_reminder(ctx: RenderContext) -> list[Outgoing] | None:
    """The alert again, for a member who has not pressed Seen."""
    case = await _case(ctx)
    if case is None or not case.is_open or deleted_by_now(case, ctx.app.clock.now()):
        return None
    if "reporter" not in ctx.cache:
        ctx.cache["reporter"] = await reporter_name(ctx.session, case)
    head = ctx._("⏰ <b>Reminder</b>: please read this alert and press Seen.")
    return _alert(ctx, case, ctx.cache["reporter"], head)


async def render_escalation(ctx: RenderContext) -> list[Outgoing] | None:
    """A coordinator in the case's region hears that few members have seen the alert."""
    case = await _case(ctx)
    if case is None or not case.is_open:
        return None
    payload = ctx.broadcast.payload
    text = ctx._(
        "⚠️ Solidarity alert #{id} about your region has been seen by only {seen} of {total} "
        "members. It was sent again to the others; please help it reach them."
    ).format(id=case.id, seen=payload.get("seen", 0), total=payload.get("total", 0))
    return [Outgoing(text=text)]


async def render_update(ctx: RenderContext) -> list[Outgoing] | None:
    """An update on a case, in the member's language where a version exists."""
    case = await _case(ctx)
    if case is None:
        return None
    payload = ctx.broadcast.payload
    texts: dict[str, str] = payload.get("texts") or {}
    default = ctx.app.settings.default_locale
    used, body = pick_text(texts, ctx.locale, str(payload.get("locale") or default), default)
    head = ctx._("📢 <b>Update on solidarity alert #{id}</b>").format(id=case.id)
    text = head + ("\n\n" + html.escape(body) if body else "")
    if used is not None and used != ctx.locale:
        text += "\n\n" + fallback_note(used, ctx.locale, ctx._)
    caption = text if len(text) <= 1024 else None
    parts = [] if caption else [Outgoing(text=fit(text, 4096), protect_content=True)]
    if payload.get("document"):
        document = str(payload["document"])
        parts.append(Outgoing(document=document, caption=caption, protect_content=True))
    elif payload.get("voice"):
        parts.append(Outgoing(voice=str(payload["voice"]), caption=caption, protect_content=True))
    elif caption:
        parts.append(Outgoing(text=caption, protect_content=True))
    return parts


async def render_closed(ctx: RenderContext) -> list[Outgoing] | None:
    """The case is closed, with its outcome; thanks to those who responded."""
    case = await _case(ctx)
    if case is None or case.outcome is None:
        return None
    text = ctx._(
        "🏁 Solidarity alert #{id} is closed: {outcome}. Thank you for standing with them."
    )
    return [Outgoing(text=text.format(id=case.id, outcome=outcome_label(case.outcome, ctx._)))]


async def render_declined(ctx: RenderContext) -> list[Outgoing] | None:
    """The reporter hears the secretariat declined their case, and why."""
    case = await _case(ctx)
    if case is None:
        return None
    reason = html.escape(str(ctx.broadcast.payload.get("reason", "")))
    text = ctx._("The secretariat declined your case #{id}. Reason: {reason}")
    return [Outgoing(text=text.format(id=case.id, reason=reason))]


async def render_question(ctx: RenderContext) -> list[Outgoing] | None:
    """The secretariat asks the reporter a question; they can answer by a button."""
    case = await _case(ctx)
    if case is None:
        return None
    question = html.escape(str(ctx.broadcast.payload.get("question", "")))
    text = ctx._("❓ The secretariat has a question about your case #{id}:\n\n{question}")
    answer = button(ctx._("✍️ Answer"), AlertCb(action="answer", case_id=case.id).pack())
    return [
        Outgoing(text=text.format(id=case.id, question=question), reply_markup=keyboard([answer]))
    ]


async def render_answer(ctx: RenderContext) -> list[Outgoing] | None:
    """The reporter's answer, to the admins."""
    case = await _case(ctx)
    if case is None:
        return None
    answer = html.escape(str(ctx.broadcast.payload.get("answer", "")))
    text = ctx._("💬 The reporter of case #{id} answered:\n\n{answer}")
    return [
        Outgoing(
            text=text.format(id=case.id, answer=answer), reply_markup=panel_keyboard(case, ctx._)
        )
    ]


async def run_escalation(ctx: JobContext) -> None:
    """Too few have pressed Seen: send again to the others, tell the region's coordinators."""
    session = ctx.session
    case = await get_case(session, int(ctx.job.payload["case_id"]))
    if case is None or not case.is_open or deleted_by_now(case, ctx.app.clock.now()):
        return
    total, seen = await count_alerted(session, case)
    if total == 0 or seen * 100 >= case.escalate_share * total:
        return
    await enqueue_broadcast(
        session,
        kind="solidarity_reminder",
        payload={"case_id": case.id},
        recipients=unseen_ids(case),
        priority=Priority.URGENT,
        dedupe_key=f"solidarity:{case.id}:reminder",
    )
    await enqueue_broadcast(
        session,
        kind="solidarity_escalation",
        payload={"case_id": case.id, "seen": seen, "total": total},
        recipients=region_coordinator_ids(case.region),
        priority=Priority.URGENT,
        dedupe_key=f"solidarity:{case.id}:escalation",
    )
    await record_event(session, case, None, "escalated", f"{seen}/{total}")


async def run_delete(ctx: JobContext) -> None:
    """A sensitive alert's time is up: delete it, its reminder and the updates sent so far from
    members' chats, one batch per run; the next batch is scheduled at once."""
    session = ctx.session
    case = await get_case(session, int(ctx.job.payload["case_id"]))
    if case is None:
        return
    after = int(ctx.job.payload.get("after", 0))
    broadcasts = list(
        await session.scalars(
            select(Broadcast.id).where(
                Broadcast.dedupe_key.startswith(f"solidarity:{case.id}:", autoescape=True),
                Broadcast.kind.in_(DELETED_KINDS),
            )
        )
    )
    rows = (
        await session.execute(
            select(Delivery.id, Delivery.chat_id, Delivery.message_id, Delivery.last_message_id)
            .where(
                Delivery.broadcast_id.in_(broadcasts),
                Delivery.id > after,
                Delivery.message_id.is_not(None),
            )
            .order_by(Delivery.id)
            .limit(DELETE_BATCH)
        )
    ).all()
    for _id, chat_id, first, last in rows:
        for message_id in dict.fromkeys(m for m in (first, last) if m):
            with contextlib.suppress(TelegramBadRequest, TelegramForbiddenError):
                await ctx.app.bot.delete_message(chat_id, message_id)
    if len(rows) == DELETE_BATCH:
        await schedule_deletion(session, case, ctx.app.clock.now(), int(rows[-1][0]))
    else:
        await record_event(session, case, None, "deleted")
