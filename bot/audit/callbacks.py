"""Button data of /audit: a view, a filter (group, person) and a page, all bounded."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

MAX_ID = 2**31 - 1  # ids are 32-bit in the store; a forged bigger one matches no button
MAX_PAGE = 10_000


class AuditCb(CallbackData, prefix="audit"):
    """`view`: list, groups (pick a group), people (pick a person) or csv."""

    view: str = Field(default="list", pattern="^(list|groups|people|csv)$")
    group: int = Field(default=0, ge=0, le=MAX_ID)
    person: int = Field(default=0, ge=0, le=MAX_ID)
    page: int = Field(default=0, ge=0, le=MAX_PAGE)
