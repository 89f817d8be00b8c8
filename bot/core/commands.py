"""The command menu, translated per language for Telegram's `setMyCommands`."""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated later, in each member's language."""
    return message


MEMBER_COMMANDS: list[tuple[str, str]] = [
    ("start", N_("Start or resume")),
    ("help", N_("What I can do for you")),
    ("groups", N_("Working groups")),
    ("polls", N_("Open consultations")),
    ("meetings", N_("Upcoming meetings")),
    ("solidarity", N_("Solidarity alerts and raising a case")),
    ("decisions", N_("Decisions of your groups")),
    ("profile", N_("See and edit your profile")),
    ("language", N_("Change language")),
    ("privacy", N_("What we store and why")),
    ("mydata", N_("Download your data")),
    ("forget", N_("Erase your data")),
]

BOT_DESCRIPTION = N_(
    "Take part in the network's working groups, consultations and meetings from your phone, "
    "in your language. We keep only what is needed and you can erase it at any time."
)
BOT_SHORT_DESCRIPTION = N_("Working groups, consultations and meetings of the network.")
