"""Bounded integers for button data: forged or stale data with a huge number (2^63) fails to
unpack, so the tap reaches the "no longer valid" answer instead of overflowing a query."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

# A row id: the tables use 32-bit INTEGER keys.
RowId = Annotated[int, Field(ge=0, le=2**31 - 1)]
# A Telegram chat id (group chats are negative; Telegram keeps them within 52 bits).
ChatId = Annotated[int, Field(ge=-(2**52), le=2**52)]
# A page or a step number.
Small = Annotated[int, Field(ge=0, le=10_000)]
# An option index: the handler checks it against the poll (and says so), within 32 bits.
Index = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]
# Ticked options of a multiple-choice poll (at most 31 options).
Mask = Annotated[int, Field(ge=0, le=2**31 - 1)]

ROW_ID_MAX = 2**31 - 1


def row_id(text: str) -> int | None:
    """A row id carried in a text field of button data, or None when it is not one (letters,
    or a number too large for the tables)."""
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    value = int(text)
    return value if value <= ROW_ID_MAX else None
