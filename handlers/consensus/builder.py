"""The questionnaire builder, by taps where a tap can do: /questionnaire (from scratch: group,
title, then questions) and /evaluation (the template) open the same preview, where questions
are added (kind by button, text, options one per line), re-worded, re-kinded, moved and
removed; then secret or named, the closing time, a last check and Send."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.consensus import builder_views as views
from bot.consensus.builder import (
    CHOICE_KINDS,
    MAX_QUESTION,
    MAX_QUESTIONS,
    VersionProblem,
    kind_of,
    moved,
    needs_options,
    parse_options,
    parse_version,
    question_text,
    rekind,
    starts_anew,
    title_text,
    valid_draft,
    version_matches,
)
from bot.consensus.builder_views import BuildCb
from bot.consensus.questionnaire import audience_size, launch_questionnaire
from bot.consensus.service import MAX_TITLE, may_propose
from bot.consensus.views import ProposeCb, cancel_keyboard, closing_keyboard
from bot.core.clock import Clock
from bot.core.config import SUPPORTED_LOCALES
from bot.core.i18n import format_when, zone_name
from bot.polls.closing import check_closing, parse_closing, quick_closing
from bot.polls.screens import time_problem
from handlers.consensus.opening import offer_groups, picked_group
from handlers.ui import AnyMessage, pressed, replace_message
from models.consensus import Questionnaire
from models.member import Member

router = Router(name=__name__)
router.message.filter(F.chat.type == "private")
router.callback_query.filter(F.message.chat.type == "private")
Gettext = Callable[..., str]
Where = CallbackQuery | AnyMessage


class Building(StatesGroup):
    title = State()
    preview = State()
    text = State()
    options = State()
    secrecy = State()
    closing = State()
    confirm = State()
    version = State()


async def show(where: Where, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """In place of the tapped message, or as a new message after something typed."""
    if isinstance(where, CallbackQuery):
        await replace_message(where, text, markup)
    else:
        await where.answer(text, reply_markup=markup)


async def show_preview(where: Where, state: FSMContext, _: Gettext) -> None:
    """The preview; versions written for questions changed since are dropped, and said so."""
    await state.set_state(Building.preview)
    data = await state.get_data()
    versions = dict(data.get("versions") or {})
    dropped = [
        code
        for code, version in versions.items()
        if not version_matches(version, data["title"], data["questions"])
    ]
    for code in dropped:
        del versions[code]
    await state.update_data(pending=None, versions=versions, dropped=dropped)
    data = await state.get_data()
    await show(where, views.preview_text(data, _), views.preview_keyboard(data, _))


async def open_draft(
    state: FSMContext, member: Member, group: int, title: str, questions: list[Any]
) -> dict[str, Any]:
    """A new draft (empty or the template) in the conversation's data."""
    data = {
        "group": group,
        "locale": member.locale,
        "title": title,
        "questions": questions,
        "anonymous": True,
    }
    await state.set_data(data)
    return data


def picked(data: dict[str, Any], i: int) -> dict[str, Any] | None:
    """The question at a tapped place, or None when the place is forged or stale."""
    questions = data.get("questions") or []
    return dict(questions[i]) if 0 <= i < len(questions) else None


async def invalid(call: CallbackQuery, _: Gettext) -> None:
    await call.answer(_("This button is no longer valid."), show_alert=True)


# --- from scratch -------------------------------------------------------------------------------


@router.message(Command("questionnaire"))
async def start(
    message: Message, state: FSMContext, member: Member | None, session: AsyncSession, _: Gettext
) -> None:
    prompt = _("📝 Which group is the questionnaire for?")
    await offer_groups(message, state, member, session, _, prompt, "bgroup")


@router.callback_query(ProposeCb.filter(F.action == "bgroup"))
async def pick_group(
    call: CallbackQuery,
    callback_data: ProposeCb,
    state: FSMContext,
    member: Member | None,
    session: AsyncSession,
    _: Gettext,
) -> None:
    group_id = await picked_group(call, callback_data, member, session, _)
    if group_id is None or member is None:
        return
    await open_draft(state, member, group_id, "", [])
    await state.set_state(Building.title)
    await pressed(call).answer(
        _("📝 <b>New questionnaire</b>\n\nSend its title (one line)."),
        reply_markup=cancel_keyboard(_),
    )


