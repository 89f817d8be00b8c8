"""/status for network admins: members, the delivery queue and its pace, the scheduler's lag,
the last errors and the version, read from the store (so it covers every process)."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime, timedelta
from importlib import metadata

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import geo
from bot.core.i18n import format_number
from models.delivery import open_deliveries_by_priority, recent_failures, sent_since
from models.job import due_jobs, recent_job_failures, scheduler_lag
from models.member import MemberStatus, active_members_by_region, members_by_status

Gettext = Callable[..., str]
RATE_WINDOW = timedelta(minutes=5)
ERRORS = 5
ERROR_TEXT = 120


def version() -> str:
    """The installed package's version."""
    try:
        return metadata.version("participation-bot")
    except metadata.PackageNotFoundError:
        return "unknown"


def status_names(_: Gettext) -> dict[str, str]:
    return {
        MemberStatus.ACTIVE: _("active"),
        MemberStatus.PENDING: _("waiting for approval"),
        MemberStatus.DECLINED: _("declined"),
        MemberStatus.ONBOARDING: _("signing up"),
    }


def priority_names(_: Gettext) -> dict[int, str]:
    return {0: _("urgent"), 3: _("high"), 5: _("normal"), 9: _("bulk")}


def _joined(parts: list[str]) -> str:
    return " · ".join(parts) if parts else "—"


async def status_text(session: AsyncSession, now: datetime, locale: str, _: Gettext) -> str:
    """The whole /status message (HTML)."""

    def num(value: float) -> str:
        return format_number(value, locale)

    lines = [_("<b>Status</b> · version {version}").format(version=html.escape(version()))]
    statuses = status_names(_)
    by_status = await members_by_status(session)
    members = [f"{num(n)} {statuses.get(s, s)}" for s, n in sorted(by_status.items())]
    lines.append(_("<b>Members:</b> {counts}").format(counts=_joined(members)))
    regions = await active_members_by_region(session)
    by_region = sorted(regions.items(), key=lambda item: -item[1])
    parts = [
        f"{html.escape(geo.region_name(r, locale) if r else _('not stated'))} {num(n)}"
        for r, n in by_region
    ]
    lines.append(_("<b>Active members by region:</b> {counts}").format(counts=_joined(parts)))
    queued = await open_deliveries_by_priority(session)
    names = priority_names(_)
    parts = [f"{names.get(p, str(p))} {num(n)}" for p, n in sorted(queued.items())]
    lines.append(
        _("<b>Delivery queue:</b> {total} ({parts})").format(
            total=num(sum(queued.values())), parts=_joined(parts)
        )
    )
    sent = await sent_since(session, now - RATE_WINDOW)
    lines.append(
        _("<b>Sent in the last 5 minutes:</b> {count} ({rate} a second)").format(
            count=num(sent), rate=num(round(sent / RATE_WINDOW.total_seconds(), 1))
        )
    )
    due, _late = await due_jobs(session, now, 60.0)
    lag = await scheduler_lag(session, now)
    lines.append(
        _("<b>Scheduler:</b> {due} jobs due, the oldest waiting {seconds} s").format(
            due=num(due), seconds=num(round(lag))
        )
    )
    errors = [f"{kind}: {text}" for kind, text in await recent_failures(session, ERRORS)]
    errors += [f"job {kind}: {text}" for kind, text in await recent_job_failures(session, ERRORS)]
    lines.append(_("<b>Last errors:</b>"))
    if errors:
        lines.extend(f"• {html.escape(error[:ERROR_TEXT])}" for error in errors[: 2 * ERRORS])
    else:
        lines.append(_("none"))
    return "\n".join(lines)
