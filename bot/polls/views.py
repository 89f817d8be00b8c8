"""How a poll and its results look: one set of texts and buttons for members, previews, reports."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import Field

from bot.core import geo
from bot.core.bounded import Index, Mask, RowId, Small
from bot.core.i18n import format_number, format_share, format_when, language_name
from bot.polls.ballot_box import POOL_BATCH
from bot.polls.service import MAX_COMMENTS, Comment, CommentResult, VoteResult
from bot.polls.tally import SMALL_GROUP, Counts, Tally
from models.poll import BLOCK, Poll, PollKind

Gettext = Callable[..., str]
MAX_MESSAGE = 4096
LIST_LABEL = 48
CONSENT_ICONS = ("👍", "✋", "👎", "⛔")


class VoteCb(CallbackData, prefix="pv"):
    """One tap answers a single-choice, scale or consent poll (poll 0 is a preview)."""

    poll: RowId
    option: Index


class BlockCb(CallbackData, prefix="pb"):
    """Confirm a block on a secret poll: the reason is the member's message this button's
    message replies to, so the choice is never stored beside the member while they write."""

    poll: RowId
    message: RowId  # the poll message to show in its answered state (0: none)
    option: Index = BLOCK  # BLOCK, or DISAGREE where the poll asks a disagreement's reason
    lang: Annotated[str, Field(max_length=8)] = ""  # the language of the version quoted above


class ReasonLangCb(CallbackData, prefix="pn"):
    """Add a reason's version in another language: without `lang` the languages to pick from.
    `reason` is the member's message holding the reason (secret polls), `message` the poll."""

    poll: RowId
    message: RowId
    reason: RowId = 0
    lang: Annotated[str, Field(max_length=8)] = ""


class PickCb(CallbackData, prefix="pk"):
    """Tick or untick an option of a multiple-choice poll; the ticks travel in `mask`."""

    poll: RowId
    option: Index
    mask: Mask


class SubmitCb(CallbackData, prefix="pu"):
    """Send the ticked options of a multiple-choice poll."""

    poll: RowId
    mask: Mask


class CommentCb(CallbackData, prefix="pc"):
    """Add a comment (text or voice) after answering."""

    poll: RowId


class ShowCb(CallbackData, prefix="po"):
    """Show a poll again (from /polls)."""

    poll: RowId


class ResultsCb(CallbackData, prefix="pr"):
    """Results so far (members, when the poll shows them live) or the full report."""

    poll: RowId


class CloseCb(CallbackData, prefix="px"):
    """Close a poll before its time: step 0 asks, 1 confirms, 2 keeps it open."""

    poll: RowId
    step: Small = 0


class ExportCb(CallbackData, prefix="pe"):
    """The chart (PNG) and the spreadsheet (CSV) of a poll's results (coordinators)."""

    poll: RowId


class CommentsCb(CallbackData, prefix="pl"):
    """Read the comments on a poll (coordinators): the first page."""

    poll: RowId


class CommentsPageCb(CallbackData, prefix="pm"):
    """Another page of a poll's comments (coordinators)."""

    poll: RowId
    page: Small


class NewPollCb(CallbackData, prefix="nw"):
    """Start or steer the coordinator's poll creation conversation."""

    action: str
    value: str = ""


def utf16_len(text: str) -> int:
    """Length as Telegram counts it."""
    return len(text.encode("utf-16-le")) // 2


def fit(lines: Sequence[str], note: str, limit: int = MAX_MESSAGE) -> str:
    """Join lines, dropping the last ones (and saying so) if Telegram would refuse the text."""
    text = "\n".join(lines)
    if utf16_len(text) <= limit:
        return text
    kept: list[str] = []
    for line in lines:
        if utf16_len("\n".join([*kept, line, "…", note])) > limit:
            break
        kept.append(line)
    return "\n".join([*kept, "…", note])