@router.message(StateFilter(Building.title), F.text, ~F.text.startswith("/"))
async def got_title(message: Message, state: FSMContext, _: Gettext) -> None:
    title = title_text(message.text or "")
    if title is None or "\n" in title:
        await message.answer(
            _("Please send a text of up to {limit} characters.").format(limit=MAX_TITLE)
        )
        return
    await state.update_data(title=title)
    await show_preview(message, state, _)


# --- the preview's buttons ----------------------------------------------------------------------


@router.callback_query(BuildCb.filter(F.action == "add"), StateFilter(Building))
async def add(call: CallbackQuery, state: FSMContext, _: Gettext) -> None:
    count = len((await state.get_data()).get("questions") or [])
    if count >= MAX_QUESTIONS:
        await call.answer(
            _("At most {limit} questions.").format(limit=MAX_QUESTIONS), show_alert=True
        )
        return
    await call.answer()
    await state.set_state(Building.preview)
    await show(call, views.kinds_text(count + 1, _), views.kinds_keyboard(count, _))


@router.callback_query(BuildCb.filter(F.action.in_({"menu", "rekind"})), StateFilter(Building))
async def question_menu(
    call: CallbackQuery, callback_data: BuildCb, state: FSMContext, _: Gettext
) -> None:
    data = await state.get_data()
    question = picked(data, callback_data.i)
    if question is None:
        await invalid(call, _)
        return
    await call.answer()
    await state.set_state(Building.preview)
    i = callback_data.i
    if callback_data.action == "rekind":
        await show(call, views.kinds_text(i + 1, _), views.kinds_keyboard(i, _))
        return
    count = len(data["questions"])
    await show(call, views.menu_text(i, question, _), views.menu_keyboard(i, count, question, _))


@router.callback_query(BuildCb.filter(F.action == "kind"), StateFilter(Building))
async def got_kind(
    call: CallbackQuery, callback_data: BuildCb, state: FSMContext, _: Gettext
) -> None:
    """A kind for a new question (then its text), or a new kind for one (options if needed)."""
    data = await state.get_data()
    questions, i = list(data.get("questions") or []), callback_data.i
    kind = kind_of(callback_data.kind)
    new = i == len(questions) < MAX_QUESTIONS
    if kind is None or not (new or picked(data, i)):
        await invalid(call, _)
        return
    await call.answer()
    if new:
        await state.update_data(pending={"i": i, "kind": kind.value, "new": True})
        await state.set_state(Building.text)
        await show(call, views.ask_text(i + 1, _), cancel_keyboard(_))
    elif needs_options(kind, questions[i]):
        await state.update_data(pending={"i": i, "kind": kind.value, "new": False})
        await state.set_state(Building.options)
        await show(call, views.ask_options(i + 1, _), cancel_keyboard(_))
    else:
        questions[i] = rekind(questions[i], kind)
        await state.update_data(questions=questions)
        await show_preview(call, state, _)


@router.callback_query(BuildCb.filter(F.action.in_({"text", "opts"})), StateFilter(Building))
async def change(
    call: CallbackQuery, callback_data: BuildCb, state: FSMContext, _: Gettext
) -> None:
    """Ask for a question's new text, or its new options (choices only)."""
    question = picked(await state.get_data(), callback_data.i)
    options = callback_data.action == "opts"
    if question is None or (options and question["kind"] not in CHOICE_KINDS):
        await invalid(call, _)
        return
    await call.answer()
    i = callback_data.i
    await state.update_data(pending={"i": i, "kind": question["kind"], "new": False})
    await state.set_state(Building.options if options else Building.text)
    text = views.ask_options(i + 1, _) if options else views.ask_text(i + 1, _)
    await show(call, text, cancel_keyboard(_))


