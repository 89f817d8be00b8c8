"""What /audit shows: entries in the reader's language and zone, filters, pages, a CSV.

Admins read every entry; coordinators only those of the groups they coordinate (the
filter a reader picks is always narrowed by what they may see). A forgotten person reads
"a former member".
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Callable, Iterable
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.audit.callbacks import AuditCb
from bot.core.i18n import format_when
from models.audit import (
    AuditAction,
    AuditEntry,
    AuditFilter,
    audit_entries,
    audit_of_member,
    audit_page,
    audit_people,
)
from models.group import WorkingGroup, coordinated_group_ids, list_groups
from models.member import Member

Gettext = Callable[..., str]
PAGE = 10
PEOPLE = 24  # people offered as a filter (the most recent actors and subjects)
CSV_LIMIT = 10_000


def action_texts(_: Gettext) -> dict[str, str]:
    """One sentence per action; {actor}, {subject}, {group}, {number} are filled in."""
    return {
        AuditAction.MEMBER_APPROVED: _("{actor} approved {subject} as a member"),
        AuditAction.MEMBER_DECLINED: _("{actor} declined {subject}'s membership request"),
        AuditAction.JOIN_APPROVED: _("{actor} accepted {subject} into {group}"),
        AuditAction.JOIN_DECLINED: _("{actor} declined {subject}'s request to join {group}"),
        AuditAction.MEMBER_REMOVED: _("{actor} removed {subject} from {group}"),
        AuditAction.COORDINATOR_APPOINTED: _("{actor} made {subject} a coordinator of {group}"),
        AuditAction.COORDINATOR_DISMISSED: _(
            "{actor} ended {subject}'s role as coordinator of {group}"
        ),
        AuditAction.GROUP_CREATED: _("{actor} created the group {group}"),
        AuditAction.GROUP_ARCHIVED: _("{actor} archived {group}"),
        AuditAction.GROUP_RESTORED: _("{actor} restored {group}"),
        AuditAction.CHAT_LINKED: _("{actor} linked a Telegram chat to {group}"),
        AuditAction.CHAT_UNLINKED: _("{actor} unlinked the Telegram chat of {group}"),
        AuditAction.ANNOUNCEMENT_SENT: _("{actor} sent an announcement to {group}"),
        AuditAction.POLL_CREATED: _("{actor} opened consultation no. {number} ({group})"),
        AuditAction.POLL_CLOSED: _("{actor} closed consultation no. {number} early ({group})"),
        AuditAction.RESULTS_EXPORTED: _(
            "{actor} exported the results of consultation no. {number} ({group})"
        ),
        AuditAction.MEETING_SCHEDULED: _("{actor} scheduled meeting no. {number} ({group})"),
        AuditAction.MEETING_CANCELLED: _("{actor} cancelled meeting no. {number} ({group})"),
    }


async def scope(session: AsyncSession, member: Member | None) -> AuditFilter | None:
    """What this reader may see: everything (admins), their groups' entries, or nothing."""
    if member is None or not member.is_active:
        return None
    if member.is_admin:
        return AuditFilter()
    groups = await coordinated_group_ids(session, member.id)
    return AuditFilter(groups=groups) if groups else None


async def narrowed(session: AsyncSession, allowed: AuditFilter, cb: AuditCb) -> AuditFilter:
    """The reader's filter inside what they may see (a forged id only narrows it further)."""
    return AuditFilter(
        groups=allowed.groups, group_id=cb.group or None, person_id=cb.person or None
    )


class Names:
    """Display names of the people and groups a screen mentions, read once."""

    def __init__(self, members: dict[int, Member], groups: dict[int, WorkingGroup]) -> None:
        self.members = members
        self.groups = groups

    @classmethod
    async def of(cls, session: AsyncSession, entries: Iterable[AuditEntry]) -> Names:
        entries = list(entries)
        member_ids = {e.actor_member_id for e in entries} | {e.subject_member_id for e in entries}
        member_ids.discard(None)
        group_ids = {e.group_id for e in entries if e.group_id is not None}
        members = (
            {
                m.id: m
                for m in await session.scalars(select(Member).where(Member.id.in_(member_ids)))
            }
            if member_ids
            else {}
        )
        groups = (
            {
                g.id: g
                for g in await session.scalars(
                    select(WorkingGroup).where(WorkingGroup.id.in_(group_ids))
                )
            }
            if group_ids
            else {}
        )
        return cls(members, groups)

    def person(self, member_id: int | None, _: Gettext) -> str:
        member = self.members.get(member_id) if member_id is not None else None
        return member.display_name if member is not None else _("a former member")

    def group(self, entry: AuditEntry, locale: str, default: str, _: Gettext) -> str:
        if entry.group_id is None:
            return _("the whole network")
        group = self.groups.get(entry.group_id)
        return group.name(locale, default) if group is not None else _("a deleted group")


def describe(entry: AuditEntry, names: Names, locale: str, default: str, _: Gettext) -> str:
    """One entry as a sentence (plain text; the caller escapes it for HTML)."""
    template = action_texts(_).get(entry.action, entry.action)
    return template.format(
        actor=names.person(entry.actor_member_id, _),
        subject=names.person(entry.subject_member_id, _),
        group=names.group(entry, locale, default, _),
        number=entry.object_id or "",
    )


