"""Consultations: the coordinator's guided creation, members answering by tapping, and the
coordinators' results and tools."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.app import Gettext, Registry
from bot.polls import jobs
from bot.polls.answering import expire_answers
from bot.polls.service import can_create
from handlers.polls import (
    answer,
    comment,
    create,
    listing,
    manage,
    reason_versions,
    secret_writing,
    writing,
)
from models.member import Member
from models.poll import poll_records


def setup(registry: Registry) -> None:
    """Add the polls' routers, broadcast kinds, scheduled jobs and /mydata section."""
    # Creation first: a coordinator half-way through it can still answer polls (their
    # buttons carry their own prefixes), and its last router only takes creation states.
    registry.include_routers(
        *create.routers(),
        listing.router,
        answer.router,
        comment.router,
        reason_versions.router,
        secret_writing.router,
        writing.router,
        manage.router,
    )
    registry.add_help_section(help_lines)
    registry.add_renderer("poll", jobs.render_poll)
    registry.add_renderer("poll_reminder", jobs.render_poll_reminder)
    registry.add_renderer("poll_results", jobs.render_poll_results)
    registry.add_digest_item("poll", jobs.digest_poll)
    registry.add_job("poll_close", jobs.run_poll_close)
    registry.add_job("poll_remind", jobs.run_poll_remind)
    registry.add_data_section(poll_records)
    registry.add_maintenance(expire_answers)


async def help_lines(session: AsyncSession, member: Member, _: Gettext) -> list[str]:
    """/help tells coordinators and admins how to consult."""
    if not await can_create(session, member):
        return []
    return [_("/newpoll: ask your working groups a question (a consultation)")]