def consent_labels(_: Gettext) -> list[str]:
    """Agree / Abstain / Disagree / Block in the reader's language."""
    # TRANSLATORS: the four answers of a consent decision; "Block" is a formal objection that
    # stops the proposal (the member must give a reason), not blocking a person.
    names = [_("Agree"), _("Abstain"), _("Disagree"), _("Block")]
    return [f"{icon} {name}" for icon, name in zip(CONSENT_ICONS, names, strict=True)]


def option_labels(poll: Poll, locale: str, _: Gettext) -> list[str]:
    """The answers as the reader sees them."""
    if poll.kind == PollKind.CONSENT:
        return consent_labels(_)
    if poll.kind == PollKind.SCALE:
        return [str(point) for point in range(1, poll.option_count + 1)]
    return poll.text(locale)[1]


def kind_name(kind: str, _: Gettext) -> str:
    """The name of a kind of poll."""
    names: dict[str, str] = {
        PollKind.SINGLE: _("One answer"),
        PollKind.MULTIPLE: _("Several answers"),
        PollKind.SCALE: _("Scale from 1 to 5"),
        PollKind.CONSENT: _("Consent (agree, abstain, disagree, block)"),
    }
    return names.get(kind, kind)


def gender_name(value: str | None, _: Gettext) -> str:
    """A gender group as shown in breakdowns."""
    names: dict[str, str] = {
        "woman": _("Women"),
        "man": _("Men"),
        "nonbinary": _("Non-binary people"),
        "other": _("Other identities"),
        "undisclosed": _("Did not say"),
    }
    return names.get(value or "", _("Not stated"))


def region_label(value: str | None, locale: str, _: Gettext) -> str:
    """A region as shown in breakdowns."""
    return geo.region_name(value, locale) if value else _("Not stated")


def choice_names(poll: Poll, choices: int, locale: str, _: Gettext) -> str:
    """The options in a choice mask, comma-separated, escaped for HTML messages."""
    labels = option_labels(poll, locale, _)
    return ", ".join(html.escape(label) for i, label in enumerate(labels) if choices >> i & 1)


def version_note(poll: Poll, locale: str, _: Gettext) -> list[str]:
    """The mark on a question the reader gets in another language, as announcements have."""
    if poll.has_version(locale):
        return []
    return [
        _("<i>Not available in your language: this is the version in {language}.</i>").format(
            language=html.escape(language_name(poll.locale, locale))
        )
    ]


def poll_text(poll: Poll, locale: str, zone: str, _: Gettext, audience: str) -> str:
    """The poll message a member receives (and the coordinator previews)."""
    question, labels = poll.text(locale)
    lines = [_("🗳 <b>Consultation</b> · {audience}").format(audience=html.escape(audience)), ""]
    lines.append(f"<b>{html.escape(question)}</b>")
    lines.extend(version_note(poll, locale, _))
    if poll.kind in (PollKind.SINGLE, PollKind.MULTIPLE):
        lines.append("")
        lines.extend(f"{i}. {html.escape(label)}" for i, label in enumerate(labels, start=1))
    lines.append("")
    if poll.kind == PollKind.MULTIPLE:
        lines.append(_("Tick every answer that applies, then tap Submit."))
    elif poll.kind == PollKind.SCALE:
        lines.append(_("Answer from 1 (not at all) to 5 (completely)."))
    elif poll.kind == PollKind.CONSENT:
        lines.append(
            _("A block stops a consensus decision: if you block, you will be asked for a reason.")
        )
    if poll.anonymous:
        lines.append(
            _(
                "🔒 Secret ballot: no one, not even the coordinators, can see how you voted. "
                "Your answer cannot be changed once sent."
            )
        )
    else:
        lines.append(
            _(
                "👤 Named poll: the coordinators see your answer. "
                "You can change it until the poll closes."
            )
        )
    lines.append(
        _("Closes: {when}").format(when=format_when(poll.closes_at, zone, locale, "full"))
    )
    return "\n".join(lines)