@router.callback_query(BuildCb.filter(F.action.in_({"up", "down", "del"})), StateFilter(Building))
async def rearrange(
    call: CallbackQuery, callback_data: BuildCb, state: FSMContext, _: Gettext
) -> None:
    data = await state.get_data()
    questions, i = list(data.get("questions") or []), callback_data.i
    if picked(data, i) is None:
        await invalid(call, _)
        return
    if callback_data.action == "del":
        changed: list[Any] | None = questions[:i] + questions[i + 1 :]
    else:
        changed = moved(questions, i, -1 if callback_data.action == "up" else 1)
    if changed is None:
        await invalid(call, _)
        return
    await call.answer()
    await state.update_data(questions=changed)
    await show_preview(call, state, _)


@router.callback_query(BuildCb.filter(F.action == "title"), StateFilter(Building))
async def change_title(call: CallbackQuery, state: FSMContext, _: Gettext) -> None:
    await call.answer()
    await state.set_state(Building.title)
    await show(call, _("Send the new title (one line)."), cancel_keyboard(_))


@router.callback_query(BuildCb.filter(F.action == "back"), StateFilter(Building))
async def back(call: CallbackQuery, state: FSMContext, _: Gettext) -> None:
    await call.answer()
    await show_preview(call, state, _)


# --- what is typed ------------------------------------------------------------------------------


@router.message(StateFilter(Building.text), F.text, ~F.text.startswith("/"))
async def got_text(message: Message, state: FSMContext, _: Gettext) -> None:
    data = await state.get_data()
    pending, text = data.get("pending") or {}, question_text(message.text or "")
    if text is None:
        limit = MAX_QUESTION
        await message.answer(
            _("Please send a text of up to {limit} characters.").format(limit=limit)
        )
        return
    questions, i = list(data.get("questions") or []), int(pending.get("i", -1))
    if pending.get("new") and pending["kind"] in CHOICE_KINDS:
        await state.update_data(pending={**pending, "text": text})
        await state.set_state(Building.options)
        await message.answer(views.ask_options(i + 1, _), reply_markup=cancel_keyboard(_))
        return
    if pending.get("new") and i == len(questions) < MAX_QUESTIONS:
        questions.append({"kind": pending["kind"], "text": text, "options": []})
    elif not pending.get("new") and 0 <= i < len(questions):
        questions[i] = {**questions[i], "text": text}
    await state.update_data(questions=questions)
    await show_preview(message, state, _)


@router.message(StateFilter(Building.options), F.text, ~F.text.startswith("/"))
async def got_options(message: Message, state: FSMContext, _: Gettext) -> None:
    data = await state.get_data()
    pending, options = data.get("pending") or {}, parse_options(message.text or "")
    if not isinstance(options, list):
        await message.answer(views.options_problem(options, _))
        return
    questions, i = list(data.get("questions") or []), int(pending.get("i", -1))
    kind = kind_of(str(pending.get("kind")))
    if kind is not None and pending.get("new") and i == len(questions) < MAX_QUESTIONS:
        questions.append({"kind": kind.value, "text": pending["text"], "options": options})
    elif kind is not None and not pending.get("new") and 0 <= i < len(questions):
        questions[i] = rekind(questions[i], kind, options)
    await state.update_data(questions=questions)
    await show_preview(message, state, _)


# --- versions in other languages ----------------------------------------------------------------


async def show_languages(where: Where, state: FSMContext, _: Gettext) -> None:
    await state.set_state(Building.preview)
    data = await state.get_data()
    await show(where, views.languages_text(data, _), views.languages_keyboard(data, _))


@router.callback_query(BuildCb.filter(F.action == "langs"), StateFilter(Building))
async def languages(call: CallbackQuery, state: FSMContext, _: Gettext) -> None:
    if not valid_draft((await state.get_data()).get("questions")):
        await invalid(call, _)
        return
    await call.answer()
    await show_languages(call, state, _)


def other_language(data: dict[str, Any], code: str) -> bool:
    return code in SUPPORTED_LOCALES and code != data.get("locale")


