"""The routing index offers an update only to routers that could take it, and to all of them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiogram import F, Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData, CallbackQueryFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Chat, Message, User

from bot.core.app import run_filters_inline
from bot.core.config import load_settings
from bot.core.routing import RoutedDispatcher
from bot.wiring import build_app

USER = User(id=7, is_bot=False, first_name="Ana")
CHAT = Chat(id=7, type="private")


class ColourCb(CallbackData, prefix="colour"):
    name: str


class ShapeCb(CallbackData, prefix="shape"):
    sides: int


class Asking(StatesGroup):
    name = State()
    age = State()


def message(text: str | None = None, caption: str | None = None) -> Message:
    return Message(
        message_id=1,
        date=datetime.now(UTC),
        chat=CHAT,
        from_user=USER,
        text=text,
        caption=caption,
    )


def press(data: str) -> CallbackQuery:
    return CallbackQuery(
        id="1", from_user=USER, chat_instance="c", data=data, message=message("x")
    )


class Spy:
    """A filter that notes every time it is asked, and lets everything through."""

    def __init__(self) -> None:
        self.asked = 0

    def __call__(self, event: Any) -> bool:
        self.asked += 1
        return True


@pytest.fixture
def world() -> Iterator[tuple[RoutedDispatcher, dict[str, Spy], list[str]]]:
    """Five routers: buttons, commands, a conversation state, free text, and one that takes
    any press; each handler notes its name."""
    handled: list[str] = []
    spies = {name: Spy() for name in ("colours", "help", "asking", "anything", "shapes")}

    def note(name: str) -> Any:
        async def handler(event: Any) -> str:
            handled.append(name)
            return name

        return handler

    colours = Router(name="colours")
    colours.callback_query.filter(spies["colours"])
    colours.callback_query.register(note("colour"), ColourCb.filter())
    help_ = Router(name="help")
    help_.message.filter(spies["help"])
    help_.message.register(note("help"), Command("help", "aide", ignore_case=True))
    help_.message.register(note("start"), Command("start"))
    asking = Router(name="asking")
    asking.message.filter(spies["asking"])
    asking.message.register(note("name"), Asking.name)
    asking.message.register(note("age"), StateFilter(Asking.age))
    text = Router(name="anything")
    text.message.filter(spies["anything"])
    text.message.register(note("text"), F.text)
    shapes = Router(name="shapes")
    shapes.callback_query.filter(spies["shapes"])
    shapes.callback_query.register(note("shape"), ShapeCb.filter(F.sides > 2))
    shapes.callback_query.register(note("any press"))
    dp = RoutedDispatcher()
    dp.include_routers(colours, help_, asking, text, shapes)
    run_filters_inline(dp)
    dp.index_routes()
    yield dp, spies, handled


async def offer(dp: RoutedDispatcher, kind: str, event: Any, state: str | None = None) -> Any:
    return await dp.propagate_event(kind, event, raw_state=state, bot=None)


async def test_a_press_goes_to_its_prefix_and_to_catch_alls(world: Any) -> None:
    dp, spies, handled = world
    assert await offer(dp, "callback_query", press(ShapeCb(sides=4).pack())) == "shape"
    assert spies["colours"].asked == 0  # never offered: no handler there takes "shape"
    assert await offer(dp, "callback_query", press(ColourCb(name="red").pack())) == "colour"
    assert spies["colours"].asked == 1
    # A forged or stale prefix reaches only the router that takes any press.
    assert await offer(dp, "callback_query", press("colourz:9999999999999999999")) == "any press"
    assert await offer(dp, "callback_query", press("shape:1")) == "any press"
    assert spies["colours"].asked == 1
    assert handled == ["shape", "colour", "any press", "any press"]


async def test_commands_and_states_pick_their_routers(world: Any) -> None:
    dp, spies, handled = world
    assert await offer(dp, "message", message("/help me")) == "help"
    assert await offer(dp, "message", message("/AIDE now")) == "help"  # ignore_case
    assert await offer(dp, "message", message("/Start")) == "text"  # start is case-sensitive
    assert await offer(dp, "message", message("Ana"), Asking.name.state) == "name"
    assert await offer(dp, "message", message("33"), Asking.age.state) == "age"
    assert spies["asking"].asked == 2  # only while asking
    assert await offer(dp, "message", message("hello")) == "text"
    assert await offer(dp, "message", message("hello"), "Other:state") == "text"
    assert spies["asking"].asked == 2
    assert await offer(dp, "message", message(caption="/help")) == "help"  # a photo's caption
    assert await offer(dp, "message", message()) is UNHANDLED  # a sticker: nobody
    # /help, /AIDE and the caption; not /Start (no handler there takes it) nor free text.
    assert spies["help"].asked == 3
    assert handled == ["help", "help", "text", "name", "age", "text", "text", "help"]


async def test_forged_values_do_not_grow_the_cache(world: Any) -> None:
    dp, _spies, _handled = world
    for n in range(200):
        await offer(dp, "callback_query", press(f"x{n}:1"), f"forged:{n}")
        await offer(dp, "message", message(f"/cmd{n}"), f"forged:{n}")
    assert len(dp._routes) <= 2


async def test_every_handler_of_the_bot_stays_reachable(tmp_path: Path) -> None:
    """For each handler of the real bot that names a button prefix, a command or a state,
    an update of that kind is offered to the router that holds it."""
    settings = load_settings(
        bot_token="1:x",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'routes.sqlite3'}",
        admin_ids=[],
    )
    app = await build_app(settings)
    try:
        dp = app.dp
        assert isinstance(dp, RoutedDispatcher)
        checked = 0
        for top in dp.sub_routers:
            for router in walk(top):
                for kind in ("message", "callback_query"):
                    for handler in router.observers[kind].handlers:
                        for event, state in examples(kind, handler.filters or []):
                            key = dp.key(event, state)
                            assert top in dp.routes(kind, key), (top.name, kind, event, state)
                            checked += 1
        assert checked > 150  # the bot's buttons, commands and conversation states
    finally:
        await app.close()


def walk(router: Router) -> Iterator[Router]:
    yield router
    for child in router.sub_routers:
        yield from walk(child)


def examples(kind: str, filters: list[Any]) -> Iterator[tuple[Any, str | None]]:
    """Updates that pass this handler's prefix, command and state filters."""
    data, commands, states = None, [None], [None]
    for obj in filters:
        check = getattr(obj.callback, "__wrapped__", obj.callback)
        if isinstance(check, CallbackQueryFilter):
            cls = check.callback_data
            data = cls.__prefix__ + cls.__separator__ + "1"
        elif isinstance(check, Command):
            commands = [str(c) for c in check.commands]
        elif isinstance(check, StateFilter):
            states = [s.state if isinstance(s, State) else s for s in check.states]
        elif isinstance(check, State):
            states = [check.state]
    for state in states:
        if state is not None and not isinstance(state, str):
            continue  # a whole group of states: its members are checked where named
        if kind == "callback_query":
            yield press(data or "anything"), state
        else:
            for command in commands:
                yield message(f"/{command}" if command else "some text"), state
