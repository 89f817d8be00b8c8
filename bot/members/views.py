"""What members see of their own standing and record: help, privacy terms, profile, language."""

from __future__ import annotations

import html
from collections.abc import Callable

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.core import geo
from bot.core.config import SUPPORTED_LOCALES
from bot.core.i18n import LANGUAGE_NAMES, format_when
from bot.members.attention import digest_line, quiet_line
from bot.members.callbacks import (
    AttentionCb,
    ConsentCb,
    CountryCb,
    EditCb,
    ForgetCb,
    GenderCb,
    KeepNameCb,
    LangCb,
    LetterCb,
    SkipCb,
    ZoneCb,
)
from models.member import Gender, Member, MemberStatus

Gettext = Callable[..., str]
COUNTRIES_PAGE = 12


def language_keyboard(selected: str) -> InlineKeyboardMarkup:
    """The five languages, each in its own name; the likely one ticked."""
    kb = InlineKeyboardBuilder()
    for code in SUPPORTED_LOCALES:
        mark = "✓ " if code == selected else ""
        kb.button(text=mark + LANGUAGE_NAMES[code], callback_data=LangCb(code=code))
    kb.adjust(2)
    return kb.as_markup()


def gender_labels(_: Gettext) -> dict[str, str]:
    """Translated names of the gender options."""
    return {
        Gender.WOMAN: _("Woman"),
        Gender.MAN: _("Man"),
        Gender.NONBINARY: _("Non-binary"),
        # TRANSLATORS: a gender option for people who are neither woman, man nor non-binary.
        Gender.OTHER: _("Another identity"),
        Gender.UNDISCLOSED: _("Prefer not to say"),
    }


def privacy_text(_: Gettext) -> str:
    """What the bot does and keeps, in plain words (before consent and in /privacy)."""
    return _(
        "<b>What this bot does</b>\n"
        "It lets you join the network's working groups, answer consultations and get meeting "
        "times in your own time zone and language.\n\n"
        "<b>What we keep</b>\n"
        "Your Telegram account number (to write to you), the name you choose, your language, "
        "country, region and time zone, and, only if you give them, your organisation and gender. "
        "We never store your phone number or username.\n\n"
        "<b>Who sees it</b>\n"
        "Network admins, and coordinators of groups you join, see your name, country and "
        "organisation. Other members see nothing. Gender is used only for anonymous "
        "statistics.\n\n"
        "You can see everything with /mydata and erase it with /forget at any time."
    )


def privacy_details(_: Gettext) -> str:
    """/privacy also says exactly what the secret ballot and /forget protect, and from whom."""
    return _(
        "<b>Secret ballots</b>\n"
        "Your secret ballot is stored without your name, without a time and in no order. It "
        "enters the ballot box only together with at least 4 other ballots; until then it "
        "waits encrypted with the server's secret key. The box is re-sealed when the "
        "consultation closes. So no coordinator or admin, and no one with a copy of the "
        "database, can tell from the stored data how you voted. Comments on a secret "
        "consultation stay encrypted until it closes. Live results change only in steps of 5 "
        "answers. Results by region and gender hide groups of fewer than 5 answers, groups "
        "where everyone answered the same, and anything that would let someone work those "
        "out.\n"
        "Not protected: Telegram sees which button you press; whoever runs the bot's server "
        "could watch answers as they arrive; and someone who has both a copy of the database "
        "and the server's secret key could decrypt the ballots still waiting to enter the box "
        "and match them with the voters.\n\n"
        "<b>When you use /forget</b>\n"
        "We erase your profile, your group memberships, your named answers and comments, your "
        "meeting replies and any half-finished conversation, and clean the database files. "
        "What stays: your secret ballots (counted, not linked to you); the text of "
        "announcements you sent, without your name; and one-way codes saying that someone "
        "answered a consultation or was removed from a group, so that erasing yourself does "
        "not give a second vote or a way back into the group. Without the server's secret key "
        "these codes cannot be turned back into your account."
    )


