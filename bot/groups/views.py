"""What members, coordinators and admins see of working groups: buttons, cards and lists."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.core import geo
from bot.core.config import SUPPORTED_LOCALES
from bot.core.i18n import LANGUAGE_NAMES, RLM, RTL_LOCALES
from bot.groups.announcements import Draft
from bot.groups.callbacks import AnnounceCb, GroupCb, ManageCb, RemoveCb, RequestCb
from models.group import GroupMembership, MembershipStatus, WorkingGroup
from models.member import Member

Gettext = Callable[..., str]
MEMBERS_PAGE = 8


@dataclass
class CardInfo:
    """What a group card needs besides the group: the viewer's standing and the counts."""

    link: GroupMembership | None
    members: int
    pending: int
    can_coordinate: bool
    is_admin: bool


def rtl(text: str, locale: str) -> str:
    """Start a right-to-left reader's message with an RLM, even when it opens with a name."""
    return text if locale not in RTL_LOCALES or text.startswith(RLM) else RLM + text


def status_icon(link: GroupMembership | None) -> str:
    """A short mark of the member's standing in a group, for list buttons."""
    if link is None:
        return ""
    if link.is_coordinator:
        return "⭐ "
    if link.is_active:
        return "✅ "
    return "⏳ "


def status_text(link: GroupMembership | None, _: Gettext) -> str:
    """The member's standing in a group, in words."""
    if link is None:
        return _("You are not a member yet.")
    if link.is_coordinator:
        return _("⭐ You coordinate this group.")
    if link.is_active:
        return _("✅ You are a member.")
    if link.status == MembershipStatus.WAITING:
        return _("⏳ Your request will follow once the network approves your membership.")
    return _("⏳ Your request is waiting for the coordinators.")


def group_list(
    groups: Sequence[WorkingGroup],
    links: dict[int, GroupMembership],
    counts: dict[int, int],
    _: Gettext,
    locale: str,
    default_locale: str,
    *,
    is_admin: bool,
) -> tuple[str, InlineKeyboardMarkup]:
    """/groups: every group with the member's standing, one button each."""
    lines = [_("<b>Working groups</b>")]
    if not groups:
        lines.append(_("There are no working groups yet."))
    else:
        lines.append(_("Tap a group to read about it and to join or leave it."))
        lines.append("")
    kb = InlineKeyboardBuilder()
    for group in groups:
        name = html.escape(group.name(locale, default_locale))
        link = links.get(group.id)
        archived = "🗄 " if group.archived else ""
        count = counts.get(group.id, 0)
        lines.append(f"{archived}{status_icon(link)}<b>{name}</b> · 👥 {count}")
        kb.button(
            text=f"{archived}{status_icon(link)}{group.name(locale, default_locale)}",
            callback_data=GroupCb(action="show", group_id=group.id),
        )
    if is_admin:
        kb.button(text=_("➕ New working group"), callback_data=ManageCb(action="new"))
    kb.adjust(1)
    return rtl("\n".join(lines), locale), kb.as_markup()


def group_card(
    group: WorkingGroup,
    info: CardInfo,
    _: Gettext,
    locale: str,
    default_locale: str,
) -> tuple[str, InlineKeyboardMarkup]:
    """One group: description, rules, the member's standing, and what they can do."""
    name, description, fallback = group.text(locale, default_locale)
    lines = [f"<b>{html.escape(name)}</b>"]
    if description:
        lines.append(html.escape(description))
    if fallback:
        lines.append(_("<i>Not yet translated into your language.</i>"))
    lines.append("")
    if group.archived:
        lines.append(_("🗄 This group is archived: it takes no new members."))
    elif group.moderated:
        lines.append(_("🔒 Moderated: its coordinators approve each request to join."))
    else:
        lines.append(_("Open: any member of the network can join."))
    lines.append(_("Members: {count}").format(count=info.members))
    if group.chat_id is not None:
        lines.append(_("💬 It has a Telegram chat: members get a personal link to enter."))
    lines.append(status_text(info.link, _))
    if info.link is not None and info.link.is_active and info.link.muted:
        lines.append(_("🔕 You have muted its announcements; you are still a member."))

    kb = InlineKeyboardBuilder()
    link = info.link
    if link is None:
        if not group.archived:
            kb.button(text=_("➕ Join"), callback_data=GroupCb(action="join", group_id=group.id))
    elif link.is_active:
        if group.chat_id is not None:
            kb.button(
                text=_("💬 Group chat"), callback_data=GroupCb(action="chat", group_id=group.id)
            )
        if link.muted:
            mute = _("🔔 Get its announcements again")
        else:
            mute = _("🔕 Mute its announcements")
        kb.button(text=mute, callback_data=GroupCb(action="mute", group_id=group.id))
        kb.button(text=_("Leave"), callback_data=GroupCb(action="leave", group_id=group.id))
    else:
        kb.button(
            text=_("Cancel my request"), callback_data=GroupCb(action="leave", group_id=group.id)
        )
    if info.can_coordinate:
        kb.button(text=_("👥 Members"), callback_data=GroupCb(action="members", group_id=group.id))
        if info.pending:
            kb.button(
                text=_("📥 Requests ({count})").format(count=info.pending),
                callback_data=GroupCb(action="requests", group_id=group.id),
            )
        if not group.archived:
            kb.button(
                text=_("📣 Announcement"),
                callback_data=AnnounceCb(action="new", group_id=group.id),
            )
    if info.is_admin:
        kb.button(text=_("⚙️ Manage"), callback_data=ManageCb(action="show", group_id=group.id))
    kb.button(text=_("◀ All groups"), callback_data=GroupCb(action="list"))
    kb.adjust(2)
    return rtl("\n".join(lines), locale), kb.as_markup()