@router.callback_query(BuildCb.filter(F.action == "lang"), StateFilter(Building))
async def ask_version(
    call: CallbackQuery, callback_data: BuildCb, state: FSMContext, _: Gettext
) -> None:
    """The title and questions in another language, as one message in the template's form."""
    data = await state.get_data()
    code = callback_data.kind
    if not other_language(data, code) or not valid_draft(data.get("questions")):
        await call.answer(_("That language is not offered."), show_alert=True)
        return
    await call.answer()
    await state.update_data(version_lang=code, version_text="")
    await state.set_state(Building.version)
    *parts, last = views.ask_version(data, code, _)
    if not parts:
        await show(call, last, cancel_keyboard(_))
        return
    await show(call, parts[0])
    for part in parts[1:]:
        await pressed(call).answer(part)
    await pressed(call).answer(last, reply_markup=cancel_keyboard(_))


@router.callback_query(BuildCb.filter(F.action == "unlang"), StateFilter(Building))
async def remove_version(
    call: CallbackQuery, callback_data: BuildCb, state: FSMContext, _: Gettext
) -> None:
    data = await state.get_data()
    versions = dict(data.get("versions") or {})
    if callback_data.kind not in versions:
        await invalid(call, _)
        return
    del versions[callback_data.kind]
    await state.update_data(versions=versions)
    await call.answer()
    await show_languages(call, state, _)


@router.message(StateFilter(Building.version), F.text, ~F.text.startswith("/"))
async def got_version(message: Message, state: FSMContext, _: Gettext) -> None:
    """Checked against the original: as many questions, each with as many answers."""
    data = await state.get_data()
    code, questions = str(data.get("version_lang") or ""), list(data.get("questions") or [])
    if not other_language(data, code):
        await show_preview(message, state, _)
        return
    typed, before = message.text or "", str(data.get("version_text") or "")
    whole = typed if not before or starts_anew(typed) else before + "\n" + typed
    parsed = parse_version(whole, questions)
    if isinstance(parsed, tuple):
        problem, number = parsed
        incomplete = problem is VersionProblem.INCOMPLETE and number > 0
        await state.update_data(version_text=whole if incomplete else "")
        if incomplete:
            await message.answer(views.version_so_far(number, len(questions), _))
        else:
            await message.answer(views.version_problem(problem, number, len(questions), _))
        return
    await state.update_data(version_text="")
    versions = dict(data.get("versions") or {})
    versions[code] = {**parsed, "of": {"title": data["title"], "questions": questions}}
    await state.update_data(versions=versions)
    await show_preview(message, state, _)


@router.message(StateFilter(Building.title, Building.text, Building.options, Building.version))
async def not_text(message: Message, _: Gettext) -> None:
    """A sticker, photo or voice where a text is expected."""
    await message.answer(_("Please send it as a text message: nothing was changed."))


@router.message(
    StateFilter(Building.preview, Building.secrecy, Building.confirm),
    ~F.text.startswith("/"),
)
async def not_a_tap(message: Message, _: Gettext) -> None:
    """Something typed where a button is expected."""
    await message.answer(_("Please tap one of the buttons above: nothing was changed."))


# --- secret or named, closing, send -------------------------------------------------------------


@router.callback_query(BuildCb.filter(F.action == "next"), StateFilter(Building))
async def next_step(call: CallbackQuery, state: FSMContext, _: Gettext) -> None:
    if not valid_draft((await state.get_data()).get("questions")):
        await invalid(call, _)
        return
    await call.answer()
    await state.set_state(Building.secrecy)
    await show(call, views.secrecy_text(_), views.secrecy_keyboard(_))


@router.callback_query(BuildCb.filter(F.action == "secret"), StateFilter(Building.secrecy))
async def got_secrecy(
    call: CallbackQuery, callback_data: BuildCb, state: FSMContext, _: Gettext
) -> None:
    if callback_data.kind not in ("0", "1"):
        await invalid(call, _)
        return
    await call.answer()
    await state.update_data(anonymous=callback_data.kind == "1")
    await state.set_state(Building.closing)
    await show(
        call,
        _("When does it close? Tap a choice, or type a date and time in your zone."),
        closing_keyboard(_, action="bclose"),
    )


