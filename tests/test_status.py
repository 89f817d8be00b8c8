"""/status: network admins see members by status and region, the queue, the pace, the
scheduler's lag, the last errors and the version; nobody else does."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.core.clock import FakeClock
from bot.delivery.notice import enqueue_notice, schedule_notice
from bot.sandbox.telegram import FakeTelegram
from models.job import Job, JobStatus
from tests.conftest import add_member
from tests.harness import RunningBot
from tests.test_delivery import queue


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"run_delivery": False}  # nothing drains the queue: the figures stay put


async def test_admins_see_the_service_and_members_do_not(
    bot: RunningBot, client: Any, fake: FakeTelegram, clock: FakeClock
) -> None:
    await add_member(bot, 9400, "Admin", role="admin", locale="es", country="UY")
    await add_member(bot, 9401, "Ama", country="GH")
    await add_member(bot, 9402, "Kwame", country="GH")
    await add_member(bot, 9403, "Waiting", status="pending", country="FR")
    await queue(bot, lambda s: enqueue_notice(s, {"en": "Hello"}))

    async def jobs(session: Any) -> None:
        await schedule_notice(
            session, {"en": "x"}, key="late", due_at=clock.now() - timedelta(minutes=2)
        )
        session.add(
            Job(
                key="broken",
                kind="poll_close",
                payload={},
                due_at=clock.now(),
                status=JobStatus.FAILED,
                last_error="LookupError('no poll 7')",
            )
        )
        await session.commit()

    await bot.db(jobs)
    admin = client(9400, "Admin", language_code="es")
    reply = await admin.send("/status")
    text = reply[-1]["text"]
    lines = text.splitlines()
    assert lines[0].startswith("Estado · versión ")
    assert lines[1] == "Miembros: 3 activos · 1 esperando aprobación"
    assert lines[2] == "Miembros activos por región: África subsahariana 2 · Latinoamérica 1"
    assert lines[3] == "Cola de envío: 3 (normal 3)"
    assert lines[4] == "Enviados en los últimos 5 minutos: 0 (0 por segundo)"
    assert lines[5].startswith("Planificador: 1 tareas pendientes, la más antigua espera")
    seconds = int(lines[5].split("desde hace ")[1].split(" s")[0])
    assert 110 <= seconds <= 180
    assert lines[6] == "Últimos errores:"
    assert "job poll_close: LookupError('no poll 7')" in lines[7]

    member = client(9401, "Ama")
    reply = await member.send("/status")
    assert reply[-1]["text"] == "Only network admins can do this."
