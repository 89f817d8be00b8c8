"""Routers in the order they are tried: specific areas first, the catch-all fallback last."""

from __future__ import annotations

from aiogram import Router


def setup_routers() -> Router:
    """Gather every area's router under a new root (a restarted dispatcher gets a new one)."""
    from handlers import (
        admin,
        fallback,
        meeting_create,
        meeting_manage,
        meetings,
        onboarding,
        privacy,
        profile,
    )

    routers = [
        onboarding.router,
        admin.router,
        profile.router,
        privacy.router,
        meetings.router,
        meeting_create.router,
        meeting_manage.router,
        fallback.router,
    ]
    root = Router(name="root")
    for router in routers:
        # Module routers are built once per process; a second Dispatcher (a restart in the
        # same process, as the tests do) re-attaches them to its own root.
        router._parent_router = None
    root.include_routers(*routers)
    return root
