"""What a case looks like: the reporter's questions and preview, the secretariat's panel, the
alert each member reads in their language, and the counts and sign-on list."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core import geo
from bot.core.config import SUPPORTED_LOCALES
from bot.core.i18n import LANGUAGE_NAMES, language_name
from bot.solidarity.callbacks import AlertCb, CaseCb
from bot.solidarity.service import ASKS
from models.solidarity import CaseEvent, CaseSignature, CaseStatus, SolidarityCase

Gettext = Callable[..., str]
REGIONS = ("015", "202", "419", "021", "143", "030", "035", "034", "145", "150", "009")


def button(text: str, data: str) -> InlineKeyboardButton:
    """One inline button."""
    return InlineKeyboardButton(text=text, callback_data=data)


def keyboard(*rows: list[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    """An inline keyboard from rows, empty rows left out."""
    return InlineKeyboardMarkup(inline_keyboard=[row for row in rows if row])


def affected_label(kind: str, _: Gettext) -> str:
    """Who is affected, in the reader's language."""
    labels = {
        "defender": _("A human rights defender"),
        "organisation": _("An organisation"),
        "community": _("A community"),
    }
    return labels.get(kind, kind)


def ask_label(ask: str, _: Gettext) -> str:
    """One thing asked of members, in the reader's language."""
    labels = {
        "statement": _("Sign a joint statement"),
        "authorities": _("Contact authorities or embassies"),
        "share": _("Share publicly"),
        "message": _("Send a solidarity message"),
        "support": _("Offer legal or other support"),
        "visit": _("Visit"),
    }
    return labels.get(ask, ask)


def outcome_label(outcome: str, _: Gettext) -> str:
    """How a case ended, in the reader's language."""
    labels = {
        "released": _("Released"),
        "stopped": _("Eviction or threat stopped"),
        "ongoing": _("Ongoing"),
        "other": _("Other outcome"),
    }
    return labels.get(outcome, outcome)


def urgency_label(urgent: bool, _: Gettext) -> str:
    """Urgent or ongoing, in the reader's language."""
    return _("🔴 Urgent: hours matter") if urgent else _("🟠 Ongoing")


def where(country: str, locale: str) -> str:
    """Country and region in the reader's language."""
    region = geo.region_of(country)
    name = geo.country_name(country, locale)
    return f"{name} ({geo.region_name(region, locale)})" if region else name


def fallback_note(used: str, reader: str, _: Gettext) -> str:
    """The mark on a version that is not in the reader's language."""
    return _("<i>Not available in your language: this is the version in {language}.</i>").format(
        language=language_name(used, reader)
    )


def where_html(country: str, locale: str) -> str:
    """`where`, escaped for an HTML message ("Trinidad &amp; Tobago")."""
    return html.escape(where(country, locale))


def pick_text(
    texts: Mapping[str, str], locale: str, main: str, default: str
) -> tuple[str | None, str]:
    """The version in the reader's language, else the network's default language's, else the
    original; (language used, text)."""
    for code in (locale, default, main, *texts):
        if texts.get(code):
            return code, texts[code]
    return None, ""


def draft_summary(draft: Mapping[str, Any], _: Gettext) -> str:
    """The reporter's preview of their case before it is submitted."""
    locale = str(draft["locale"])
    lines = [
        _("<b>Your case</b>"),
        html.escape(str(draft.get("text") or "")) or _("(voice note)"),
        _("Where: {place}").format(place=where_html(str(draft.get("country", "")), locale)),
        _("Affected: {who}").format(who=affected_label(str(draft.get("affected")), _)),
    ]
    if draft.get("name"):
        lines.append(_("Name: {name}").format(name=html.escape(str(draft["name"]))))
    lines.append(urgency_label(bool(draft.get("urgent", True)), _))
    asks = ", ".join(ask_label(a, _) for a in ASKS if a in draft.get("asks", []))
    lines.append(_("Asked of members: {asks}").format(asks=asks))
    lines.append(sharing_line(draft, _))
    lines.append(_("Nothing goes to members until the secretariat issues an alert."))
    return "\n\n".join(lines)


def sharing_line(draft: Mapping[str, Any], _: Gettext) -> str:
    """What members may see of the names."""
    mine = _("yes") if draft.get("share_reporter") else _("no, admins only")
    theirs = _("yes") if draft.get("share_affected") else _("no, admins only")
    return _(
        "Your name shown to members: {mine}\nAffected name shown to members: {theirs}"
    ).format(mine=mine, theirs=theirs)


