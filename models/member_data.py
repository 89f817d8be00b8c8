"""Everything stored about one member, gathered for /mydata (and checked by /forget's tests)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models.delivery import Broadcast, deliveries_of_member
from models.group import WorkingGroup, invites_of, memberships_of, removals_of
from models.meeting import export_meetings
from models.member import Member
from models.poll import poll_records


async def export_member(session: AsyncSession, member: Member) -> dict[str, Any]:
    """A JSON-ready document of the member's record and every record linked to them."""
    memberships = []
    for link in await memberships_of(session, member.id):
        group = await session.get(WorkingGroup, link.group_id)
        memberships.append(
            {
                "group": group.code if group else link.group_id,
                "role": link.role,
                "status": link.status,
                "joined_at": link.joined_at.isoformat(),
            }
        )
    deliveries = []
    for delivery in await deliveries_of_member(session, member.id):
        broadcast = await session.get(Broadcast, delivery.broadcast_id)
        deliveries.append(
            {
                "kind": broadcast.kind if broadcast else None,
                "status": delivery.status,
                "sent_at": delivery.sent_at.isoformat() if delivery.sent_at else None,
            }
        )
    codes: dict[int, str] = {}

    async def code(group_id: int) -> str | int:
        if group_id not in codes:
            group = await session.get(WorkingGroup, group_id)
            codes[group_id] = group.code if group else str(group_id)
        return codes[group_id]

    invites = [
        {
            "group": await code(invite.group_id),
            "link": invite.link,
            "created_at": invite.created_at.isoformat(),
            "expires_at": invite.expires_at.isoformat(),
            "used_at": invite.used_at.isoformat() if invite.used_at else None,
            "revoked_at": invite.revoked_at.isoformat() if invite.revoked_at else None,
        }
        for invite in await invites_of(session, member.id)
    ]
    removals = [
        {"group": await code(removal.group_id), "removed_at": removal.removed_at.isoformat()}
        for removal in await removals_of(session, member.id)
    ]
    return {
        "member": {
            "telegram_id": member.telegram_id,
            "display_name": member.display_name,
            "locale": member.locale,
            "country": member.country,
            "region": member.region,
            "timezone": member.timezone,
            "organisation": member.organisation,
            "gender": member.gender,
            "status": member.status,
            "role": member.role,
            "consent_at": member.consent_at.isoformat(),
            "created_at": member.created_at.isoformat(),
            "last_seen_at": member.last_seen_at.isoformat(),
            "unreachable_since": (
                member.unreachable_at.isoformat() if member.unreachable_at else None
            ),
        },
        "working_groups": memberships,
        "group_chat_links": invites,
        "group_removals": removals,
        "messages_sent_to_you": deliveries,
        "consultations": await poll_records(session, member.id),
        **await export_meetings(session, member.id),
    }
