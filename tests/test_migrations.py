"""Migrations go up, down and up again through every revision, and match the models."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from bot.core.db import alembic_config, create_engine, downgrade, migrate
from models import Base


async def tables(url: str) -> set[str]:
    engine = create_engine(url)
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    await engine.dispose()
    return names - {"alembic_version"}


async def test_upgrade_downgrade_every_revision(backend: dict[str, Any]) -> None:
    url = backend["db_url"]
    script = ScriptDirectory.from_config(alembic_config(url))
    revisions = [rev.revision for rev in reversed(list(script.walk_revisions()))]
    assert revisions, "no migrations found"
    for revision in revisions:
        await migrate(url, revision)
    assert await tables(url) == set(Base.metadata.tables)
    for revision in reversed(revisions[:-1]):
        await downgrade(url, revision)
    await downgrade(url, "base")
    assert await tables(url) == set()
    await migrate(url)
    assert await tables(url) == set(Base.metadata.tables)


async def test_models_match_migrations(backend: dict[str, Any]) -> None:
    url = backend["db_url"]
    await migrate(url)
    engine = create_engine(url)
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
            )
        )
    await engine.dispose()
    assert diff == [], f"models differ from migrations: {diff}"