def audience_text(
    audience: Mapping[str, Any], locale: str, groups: Mapping[int, str], _: Gettext
) -> str:
    """Who the alert goes to, in words."""
    if audience.get("everyone", True):
        return _("Everyone")
    parts = [geo.region_name(code, locale) for code in audience.get("regions", [])]
    parts += [LANGUAGE_NAMES.get(code, code) for code in audience.get("locales", [])]
    parts += [groups.get(int(g), str(g)) for g in audience.get("groups", [])]
    return html.escape(", ".join(parts))


def case_panel(
    case: SolidarityCase,
    reporter: str | None,
    events: Iterable[tuple[CaseEvent, str | None]],
    groups: Mapping[int, str],
    locale: str,
    _: Gettext,
) -> str:
    """Everything the secretariat sees of a case, names included, and its record."""
    lines = [
        _("🆘 <b>Case #{id}</b> · {status}").format(id=case.id, status=status_label(case, _)),
        urgency_label(case.urgent, _),
        _("Where: {place}").format(place=where_html(case.country, locale)),
        _("Affected: {who}").format(who=affected_label(case.affected_kind, _)),
        _("Name: {name}").format(name=html.escape(case.affected_name or "—")),
        _("Reported by: {name}").format(name=html.escape(reporter or _("(erased)"))),
        sharing_line(
            {"share_reporter": case.share_reporter, "share_affected": case.share_affected}, _
        ),
        _("Asked of members: {asks}").format(asks=", ".join(ask_label(a, _) for a in case.asks)),
    ]
    for code, text in case.texts.items():
        lines.append(f"<b>{LANGUAGE_NAMES.get(code, code)}</b>\n{html.escape(shorten(text))}")
    if case.voice_file_id:
        lines.append(_("🎤 A voice note is attached."))
    if case.statement or case.statement_file_id:
        statement = html.escape(shorten(statement_label(case), 300))
        lines.append(_("Statement: {text}").format(text=statement))
    lines.append(_("Audience: {who}").format(who=audience_text(case.audience, locale, groups, _)))
    lines.append(
        _("Escalation: after {hours} h if Seen stays under {share}%.").format(
            hours=case.escalate_hours, share=case.escalate_share
        )
    )
    if case.delete_after_hours:
        lines.append(sensitive_label(case, _))
    record = [
        f"{event.at:%Y-%m-%d %H:%M} {html.escape(name or '—')}: {event_label(event.action, _)}"
        + (f" ({html.escape(event.detail[:80])})" if event.detail else "")
        for event, name in events
    ]
    if record:
        lines.append(_("Record:") + "\n" + "\n".join(record[-12:]))
    return fit("\n\n".join(lines), 4096)


def event_label(action: str, _: Gettext) -> str:
    """One line of a case's record, in the reader's language."""
    labels = {
        "submitted": _("submitted"),
        "edited": _("edited the text"),
        "version": _("added a language version"),
        "statement": _("attached the statement"),
        "asked": _("asked the reporter"),
        "answered": _("answered the question"),
        "declined": _("declined"),
        "issued": _("issued the alert"),
        "escalated": _("escalated"),
        "updated": _("sent an update"),
        "downloaded": _("downloaded the sign-on list"),
        "closed": _("closed"),
        "deleted": _("deleted the alert from members' chats"),
    }
    return labels.get(action, action)


def shorten(text: str, limit: int = 600) -> str:
    """Plain text cut to `limit` characters, marked when cut (escape it after)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fit(markup: str, limit: int) -> str:
    """HTML within Telegram's limit: cut only plain text, never inside a tag; the lines built
    here bound every text, so this is a last guard that drops the cut tail's markup."""
    if len(markup) <= limit:
        return markup
    return html.escape(re.sub(r"<[^>]+>", "", html.unescape(markup))[: limit - 20]) + "…"


def statement_text(case: SolidarityCase, _: Gettext) -> str | None:
    """The statement to sign as its own message (it may be long), if it is text."""
    if not case.statement:
        return None
    return fit(_("Statement to sign:") + "\n\n" + html.escape(case.statement), 4096)


def statement_label(case: SolidarityCase) -> str:
    """The statement's text, or its file's name."""
    return case.statement or case.statement_file_name or ""


def status_label(case: SolidarityCase, _: Gettext) -> str:
    """The case's status in the reader's language."""
    labels = {
        CaseStatus.SUBMITTED: _("waiting for review"),
        CaseStatus.ISSUED: _("alert issued"),
        CaseStatus.DECLINED: _("declined"),
        CaseStatus.CLOSED: _("closed"),
    }
    return labels.get(CaseStatus(case.status), case.status)