def leave_question(
    group: WorkingGroup, link: GroupMembership, _: Gettext, name: str
) -> tuple[str, InlineKeyboardMarkup]:
    """Ask before leaving (or cancelling a request), saying what it does to the chat."""
    kb = InlineKeyboardBuilder()
    if link.is_active:
        text = _("Leave <b>{group}</b>?").format(group=html.escape(name))
        if group.chat_id is not None:
            text += "\n" + _("You will also be removed from its Telegram chat.")
        if link.is_coordinator:
            text += "\n" + _("You will no longer be one of its coordinators.")
        kb.button(
            text=_("Yes, leave"), callback_data=GroupCb(action="leave_yes", group_id=group.id)
        )
        kb.button(text=_("No, stay"), callback_data=GroupCb(action="show", group_id=group.id))
    else:
        text = _("Cancel your request to join <b>{group}</b>?").format(group=html.escape(name))
        kb.button(
            text=_("Yes, cancel it"), callback_data=GroupCb(action="leave_yes", group_id=group.id)
        )
        kb.button(text=_("No"), callback_data=GroupCb(action="show", group_id=group.id))
    return text, kb.as_markup()


def person_lines(person: Member, _: Gettext, locale: str) -> list[str]:
    """What a coordinator may see of a member: name, country, organisation; nothing else."""
    country = geo.country_name(person.country, locale) if person.country else "—"
    return [
        _("Name: {value}").format(value=html.escape(person.display_name)),
        _("Country: {value}").format(value=html.escape(country)),
        _("Organisation: {value}").format(value=html.escape(person.organisation or "—")),
    ]


