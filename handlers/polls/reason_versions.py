"""A Block's or a Disagree's reason in another language, shown beside it to whoever reads the
objections. On a secret poll the version is written before the answer is confirmed: it
travels, quoted, in the bot's message whose button carries the choice, and is stored with the
reason in the ballot, never beside the member. On a named poll it is added to the named vote."""

from __future__ import annotations

import html
from collections.abc import Callable

from aiogram import F
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    MaybeInaccessibleMessageUnion,
    Message,
    ReplyParameters,
)
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.config import SUPPORTED_LOCALES
from bot.core.i18n import language_name
from bot.polls.answering import PollAnswer
from bot.polls.service import MAX_COMMENT, clean_comment
from bot.polls.views import BlockCb, ReasonLangCb, VoteResult, refusal
from handlers.polls.access import PollNeed, poll_router
from handlers.polls.writing import AnswerCancelCb, begin_answer, cancel_button, end_answer
from handlers.ui import edit_buttons, pressed
from models.member import Member
from models.poll import BLOCK, DISAGREE, Poll, get_poll, named_vote

router = poll_router(__name__)
Gettext = Callable[..., str]
OBJECTIONS = {1 << BLOCK, 1 << DISAGREE}


def quoted_version(
    message: MaybeInaccessibleMessageUnion | None, lang: str, own: str
) -> str | None:
    """The version quoted in the bot's confirming message, or None when the language is not
    one of ours or nothing usable is quoted."""
    if lang not in SUPPORTED_LOCALES or lang == own or not isinstance(message, Message):
        return None
    text = message.text or ""
    for entity in message.entities or []:
        if entity.type == "blockquote":
            return clean_comment(entity.extract_from(text))
    return None


def confirm_block(
    poll: Poll, message_id: int, _: Gettext, lang: str = "", reason_message: int = 0
) -> InlineKeyboardMarkup:
    """Block (or, in a consensus round, Disagree) with the reason just written (and the
    version in `lang` quoted in the message); in a round a text reason may first get a
    version in another language."""
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("⛔ Block, with this reason"),
        callback_data=BlockCb(poll=poll.id, message=message_id, lang=lang),
    )
    if poll.reason_on_disagree:
        kb.button(
            text=_("👎 Disagree, with this reason"),
            callback_data=BlockCb(poll=poll.id, message=message_id, option=DISAGREE, lang=lang),
        )
        if reason_message and not lang:
            kb.button(
                text=_("🌐 Add a version in another language"),
                callback_data=ReasonLangCb(
                    poll=poll.id, message=message_id, reason=reason_message
                ),
            )
    kb.button(text=_("✖ Cancel"), callback_data=AnswerCancelCb(poll=poll.id))
    kb.adjust(1)
    return kb.as_markup()


def languages_keyboard(data: ReasonLangCb, own: str, _: Gettext) -> InlineKeyboardMarkup:
    """Every language but the member's own, then Cancel."""
    kb = InlineKeyboardBuilder()
    for code in SUPPORTED_LOCALES:
        if code != own:
            kb.button(
                text=language_name(code),
                callback_data=ReasonLangCb(
                    poll=data.poll, message=data.message, reason=data.reason, lang=code
                ),
            )
    kb.button(text=_("✖ Cancel"), callback_data=AnswerCancelCb(poll=data.poll))
    kb.adjust(2)
    return kb.as_markup()


def offer_keyboard(poll: Poll, message_id: int, _: Gettext) -> InlineKeyboardMarkup:
    """Under a named vote's reason: add it in another language."""
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("🌐 Add a version in another language"),
        callback_data=ReasonLangCb(poll=poll.id, message=message_id),
    )
    return kb.as_markup()


async def has_named_reason(session: AsyncSession, poll: Poll, member: Member) -> bool:
    vote = await named_vote(session, poll.id, member.id)
    return vote is not None and vote.choices in OBJECTIONS and bool(vote.reason)


