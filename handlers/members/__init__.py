"""Members: onboarding, approval, profile, privacy and erasure, and the catch-all answers."""

from __future__ import annotations

from bot.core.app import Registry
from handlers.members import (
    answers,
    approval,
    attention,
    fallback,
    onboarding,
    privacy,
    profile,
    reachability,
)
from models.member import member_record


def setup(registry: Registry) -> None:
    """Add the members' routers (onboarding first, the fallback after every area)."""
    registry.include_routers(
        onboarding.router,
        answers.router,
        approval.router,
        profile.router,
        attention.router,
        privacy.router,
        reachability.router,
    )
    registry.include_fallback(fallback.router)
    registry.add_data_section(member_record)
