"""The service as network admins see it: /status."""

from __future__ import annotations

from bot.core.app import Registry
from handlers.operations import status


def setup(registry: Registry) -> None:
    """Add /status."""
    registry.include_routers(status.router)
