"""The flood limits as the engine applies them: buckets, the last check, the 429 pause."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time

import pytest

from bot.delivery.ratelimit import MARGIN, WINDOW, ChatLimits, FloodGate, TokenBucket


def test_bucket_paces_at_just_under_the_rate_without_bursts() -> None:
    bucket = TokenBucket(10 * MARGIN)
    at = 0.0
    times = []
    for _ in range(21):
        at = bucket.ready_at(at)
        bucket.take(at)
        times.append(at)
    assert times[-1] - times[0] >= 2.0  # 20 intervals of just over 0.1 s
    assert all(b - a >= 0.1 for a, b in itertools.pairwise(times))


def test_bucket_makes_up_a_little_lateness_but_never_bunches() -> None:
    bucket = TokenBucket(10.0)
    bucket.take(0.0)
    bucket.take(0.104)  # woke up 4 ms late: the schedule is kept...
    assert bucket.ready_at(0.104) == 0.2
    bucket.take(0.5)  # ...but a long stall is not made up with a burst
    assert bucket.ready_at(0.5) >= 0.5 + 0.1 - bucket.slack


def test_chat_limits_per_chat_and_per_group_and_forgetting() -> None:
    limits = ChatLimits(per_chat=1.0, per_group_minute=20)
    limits.take(42, 10.0)
    assert limits.ready_at(42, 10.0) >= 11.0
    assert limits.ready_at(43, 10.0) == 10.0
    limits.take(-100, 10.0)
    assert limits.ready_at(-100, 10.0) >= 13.0  # 20 a minute: one every 3 s
    limits.take(7, 20.0)  # a second later everything older is forgotten
    assert len(limits) == 1


async def test_last_check_holds_a_bunched_request() -> None:
    gate = FloodGate(3.0)
    started = time.monotonic()
    for _ in range(3):
        await gate.admit()
    assert time.monotonic() - started < 0.1
    await gate.admit()  # the 4th within a second waits until the window has passed
    assert time.monotonic() - started >= WINDOW - 0.01
    assert gate.held == 1


async def test_pause_holds_every_send_until_retry_after() -> None:
    gate = FloodGate(1000.0)
    gate.pause(0.3)
    started = time.monotonic()
    await gate.turn()
    assert time.monotonic() - started >= 0.29
    started = time.monotonic()
    gate.pause(0.2)
    await gate.wait_unpaused()
    assert time.monotonic() - started >= 0.19


async def test_a_reply_takes_the_next_place_before_the_engine() -> None:
    gate = FloodGate(3.0)
    for _ in range(3):
        await gate.admit()
    order: list[str] = []

    async def send(name: str, reply: bool) -> None:
        await gate.admit(reply=reply)
        order.append(name)

    engine = asyncio.create_task(send("engine", False))
    await asyncio.sleep(0.05)  # the engine's request was waiting first
    await asyncio.gather(engine, send("reply", True))
    assert order == ["reply", "engine"]


async def test_a_reply_spends_a_slot_of_the_engine_budget() -> None:
    gate = FloodGate(10.0)
    assert gate.delay() == 0
    await gate.admit(reply=True)
    assert gate.delay() > 0.09  # the engine's next send moved back by one interval


async def test_while_people_are_answered_the_engine_leaves_places_free_for_replies() -> None:
    """A reply finds a place at once instead of waiting for the broadcast's oldest send to
    age out; the engine's share comes back once nobody has been answered for a while."""
    gate = FloodGate(10.0)
    await gate.admit(reply=True)
    assert gate.reserve() == 2  # half of the one reply in the last second, and the headroom
    started = time.monotonic()
    for _ in range(7):  # 1 reply + 7 engine sends: 2 places of 10 stay free
        await gate.admit()
    assert time.monotonic() - started < 0.1
    engine = asyncio.create_task(gate.admit())
    await asyncio.sleep(0.2)
    assert not engine.done()  # the engine waits beside the places kept...
    started = time.monotonic()
    await gate.admit(reply=True)
    await gate.admit(reply=True)
    assert time.monotonic() - started < 0.05  # ...which the next replies take at once
    await engine
    assert time.monotonic() - started >= WINDOW - 0.25  # the engine went once places freed


async def test_the_engine_keeps_a_share_of_the_window_however_fast_people_are_answered() -> None:
    """Replies taking most of the window do not stop a broadcast or a reminder: the engine
    may still hold one of the places."""
    gate = FloodGate(10.0)
    for _ in range(8):  # eight replies within a second: five places kept, all taken
        await gate.admit(reply=True)
    assert gate.reserve() == 5
    started = time.monotonic()
    await gate.admit()  # the engine's one place
    assert time.monotonic() - started < 0.05
    engine = asyncio.create_task(gate.admit())
    await asyncio.sleep(0.2)
    assert not engine.done()  # a second one waits for places to free
    engine.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await engine


def test_the_engine_takes_every_place_again_once_nobody_is_being_answered() -> None:
    now = [100.0]
    gate = FloodGate(30.0, clock=lambda: now[0])
    assert gate.reserve() == 0
    asyncio.run(gate.admit(reply=True))
    assert gate.reserve() == 1 + 3  # half of one reply, rounded up, and 10 % of 30
    now[0] += 1.5
    assert gate.reserve() == 3  # no reply within the last second: the headroom alone
    now[0] += 2.0
    assert gate.reserve() == 0  # nobody answered for REPLY_ACTIVE seconds