def help_text(member: Member | None, _: Gettext, extra: list[str] | None = None) -> str:
    """What this person can do now, by status and role (`extra`: the areas' role lines)."""
    if member is None or member.status == MemberStatus.ONBOARDING:
        return _("Send /start to join. /privacy explains what we store.")
    lines = []
    if member.status == MemberStatus.PENDING:
        lines.append(_("Your membership is waiting for an admin's approval."))
    elif member.status == MemberStatus.DECLINED:
        lines.append(_("Your membership request was not approved."))
    else:
        lines.append(_("<b>What you can do</b>"))
        lines.append(_("/groups: join working groups and see their news"))
        lines.append(_("/polls: answer open consultations"))
        lines.append(_("/meetings: upcoming meetings in your time zone"))
        lines.append(_("/solidarity: urgent alerts, and raising a case of someone under threat"))
        lines.append(_("/profile: see and edit your profile"))
    lines.append(_("/language: change language"))
    lines.append(_("/privacy: what we store and why"))
    lines.append(_("/mydata: download everything we store about you"))
    lines.append(_("/forget: erase your data"))
    if member.is_admin and member.is_active:
        lines.append("")
        lines.append(_("<b>As a network admin</b> you receive membership requests here."))
        lines.append(_("/audit: the record of admins' and coordinators' actions"))
        lines.append(_("/status: how the service is doing"))
    if extra:
        if not (member.is_admin and member.is_active):
            lines.append("")
        lines += extra
    return "\n".join(lines)


def status_labels(_: Gettext) -> dict[str, str]:
    """Translated names of where a member stands."""
    return {
        MemberStatus.ONBOARDING: _("joining (not finished)"),
        MemberStatus.PENDING: _("waiting for approval"),
        MemberStatus.ACTIVE: _("active member"),
        MemberStatus.DECLINED: _("not approved"),
    }


def summary(data: dict[str, object], member: Member, _: Gettext) -> str:
    """The stored record as a short readable message."""
    none = "—"
    gender = gender_labels(_).get(member.gender or "", none)
    country = geo.country_name(member.country, member.locale) if member.country else none
    region = geo.region_name(member.region, member.locale) if member.region else none
    zone = geo.zone_label(member.timezone, member.locale) if member.timezone else none
    status = status_labels(_).get(member.status, member.status)
    groups = data.get("working_groups") or []
    return "\n".join(
        [
            _("<b>What we store about you</b>"),
            _("Name: {value}").format(value=html.escape(member.display_name)),
            _("Language: {value}").format(value=LANGUAGE_NAMES.get(member.locale, member.locale)),
            _("Country: {value}").format(value=html.escape(country)),
            _("Region: {value}").format(value=html.escape(region)),
            _("Time zone: {value}").format(value=html.escape(zone)),
            _("Organisation: {value}").format(value=html.escape(member.organisation or none)),
            _("Gender: {value}").format(value=gender),
            _("Status: {value}").format(value=status),
            _("Agreed to the privacy terms: {value}").format(
                value=format_when(member.consent_at, member.tz, member.locale, "short")
            ),
            quiet_line(member, _),
            digest_line(member, _),
            _("Working groups: {value}").format(value=len(groups)),  # type: ignore[arg-type]
            _("Meeting replies: {value}").format(
                value=len(data.get("meeting_replies") or [])  # type: ignore[arg-type]
            ),
            "",
            _("The attached file holds all of it. /forget erases it."),
        ]
    )


def profile_screen(member: Member, _: Gettext) -> tuple[str, InlineKeyboardMarkup]:
    """The member's profile, one edit button per field."""
    none = "—"
    country = geo.country_name(member.country, member.locale) if member.country else none
    zone = geo.zone_label(member.timezone, member.locale) if member.timezone else none
    gender = gender_labels(_).get(member.gender or "", none)
    text = "\n".join(
        [
            _("<b>Your profile</b>"),
            _("Name: {value}").format(value=html.escape(member.display_name)),
            _("Language: {value}").format(value=LANGUAGE_NAMES.get(member.locale, member.locale)),
            _("Country: {value}").format(value=html.escape(country)),
            _("Time zone: {value}").format(value=zone),
            _("Organisation: {value}").format(value=html.escape(member.organisation or none)),
            _("Gender: {value}").format(value=gender),
            quiet_line(member, _),
            digest_line(member, _),
        ]
    )
    kb = InlineKeyboardBuilder()
    for field, label in (
        ("name", _("Name")),
        ("language", _("Language")),
        ("country", _("Country")),
        ("timezone", _("Time zone")),
        ("organisation", _("Organisation")),
        ("gender", _("Gender")),
    ):
        kb.button(text="✏️ " + label, callback_data=EditCb(field=field))
    kb.button(text=_("🌙 Quiet hours and digest"), callback_data=AttentionCb(action="show"))
    kb.adjust(2, 2, 2, 1)
    return text, kb.as_markup()


