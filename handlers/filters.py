"""Who may do what: filters used on routers so handlers need not repeat the checks."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import TelegramObject

from models.member import Member


class ActiveMember(Filter):
    """Approved members only; pending members are answered by the fallback router."""

    async def __call__(self, event: TelegramObject, member: Member | None = None) -> bool:
        return member is not None and member.is_active


class NetworkAdmin(Filter):
    """Network admins only."""

    async def __call__(self, event: TelegramObject, member: Member | None = None) -> bool:
        return member is not None and member.is_admin and member.is_active
