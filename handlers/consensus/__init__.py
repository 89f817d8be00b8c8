"""Decisions by consensus: proposals, their rounds (consent polls of the polls area), the
coordinator's choice after each round, /decisions, priorities consultations and
questionnaires (the annual evaluation)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.consensus import jobs
from bot.consensus.service import forget_objector, round_poll_closed
from bot.core.app import Registry
from handlers.consensus import (
    builder,
    decide,
    decisions,
    evaluation,
    priorities,
    propose,
    questionnaire,
    rank,
)
from models.consensus import consensus_records
from models.group import coordinates_any
from models.member import Member

Gettext = Callable[..., str]


def setup(registry: Registry) -> None:
    """Add the consensus routers, broadcast kinds, the round's closing job and /mydata part."""
    registry.include_routers(
        priorities.router,
        evaluation.router,
        builder.router,
        propose.router,
        decide.router,
        decisions.router,
        rank.router,
        questionnaire.router,
    )
    registry.add_renderer("consensus_round", jobs.render_round)
    registry.add_renderer("consensus_review", jobs.render_review)
    registry.add_renderer("consensus_record", jobs.render_record)
    registry.add_job("consensus_close", jobs.run_round_close)
    registry.add_renderer("priorities", jobs.render_priorities)
    registry.add_renderer("priorities_results", jobs.render_priorities_results)
    registry.add_job("priorities_close", jobs.run_priorities_close)
    registry.add_renderer("priorities_reminder", jobs.render_priorities_reminder)
    registry.add_job("priorities_remind", jobs.run_priorities_remind)
    registry.add_renderer("questionnaire", jobs.render_questionnaire)
    registry.add_renderer("questionnaire_results", jobs.render_questionnaire_results)
    registry.add_job("questionnaire_close", jobs.run_questionnaire_close)
    registry.add_renderer("questionnaire_reminder", jobs.render_questionnaire_reminder)
    registry.add_job("questionnaire_remind", jobs.run_questionnaire_remind)
    registry.add_data_section(consensus_records)
    registry.add_help_section(help_lines)
    registry.add_forget_step(forget_objector)
    registry.add_poll_close_step(round_poll_closed)


async def help_lines(session: AsyncSession, member: Member, _: Gettext) -> list[str]:
    """/help tells coordinators and admins how to send a questionnaire."""
    if not (member.is_admin or await coordinates_any(session, member.id)):
        return []
    return [
        _("/questionnaire: build a questionnaire of several questions for your working group"),
        _("/evaluation: send your working group the annual evaluation (edit it first)"),
    ]
