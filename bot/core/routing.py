"""Send each message and button press only to the routers that could handle it.

aiogram offers every update to the routers in order until one handles it, and each router it
passes costs its filters, a copy of the update's context and a few calls: with 66 routers, a
button whose handler sits in the 27th (a vote) spent more time being routed than handled,
and free text that no handler takes about 1.4 ms.

Most handlers say up front what they can take: a button's `CallbackData` prefix, a command,
the conversation states. `RoutedDispatcher` reads those filters once, and for each update
offers it, in the usual order, only to the top-level routers where some handler could match
(a handler without such a filter could match anything, so its router is always offered).
Skipping a router is therefore never a change of outcome: the routers skipped would have
answered UNHANDLED. The choice is cached by (update kind, command, button prefix, state),
each reduced to a known value or "unknown", so forged data cannot grow the cache.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from inspect import isclass
from typing import Any

from aiogram import Dispatcher, Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.dispatcher.event.handler import FilterObject
from aiogram.dispatcher.event.telegram import TelegramEventObserver
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.filters.state import StateFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, TelegramObject

ROUTED = ("message", "callback_query")
UNKNOWN = "\x00unknown"  # a command, prefix or state that no filter names
ANY_STATE = "*"


@dataclass(frozen=True)
class Gate:
    """What one handler (or a router's own filters) can take; None: not restricted."""

    prefixes: frozenset[tuple[str, str]] | None = None  # (separator, prefix) of buttons
    commands: frozenset[str] | None = None
    ignore_case: bool = False
    states: frozenset[str | None] | None = None

    def admits(self, update_type: str, key: Key) -> bool:
        states = self.states
        if states is not None and ANY_STATE not in states and key.state not in states:
            return False
        if update_type == "callback_query" and self.prefixes is not None:
            return bool(self.prefixes & key.prefixes)
        if update_type == "message" and self.commands is not None:
            if key.command is None:
                return False
            exact, folded = key.command
            return (folded if self.ignore_case else exact) in self.commands
        return True


@dataclass(frozen=True)
class Key:
    """An update reduced to what the gates look at (known values only)."""

    command: tuple[str, str] | None  # (as typed, casefolded), each UNKNOWN when no filter has it
    prefixes: frozenset[tuple[str, str]]
    state: str | None


def gate_of(filters: Iterable[FilterObject] | None) -> Gate:
    """The restrictions a list of filters (all of which must pass) places on an update."""
    prefixes: frozenset[tuple[str, str]] | None = None
    commands: frozenset[str] | None = None
    ignore_case = False
    states: frozenset[str | None] | None = None
    for obj in filters or ():
        check = getattr(obj.callback, "__wrapped__", obj.callback)
        if isinstance(check, CallbackQueryFilter):
            data = check.callback_data
            prefixes = frozenset({(data.__separator__, data.__prefix__)})
        elif isinstance(check, Command) and check.prefix == "/" and check.magic is None:
            if all(isinstance(c, str) for c in check.commands):
                commands = frozenset(str(c) for c in check.commands)
                ignore_case = check.ignore_case
        elif isinstance(check, StateFilter):
            states = _states(check.states)
        elif isinstance(check, State):
            states = _states((check,))
    return Gate(prefixes, commands, ignore_case, states)


def _states(allowed: Iterable[Any]) -> frozenset[str | None]:
    names: set[str | None] = set()
    for item in allowed:
        if item is None or isinstance(item, str):
            names.add(item)
        elif isinstance(item, State):
            names.add(item.state)
        elif isclass(item) and issubclass(item, StatesGroup):
            names.update(item.__all_states_names__)
        else:
            names.add(ANY_STATE)  # something we do not read: assume it takes any state
    return frozenset(names)


@dataclass
class Branch:
    """A router as the index sees it: its own gate, its handlers' gates, its sub-routers."""

    gate: Gate
    handlers: list[Gate]
    children: list[Branch]

    @classmethod
    def of(cls, router: Router, update_type: str) -> Branch:
        observer: TelegramEventObserver = router.observers[update_type]
        return cls(
            gate_of(observer._handler.filters),
            [gate_of(handler.filters) for handler in observer.handlers],
            [cls.of(child, update_type) for child in router.sub_routers],
        )

    def admits(self, update_type: str, key: Key) -> bool:
        if not self.gate.admits(update_type, key):
            return False
        return any(g.admits(update_type, key) for g in self.handlers) or any(
            child.admits(update_type, key) for child in self.children
        )

    def walk(self) -> Iterable[Gate]:
        yield self.gate
        yield from self.handlers
        for child in self.children:
            yield from child.walk()


class RoutedDispatcher(Dispatcher):
    """A Dispatcher that offers messages and button presses only to routers that could take
    them (see the module's docstring); every other update goes the usual way."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._branches: dict[str, list[tuple[Router, Branch]]] = {}
        self._routes: dict[tuple[str, Key], tuple[Router, ...]] = {}
        self._commands: set[str] = set()
        self._folded: set[str] = set()
        self._prefixes: set[tuple[str, str]] = set()
        self._separators: set[str] = set()  # of the buttons' prefixes: one (":") in practice
        self._states: set[str | None] = set()

    def index_routes(self) -> None:
        """Read the routers' filters (call once the routers are included)."""
        self._routes.clear()
        for update_type in ROUTED:
            self._branches[update_type] = [
                (router, Branch.of(router, update_type)) for router in self.sub_routers
            ]
            for _, branch in self._branches[update_type]:
                for gate in branch.walk():
                    self._commands.update(gate.commands or ())
                    self._folded.update(c.casefold() for c in gate.commands or ())
                    self._prefixes.update(gate.prefixes or ())
                    self._separators.update(sep for sep, _ in gate.prefixes or ())
                    self._states.update(gate.states or ())

    def key(self, event: TelegramObject, raw_state: str | None) -> Key:
        command = None
        if isinstance(event, Message):
            text = event.text or event.caption
            if text and text.startswith("/"):
                name = text.split(maxsplit=1)[0][1:].partition("@")[0]
                folded = name.casefold()
                command = (
                    name if name in self._commands else UNKNOWN,
                    folded if folded in self._folded else UNKNOWN,
                )
        prefixes: frozenset[tuple[str, str]] = frozenset()
        if isinstance(event, CallbackQuery) and event.data is not None:
            data = event.data
            found = ((sep, data.split(sep, 1)[0]) for sep in self._separators)
            prefixes = frozenset(pair for pair in found if pair in self._prefixes)
        state = raw_state if raw_state in self._states else UNKNOWN
        return Key(command, prefixes, state)

    def routes(self, update_type: str, key: Key) -> tuple[Router, ...]:
        found = self._routes.get((update_type, key))
        if found is None:
            branches = self._branches[update_type]
            found = tuple(r for r, branch in branches if branch.admits(update_type, key))
            self._routes[(update_type, key)] = found
        return found

    async def _propagate_event(
        self,
        observer: TelegramEventObserver | None,
        update_type: str,
        event: TelegramObject,
        **kwargs: Any,
    ) -> Any:
        own = self.observers.get(update_type)
        if (
            update_type not in self._branches
            or own is None
            or own.handlers
            or own._handler.filters
            or (isinstance(event, CallbackQuery) and event.data is None)
        ):
            return await super()._propagate_event(observer, update_type, event, **kwargs)
        key = self.key(event, kwargs.get("raw_state"))
        for router in self.routes(update_type, key):
            response = await router.propagate_event(update_type=update_type, event=event, **kwargs)
            if response is not UNHANDLED:
                return response
        return UNHANDLED