def audience_text(poll: Poll, groups: Sequence[str], locale: str, _: Gettext) -> str:
    """Who the poll is for, in a few words."""
    if poll.audience == "network":
        return _("Whole network")
    if poll.audience == "region":
        return region_label(poll.region, locale, _)
    return ", ".join(groups) or _("Working groups")


def poll_keyboard(
    poll: Poll,
    locale: str,
    _: Gettext,
    *,
    mask: int = 0,
    chosen: int | None = None,
    comment: bool = False,
    live: bool = False,
) -> InlineKeyboardMarkup | None:
    """Answer buttons (ticks for multiple choice, ✓ on a named poll's current answer), then
    the comment and live-results buttons once the member has answered."""
    kb = InlineKeyboardBuilder()
    poll_id = poll.id or 0
    labels = option_labels(poll, locale, _)
    answering = chosen is None or not poll.anonymous
    if answering:
        for i, label in enumerate(labels):
            picked = chosen is not None and chosen >> i & 1
            if poll.kind == PollKind.MULTIPLE:
                ticked = mask >> i & 1
                text = ("☑ " if ticked else "☐ ") + f"{i + 1}. {label}"
                kb.button(text=text, callback_data=PickCb(poll=poll_id, option=i, mask=mask))
            else:
                shown = label if poll.kind != PollKind.SINGLE else f"{i + 1}. {label}"
                text = ("✓ " if picked else "") + shown
                kb.button(text=text, callback_data=VoteCb(poll=poll_id, option=i))
        if poll.kind == PollKind.MULTIPLE:
            kb.button(text=_("📨 Submit"), callback_data=SubmitCb(poll=poll_id, mask=mask))
    sizes: list[int] = []
    if answering:
        if poll.kind == PollKind.SCALE:
            sizes.append(poll.option_count)
        elif poll.kind == PollKind.CONSENT:
            sizes.extend([2, 2])
        else:
            sizes.extend([1] * len(labels))
        if poll.kind == PollKind.MULTIPLE:
            sizes.append(1)
    extra = 0
    if comment:
        kb.button(text=_("💬 Add a comment"), callback_data=CommentCb(poll=poll_id))
        extra += 1
    if live:
        kb.button(text=_("📊 Results so far"), callback_data=ResultsCb(poll=poll_id))
        extra += 1
    if extra:
        sizes.append(extra)
    if not sizes:
        return None
    kb.adjust(*sizes)
    return kb.as_markup()


def counts_lines(
    poll: Poll, counts: Counts, locale: str, _: Gettext, *, highlight_block: bool = True
) -> list[str]:
    """One line per option: count and share of those who answered."""
    labels = option_labels(poll, locale, _)
    if poll.kind in (PollKind.SINGLE, PollKind.MULTIPLE):
        labels = [f"{i}. {label}" for i, label in enumerate(labels, start=1)]
    lines = []
    for i, label in enumerate(labels):
        n = counts.options[i] if i < len(counts.options) else 0
        share = n / counts.voters if counts.voters else 0.0
        figure = format_number(n, locale)
        line = f"{html.escape(label)}: <b>{figure}</b> ({format_share(share, locale)})"
        if highlight_block and poll.kind == PollKind.CONSENT and i == BLOCK and n:
            line += " ⚠️"
        lines.append(line)
    return lines


def compact(poll: Poll, counts: Counts, locale: str, _: Gettext) -> str:
    """Option counts on one line, for breakdowns."""
    labels = option_labels(poll, locale, _)
    parts = []
    for i, label in enumerate(labels):
        n = counts.options[i] if i < len(counts.options) else 0
        own = poll.kind in (PollKind.SINGLE, PollKind.MULTIPLE)
        short = f"{i + 1}." if own else label
        parts.append(f"{html.escape(short)} {format_number(n, locale)}")
    return " · ".join(parts)


