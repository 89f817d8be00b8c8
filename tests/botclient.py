"""A Telegram user talking to the bot through the fake server, in the shape of aiogram_dialog's
BotClient: send text, tap buttons, and get back what the bot showed in reply."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from bot.sandbox.telegram import ApiCall, FakeTelegram


class BotClient:
    """One user in a private chat with the bot; every action waits for the bot to settle."""

    def __init__(
        self,
        fake: FakeTelegram,
        user_id: int,
        first_name: str = "Ana",
        *,
        language_code: str | None = "en",
        last_name: str | None = None,
        username: str | None = None,
    ) -> None:
        self.fake = fake
        self.user_id = user_id
        self.chat_id = user_id
        self.user = fake.add_user(
            user_id,
            first_name,
            language_code=language_code,
            last_name=last_name,
            username=username,
        )
        self.timeout = 10.0
        self.quiet = 0.25
        self._query_ids: list[str] = []

    # --- actions ----------------------------------------------------------------------------

    async def send(self, text: str | None = None, **kind: Any) -> list[dict[str, Any]]:
        """Send a message (text, or sticker=/photo=/voice=/document=True) and return the bot
        messages in this chat that are new or edited since, in their current state."""
        before = self._snapshot()
        start = len(self.fake.calls)
        update = self.fake.user_sends(self.user_id, text, **kind)
        what = repr(text) if text is not None else ", ".join(k for k, v in kind.items() if v)
        return await self._await_response(
            lambda call: call.chat_id == self.chat_id,
            start,
            before,
            f"the message {what}",
            update["update_id"],
        )

    async def click(
        self, button: str, message: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Tap the inline button whose text equals `button` (or uniquely contains it); with
        no message given, on the newest message that has it (waiting for one if none does)."""
        if message is None:
            target = await self._newest_keyboard_with(button)
        else:
            target = self._keyboard_message(message)
        return await self._press_button(target, _find_button(target, button))

    async def press_later(
        self,
        button: str,
        message: dict[str, Any] | None = None,
        *,
        days: float = 2,
        deleted: bool = False,
    ) -> list[dict[str, Any]]:
        """Tap `button` days after the message came: the chat's messages are that much older
        (too old to edit past 48 hours) and, as Telegram does, the callback query carries an
        InaccessibleMessage (date 0, chat and message_id only). `deleted`: the user deleted
        the message first (the keyboard still on their screen, as on another device)."""
        target = self._keyboard_message(message)
        chosen = _find_button(target, button)
        if "callback_data" not in chosen:
            raise AssertionError(f"button {button!r} is not a callback button")
        self.fake.age_chat(self.chat_id, days * 86400)
        if deleted:
            self.fake.chat_deletes(self.chat_id, target["message_id"])
        return await self._press(
            target, chosen["callback_data"], f"button {button!r} days later", inaccessible=True
        )

    async def click_nth(
        self, index: int, message: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Tap the index-th inline button (rows flattened; negative counts from the end)."""
        target = self._keyboard_message(message)
        buttons = _inline_buttons(target)
        try:
            chosen = buttons[index]
        except IndexError:
            raise AssertionError(
                f"no button #{index} in message {target['message_id']}; "
                f"available: {[b.get('text') for b in buttons]}"
            ) from None
        return await self._press_button(target, chosen)

    async def press_data(
        self, callback_data: str, message: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Press raw (possibly forged) callback data on a message (default: newest keyboard)."""
        if message is None:
            message = self._newest_keyboard_message() or self.last()
        return await self._press(self._current(message), callback_data, f"data {callback_data!r}")

    # --- observing --------------------------------------------------------------------------

    def messages(self) -> list[dict[str, Any]]:
        """The bot's messages in this chat, current state, oldest first."""
        return self.fake.messages(self.chat_id)

    def last(self) -> dict[str, Any]:
        """The newest bot message in this chat."""
        message = self.fake.last_message(self.chat_id)
        if message is None:
            raise AssertionError(f"the bot has sent no message to user {self.user_id}")
        return message

    def texts(self) -> list[str]:
        """Text (or caption) of each bot message in this chat."""
        return [str(m.get("text", m.get("caption", ""))) for m in self.messages()]

    def buttons(self, message: dict[str, Any] | None = None) -> list[str]:
        """Inline button texts of `message` (default: the newest message with a keyboard)."""
        if message is None:
            message = self._newest_keyboard_message()
            if message is None:
                return []
        return [str(b.get("text", "")) for b in _inline_buttons(self._current(message))]

    def callback_answer(self) -> dict[str, Any] | None:
        """The params of the last successful answerCallbackQuery for this user's presses."""
        mine = set(self._query_ids)
        for call in reversed(self.fake.calls):
            if (
                call.method == "answerCallbackQuery"
                and call.ok
                and str(call.params.get("callback_query_id")) in mine
            ):
                return call.params
        return None

    # --- internals --------------------------------------------------------------------------

    def _snapshot(self) -> dict[int, int]:
        """message_id -> edit version of the bot's messages, to tell what changed."""
        return {m["message_id"]: m["_version"] for m in self.messages()}

    def _changed(self, before: dict[int, int]) -> list[dict[str, Any]]:
        """Bot messages new or edited since the snapshot."""
        return [m for m in self.messages() if before.get(m["message_id"]) != m["_version"]]

    async def _await_response(
        self,
        predicate: Callable[[ApiCall], bool],
        start: int,
        before: dict[int, int],
        what: str,
        update_id: int,
    ) -> list[dict[str, Any]]:
        """Wait until the bot finished the update (when the harness reports it) and made its
        first matching call, then for quiet in this chat."""
        try:
            await self.fake.wait_processed(update_id, timeout=self.timeout)
            await self.fake.wait_for_call(predicate, timeout=self.timeout, since=start)
        except AssertionError as error:
            raise AssertionError(
                f"the bot did not respond to {what} from user {self.user_id} within "
                f"{self.timeout}s\n{error}"
            ) from None
        await self.fake.settle(self.chat_id, quiet=self.quiet, timeout=self.timeout)
        return self._changed(before)

    def _current(self, message: dict[str, Any]) -> dict[str, Any]:
        """The stored (current) version of a message the test may hold an old copy of."""
        for stored in reversed(self.fake.messages(self.chat_id)):
            if stored["message_id"] == message["message_id"]:
                return stored
        return message

    def _newest_keyboard_message(self) -> dict[str, Any] | None:
        """The newest bot message in this chat that has an inline keyboard."""
        for message in reversed(self.messages()):
            if _inline_buttons(message):
                return message
        return None

    async def _newest_keyboard_with(self, button: str) -> dict[str, Any]:
        """The newest message whose keyboard shows `button`, as a person would find it: a
        message the engine sent meanwhile (an invitation, a reminder) is not the one meant.
        If none has it yet, wait a little for it (replies are complete when an update is
        processed; this covers what the engine is still sending)."""
        deadline = asyncio.get_running_loop().time() + min(self.timeout, 2.0)
        while True:
            for message in reversed(self.messages()):
                if _has_button(message, button):
                    return message
            if asyncio.get_running_loop().time() > deadline:
                return self._keyboard_message(None)  # _find_button then says what is there
            await asyncio.sleep(0.05)

    def _keyboard_message(self, message: dict[str, Any] | None) -> dict[str, Any]:
        """The given message (current version) or the newest one with an inline keyboard."""
        if message is not None:
            return self._current(message)
        found = self._newest_keyboard_message()
        if found is None:
            texts = [_preview(m) for m in self.messages()[-3:]]
            raise AssertionError(
                f"no bot message with an inline keyboard for user {self.user_id}; "
                f"last messages: {texts}"
            )
        return found

    async def _press_button(
        self, message: dict[str, Any], button: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Press a button that must carry callback_data."""
        if "callback_data" not in button:
            kinds = sorted(k for k in button if k != "text")
            raise AssertionError(f"button {button.get('text')!r} is not a callback button {kinds}")
        return await self._press(message, button["callback_data"], f"button {button['text']!r}")

    async def _press(
        self, message: dict[str, Any], callback_data: str, what: str, *, inaccessible: bool = False
    ) -> list[dict[str, Any]]:
        """Send the callback query and wait for its answer and for quiet."""
        before = self._snapshot()
        start = len(self.fake.calls)
        update = self.fake.user_presses(
            self.user_id, message, callback_data, inaccessible=inaccessible
        )
        query_id = update["callback_query"]["id"]
        self._query_ids.append(query_id)
        return await self._await_response(
            lambda call: (
                call.method == "answerCallbackQuery"
                and str(call.params.get("callback_query_id")) == query_id
            ),
            start,
            before,
            what,
            update["update_id"],
        )


def _has_button(target: dict[str, Any], button: str) -> bool:
    """Whether `button` names one button of the message (exactly or as a unique part)."""
    buttons = [str(b.get("text", "")) for b in _inline_buttons(target)]
    return button in buttons or sum(button in text for text in buttons) == 1


def _find_button(target: dict[str, Any], button: str) -> dict[str, Any]:
    """The inline button whose text equals `button` (or uniquely contains it)."""
    buttons = _inline_buttons(target)
    chosen = next((b for b in buttons if b.get("text") == button), None)
    if chosen is not None:
        return chosen
    partial = [b for b in buttons if button in str(b.get("text", ""))]
    if len(partial) == 1:
        return partial[0]
    if partial:
        raise AssertionError(
            f"button {button!r} is ambiguous: {[b['text'] for b in partial]}; "
            f"available: {[b.get('text') for b in buttons]}"
        )
    raise AssertionError(
        f"no button {button!r} in message {target['message_id']} "
        f"({_preview(target)}); available: {[b.get('text') for b in buttons]}"
    )


def _inline_buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    """All inline buttons of a message, rows flattened."""
    markup = message.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def _preview(message: dict[str, Any]) -> str:
    """A short text of a message for assertion messages."""
    text = str(message.get("text", message.get("caption", "")))
    return text if len(text) <= 60 else text[:57] + "..."
