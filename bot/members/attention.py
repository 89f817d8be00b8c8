"""The member's say over when the bot writes to them: quiet hours and the daily digest.

The engine applies both when a message is queued (bot/delivery/attention.py); this module is
the member's screen for them and the checks on what a button may change.
"""

from __future__ import annotations

from collections.abc import Callable

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.members.callbacks import AttentionCb
from models.member import Member

Gettext = Callable[..., str]
DEFAULT_DIGEST_HOUR = 18
ACTIONS = ("show", "quiet", "start", "end", "digest", "dhour")


def clock_hour(hour: int) -> str:
    """An hour as the 24-hour clock shows it (the same in every shipped language)."""
    return f"{hour % 24:02d}:00"


def quiet_line(member: Member, _: Gettext) -> str:
    """Quiet hours in one line, for the profile and /mydata's summary."""
    if not member.quiet_hours:
        return _("Quiet hours: off")
    return _("Quiet hours: {start}–{end}").format(
        start=clock_hour(member.quiet_start), end=clock_hour(member.quiet_end)
    )


def digest_line(member: Member, _: Gettext) -> str:
    """The digest choice in one line."""
    if member.digest_hour is None:
        return _("Daily digest: off")
    return _("Daily digest: every day at {time}").format(time=clock_hour(member.digest_hour))


def apply(member: Member, action: str, hour: int) -> bool:
    """Change the setting a button names; False for a stale or forged button."""
    if action not in ACTIONS or not 0 <= hour <= 23:
        return False
    if action == "quiet":
        member.quiet_hours = not member.quiet_hours
    elif action == "start":
        if hour == member.quiet_end:
            return False
        member.quiet_start = hour
    elif action == "end":
        if hour == member.quiet_start:
            return False
        member.quiet_end = hour
    elif action == "digest":
        member.digest_hour = DEFAULT_DIGEST_HOUR if member.digest_hour is None else None
    elif action == "dhour":
        if member.digest_hour is None:
            return False
        member.digest_hour = hour
    return True


def attention_screen(member: Member, _: Gettext) -> tuple[str, InlineKeyboardMarkup]:
    """What the settings mean, and a button for each change."""
    text = "\n".join(
        [
            _("🌙 <b>Quiet hours and digest</b>"),
            "",
            quiet_line(member, _) + " " + _("(your time: {zone})").format(zone=member.tz),
            _(
                "During quiet hours only urgent messages reach you (a meeting starting within "
                "the hour, an alert); the rest waits until they end."
            ),
            "",
            digest_line(member, _),
            _(
                "With the digest, announcements and new polls come together in one message a "
                "day. Urgent messages, and polls closing before your next digest, still come "
                "at once."
            ),
        ]
    )
    kb = InlineKeyboardBuilder()
    sizes = [1]
    if member.quiet_hours:
        kb.button(text=_("🔔 Turn quiet hours off"), callback_data=AttentionCb(action="quiet"))
        start, end = member.quiet_start, member.quiet_end
        for label, action, hour in (
            (_("Start at {time}"), "start", (start - 1) % 24),
            (_("Start at {time}"), "start", (start + 1) % 24),
            (_("End at {time}"), "end", (end - 1) % 24),
            (_("End at {time}"), "end", (end + 1) % 24),
        ):
            if hour == (end if action == "start" else start):
                continue  # hours that start where they end would be no quiet hours at all
            text_ = label.format(time=clock_hour(hour))
            kb.button(text=text_, callback_data=AttentionCb(action=action, hour=hour))
        sizes += [2, 2] if abs(start - end) not in (1, 23) else [1, 1]
    else:
        kb.button(text=_("🌙 Turn quiet hours on"), callback_data=AttentionCb(action="quiet"))
    if member.digest_hour is None:
        kb.button(text=_("📰 Get a daily digest"), callback_data=AttentionCb(action="digest"))
        sizes.append(1)
    else:
        kb.button(text=_("📨 Stop the daily digest"), callback_data=AttentionCb(action="digest"))
        for hour in ((member.digest_hour - 1) % 24, (member.digest_hour + 1) % 24):
            kb.button(
                text=_("Digest at {time}").format(time=clock_hour(hour)),
                callback_data=AttentionCb(action="dhour", hour=hour),
            )
        sizes += [1, 2]
    kb.adjust(*sizes)
    return text, kb.as_markup()
