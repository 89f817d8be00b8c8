"""Consultations: the coordinator's guided creation, members answering by tapping, and the
coordinators' results and tools."""

from __future__ import annotations

from bot.core.app import Registry
from bot.polls import jobs
from handlers.polls import answer, comment, create, listing, manage, writing
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
        writing.router,
        manage.router,
    )
    registry.add_renderer("poll", jobs.render_poll)
    registry.add_renderer("poll_reminder", jobs.render_poll_reminder)
    registry.add_renderer("poll_results", jobs.render_poll_results)
    registry.add_digest_item("poll", jobs.digest_poll)
    registry.add_job("poll_close", jobs.run_poll_close)
    registry.add_job("poll_remind", jobs.run_poll_remind)
    registry.add_data_section(poll_records)
