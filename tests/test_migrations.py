"""Migrations go up, down and up again through every revision, and match the models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
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


async def test_the_sealing_migration_moves_waiting_ballots_and_reopens_them_on_the_way_down(
    backend: dict[str, Any], monkeypatch: Any, tmp_path: Path
) -> None:
    """Upgrade: ballots waiting in the plaintext pool cannot be sealed without the key, so they
    enter the box, none lost. Downgrade: sealed ballots and comments are opened with the key
    (PRIVACY_KEY or DATA_DIR/privacy.key); without it the downgrade stops, changing nothing."""
    from sqlalchemy import text

    from bot.polls.ballot_box import seal_ballot, seal_comment

    url = backend["db_url"]
    await migrate(url, "0010_privacy")
    engine = create_engine(url)
    poll = (
        "INSERT INTO polls (id, locale, question, kind, anonymous, audience, status, closes_at, "
        "results_live, share_results, reason_on_disagree, created_at) VALUES (:id, 'en', 'Q?', "
        "'consent', true, 'network', 'open', '2030-01-01 00:00:00', false, true, false, "
        "'2026-01-01 00:00:00')"
    )
    async with engine.begin() as conn:
        for poll_id in (1, 2):
            await conn.execute(text(poll), {"id": poll_id})
        for n, (poll_id, choices, reason) in enumerate([(1, 1, None), (1, 8, "No"), (2, 4, None)]):
            await conn.execute(
                text(
                    "INSERT INTO poll_pending_ballots (id, poll_id, choices, region, gender, "
                    "reason) VALUES (:id, :poll, :choices, '419', 'woman', :reason)"
                ),
                {"id": f"{n:032d}", "poll": poll_id, "choices": choices, "reason": reason},
            )
    await migrate(url)
    async with engine.begin() as conn:
        boxed = await conn.execute(
            text("SELECT id, poll_id, choices, region, gender, reason FROM poll_ballots")
        )
        rows = boxed.all()
        assert sorted(tuple(row)[1:] for row in rows) == [
            (1, 1, "419", "woman", None),
            (1, 8, "419", "woman", "No"),
            (2, 4, "419", "woman", None),
        ]
        assert not {row[0] for row in rows} & {f"{n:032d}" for n in range(3)}, "new keys"
        assert await conn.scalar(text("SELECT count(*) FROM poll_pending_ballots")) == 0
        # now a ballot and a comment wait sealed
        key = b"the operator's key"
        await conn.execute(
            text("INSERT INTO poll_pending_ballots (id, poll_id, sealed) VALUES ('a', 2, :s)"),
            {"s": seal_ballot(key, 2, choices=2, region="150", gender=None, reason="Why")},
        )
        await conn.execute(
            text("INSERT INTO poll_pending_comments (id, poll_id, sealed) VALUES ('b', 2, :s)"),
            {"s": seal_comment(key, 2, "A comment", None)},
        )
    monkeypatch.delenv("PRIVACY_KEY", raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "no-key-here"))
    for wrong in (None, "another key"):
        if wrong:
            monkeypatch.setenv("PRIVACY_KEY", wrong)
        with pytest.raises(RuntimeError, match="do not open without the privacy key"):
            await downgrade(url, "0010_privacy")
        assert "poll_pending_comments" in await tables(url), "nothing changed"
    # the key the bot made and kept in DATA_DIR/privacy.key, as on a single host
    monkeypatch.delenv("PRIVACY_KEY")
    (tmp_path / "no-key-here").mkdir()
    (tmp_path / "no-key-here" / "privacy.key").write_text(key.decode() + "\n")
    await downgrade(url, "0010_privacy")
    async with engine.begin() as conn:
        pool = await conn.execute(
            text("SELECT poll_id, choices, region, gender, reason FROM poll_pending_ballots")
        )
        assert [tuple(row) for row in pool.all()] == [(2, 2, "150", None, "Why")]
        comments = await conn.execute(text("SELECT poll_id, text FROM poll_anonymous_comments"))
        assert [tuple(row) for row in comments.all()] == [(2, "A comment")]
    await engine.dispose()
    await migrate(url)
