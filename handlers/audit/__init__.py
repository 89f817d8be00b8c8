"""The audit trail: /audit for admins (everything) and coordinators (their groups)."""

from __future__ import annotations

from bot.audit.views import audit_section
from bot.core.app import Registry
from handlers.audit import trail


def setup(registry: Registry) -> None:
    """Add /audit and the member's part of /mydata (their recorded actions)."""
    registry.include_routers(trail.router)
    registry.add_data_section(audit_section)
