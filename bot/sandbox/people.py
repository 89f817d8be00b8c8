"""Ready-made people for the sandbox, so a visitor can act as anyone in the network at once."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Person:
    """Someone the visitor can chat as; `registered` people are members from the start."""

    user_id: int
    name: str
    locale: str
    country: str
    timezone: str
    role: str = "member"  # admin, coordinator or member (a newcomer has not onboarded)
    registered: bool = True

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


ADMIN_ID = 700_001
COORDINATOR_ID = 700_002
NEWCOMER_ID = 700_006
FIRST_FREE_ID = 700_100  # people the visitor creates get ids from here

READY_MADE: tuple[Person, ...] = (
    Person(ADMIN_ID, "Grace (secretariat)", "en", "KE", "Africa/Nairobi", "admin"),
    Person(COORDINATOR_ID, "Carmen", "es", "AR", "America/Argentina/Buenos_Aires", "coordinator"),
    Person(700_003, "Layla", "ar", "EG", "Africa/Cairo"),
    Person(700_004, "Claire", "fr", "SN", "Africa/Dakar"),
    Person(700_005, "João", "pt", "BR", "America/Sao_Paulo"),
    Person(NEWCOMER_ID, "Diego", "es", "CO", "America/Bogota", registered=False),
)