def request_message(
    candidate: Member, link: GroupMembership, group_name: str, _: Gettext, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    """A request to join, as a coordinator sees it, with Approve / Decline."""
    lines = [
        _("<b>Request to join {group}</b>").format(group=html.escape(group_name)),
        *person_lines(candidate, _, locale),
    ]
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ Approve"), callback_data=RequestCb(membership_id=link.id, approve=True))
    kb.button(text=_("Decline"), callback_data=RequestCb(membership_id=link.id, approve=False))
    return "\n".join(lines), kb.as_markup()


def members_view(
    group: WorkingGroup,
    group_name: str,
    rows: Sequence[tuple[GroupMembership, Member]],
    total: int,
    page: int,
    _: Gettext,
    locale: str,
    *,
    may_remove: Callable[[GroupMembership], bool],
) -> tuple[str, InlineKeyboardMarkup]:
    """A page of the member list for coordinators: name, country, organisation only."""
    lines = [
        _("<b>Members of {group}</b> ({count})").format(group=html.escape(group_name), count=total)
    ]
    if not rows:
        lines.append(_("Nobody has joined yet."))
    first = page * MEMBERS_PAGE
    kb = InlineKeyboardBuilder()
    for number, (link, person) in enumerate(rows, start=first + 1):
        country = geo.country_name(person.country, locale) if person.country else "—"
        star = " ⭐" if link.is_coordinator else ""
        organisation = f", {html.escape(person.organisation)}" if person.organisation else ""
        lines.append(
            f"{number}. {html.escape(person.display_name)}{star} · "
            f"{html.escape(country)}{organisation}"
        )
        if may_remove(link):
            kb.button(
                text=_("Remove {name}").format(name=person.display_name),
                callback_data=RemoveCb(group_id=group.id, member_id=person.id),
            )
    kb.adjust(2)
    nav = InlineKeyboardBuilder()
    if page > 0:
        nav.button(
            text="◀", callback_data=GroupCb(action="members", group_id=group.id, page=page - 1)
        )
    if first + len(rows) < total:
        nav.button(
            text="▶", callback_data=GroupCb(action="members", group_id=group.id, page=page + 1)
        )
    nav.button(
        text=_("◀ Back to the group"), callback_data=GroupCb(action="show", group_id=group.id)
    )
    kb.attach(nav)
    return rtl("\n".join(lines), locale), kb.as_markup()


def remove_question(
    group_id: int, person: Member, group_name: str, has_chat: bool, _: Gettext
) -> tuple[str, InlineKeyboardMarkup]:
    """Ask a coordinator to confirm a removal."""
    text = _("Remove <b>{name}</b> from <b>{group}</b>?").format(
        name=html.escape(person.display_name), group=html.escape(group_name)
    )
    if has_chat:
        text += "\n" + _("They will also be removed from the group's Telegram chat.")
    text += "\n" + _("They will be told, and can only come back if a coordinator approves.")
    kb = InlineKeyboardBuilder()
    kb.button(
        text=_("Yes, remove"),
        callback_data=RemoveCb(group_id=group_id, member_id=person.id, confirm=True),
    )
    kb.button(text=_("No"), callback_data=GroupCb(action="members", group_id=group_id))
    return text, kb.as_markup()


# --- announcements being written ----------------------------------------------------------------


def draft_panel(
    draft: Draft, group: WorkingGroup, group_name: str, audience: int, _: Gettext
) -> tuple[str, InlineKeyboardMarkup]:
    """The draft's summary with everything the coordinator can do next."""
    return draft_summary(draft, group, group_name, audience, _), draft_buttons(draft, group, _)


def draft_summary(
    draft: Draft, group: WorkingGroup, group_name: str, audience: int, _: Gettext
) -> str:
    """Languages written, attachment, chat and recipients of an announcement being written."""
    languages = [
        # TRANSLATORS: after a language's name: the version the announcement was written in.
        LANGUAGE_NAMES[code] + (_(" (original)") if code == draft.main else "")
        for code in SUPPORTED_LOCALES
        if code in draft.texts
    ]
    lines = [_("📣 <b>Announcement for {group}</b>").format(group=html.escape(group_name))]
    if languages:
        lines.append(_("Languages: {languages}").format(languages=", ".join(languages)))
        if len(draft.texts) < len(SUPPORTED_LOCALES):
            lines.append(
                _("Members reading other languages get a version you wrote, with a note.")
            )
    else:
        lines.append(_("No text yet."))
    if draft.document is not None:
        attachment = "📎 " + html.escape(draft.document.get("name") or _("document"))
    elif draft.voice is not None:
        attachment = _("🎤 voice note")
    else:
        attachment = _("none")
    lines.append(_("Attachment: {attachment}").format(attachment=attachment))
    if group.chat_usable:
        lines.append(
            _("Also posted in the group chat: yes")
            if draft.post_in_chat
            else _("Also posted in the group chat: no")
        )
    lines.append(_("Recipients: {count}").format(count=audience))
    return "\n".join(lines)


def draft_buttons(draft: Draft, group: WorkingGroup, _: Gettext) -> InlineKeyboardMarkup:
    """The panel's buttons: preview, languages, attachment, chat, rewrite, send, discard."""
    gid = group.id
    kb = InlineKeyboardBuilder()
    kb.button(text=_("👁 Preview"), callback_data=AnnounceCb(action="preview", group_id=gid))
    if len(draft.texts) < len(SUPPORTED_LOCALES):
        kb.button(
            text=_("🌐 Add a language"), callback_data=AnnounceCb(action="langs", group_id=gid)
        )
    if draft.document is None and draft.voice is None:
        kb.button(
            text=_("📎 Attach a document or voice note"),
            callback_data=AnnounceCb(action="attach", group_id=gid),
        )
    else:
        kb.button(
            text=_("✖ Remove the attachment"),
            callback_data=AnnounceCb(action="detach", group_id=gid),
        )
    if group.chat_usable:
        kb.button(
            text=_("💬 Not in the group chat")
            if draft.post_in_chat
            else _("💬 Also in the group chat"),
            callback_data=AnnounceCb(action="chat", group_id=gid),
        )
    kb.button(
        text=_("✏️ Rewrite the text"), callback_data=AnnounceCb(action="rewrite", group_id=gid)
    )
    if draft.ready:
        kb.button(
            text=_("✅ Send to the group"),
            callback_data=AnnounceCb(action="send", group_id=gid),
        )
    kb.button(text=_("✖ Discard"), callback_data=AnnounceCb(action="discard", group_id=gid))
    kb.adjust(1)
    return kb.as_markup()


def missing_languages(draft: Draft, group_id: int) -> InlineKeyboardMarkup:
    """A button for each language the announcement has no version in yet."""
    kb = InlineKeyboardBuilder()
    for code in SUPPORTED_LOCALES:
        if code not in draft.texts:
            kb.button(
                text=LANGUAGE_NAMES[code],
                callback_data=AnnounceCb(action="lang", group_id=group_id, arg=code),
            )
    kb.adjust(2)
    return kb.as_markup()
