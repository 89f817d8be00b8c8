"""Ready-made content for a new sandbox: the six working groups, members, a poll, a meeting."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import geo
from bot.core.app import App
from bot.groups.seed import apply_seed, read_seed
from bot.meetings.drafts import build_meeting
from bot.meetings.jobs import announce
from bot.polls.jobs import launch_poll
from bot.polls.service import Draft, save_poll
from bot.sandbox.people import COORDINATOR_ID, READY_MADE
from models.group import GroupMembership, GroupRole, MembershipStatus, WorkingGroup
from models.member import Member, MemberStatus, Role

SEED_FILE = Path(__file__).resolve().parents[2] / "seed" / "working_groups.yaml"
SHOWCASE_GROUP = "women_escr"
SHOWCASE_CHAT = -1_007_000_000_001  # the showcase group's linked chat in the stand-in
CHAT_TITLES = {SHOWCASE_GROUP: "Women and ESCR · Mujeres y DESC"}

POLL_VERSIONS = {
    "en": ("Which topic should our next workshop cover?", ["Housing", "Water", "Food"]),
    "es": ("¿Qué tema debería tratar nuestro próximo taller?", ["Vivienda", "Agua", "Comida"]),
    "fr": ("Quel thème pour notre prochain atelier ?", ["Logement", "Eau", "Alimentation"]),
    "pt": ("Que tema deve ter a nossa próxima oficina?", ["Moradia", "Água", "Alimentação"]),
    "ar": ("ما الموضوع الذي يجب أن تتناوله ورشتنا القادمة؟", ["السكن", "المياه", "الغذاء"]),
}


async def has_content(session: AsyncSession) -> bool:
    """Whether this sandbox database was filled before (then it is left as the visitor left it)."""
    return await session.scalar(select(WorkingGroup.id).limit(1)) is not None


async def linked_chats(app: App) -> list[tuple[int, str, list[tuple[int, str]]]]:
    """Each linked group chat with its title and its active members (id, group role), to set
    them up again in a new stand-in after a restart."""
    async with app.sessionmaker() as session:
        groups = (
            await session.scalars(select(WorkingGroup).where(WorkingGroup.chat_id.is_not(None)))
        ).all()
        found = []
        for group in groups:
            rows = await session.execute(
                select(Member.telegram_id, GroupMembership.role)
                .join(GroupMembership, GroupMembership.member_id == Member.id)
                .where(
                    GroupMembership.group_id == group.id,
                    GroupMembership.status == MembershipStatus.ACTIVE,
                )
            )
            found.append(
                (int(group.chat_id or 0), group.code, [(int(t), str(r)) for t, r in rows])
            )
        return found


async def fill(app: App, now: datetime) -> None:
    """Groups from the seed file, the registered ready-made people in the showcase group (the
    coordinator coordinating it), an open poll for that group and its meeting next week."""
    async with app.sessionmaker() as session, session.begin():
        await apply_seed(session, read_seed(SEED_FILE, app.settings.default_locale), now)
        group = await session.scalar(
            select(WorkingGroup).where(WorkingGroup.code == SHOWCASE_GROUP)
        )
        assert group is not None
        group.chat_id = SHOWCASE_CHAT
        members: dict[int, Member] = {}
        for person in READY_MADE:
            if not person.registered:
                continue
            member = Member(
                telegram_id=person.user_id,
                display_name=person.name,
                locale=person.locale,
                country=person.country,
                region=geo.region_of(person.country),
                timezone=person.timezone,
                role=Role.ADMIN if person.role == "admin" else Role.MEMBER,
                status=MemberStatus.ACTIVE,
            )
            session.add(member)
            await session.flush()
            members[person.user_id] = member
            role = GroupRole.COORDINATOR if person.role == "coordinator" else GroupRole.MEMBER
            session.add(GroupMembership(group_id=group.id, member_id=member.id, role=role))
        await session.flush()
        coordinator = members[COORDINATOR_ID]
        question, options = POLL_VERSIONS["en"]
        draft = Draft(
            locale="en",
            question=question,
            options=list(options),
            group_ids=[group.id],
            closes_at=(now + timedelta(days=3)).isoformat(),
            # Named, so a visitor sees the coordinator's count move with one vote (a secret
            # poll's live count moves in steps of 5: docs/polls.md).
            anonymous=False,
        )
        for locale, (text, answers) in POLL_VERSIONS.items():
            if locale != "en":
                draft.add_version(locale, text, list(answers))
        poll = await save_poll(session, draft, coordinator, now)
        await launch_poll(session, app, poll, coordinator)
        start = (now + timedelta(days=7)).replace(hour=14, minute=0, second=0, microsecond=0)
        meeting = build_meeting(
            {
                "group": group.id,
                "locale": "en",
                "zone": "UTC",
                "texts": {
                    "en": {"title": "Workshop planning call", "agenda": "Choose the topic"},
                    "es": {"title": "Llamada para planificar el taller", "agenda": "Elegir"},
                },
                "start": start.isoformat(),
                "duration": 60,
                "link": "https://meet.example.org/workshop",
                "reminders": [24 * 60, 60],
            },
            coordinator,
            now,
        )
        session.add(meeting)
        await session.flush()
        await announce(session, meeting, coordinator, now)