def sensitive_label(case: SolidarityCase, _: Gettext) -> str:
    """Whether the alert is deleted from members' chats, and when."""
    if not case.delete_after_hours:
        return _("🔓 Not sensitive: stays in members' chats")
    return _("🔒 Sensitive: deleted after {hours} h").format(hours=case.delete_after_hours)


def panel_keyboard(case: SolidarityCase, _: Gettext) -> InlineKeyboardMarkup:
    """The secretariat's actions on the case as it stands."""
    cid = case.id
    if case.status == CaseStatus.SUBMITTED:
        return keyboard(
            [
                button(_("✏️ Edit text"), CaseCb(action="edit", case_id=cid).pack()),
                button(_("🌐 Add a language"), CaseCb(action="langs", case_id=cid).pack()),
            ],
            [
                button(_("📄 Statement"), CaseCb(action="statement", case_id=cid).pack()),
                button(_("🎯 Audience"), CaseCb(action="audience", case_id=cid).pack()),
            ],
            [
                button(
                    _("⏱ Escalate after {hours} h").format(hours=case.escalate_hours),
                    CaseCb(action="esc_h", case_id=cid).pack(),
                ),
                button(
                    _("if Seen stays under {share}%").format(share=case.escalate_share),
                    CaseCb(action="esc_s", case_id=cid).pack(),
                ),
            ],
            [button(sensitive_label(case, _), CaseCb(action="sens", case_id=cid).pack())],
            [button(_("🚨 Issue the alert"), CaseCb(action="issue", case_id=cid).pack())],
            [
                button(_("❓ Ask the reporter"), CaseCb(action="ask", case_id=cid).pack()),
                button(_("✖️ Decline"), CaseCb(action="decline", case_id=cid).pack()),
            ],
        )
    if case.status == CaseStatus.ISSUED:
        return keyboard(
            [
                button(_("📊 Counts"), CaseCb(action="counts", case_id=cid).pack()),
                button(_("📥 Sign-on list"), CaseCb(action="list", case_id=cid).pack()),
            ],
            [
                button(_("📢 Update"), CaseCb(action="update", case_id=cid).pack()),
                button(_("🏁 Close"), CaseCb(action="close", case_id=cid).pack()),
            ],
        )
    return keyboard()


def language_keyboard(case: SolidarityCase, _: Gettext) -> InlineKeyboardMarkup:
    """Languages the case has no version in yet."""
    return keyboard(
        [
            button(LANGUAGE_NAMES[code], CaseCb(action="lang", case_id=case.id, value=code).pack())
            for code in SUPPORTED_LOCALES
            if code not in case.texts
        ]
    )


def audience_keyboard(
    case: SolidarityCase, groups: Mapping[int, str], locale: str, _: Gettext
) -> InlineKeyboardMarkup:
    """Everyone, or toggles for regions, languages and working groups."""
    aud = case.audience
    cid = case.id

    def toggle(label: str, value: str, chosen: bool) -> InlineKeyboardButton:
        mark = "✓ " if chosen else ""
        return button(mark + label, CaseCb(action="aud", case_id=cid, value=value).pack())

    everyone = bool(aud.get("everyone", True))
    regions = [
        toggle(geo.region_name(code, locale), f"r-{code}", code in aud.get("regions", []))
        for code in REGIONS
    ]
    langs = [
        toggle(LANGUAGE_NAMES[code], f"l-{code}", code in aud.get("locales", []))
        for code in SUPPORTED_LOCALES
    ]
    group_buttons = [
        toggle(name, f"g-{gid}", gid in aud.get("groups", [])) for gid, name in groups.items()
    ]
    rows = [[toggle(_("Everyone"), "everyone", everyone)]]
    rows += [regions[i : i + 2] for i in range(0, len(regions), 2)]
    rows += [langs]
    rows += [group_buttons[i : i + 2] for i in range(0, len(group_buttons), 2)]
    rows += [[button(_("✅ Done"), CaseCb(action="panel", case_id=cid).pack())]]
    return keyboard(*rows)


def alert_text(
    case: SolidarityCase, reporter: str | None, locale: str, default: str, _: Gettext
) -> str:
    """The alert as one member reads it: their language, or another version marked as such."""
    used, text = pick_text(case.texts, locale, case.locale, default)
    lines = [
        _("🆘 <b>Solidarity alert #{id}</b>").format(id=case.id),
        urgency_label(case.urgent, _),
        _("Where: {place}").format(place=where_html(case.country, locale)),
        _("Affected: {who}").format(who=affected_label(case.affected_kind, _)),
    ]
    if case.share_affected and case.affected_name:
        lines.append(_("Name: {name}").format(name=html.escape(case.affected_name)))
    if text:
        lines.append(html.escape(text))
    if used is not None and used != locale:
        lines.append(fallback_note(used, locale, _))
    lines.append(
        _("Asked of members: {asks}").format(asks=", ".join(ask_label(a, _) for a in case.asks))
    )
    if case.share_reporter and reporter:
        lines.append(_("Raised by: {name}").format(name=html.escape(reporter)))
    lines.append(_("This alert is protected: it cannot be forwarded or saved."))
    if case.delete_after_hours:
        lines.append(
            _("It will be deleted from your chat {hours} hours after it was issued.").format(
                hours=case.delete_after_hours
            )
        )
    return fit("\n\n".join(lines), 4096)