# --- the profile questions' buttons ------------------------------------------------------------


def consent_keyboard(_: Gettext) -> InlineKeyboardMarkup:
    """Accept / Decline under the privacy terms."""
    kb = InlineKeyboardBuilder()
    kb.button(text=_("✅ Accept"), callback_data=ConsentCb(accept=True))
    kb.button(text=_("Decline"), callback_data=ConsentCb(accept=False))
    return kb.as_markup()


def keep_name_keyboard(name: str, _: Gettext) -> InlineKeyboardMarkup:
    """One tap keeps the Telegram name."""
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Keep “{name}”").format(name=name), callback_data=KeepNameCb())
    return kb.as_markup()


def letters_keyboard(locale: str) -> InlineKeyboardMarkup:
    """First letters of the country names in this language, to page by tapping."""
    kb = InlineKeyboardBuilder()
    for letter in geo.country_letters(locale):
        kb.button(text=letter, callback_data=LetterCb(letter=letter))
    kb.adjust(6)
    return kb.as_markup()


def countries_keyboard(
    countries: list[tuple[str, str]], _: Gettext, letter: str | None = None, page: int = 0
) -> InlineKeyboardMarkup:
    """A page of country buttons, with paging and a way back to the letters."""
    kb = InlineKeyboardBuilder()
    chunk = countries[page * COUNTRIES_PAGE : (page + 1) * COUNTRIES_PAGE]
    for code, name in chunk:
        kb.button(text=name, callback_data=CountryCb(code=code))
    kb.adjust(2)
    nav = InlineKeyboardBuilder()
    if letter is not None and page > 0:
        nav.button(text="◀", callback_data=LetterCb(letter=letter, page=page - 1))
    if letter is not None and (page + 1) * COUNTRIES_PAGE < len(countries):
        nav.button(text="▶", callback_data=LetterCb(letter=letter, page=page + 1))
    nav.button(text=_("All letters"), callback_data=LetterCb(letter="*"))
    kb.attach(nav)
    return kb.as_markup()


def zones_keyboard(choices: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    """The time zones of a country that has several, one per line."""
    kb = InlineKeyboardBuilder()
    for zone, label in choices:
        kb.button(text=label, callback_data=ZoneCb(zone=zone))
    kb.adjust(1)
    return kb.as_markup()


def skip_keyboard(step: str, _: Gettext) -> InlineKeyboardMarkup:
    """Skip an optional question."""
    kb = InlineKeyboardBuilder()
    # TRANSLATORS: a button leaving an optional question unanswered; keep it short.
    kb.button(text=_("Skip"), callback_data=SkipCb(step=step))
    return kb.as_markup()


def gender_keyboard(_: Gettext) -> InlineKeyboardMarkup:
    """Gender options, with 'prefer not to say' always available."""
    kb = InlineKeyboardBuilder()
    for value, label in gender_labels(_).items():
        kb.button(text=label, callback_data=GenderCb(value=value))
    kb.adjust(2, 2, 1)
    return kb.as_markup()


def forget_keyboard(_: Gettext) -> InlineKeyboardMarkup:
    """Confirm or cancel erasing everything."""
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Yes, erase everything"), callback_data=ForgetCb(confirm=True))
    kb.button(text=_("No, keep my data"), callback_data=ForgetCb(confirm=False))
    kb.adjust(1)
    return kb.as_markup()
