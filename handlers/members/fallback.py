"""Last router: whatever nobody else handled gets a clear, translated answer."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message

from models.member import Member, MemberStatus

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")
Gettext = Callable[..., str]


@router.callback_query()
async def stale_button(call: CallbackQuery, _: Gettext) -> None:
    """A button from an old message, a closed flow, or forged data."""
    await call.answer(
        _("This button is no longer valid. Send /help to see what you can do."), show_alert=True
    )


@router.message(~F.text)
async def not_text(message: Message, _: Gettext) -> None:
    """Stickers, photos, voice notes and the like where nothing expects them."""
    await message.answer(
        _("I can't use stickers, photos or files here. Please use the buttons, or send /help.")
    )


@router.message()
async def unknown(message: Message, member: Member | None, _: Gettext) -> None:
    """Free text or an unknown command, answered according to where the person stands."""
    if member is None:
        await message.answer(_("Hello! Send /start to join."))
    elif member.status == MemberStatus.PENDING:
        await message.answer(
            _(
                "Your membership is waiting for an admin's approval. Meanwhile you can use "
                "/help, /language, /privacy, /mydata and /forget."
            )
        )
    elif member.status == MemberStatus.ONBOARDING:
        await message.answer(_("Let's finish joining first: send /start to continue."))
    else:
        await message.answer(_("Sorry, I didn't understand that. /help lists what you can do."))