def hidden_text(small: bool, _: Gettext) -> str:
    """What a hidden group shows instead of numbers: the same words for every reason it is
    hidden (saying "fewer than 5" here and "to protect" there would tell sizes apart)."""
    return _("hidden")


def consensus_line(poll: Poll, counts: Counts, locale: str, _: Gettext) -> str | None:
    """For consent polls, say plainly whether anyone blocked."""
    if poll.kind != PollKind.CONSENT or not counts.voters:
        return None
    blocks = counts.options[BLOCK]
    if blocks:
        return _("⛔ <b>Blocked.</b> Blocks: {count}. A block stops a consensus decision.").format(
            count=format_number(blocks, locale)
        )
    return _("No one blocked.")


def results_text(
    poll: Poll,
    result: Tally,
    locale: str,
    zone: str,
    _: Gettext,
    *,
    manager: bool = False,
    reasons: Sequence[Comment] = (),
    comments: int = 0,
) -> str:
    """Results for members (counts and shares), and for coordinators with breakdowns."""
    question = poll.text(locale)[0]
    counts = result.total
    lines = [_("📊 <b>Results</b>"), f"<b>{html.escape(question)}</b>"]
    lines += [*version_note(poll, locale, _), ""]
    if poll.is_open:
        lines.append(
            _("Still open until {when}.").format(
                when=format_when(poll.closes_at, zone, locale, "full")
            )
        )
    else:
        lines.append(_("This consultation is closed."))
    lines.append(_("Answers: {count}").format(count=format_number(counts.voters, locale)))
    if poll.is_open and poll.anonymous:
        lines.append(
            _(
                "Secret ballot: results so far change only in steps of at least {count} "
                "answers (and at the close), so no one's answer can be read from a change."
            ).format(count=POOL_BATCH)
        )
    if poll.kind == PollKind.MULTIPLE:
        lines.append(_("(Several answers were possible, so shares add up to more than 100%.)"))
    lines.append("")
    lines.extend(counts_lines(poll, counts, locale, _))
    verdict = consensus_line(poll, counts, locale, _)
    if verdict:
        lines.extend(["", verdict])
    if manager:
        if reasons:
            lines.extend(["", _("<b>Reasons given for blocking</b>")])
            for reason in reasons:
                who = f"{html.escape(reason.author)}: " if reason.author else ""
                said = html.escape(reason.text) if reason.text else _("(voice note)")
                lines.append(f"• {who}{said}")
        for title, groups, label in (
            (_("<b>By region</b>"), result.by_region, lambda k: region_label(k, locale, _)),
            (_("<b>By gender</b>"), result.by_gender, lambda k: gender_name(k, _)),
        ):
            if not groups:
                continue
            lines.extend(["", title])
            for group in sorted(groups, key=lambda g: label(g.key)):
                name = html.escape(label(group.key))
                if group.counts is None:
                    lines.append(f"{name}: {hidden_text(group.small, _)}")
                else:
                    lines.append(
                        f"{name} ({format_number(group.counts.voters, locale)}): "
                        + compact(poll, group.counts, locale, _)
                    )
        if any(group.counts is None for group in (*result.by_region, *result.by_gender)):
            lines.extend(
                [
                    "",
                    _(
                        "Hidden: groups of fewer than {count} answers, groups whose answers "
                        "are all the same, and groups that would let someone work those out "
                        "from the totals. The chart and the CSV follow the same rule."
                    ).format(count=SMALL_GROUP),
                ]
            )
        if comments:
            lines.extend(["", _("💬 Comments: {count}").format(count=comments)])
    return fit(lines, _("(Shortened: the CSV file has everything.)"))


