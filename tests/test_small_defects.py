"""Small defects found in the field: folder names typed as zones, huge numbers in button data,
long callback answers, /help for admins and coordinators, /mydata in Arabic."""

from __future__ import annotations

import json
from typing import Any, get_args

import pytest
from aiogram.filters.callback_data import CallbackData
from pydantic.fields import FieldInfo

from bot.core.app import trim_utf16
from bot.meetings.zones import find_zones, valid_zone
from bot.sandbox.telegram import FakeTelegram, utf16_len
from tests.conftest import add_member
from tests.groupkit import add_to_group, make_group
from tests.harness import RunningBot

HUGE = 2**63


@pytest.mark.parametrize("typed", ["America", "Etc", "Europe", "America/Argentina", "posix"])
def test_a_folder_of_the_zone_database_is_not_a_zone(typed: str) -> None:
    assert not valid_zone(typed)
    assert all(valid_zone(zone) for zone in find_zones(typed, "en"))
    assert valid_zone("America/Lima") and find_zones("America/Lima", "en") == ["America/Lima"]


def _factories() -> list[type[CallbackData]]:
    import bot.wiring  # noqa: F401  (every area's factories are imported)
    import handlers.groups
    import handlers.meetings
    import handlers.members
    import handlers.polls  # noqa: F401

    found: list[type[CallbackData]] = []
    todo = list(CallbackData.__subclasses__())
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo += cls.__subclasses__()
    return [cls for cls in found if cls.__module__.startswith(("bot.", "handlers."))]


def _bounded(info: FieldInfo) -> bool:
    bounds = {type(m).__name__ for m in info.metadata}
    return bool({"Ge", "Gt"} & bounds) and bool({"Le", "Lt"} & bounds)


def test_every_int_in_button_data_has_bounds() -> None:
    factories = _factories()
    assert len(factories) > 20
    unbounded = [
        f"{cls.__name__}.{name}"
        for cls in factories
        for name, info in cls.model_fields.items()
        if (info.annotation is int or int in get_args(info.annotation)) and not _bounded(info)
    ]
    assert not unbounded


async def test_huge_numbers_in_button_data_get_a_clear_answer(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    await add_member(bot, 7101, "Ana", role="admin")
    user = client(7101, "Ana")
    await user.send("/help")
    for data in (
        f"pv:{HUGE}:0",
        f"pk:1:0:{HUGE}",
        f"wg:show:{HUGE}:0",
        f"wgreq:{HUGE}:1",
        f"rsvp:{HUGE}:going",
        f"review:{HUGE}:1",
        f"wglink:{-HUGE}:1",
        f"po:{10**30}",
    ):
        await user.press_data(data)
        answer = user.callback_answer() or {}
        assert "no longer valid" in str(answer.get("text")), (data, answer)
    assert not [c for c in fake.calls if not c.ok and c.method != "getUpdates"]


def test_callback_answers_are_cut_to_telegrams_200_characters() -> None:
    name = "Maria " + "de los Ángeles 😀 " * 20
    cut = trim_utf16(f"{name} was removed.", 200)
    assert utf16_len(cut) <= 200 and cut.endswith("…") and cut.startswith("Maria de los")
    assert trim_utf16("Saved: Going", 200) == "Saved: Going"


async def test_a_long_callback_answer_is_cut_not_refused(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    assert bot.app is not None
    user = client(7102, "Ana")
    await user.send("/start")
    update = fake.user_presses(7102, user.last(), "nothing")
    await fake.wait_processed(update["update_id"], timeout=5)
    fake.user_presses(7102, user.last(), "nothing-again")
    query = [q for q in fake._callbacks if not fake._callbacks[q]["answered"]][-1]
    assert await bot.app.bot.answer_callback_query(query, text="é" * 300)
    [call] = [
        c for c in fake.calls_to("answerCallbackQuery") if c.params["callback_query_id"] == query
    ]
    assert call.ok and utf16_len(call.params["text"]) == 200


async def test_help_lists_the_commands_of_admins_and_coordinators(
    bot: RunningBot, client: Any
) -> None:
    await add_member(bot, 7110, "Admin", role="admin")
    coordinator = await add_member(bot, 7111, "Coordinator")
    await add_member(bot, 7112, "Member")
    group = await make_group(bot)
    await add_to_group(bot, group, coordinator, coordinator=True)

    admin_help = (await client(7110, "Admin").send("/help"))[-1]["text"]
    assert "/newpoll" in admin_help and "/newmeeting" in admin_help and "/link" in admin_help
    coordinator_help = (await client(7111, "Coordinator").send("/help"))[-1]["text"]
    assert "/newpoll" in coordinator_help and "/newmeeting" in coordinator_help
    assert "/link" not in coordinator_help
    member_help = (await client(7112, "Member").send("/help"))[-1]["text"]
    assert "/groups" in member_help
    assert not any(c in member_help for c in ("/newpoll", "/newmeeting", "/link"))


async def test_mydata_in_arabic_names_the_status_and_the_zone(
    bot: RunningBot, client: Any, fake: FakeTelegram
) -> None:
    await add_member(bot, 7120, "Layla", locale="ar", country="EG", timezone="Africa/Cairo")
    reply = await client(7120, "Layla", language_code="ar").send("/mydata")
    text = reply[0]["text"]
    assert "active" not in text and "Africa/Cairo" not in text, text
    assert "عضو نشط" in text and "القاهرة" in text, text
    document = next(m for m in reply if "document" in m)
    data = json.loads(fake.files[document["document"]["file_id"]].data)
    assert data["member"]["timezone"] == "Africa/Cairo", "the file keeps the stored value"
