"""Routers in the order they are tried: specific areas first, the catch-all fallback last."""

from __future__ import annotations

from aiogram import Router


def setup_routers() -> Router:
    """Gather every area's router under a new root (a restarted dispatcher gets a new one)."""
    from handlers import (
        admin,
        announcements,
        fallback,
        group_admin,
        group_chat,
        groups,
        meeting_create,
        meeting_manage,
        meetings,
        onboarding,
        poll_create,
        polls,
        privacy,
        profile,
        reachability,
    )

    routers = [
        onboarding.router,
        admin.router,
        profile.router,
        privacy.router,
        groups.router,
        group_admin.router,
        group_chat.router,
        announcements.router,
        reachability.router,
        poll_create.router,
        polls.router,
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
