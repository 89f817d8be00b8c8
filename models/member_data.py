"""Everything stored about one member, gathered for /mydata (and checked by /forget's tests)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models.group import WorkingGroup, memberships_of
from models.meeting import export_meetings
from models.member import Member


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
        },
        "working_groups": memberships,
        **await export_meetings(session, member.id),
    }
