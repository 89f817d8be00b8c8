"""How proposals, rounds, the coordinator's review and the decision record look."""

from __future__ import annotations

import difflib
import html
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import Field

from bot.consensus.service import QUORUMS, Draft, Refusal, adoptable
from bot.core.i18n import format_number, format_share, format_when
from bot.polls.closing import QUICK_CHOICES
from bot.polls.screens import language as language_name
from bot.polls.views import CloseCb, consent_labels, fit, short
from models.consensus import Outcome, Proposal, Round

Gettext = Callable[..., str]
Id = Annotated[int, Field(ge=0, lt=2**31)]
Word = Annotated[str, Field(max_length=16)]


class ProposeCb(CallbackData, prefix="cn"):
    """Steer the proposal (or amendment) conversation: group, language, quorum, send."""

    action: Word
    value: Annotated[str, Field(max_length=24)] = ""


class DecideCb(CallbackData, prefix="cd"):
    """The coordinator's choice after a round: adopt, amend, not adopted, withdraw."""

    proposal: Id
    round: Id
    action: Word


class DecisionsCb(CallbackData, prefix="cl"):
    """A group's decisions (group 0: the whole network)."""

    group: Id


class RecordCb(CallbackData, prefix="cr"):
    """One decision's record."""

    proposal: Id


def outcome_text(proposal: Proposal, _: Gettext) -> str:
    """The outcome in words."""
    names: dict[str, str] = {
        Outcome.OPEN: _("🕓 Under discussion"),
        Outcome.ADOPTED: _("✅ Adopted by consensus"),
        Outcome.STAND_ASIDES: _("✅ Adopted with stand-asides"),
        Outcome.NOT_ADOPTED: _("❌ Not adopted"),
        Outcome.WITHDRAWN: _("↩️ Withdrawn"),
    }
    return names.get(proposal.status, proposal.status)


def refusal(refused: Refusal, _: Gettext) -> str:
    """What a refused consensus action tells the member."""
    texts: dict[str, str] = {
        Refusal.NOT_COORDINATOR: _("Only the coordinators of this group can do this."),
        Refusal.GONE: _("This proposal no longer exists."),
        Refusal.DECIDED: _("This proposal has already been decided."),
        Refusal.NOT_CURRENT: _("This is not the proposal's current round."),
        Refusal.STILL_OPEN: _("This round is still open: wait for its close."),
        Refusal.BLOCKED: _("It cannot be adopted: someone blocked it."),
        Refusal.NO_QUORUM: _("It cannot be adopted: the quorum was not met."),
        Refusal.INCOMPLETE: _("The proposal needs a title and a text."),
        Refusal.CLOSING_PAST: _("The closing time has passed: choose another one."),
    }
    return texts.get(refused, _("This button is no longer valid."))


# --- the conversation ---------------------------------------------------------------------------


def groups_keyboard(
    groups: Sequence[tuple[int, str]], network: bool, _: Gettext, action: str = "group"
) -> Any:
    kb = InlineKeyboardBuilder()
    for group_id, name in groups:
        kb.button(text=name, callback_data=ProposeCb(action=action, value=str(group_id)))
    if network:
        kb.button(text=_("Whole network"), callback_data=ProposeCb(action=action, value="0"))
    kb.button(text=_("✖ Cancel"), callback_data=ProposeCb(action="cancel"))
    kb.adjust(1)
    return kb.as_markup()


def cancel_keyboard(_: Gettext) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✖ Cancel"), callback_data=ProposeCb(action="cancel"))
    return kb.as_markup()


def versions_keyboard(draft: Draft, _: Gettext) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for code in draft.other_locales():
        mark = "✓ " if code in draft.versions else "+ "
        kb.button(
            text=mark + language_name(code), callback_data=ProposeCb(action="lang", value=code)
        )
    kb.button(text=_("Next ▶"), callback_data=ProposeCb(action="next"))
    kb.button(text=_("✖ Cancel"), callback_data=ProposeCb(action="cancel"))
    kb.adjust(2, 2, 1, 1)
    return kb.as_markup()


