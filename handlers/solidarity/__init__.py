"""System of Solidarity: raising a case, the secretariat's review, alerts members answer,
escalation, updates and closing."""

from __future__ import annotations

from bot.core.app import Registry
from bot.solidarity import jobs
from bot.solidarity.service import DELETE_JOB, ESCALATE_JOB, forget_reporter
from handlers.solidarity import browse, inputs, manage, raising, respond, review
from models.solidarity import export_solidarity


def setup(registry: Registry) -> None:
    """Add the solidarity routers, broadcast kinds, escalation job, /mydata and /forget parts.

    The raise-a-case conversation's fallback comes after every step: it answers the taps and
    messages no step took.
    """
    registry.include_routers(
        browse.router,
        raising.router,
        review.router,
        inputs.router,
        manage.router,
        respond.router,
        raising.fallback,
    )
    registry.add_renderer("solidarity_review", jobs.render_review)
    registry.add_renderer("solidarity_alert", jobs.render_alert)
    registry.add_renderer("solidarity_reminder", jobs.render_reminder)
    registry.add_renderer("solidarity_escalation", jobs.render_escalation)
    registry.add_renderer("solidarity_update", jobs.render_update)
    registry.add_renderer("solidarity_closed", jobs.render_closed)
    registry.add_renderer("solidarity_declined", jobs.render_declined)
    registry.add_renderer("solidarity_question", jobs.render_question)
    registry.add_renderer("solidarity_answer", jobs.render_answer)
    registry.add_job(ESCALATE_JOB, jobs.run_escalation)
    registry.add_job(DELETE_JOB, jobs.run_delete)
    registry.add_data_section(export_solidarity)
    registry.add_forget_step(forget_reporter)
