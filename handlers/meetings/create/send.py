"""The last step: after the preview, the meeting (or date poll) is stored and handed to the
delivery engine."""

from __future__ import annotations

from typing import Any

from aiogram.types import CallbackQuery

from bot.meetings.drafts import time_passed
from bot.meetings.service import publish
from handlers.filters import Need, group_access
from handlers.meetings.access import meeting_router
from handlers.meetings.create.flow import Flow, Tap, tapped
from handlers.ui import clear_buttons, stop_spinner

router = meeting_router(__name__)


async def may_still_schedule(f: Flow, group_id: int) -> bool:
    """The coordinator may still schedule for the group (admins for the whole network)."""
    if not group_id:
        return f.member.is_admin
    found = await group_access(f.session, f.member, group_id, Need.OPEN_COORDINATOR, f._)
    return not isinstance(found, str)


@router.callback_query(Tap("send", "preview"))
async def send(call: CallbackQuery, **ctx: Any) -> None:
    """Create the meeting (or poll) and hand it to the delivery engine."""
    f = Flow.of(ctx)
    _ = f._
    data = await f.state.get_data()
    now = f.clock.now()
    if not await may_still_schedule(f, data.get("group") or 0):
        await call.answer(
            _("You can no longer schedule meetings for this group."), show_alert=True
        )
        await f.state.clear()
        return
    if time_passed(data, now):
        await call.answer(
            _("A proposed time has passed meanwhile. Please change it."), show_alert=True
        )
        return
    invited = await publish(f.session, data, f.member, now)
    # The draft goes with the same commit as the meeting (a tap that comes again after a
    # crash finds no draft, so no second meeting), and the buttons only once it is stored.
    await f.state.clear()
    await stop_spinner(call)  # commits first (CommitBeforeTelling), then answers
    await clear_buttons(call)
    if data.get("mode") == "poll":
        text = _(
            "✅ The poll is on its way (recipients: {count}). Open /meetings, then Manage "
            "meetings, to see the answers and pick the date."
        )
    else:
        text = _(
            "✅ The invitation is on its way (recipients: {count}). /meetings shows the replies."
        )
    await tapped(call).answer(text.format(count=invited))