def alert_keyboard(case: SolidarityCase, _: Gettext) -> InlineKeyboardMarkup:
    """Seen, I can act, and Sign on when there is a statement."""
    cid = case.id
    sign = [button(_("✍️ Sign on"), AlertCb(action="sign", case_id=cid).pack())]
    return keyboard(
        [
            button(_("✅ Seen"), AlertCb(action="seen", case_id=cid).pack()),
            button(_("🙋 I can act"), AlertCb(action="act", case_id=cid).pack()),
        ],
        sign if (case.statement or case.statement_file_id) else [],
    )


def actions_keyboard(case: SolidarityCase, chosen: list[str], _: Gettext) -> InlineKeyboardMarkup:
    """The asked actions as toggles."""
    return keyboard(
        *[
            [
                button(
                    ("✓ " if ask in chosen else "") + ask_label(ask, _),
                    AlertCb(action="do", case_id=case.id, value=ask).pack(),
                )
            ]
            for ask in case.asks
        ]
    )


def counts_text(
    case: SolidarityCase,
    alerted: int,
    counts: Mapping[str, Mapping[str, int]],
    locale: str,
    _: Gettext,
) -> str:
    """Live counts for the secretariat: seen, acting per action, signed, by region."""
    lines = [_("📊 <b>Case #{id}</b>: alert sent to {count}").format(id=case.id, count=alerted)]
    for region in sorted(counts):
        bucket = counts[region]
        name = geo.region_name(region, locale) if region else _("No region")
        acting = ", ".join(
            f"{ask_label(a, _)} {bucket[f'act:{a}']}" for a in case.asks if bucket.get(f"act:{a}")
        )
        lines.append(
            _("<b>{region}</b>: seen {seen} · signed {signed}").format(
                region=html.escape(name),
                seen=bucket.get("seen", 0),
                signed=bucket.get("signed", 0),
            )
            + (f"\n{acting}" if acting else "")
        )
    return "\n\n".join(lines)


def group_counts_text(
    counts: Mapping[int, Mapping[str, int]], groups: Mapping[int, str], _: Gettext
) -> str:
    """The same counts per working group (members of several groups count in each)."""
    lines = [_("<b>By working group</b>")]
    for group_id, name in groups.items():
        bucket = counts.get(group_id)
        if bucket:
            lines.append(
                _("{group}: seen {seen} · acting {acting} · signed {signed}").format(
                    group=html.escape(name),
                    seen=bucket.get("seen", 0),
                    acting=bucket.get("acting", 0),
                    signed=bucket.get("signed", 0),
                )
            )
    return "\n".join(lines) if len(lines) > 1 else ""


def signon_csv(signatures: Iterable[CaseSignature]) -> bytes:
    """The sign-on list as CSV: organisation, country, region."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["organisation", "country", "region"])
    for sig in sorted(signatures, key=lambda s: (s.country or "", s.organisation_key)):
        writer.writerow([sig.organisation, sig.country or "", sig.region or ""])
    return out.getvalue().encode("utf-8")


def signon_block(signatures: Iterable[CaseSignature], locale: str, _: Gettext) -> str:
    """The list ready to paste under the statement: organisations by country, alphabetical,
    with counts by region."""
    by_country: dict[str, set[str]] = {}
    by_region: dict[str, set[str]] = {}
    for sig in signatures:
        country = geo.country_name(sig.country, locale) if sig.country else "—"
        by_country.setdefault(country, set()).add(sig.organisation)
        by_region.setdefault(sig.region or "", set()).add(sig.organisation_key)
    lines = []
    for country in sorted(by_country):
        names = sorted(by_country[country], key=str.casefold)
        lines.append(html.escape(f"{country}: " + ", ".join(names)))
    total = sum(len(v) for v in by_country.values())
    counts = [
        f"{geo.region_name(r, locale) if r else '—'}: {len(keys)}"
        for r, keys in sorted(by_region.items())
    ]
    lines.append("")
    lines.append(_("Signed by {count} organisations.").format(count=total))
    lines.extend(counts)
    return "\n".join(lines)
