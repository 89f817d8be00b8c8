"""Working groups from a YAML file at set-up: names and descriptions in every language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.config import SOURCE_LOCALE, SUPPORTED_LOCALES
from models.group import CODE_PATTERN, WorkingGroup, get_group_by_code

Text = Annotated[str, StringConstraints(strip_whitespace=True)]


class SeedError(Exception):
    """The file can't be used; the message says where and why."""


class SeedText(BaseModel):
    """A group's name and description in one language."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[Text, StringConstraints(min_length=1, max_length=120)]
    description: Annotated[Text, StringConstraints(max_length=600)] = ""


class SeedGroup(BaseModel):
    """One working group; unset flags leave an existing group's flags alone."""

    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, StringConstraints(pattern=CODE_PATTERN)]
    moderated: bool | None = None
    archived: bool | None = None
    translations: dict[str, SeedText] = Field(min_length=1)

    @field_validator("translations")
    @classmethod
    def _known_languages(cls, value: dict[str, SeedText]) -> dict[str, SeedText]:
        """Only languages the bot ships, or nobody would ever read them."""
        unknown = sorted(set(value) - set(SUPPORTED_LOCALES))
        if unknown:
            raise ValueError(
                f"unknown language(s) {', '.join(unknown)}; use {', '.join(SUPPORTED_LOCALES)}"
            )
        return value


class SeedFile(BaseModel):
    """The whole file: a list of working groups with unique codes."""

    model_config = ConfigDict(extra="forbid")

    working_groups: list[SeedGroup]

    @field_validator("working_groups")
    @classmethod
    def _unique_codes(cls, value: list[SeedGroup]) -> list[SeedGroup]:
        codes = [group.code for group in value]
        repeated = sorted({code for code in codes if codes.count(code) > 1})
        if repeated:
            raise ValueError(f"code(s) used twice: {', '.join(repeated)}")
        return value


@dataclass
class SeedReport:
    """What loading changed."""

    created: list[str]
    updated: list[str]


def parse_seed(text: str, default_locale: str) -> SeedFile:
    """Validate the YAML text; every group needs its name in the default language or in
    English, which readers of a language the file lacks see (marked as not translated)."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SeedError(f"not valid YAML: {exc}") from None
    try:
        seed = SeedFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "file"
        raise SeedError(f"{where}: {first['msg']}") from None
    for group in seed.working_groups:
        if default_locale not in group.translations and SOURCE_LOCALE not in group.translations:
            raise SeedError(
                f"working group {group.code}: no name in the default language ({default_locale})"
                f" nor in English ({SOURCE_LOCALE})"
            )
    return seed


def read_seed(path: Path, default_locale: str) -> SeedFile:
    """Read and validate a seed file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SeedError(f"cannot read {path}: {exc.strerror}") from None
    return parse_seed(text, default_locale)


async def apply_seed(session: AsyncSession, seed: SeedFile, now: datetime) -> SeedReport:
    """Create missing groups and update existing ones (by code); nothing is deleted."""
    report = SeedReport(created=[], updated=[])
    for item in seed.working_groups:
        group = await get_group_by_code(session, item.code)
        if group is None:
            group = WorkingGroup(
                code=item.code,
                moderated=bool(item.moderated),
                archived=bool(item.archived),
                created_at=now,
            )
            session.add(group)
            report.created.append(item.code)
        else:
            if item.moderated is not None:
                group.moderated = item.moderated
            if item.archived is not None:
                group.archived = item.archived
            report.updated.append(item.code)
        for locale, text in item.translations.items():
            group.set_text(locale, text.name, text.description)
        await session.flush()
    return report