def manager_keyboard(poll: Poll, _: Gettext, *, comments: bool) -> InlineKeyboardMarkup:
    """Buttons under a coordinator's report."""
    kb = InlineKeyboardBuilder()
    kb.button(text=_("📎 Chart and CSV"), callback_data=ExportCb(poll=poll.id))
    if comments:
        kb.button(text=_("💬 Comments"), callback_data=CommentsCb(poll=poll.id))
    if poll.is_open:
        kb.button(text=_("🔒 Close now"), callback_data=CloseCb(poll=poll.id))
    kb.adjust(1)
    return kb.as_markup()


def short(text: str, limit: int = LIST_LABEL) -> str:
    """One line of at most `limit` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def refusal(result: VoteResult, _: Gettext) -> str:
    """What a refused vote tells the member."""
    texts = {
        VoteResult.CLOSED: _("This consultation is closed: answers are no longer accepted."),
        VoteResult.NOT_FOR_YOU: _("This consultation is not meant for you."),
        VoteResult.OUT_OF_RANGE: _("That answer is not one of the options."),
        VoteResult.ALREADY_VOTED: _(
            "You have already answered this secret ballot. It cannot be changed."
        ),
        VoteResult.REASON_NEEDED: _("A block needs a reason."),
    }
    return texts.get(result, _("This button is no longer valid."))


def close_question(poll: Poll, locale: str, _: Gettext) -> tuple[str, InlineKeyboardMarkup]:
    """Ask before closing a poll early."""
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Yes, close it now"), callback_data=CloseCb(poll=poll.id, step=1))
    kb.button(text=_("No, keep it open"), callback_data=CloseCb(poll=poll.id, step=2))
    kb.adjust(1)
    text = _("Close “{question}” now? No more answers will be accepted.").format(
        question=html.escape(short(poll.text(locale)[0], 80))
    )
    return text, kb.as_markup()


def comment_outcome(result: CommentResult, _: Gettext) -> str:
    """What a member is told after sending a comment."""
    if result is CommentResult.SAVED:
        return _("💬 Thank you, your comment was saved.")
    if result is CommentResult.TOO_MANY:
        return _(
            "You have already left {count} comments on this consultation, the most one person "
            "can leave."
        ).format(count=MAX_COMMENTS)
    if result is CommentResult.NOT_ANSWERED:
        return _("Answer the consultation first.")
    return refusal(VoteResult.CLOSED, _)


COMMENTS_PAGE = 10


@dataclass
class CommentPage:
    """One page of reasons and comments: a text with ◀ ▶, and the page's voice notes."""

    text: str
    markup: InlineKeyboardMarkup | None
    voices: list[tuple[str, str]]


def comment_page(
    poll_id: int, items: Sequence[tuple[str, Comment]], page: int, _: Gettext
) -> CommentPage:
    """Page `page` (clamped to those that exist) of the reasons and comments."""
    pages = max(1, -(-len(items) // COMMENTS_PAGE))
    page = min(max(page, 0), pages - 1)
    lines = [
        _("<b>Comments</b> ({page} of {pages})").format(page=page + 1, pages=pages)
        if pages > 1
        else _("<b>Comments</b>")
    ]
    voices: list[tuple[str, str]] = []
    for label, item in items[page * COMMENTS_PAGE : (page + 1) * COMMENTS_PAGE]:
        who = f" · {html.escape(item.author)}" if item.author else ""
        if item.text:
            lines.append(f"<b>{label}</b>{who}: {html.escape(item.text)}")
        if item.voice_file_id:
            lines.append(f"<b>{label}</b>{who}: " + _("(voice note)"))
            voices.append((f"{label}{who}", item.voice_file_id))
    if not items:
        lines.append(_("No comments yet."))
    kb = InlineKeyboardBuilder()
    if page > 0:
        kb.button(text=_("◀ Previous"), callback_data=CommentsPageCb(poll=poll_id, page=page - 1))
    if page < pages - 1:
        kb.button(text=_("Next ▶"), callback_data=CommentsPageCb(poll=poll_id, page=page + 1))
    markup = kb.as_markup() if pages > 1 else None
    return CommentPage(fit(lines, "…"), markup, voices)