async def test_a_request_answered_late_holds_the_next_until_a_second_after_its_answer() -> None:
    """Telegram counts arrivals: one held up on its way (a busy CPU, a slow network) may
    arrive late, so the request `rate` places after it waits a second after its answer."""
    gate = FloodGate(3.0)
    started = time.monotonic()
    sent = [await gate.admit(tracked=True) for _ in range(3)]
    await asyncio.sleep(0.3)
    for one in sent:
        assert one is not None
        one.done = gate.clock()  # answered 0.3 s after it left
    await gate.admit(tracked=True)
    assert time.monotonic() - started >= 1.3 - 0.01


def test_a_place_is_held_a_second_after_the_answer_less_the_usual_round_trip() -> None:
    """At 100 ms round trips the window's places free a second after each request left, not
    a second after its answer (the broadcast ran at 91 % of the limit); a request answered
    later than usual (a stall) still holds its place until a second after that answer, less
    the usual round trip."""
    from bot.delivery.ratelimit import RTT_TRUSTED, Sent

    now = [0.0]
    gate = FloodGate(3.0, clock=lambda: now[0])

    def answered_after(round_trip: float) -> Sent:
        sent = Sent(now[0], tracked=True)
        now[0] += round_trip
        gate.answered(sent)
        return sent

    for _ in range(RTT_TRUSTED - 1):
        answered_after(0.1)
    assert gate.min_round_trip == 0  # not trusted yet: a place is held a second after answers
    answered_after(0.1)
    assert gate.min_round_trip == pytest.approx(0.1)
    left = now[0]
    gate.recent.extend(answered_after(0.1) for _ in range(3))
    assert gate._window_wait() == pytest.approx(left + WINDOW - now[0])
    gate.recent.clear()
    left = now[0]
    gate.recent.extend(answered_after(0.4) for _ in range(3))  # a stall on the way
    assert gate._window_wait() == pytest.approx(1.0 - 0.1 + 0.4 - (now[0] - left))


class SharedSlots:
    """Redis's SET NX PX and PTTL, as two processes' pacers see them, on the event loop's clock."""

    def __init__(self) -> None:
        self.until: dict[str, float] = {}

    async def set(self, key: str, _value: int, *, px: int, nx: bool) -> bool:
        now = asyncio.get_running_loop().time()
        if nx and self.until.get(key, 0.0) > now:
            return False
        self.until[key] = now + px / 1000
        return True

    async def pttl(self, key: str) -> int:
        return max(int((self.until.get(key, 0.0) - asyncio.get_running_loop().time()) * 1000), 0)


async def test_two_processes_replying_to_one_chat_keep_its_pace_between_them() -> None:
    """One person's updates handled by two webhook processes in turn: each process paces its
    own replies, and the shared slot in Redis keeps the chat's pace across both."""
    from bot.delivery.ratelimit import ChatLimits, ReplyPacer

    shared = SharedSlots()
    loop = asyncio.get_running_loop()
    pacers = [
        ReplyPacer(ChatLimits(5.0, 20), 5.0, 1, clock=loop.time, shared=shared) for _ in range(2)
    ]
    sent: list[float] = []
    for turn in range(6):  # the processes take the person's updates in turn
        await pacers[turn % 2].turn(42)
        sent.append(loop.time())
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert min(gaps) >= pacers[0].interval - 0.01, gaps


async def test_an_engine_message_waits_for_a_reply_sent_after_it_was_scheduled() -> None:
    """The engine picked a chat as free, then waited for the shared budget; meanwhile the
    person was answered. Its message goes a full interval after that reply, not 0.6 s after
    it (a 429 that pauses every send of the bot)."""
    from bot.delivery.ratelimit import ChatLimits, ReplyPacer

    loop = asyncio.get_running_loop()
    pacer = ReplyPacer(ChatLimits(5.0, 20), 5.0, 1, clock=loop.time)
    await pacer.turn(42)  # the reply
    replied = loop.time()
    await asyncio.sleep(pacer.interval / 2)
    await pacer.after_latest(42)  # the engine's message to the same chat
    assert loop.time() - replied >= pacer.interval - 0.01
    started = loop.time()
    await pacer.after_latest(7)  # a chat nobody was answered in: no wait
    assert loop.time() - started < 0.01


async def test_an_engine_message_waits_for_the_one_before_it_to_the_same_chat() -> None:
    """The engine took two slots a second apart for one chat, but the first request was
    held up on its way (a busy CPU right after its slot): the second leaves a full interval
    after the first came back, not 0.5 s after it reached Telegram."""
    from aiogram.methods import SendMessage

    from bot.delivery.ratelimit import ENGINE_SEND, ChatLimits, FloodGateMiddleware, ReplyPacer

    loop = asyncio.get_running_loop()
    pacer = ReplyPacer(ChatLimits(5.0, 20), 5.0, 1, clock=loop.time)
    middleware = FloodGateMiddleware(FloodGate(30.0, clock=loop.time), pacer)
    written: dict[str, float] = {}
    answered: dict[str, float] = {}

    async def make_request(_bot: object, method: SendMessage) -> object:
        written[method.text] = loop.time()
        await asyncio.sleep(0.3 if method.text == "first" else 0.0)  # on its way
        answered[method.text] = loop.time()
        return object()

    async def engine_sends(text: str, chat_id: int, after: float) -> None:
        await asyncio.sleep(after)
        ENGINE_SEND.set(True)
        await middleware(make_request, None, SendMessage(chat_id=chat_id, text=text))  # type: ignore[arg-type]

    await asyncio.gather(
        engine_sends("first", 42, 0.0),
        engine_sends("second", 42, 0.1),  # its slot came while the first was on its way
        engine_sends("elsewhere", 7, 0.1),  # another chat: no wait
    )
    assert written["second"] - answered["first"] >= pacer.interval - 0.01
    assert written["elsewhere"] - written["first"] < 0.15