@router.callback_query(ProposeCb.filter(F.action == "bclose"), StateFilter(Building.closing))
async def got_closing(
    call: CallbackQuery,
    callback_data: ProposeCb,
    state: FSMContext,
    member: Member | None,
    session: AsyncSession,
    clock: Clock,
    _: Gettext,
) -> None:
    moment = quick_closing(callback_data.value, clock.now())
    if moment is None or member is None:
        await invalid(call, _)
        return
    await call.answer()
    await show_confirm(call, state, moment, member, session, _)


@router.message(StateFilter(Building.closing), F.text, ~F.text.startswith("/"))
async def typed_closing(
    message: Message,
    state: FSMContext,
    member: Member | None,
    session: AsyncSession,
    clock: Clock,
    _: Gettext,
) -> None:
    """A closing time typed in the member's zone: in the future and within a year."""
    if member is None:
        return
    parsed = parse_closing(message.text or "", member.tz, clock.now())
    if parsed.moment is None:
        assert parsed.problem is not None
        await message.answer(time_problem(parsed.problem, zone_name(member.tz, member.locale), _))
        return
    await show_confirm(message, state, parsed.moment, member, session, _)


@router.message(StateFilter(Building.closing))
async def closing_not_text(message: Message, _: Gettext) -> None:
    await message.answer(_("Please send it as a text message: nothing was changed."))


async def show_confirm(
    where: Where,
    state: FSMContext,
    moment: datetime,
    member: Member,
    session: AsyncSession,
    _: Gettext,
) -> None:
    await state.update_data(closes_at=moment.isoformat())
    await state.set_state(Building.confirm)
    data = await state.get_data()
    audience = await audience_size(session, int(data["group"]) or None)
    when = format_when(moment, member.tz, member.locale)
    await show(where, views.confirm_text(data, when, audience, _), views.confirm_keyboard(_))


@router.callback_query(BuildCb.filter(F.action == "send"), StateFilter(Building.confirm))
async def send(
    call: CallbackQuery,
    state: FSMContext,
    member: Member | None,
    session: AsyncSession,
    clock: Clock,
    _: Gettext,
) -> None:
    """Check the role, the questions and the time again, then send."""
    data = await state.get_data()
    if member is None or not await may_propose(session, member, int(data.get("group", -1))):
        await call.answer(_("Only the coordinators of this group can do this."), show_alert=True)
        return
    closes = datetime.fromisoformat(str(data["closes_at"]))
    if not valid_draft(data.get("questions")):
        await invalid(call, _)
        return
    if check_closing(closes, clock.now()).moment is None:
        await call.answer(_("The closing time has passed: choose another one."), show_alert=True)
        return
    questionnaire = Questionnaire(
        group_id=int(data["group"]) or None,
        created_by_member_id=member.id,
        locale=str(data["locale"]),
        title=str(data["title"]),
        questions=list(data["questions"]),
        versions=sent_versions(data),
        anonymous=bool(data["anonymous"]),
        closes_at=closes,
        created_at=clock.now(),
    )
    session.add(questionnaire)
    await session.flush()
    await launch_questionnaire(session, questionnaire, member)
    await state.clear()
    await call.answer()
    await show(call, _("Sent. You will get the results when it closes."))


def sent_versions(data: dict[str, Any]) -> dict[str, Any] | None:
    """The versions still written for these questions, as stored (without their check)."""
    out = {
        code: {"title": version["title"], "questions": version["questions"]}
        for code, version in (data.get("versions") or {}).items()
        if other_language(data, code)
        and version_matches(version, data["title"], data["questions"])
    }
    return out or None


@router.callback_query(BuildCb.filter())
@router.callback_query(ProposeCb.filter(F.action == "bclose"))
async def stale(call: CallbackQuery, _: Gettext) -> None:
    """A builder button of a step that is over, or of a conversation that is over."""
    await invalid(call, _)