def versions_text(draft: Draft, _: Gettext) -> str:
    return _(
        "Add the proposal in other languages so that everyone reads it in theirs (members "
        "without a version read it as you wrote it). Tap a language, or Next. You may also "
        "send a voice note or a document to go with it."
    )


def quorum_keyboard(_: Gettext) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for value in QUORUMS:
        kb.button(text=f"{value} %", callback_data=ProposeCb(action="quorum", value=str(value)))
    kb.button(text=_("✖ Cancel"), callback_data=ProposeCb(action="cancel"))
    kb.adjust(len(QUORUMS), 1)
    return kb.as_markup()


def closing_keyboard(_: Gettext, action: str = "close") -> InlineKeyboardMarkup:
    names = {"1d": _("In 1 day"), "3d": _("In 3 days"), "1w": _("In 1 week")}
    kb = InlineKeyboardBuilder()
    for code in QUICK_CHOICES:
        kb.button(text=names[code], callback_data=ProposeCb(action=action, value=code))
    kb.button(text=_("✖ Cancel"), callback_data=ProposeCb(action="cancel"))
    kb.adjust(3, 1)
    return kb.as_markup()


def preview_keyboard(draft: Draft, audience: int, _: Gettext) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("✅ Send to the audience ({count})").format(count=audience),
        callback_data=ProposeCb(action="send"),
    )
    if draft.proposal_id is None:
        secrecy = _("👤 Make it a named vote") if draft.anonymous else _("🔒 Make it secret")
        kb.button(text=secrecy, callback_data=ProposeCb(action="secret"))
    kb.button(text=_("✖ Cancel"), callback_data=ProposeCb(action="cancel"))
    kb.adjust(1)
    return kb.as_markup()


# --- what members read --------------------------------------------------------------------------


def word_diff(before: str, after: str) -> str:
    """The new text with removed words struck through and added words underlined."""
    old, new = before.split(), after.split()
    out: list[str] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            out.append(html.escape(" ".join(new[j1:j2])))
            continue
        if i2 > i1:
            out.append("<s>" + html.escape(" ".join(old[i1:i2])) + "</s>")
        if j2 > j1:
            out.append("<u>" + html.escape(" ".join(new[j1:j2])) + "</u>")
    return " ".join(out)


def compared(previous: Round, current: Round, locale: str) -> tuple[str, str]:
    """The two texts to compare: in `locale` when both rounds have it, else as written."""
    both = locale in (previous.versions or {}) and locale in (current.versions or {})
    if both:
        return previous.version(locale)[1], current.version(locale)[1]
    return previous.text, current.text


def reason_lines(item: dict[str, Any], locale: str, _: Gettext, who: str) -> list[str]:
    """One reason with its versions side by side: the reader's language first where there is
    a version in it, then the reason as written, then the other versions."""
    said = html.escape(item["text"]) if item.get("text") else _("🎤 a voice note")
    versions: dict[str, str] = dict(item.get("versions") or {})
    if not versions:
        return [f"• {said}{who}"]
    mine = versions.pop(locale, None)
    if mine is None:
        lines = [f"• {said}{who}"]
    else:
        lines = [
            f"• [{html.escape(language_name(locale))}] {html.escape(mine)}{who}",
            "   " + _("[as written] {reason}").format(reason=said),
        ]
    lines += [
        f"   [{html.escape(language_name(code))}] {html.escape(text)}"
        for code, text in sorted(versions.items())
    ]
    return lines