async def audit_screen(
    session: AsyncSession,
    reader: Member,
    allowed: AuditFilter,
    cb: AuditCb,
    default: str,
    _: Gettext,
) -> tuple[str, InlineKeyboardMarkup]:
    """A page of entries, newest first, with the filter and paging buttons."""
    flt = await narrowed(session, allowed, cb)
    entries, more = await audit_page(session, flt, offset=cb.page * PAGE, limit=PAGE)
    names = await Names.of(session, entries)
    lines = [_("<b>Audit trail</b>")]
    lines.extend(await filter_lines(session, flt, reader.locale, default, _))
    if not entries:
        lines.append(_("Nothing recorded here."))
    for entry in entries:
        when = format_when(entry.at, reader.tz, reader.locale, fmt="short")
        text = html.escape(describe(entry, names, reader.locale, default, _))
        lines.append(f"• <i>{html.escape(when)}</i>\n  {text}")
    kb = InlineKeyboardBuilder()
    nav = []
    if cb.page > 0:
        nav.append(("◀ " + _("Newer"), cb.model_copy(update={"page": cb.page - 1})))
    if more:
        nav.append((_("Older") + " ▶", cb.model_copy(update={"page": cb.page + 1})))
    for label, data in nav:
        kb.button(text=label, callback_data=data)
    kb.button(text="🗂 " + _("By group"), callback_data=AuditCb(view="groups", person=cb.person))
    kb.button(text="👤 " + _("By person"), callback_data=AuditCb(view="people", group=cb.group))
    kb.button(text="📄 CSV", callback_data=cb.model_copy(update={"view": "csv", "page": 0}))
    if cb.group or cb.person:
        kb.button(text="✖ " + _("All entries"), callback_data=AuditCb())
    kb.adjust(*([len(nav)] if nav else []), 2, 2)
    return "\n".join(lines), kb.as_markup()


async def filter_lines(
    session: AsyncSession, flt: AuditFilter, locale: str, default: str, _: Gettext
) -> list[str]:
    """Which filter is on, in words."""
    lines = []
    if flt.group_id is not None:
        group = await session.get(WorkingGroup, flt.group_id)
        if group is not None:
            name = html.escape(group.name(locale, default))
            lines.append(_("Group: {group}").format(group=name))
    if flt.person_id is not None:
        people = {m.id: m for m in await audit_people(session, flt, PEOPLE)}
        person = people.get(flt.person_id)
        name = html.escape(person.display_name) if person else _("a former member")
        lines.append(_("Person: {name}").format(name=name))
    return lines


async def groups_screen(
    session: AsyncSession, allowed: AuditFilter, cb: AuditCb, locale: str, default: str, _: Gettext
) -> tuple[str, InlineKeyboardMarkup]:
    """Pick a group to read its entries."""
    groups = [
        g
        for g in await list_groups(session, include_archived=True)
        if allowed.groups is None or g.id in allowed.groups
    ]
    kb = InlineKeyboardBuilder()
    for group in groups:
        kb.button(
            text=group.name(locale, default),
            callback_data=AuditCb(group=group.id, person=cb.person),
        )
    kb.button(text="◀ " + _("Back"), callback_data=AuditCb(person=cb.person, group=cb.group))
    kb.adjust(1)
    return _("Whose entries? Pick a working group."), kb.as_markup()


async def people_screen(
    session: AsyncSession, allowed: AuditFilter, cb: AuditCb, _: Gettext
) -> tuple[str, InlineKeyboardMarkup]:
    """Pick a person (who acted or was acted on) to read their entries."""
    flt = AuditFilter(groups=allowed.groups, group_id=cb.group or None)
    kb = InlineKeyboardBuilder()
    for person in await audit_people(session, flt, PEOPLE):
        kb.button(
            text=person.display_name, callback_data=AuditCb(person=person.id, group=cb.group)
        )
    kb.button(text="◀ " + _("Back"), callback_data=AuditCb(person=cb.person, group=cb.group))
    kb.adjust(2)
    return _("Whose actions? Pick a person."), kb.as_markup()


def safe_cell(text: str) -> str:
    """Text a spreadsheet will not run as a formula (names are typed by members)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def audit_csv(
    session: AsyncSession, allowed: AuditFilter, cb: AuditCb, default: str, _: Gettext
) -> bytes:
    """The filtered entries, oldest first, as CSV (UTF-8 with a BOM for spreadsheets)."""
    flt = await narrowed(session, allowed, cb)
    entries = await audit_entries(session, flt, CSV_LIMIT)
    names = await Names.of(session, entries)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            _("Time (UTC)"),
            _("Action"),
            _("By"),
            _("Concerning"),
            _("Group"),
            _("Number"),
            _("Description"),
        ]
    )
    for entry in entries:
        group = names.groups.get(entry.group_id) if entry.group_id is not None else None
        writer.writerow(
            [
                entry.at.strftime("%Y-%m-%d %H:%M:%S"),
                entry.action,
                safe_cell(names.person(entry.actor_member_id, _)),
                safe_cell(names.person(entry.subject_member_id, _))
                if entry.subject_member_id
                else "",
                group.code if group is not None else "",
                entry.object_id or "",
                safe_cell(describe(entry, names, default, default, _)),
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


async def audit_section(session: AsyncSession, member: Member) -> dict[str, Any]:
    """/mydata: the recorded actions the member took or that concerned them."""
    return {
        "audit_trail": [
            {
                "at": entry.at.isoformat(),
                "action": entry.action,
                "you_acted": entry.actor_member_id == member.id,
                "concerning_you": entry.subject_member_id == member.id,
                "group_id": entry.group_id,
                "number": entry.object_id,
            }
            for entry in await audit_of_member(session, member.id)
        ]
    }
