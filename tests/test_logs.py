"""LOG_FORMAT=json: one object per line with the update and its duration; and nothing in the
logs, at any level, names a person (no names, no Telegram ids, no texts they typed)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from bot.core.logs import setup_logging
from bot.sandbox.telegram import FakeTelegram
from tests.harness import RunningBot

USER_ID = 771_234_567
NAME = "Zanele Mthembu-Qwabe"
ORGANISATION = "Abahlali Kwazulu Secretariat"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"log_format": "json", "open_registration": True}


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Everything logged at every level, as `LOG_FORMAT=json LOG_LEVEL=DEBUG` configures it."""
    out = io.StringIO()
    root = logging.getLogger()
    old_handlers, old_level = list(root.handlers), root.level
    setup_logging("json", "DEBUG", out)
    try:
        yield out
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in old_handlers:
            root.addHandler(handler)
        root.setLevel(old_level)


async def test_json_lines_with_update_and_duration_and_no_personal_data(
    captured: io.StringIO, bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    user = client(USER_ID, "Zanele", last_name="Mthembu", language_code="en")
    await user.send("/start")
    await user.click("✓ English")
    await user.click_nth(0)  # accept
    await user.send(NAME)  # a name of her own instead of Telegram's
    await user.send("South Africa")
    await user.click("South Africa")
    await user.send(ORGANISATION)
    await user.click_nth(-1)  # prefer not to say
    await user.send("/profile")
    await user.send("a message the bot does not expect: my phone is 0821234567")
    await fake.settle(quiet=0.1, timeout=2)

    lines = [line for line in captured.getvalue().splitlines() if line.strip()]
    assert lines
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    updates = [e for e in entries if e["logger"] == "bot.core.observe" and "duration_ms" in e]
    assert len(updates) >= 10
    assert all(isinstance(e["update_id"], int) and e["duration_ms"] >= 0 for e in updates)
    assert {e["outcome"] for e in updates} == {"handled"}
    assert {e["update_type"] for e in updates} == {"message", "callback_query"}
    text = captured.getvalue()
    for secret in (
        str(USER_ID),
        "Zanele",
        "Mthembu",
        ORGANISATION,
        "Abahlali",
        "0821234567",
        "phone",
    ):
        assert secret not in text, f"{secret!r} reached the logs"