def objection_lines(
    result: dict[str, Any], _: Gettext, *, authors: bool, locale: str = ""
) -> list[str]:
    """Blocks, then disagreements, each reason with its versions (authors only on named
    votes); the count is of the answers, a disagreement may come without a reason."""
    lines: list[str] = []
    heads = {"block": _("⛔ <b>Blocks</b>"), "disagree": _("👎 <b>Disagreements</b>")}
    for code, head in heads.items():
        found = [o for o in result.get("objections", []) if o["code"] == code]
        if not found:
            continue
        lines.append(f"{head} ({len(found)})")
        for item in found:
            who = f" — {html.escape(item['author'])}" if authors and item.get("author") else ""
            lines += reason_lines(item, locale, _, who)
    return lines


def audience_name(proposal: Proposal, group_name: str | None, _: Gettext) -> str:
    return group_name or _("Whole network")


def round_text(
    proposal: Proposal,
    round_: Round,
    group: str | None,
    locale: str,
    _: Gettext,
    previous: Round | None = None,
) -> str:
    """A round as a member receives it: the proposal, and from round 2 what changed and which
    objections it answers."""
    title, text = round_.version(locale)
    lines = [
        _("🤝 <b>Proposal</b> · {audience} · round {number}").format(
            audience=html.escape(audience_name(proposal, group, _)), number=round_.number
        ),
        "",
        f"<b>{html.escape(title)}</b>",
        "",
        html.escape(text),
    ]
    if previous is None:
        previous = next((r for r in proposal.rounds if r.number == round_.number - 1), None)
    if previous is not None:
        before, after = compared(previous, round_, locale)
        lines += [
            "",
            _("✏️ <b>What changed since round {number}</b>").format(number=previous.number),
        ]
        lines.append(word_diff(before, after))
        answered = objection_lines(previous.result or {}, _, authors=False, locale=locale)
        if answered:
            lines += ["", _("<b>The objections it answers</b>"), *answered]
    lines += [
        "",
        _(
            "Answer in the consultation below. A decision needs no block and at least "
            "{quorum} of the group taking part."
        ).format(quorum=format_share(proposal.quorum / 100, locale)),
    ]
    return fit(lines, _("(shortened)"))


def counts_line(result: dict[str, Any], locale: str, _: Gettext) -> str:
    labels = consent_labels(_)
    options = result.get("options", [0, 0, 0, 0])
    return " · ".join(
        f"{label}: {format_number(int(n), locale)}"
        for label, n in zip(labels, options, strict=False)
    )


def quorum_line(proposal: Proposal, result: dict[str, Any], locale: str, _: Gettext) -> str:
    voters, audience = int(result.get("voters", 0)), int(result.get("audience", 0))
    share = format_share(voters / audience if audience else 0.0, locale)
    if result.get("quorum_met"):
        text = _("Answers: {voters} of {audience} ({share}). Quorum {quorum}: ✅ met.")
    else:
        text = _("Answers: {voters} of {audience} ({share}). Quorum {quorum}: ❌ not met.")
    return text.format(
        voters=format_number(voters, locale),
        audience=format_number(audience, locale),
        share=share,
        quorum=format_share(proposal.quorum / 100, locale),
    )


def review_text(proposal: Proposal, round_: Round, locale: str, _: Gettext) -> str:
    """What the coordinator sees when a round closes: counts, quorum, objections grouped."""
    result = round_.result or {}
    lines = [
        _("📋 <b>Round {number} closed</b> · {title}").format(
            number=round_.number, title=html.escape(round_.version(locale)[0])
        ),
        "",
        quorum_line(proposal, result, locale, _),
        counts_line(result, locale, _),
        "",
    ]
    objections = objection_lines(result, _, authors=not proposal.anonymous, locale=locale)
    lines += objections or [_("No objections.")]
    lines.append("")
    refused = adoptable(round_)
    if refused is None:
        lines.append(_("You can adopt it, amend it for another round, or withdraw it."))
    else:
        lines.append(refusal(refused, _))
        lines.append(
            _("You can amend it for another round, record it as not adopted, or withdraw it.")
        )
    return fit(lines, _("(shortened)"))