@router.callback_query(ReasonLangCb.filter(F.lang == ""), flags={"poll": PollNeed.ANSWER})
async def pick_language(
    call: CallbackQuery,
    callback_data: ReasonLangCb,
    poll: Poll,
    member: Member | None,
    session: AsyncSession,
    _: Gettext,
) -> None:
    """Show the languages the version can be written in."""
    if member is None or not poll.is_open or not poll.reason_on_disagree:
        await call.answer(refusal(VoteResult.CLOSED, _), show_alert=True)
        return
    if not poll.anonymous and not await has_named_reason(session, poll, member):
        await call.answer(_("There is no reason of yours to translate."), show_alert=True)
        return
    await call.answer()
    markup = languages_keyboard(callback_data, member.locale, _)
    if not await edit_buttons(call, markup):
        await pressed(call).answer(_("Which language?"), reply_markup=markup)


@router.callback_query(ReasonLangCb.filter(F.lang != ""), flags={"poll": PollNeed.ANSWER})
async def language_picked(
    call: CallbackQuery,
    callback_data: ReasonLangCb,
    poll: Poll,
    member: Member | None,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
    clock: Clock,
) -> None:
    """Wait for the version (the state holds the poll, the language and, on a secret poll,
    which message of the member's holds the reason: never the answer)."""
    lang = callback_data.lang
    if member is None or lang not in SUPPORTED_LOCALES or lang == member.locale:
        await call.answer(_("That language is not offered."), show_alert=True)
        return
    if not poll.is_open or not poll.reason_on_disagree:
        await call.answer(refusal(VoteResult.CLOSED, _), show_alert=True)
        return
    if not poll.anonymous and not await has_named_reason(session, poll, member):
        await call.answer(_("There is no reason of yours to translate."), show_alert=True)
        return
    if poll.anonymous and not callback_data.reason:
        await call.answer(_("This button is no longer valid."), show_alert=True)
        return
    await call.answer()
    await begin_answer(
        state,
        PollAnswer.version,
        clock.now(),
        poll=poll.id,
        poll_message=callback_data.message,
        reason_message=callback_data.reason,
        lang=lang,
    )
    await pressed(call).answer(
        _("Send your reason in {language} (a short text).").format(language=language_name(lang)),
        reply_markup=cancel_button(poll.id, _),
    )


@router.message(StateFilter(PollAnswer.version), F.text, ~F.text.startswith("/"))
async def version_given(
    message: Message,
    member: Member | None,
    session: AsyncSession,
    state: FSMContext,
    _: Gettext,
) -> None:
    """Named: stored with the vote's reason. Secret: quoted above the buttons that count the
    answer with the reason it replies to."""
    data = await state.get_data()
    poll = await get_poll(session, int(data.get("poll") or 0))
    lang = str(data.get("lang") or "")
    if poll is None or member is None or lang not in SUPPORTED_LOCALES:
        await end_answer(state)
        await message.answer(_("This consultation no longer exists."))
        return
    version = clean_comment(message.text or "")
    if version is None:
        await message.answer(
            _("Please send a text of up to {limit} characters.").format(limit=MAX_COMMENT)
        )
        return
    await end_answer(state)
    if not poll.is_open:
        await message.answer(refusal(VoteResult.CLOSED, _))
        return
    if not poll.anonymous:
        vote = await named_vote(session, poll.id, member.id)
        if vote is None or vote.choices not in OBJECTIONS or not vote.reason:
            await message.answer(_("There is no reason of yours to translate."))
            return
        vote.reason_versions = {**(vote.reason_versions or {}), lang: version}
        await session.flush()
        await message.answer(
            _("✅ Your reason in {language} was saved beside it.").format(
                language=language_name(lang)
            )
        )
        return
    text = "\n".join(
        [
            _("🌐 Your reason in {language}:").format(language=language_name(lang)),
            f"<blockquote>{html.escape(version)}</blockquote>",
            _(
                "Count your answer with this reason and this version? Tap <b>Block</b> or "
                "<b>Disagree</b>."
            ),
        ]
    )
    await message.answer(
        text,
        reply_parameters=ReplyParameters(
            message_id=int(data.get("reason_message") or 0), allow_sending_without_reply=True
        ),
        reply_markup=confirm_block(poll, int(data.get("poll_message") or 0), _, lang=lang),
    )


@router.message(StateFilter(PollAnswer.version), ~F.text)
async def version_expected(message: Message, _: Gettext) -> None:
    """A voice note, sticker or command where the version's text is expected."""
    await message.answer(_("Please send the version as a text, or tap Cancel."))
