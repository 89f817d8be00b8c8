"""Loading working groups from YAML: validation, idempotent updates, the shipped file, the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.config import SUPPORTED_LOCALES
from bot.core.db import create_engine, create_sessionmaker, migrate
from bot.groups.seed import SeedError, apply_seed, parse_seed, read_seed
from models.base import utcnow
from models.group import WorkingGroup

SHIPPED = Path(__file__).resolve().parent.parent / "seed" / "working_groups.yaml"
SIX = {
    "women_escr": "Women and ESCR",
    "corporate_accountability": "Corporate Accountability",
    "strategic_litigation": "Strategic Litigation",
    "economic_policy": "Economic Policy",
    "monitoring_escr": "Monitoring of ESCR",
    "social_movements": "Social Movements",
}


def test_the_shipped_file_has_the_six_groups_in_five_languages() -> None:
    seed = read_seed(SHIPPED, "en")
    assert {g.code: g.translations["en"].name for g in seed.working_groups} == SIX
    for group in seed.working_groups:
        assert {"en", "es", "fr", "pt", "ar"} <= set(group.translations), group.code
        assert set(group.translations) <= set(SUPPORTED_LOCALES), group.code
        for locale, text in group.translations.items():
            assert text.name and text.description, (group.code, locale)
    names = {g.translations["es"].name for g in seed.working_groups}
    assert "Mujeres y DESC" in names and "Litigio estratégico" in names


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("working_groups: [", "not valid YAML"),
        ("groups: []", "working_groups"),
        ("working_groups:\n  - code: Bad Code\n    translations: {en: {name: X}}", "code"),
        ("working_groups:\n  - code: ok\n    translations: {xx: {name: X}}", "unknown language"),
        ("working_groups:\n  - code: ok\n    translations: {es: {name: X}}", "default language"),
        ("working_groups:\n  - code: ok\n    translations: {en: {name: ''}}", "name"),
        (
            "working_groups:\n  - {code: ok, translations: {en: {name: A}}}\n"
            "  - {code: ok, translations: {en: {name: B}}}",
            "used twice",
        ),
        (
            "working_groups:\n  - code: ok\n    colour: red\n    translations: {en: {name: A}}",
            "colour",
        ),
    ],
)
def test_bad_files_are_refused_with_the_reason(text: str, complaint: str) -> None:
    with pytest.raises(SeedError, match=complaint):
        parse_seed(text, "en")


async def test_loading_twice_updates_and_keeps_what_the_file_does_not_say(
    backend: dict[str, Any],
) -> None:
    url = backend["db_url"]
    await migrate(url)
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    try:
        async with sessions() as session, session.begin():
            report = await apply_seed(session, read_seed(SHIPPED, "en"), utcnow())
        assert sorted(report.created) == sorted(SIX) and report.updated == []
        async with sessions() as session, session.begin():
            group = await session.scalar(
                select(WorkingGroup).where(WorkingGroup.code == "women_escr")
            )
            assert group is not None
            group.archived = True  # an admin archived it from the bot
            assert group.text("ar", "en")[0].startswith("المرأة")
            assert not group.text("pt", "en")[2], "translated: no fallback mark"
        second = parse_seed(
            "working_groups:\n"
            "  - code: women_escr\n"
            "    moderated: true\n"
            "    translations:\n"
            "      en: {name: Women and ESCR, description: New text}\n",
            "en",
        )
        async with sessions() as session, session.begin():
            report = await apply_seed(session, second, utcnow())
        assert report.created == [] and report.updated == ["women_escr"]
        async with sessions() as session:
            group = await session.scalar(
                select(WorkingGroup).where(WorkingGroup.code == "women_escr")
            )
            assert group is not None
            assert group.moderated and group.archived, "archived stays: the file is silent"
            assert group.text("en", "en")[1] == "New text"
            assert group.text("es", "en")[0] == "Mujeres y DESC", "other languages are kept"
            count = len(list(await session.scalars(select(WorkingGroup))))
            assert count == 6
    finally:
        await engine.dispose()


def test_fallback_to_the_default_language_is_marked() -> None:
    group = WorkingGroup(code="g")
    group.set_text("en", "Economic Policy", "About")
    group.set_text("es", "Política económica", "Sobre")
    assert group.text("es", "en") == ("Política económica", "Sobre", False)
    assert group.text("fr", "en") == ("Economic Policy", "About", True)
    only_pt = WorkingGroup(code="h")
    only_pt.set_text("pt", "Só em português", "")
    assert only_pt.text("fr", "en") == ("Só em português", "", True)
    assert WorkingGroup(code="empty").text("fr", "en") == ("empty", "", True)


def test_seed_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    from bot.__main__ import main

    monkeypatch.setenv("BOT_TOKEN", "123:abc")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'seed.sqlite3'}")
    assert main(["seed", str(SHIPPED)]) == 0
    assert "6 created, 0 updated" in capsys.readouterr().out
    assert main(["seed", str(SHIPPED)]) == 0
    assert "0 created, 6 updated" in capsys.readouterr().out
    broken = tmp_path / "broken.yaml"
    broken.write_text("working_groups:\n  - code: X\n", encoding="utf-8")
    assert main(["seed", str(broken)]) == 1
    assert "error:" in capsys.readouterr().err


def test_languages_the_file_lacks_fall_back_to_english_marked() -> None:
    seed = parse_seed(
        "working_groups:\n  - code: ok\n    translations: {en: {name: Land, description: D}}",
        "fr",  # the default language is not in the file: English stands in
    )
    group = WorkingGroup(code="ok")
    for locale, text in seed.working_groups[0].translations.items():
        group.set_text(locale, text.name, text.description)
    assert group.text("sw", "fr") == ("Land", "D", True)
    assert group.text("en", "fr") == ("Land", "D", False)