def close_now_keyboard(round_: Round, _: Gettext) -> InlineKeyboardMarkup | None:
    """Close the round before its time (the consultations' own Close, confirmed first); the
    review then comes at once."""
    if round_.poll_id is None:
        return None
    kb = InlineKeyboardBuilder()
    kb.button(text=_("⏹ Close this round now"), callback_data=CloseCb(poll=round_.poll_id))
    return kb.as_markup()


def review_keyboard(proposal: Proposal, round_: Round, _: Gettext) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()

    def button(text: str, action: str) -> None:
        kb.button(
            text=text,
            callback_data=DecideCb(proposal=proposal.id, round=round_.id, action=action),
        )

    if adoptable(round_) is None:
        button(_("✅ Adopt"), "adopt")
    button(_("✏️ Amend (round {number})").format(number=round_.number + 1), "amend")
    if adoptable(round_) is not None:
        button(_("❌ Record as not adopted"), "reject")
    button(_("↩️ Withdraw"), "withdraw")
    kb.adjust(1)
    return kb.as_markup()


def record_texts(
    proposal: Proposal, group: str | None, locale: str, zone: str, _: Gettext
) -> list[str]:
    """The decision record: the outcome, then each round's text, counts and objections."""
    last = proposal.last_round
    decided = format_when(proposal.decided_at, zone, locale) if proposal.decided_at else "—"
    head = [
        _("📜 <b>Decision record</b> · {audience}").format(
            audience=html.escape(audience_name(proposal, group, _))
        ),
        "",
        f"<b>{html.escape(last.version(locale)[0])}</b>",
        _("Outcome: {outcome}").format(outcome=outcome_text(proposal, _)),
        _("Date: {when}").format(when=decided),
        _("Quorum: {quorum} of the group.").format(
            quorum=format_share(proposal.quorum / 100, locale)
        ),
    ]
    if proposal.status == Outcome.STAND_ASIDES:
        head.append(
            _("Stand-asides (disagreed without blocking): {count}").format(
                count=(last.result or {}).get("options", [0, 0, 0, 0])[2]
            )
        )
    head.append(_("Secret ballot") if proposal.anonymous else _("Named vote"))
    texts = ["\n".join(head)]
    for round_ in proposal.rounds:
        title, text = round_.version(locale)
        lines = [
            _("<b>Round {number}</b> · {title}").format(
                number=round_.number, title=html.escape(short(title, 80))
            ),
            "",
            html.escape(text),
            "",
        ]
        if round_.result is not None:
            lines.append(quorum_line(proposal, round_.result, locale, _))
            lines.append(counts_line(round_.result, locale, _))
            lines += objection_lines(
                round_.result, _, authors=not proposal.anonymous, locale=locale
            )
        texts.append(fit(lines, _("(shortened)")))
    return texts


def decisions_text(
    decisions: Sequence[Proposal], audience: str, locale: str, zone: str, _: Gettext
) -> tuple[str, InlineKeyboardMarkup | None]:
    """A group's decisions, newest first, with a button to each record."""
    lines = [_("📜 <b>Decisions</b> · {audience}").format(audience=html.escape(audience)), ""]
    if not decisions:
        lines.append(_("No decisions yet."))
        return "\n".join(lines), None
    kb = InlineKeyboardBuilder()
    for i, proposal in enumerate(decisions, start=1):
        when = (
            format_when(proposal.decided_at, zone, locale, "short") if proposal.decided_at else ""
        )
        title = proposal.title(locale)
        lines.append(
            f"{i}. <b>{html.escape(short(title, 80))}</b>\n   {outcome_text(proposal, _)} · {when}"
        )
        kb.button(text=f"{i}. {short(title, 40)}", callback_data=RecordCb(proposal=proposal.id))
    kb.adjust(1)
    return fit(lines, _("(shortened)")), kb.as_markup()
