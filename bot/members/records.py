"""Everything stored about one member: gathered for /mydata, erased by /forget.

Each area registers its part (`Registry.add_data_section`, `Registry.add_forget_step`), so a new
area's records appear in /mydata and go with /forget without this module knowing the area.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.app import App
from bot.core.fsm_storage import forget_user_state
from models.base import Base
from models.member import Member, delete_member


async def export_member(session: AsyncSession, app: App, member: Member) -> dict[str, Any]:
    """A JSON-ready document of the member's record and every record linked to them."""
    document: dict[str, Any] = {}
    for section in app.registry.data_sections:
        document.update(await section(session, member))
    return document


async def erase_member(session: AsyncSession, app: App, member: Member) -> None:
    """Run every area's erasure step, then delete the member (linked rows cascade); once
    that commits, old row versions are scrubbed from the files (see `scrub`)."""
    for step in app.registry.forget_steps:
        await step(session, app, member)
    await delete_member(session, member)
    await forget_user_state(session, member.telegram_id)
    app.scrub_after_commit(session, [table.name for table in Base.metadata.sorted_tables])
