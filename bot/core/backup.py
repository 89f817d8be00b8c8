"""`python -m bot backup | restore`: a consistent copy of the store while the bot runs.

SQLite: the online backup API copies the database page by page under a read transaction, so
the copy is consistent even while the bot writes (WAL mode lets writers go on meanwhile).
PostgreSQL: `pg_dump` is the right tool; we print the line rather than wrap it.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

PAGES_PER_STEP = 1024  # pages copied per step; other connections may write between steps


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, for the operator."""


@dataclass(frozen=True)
class Copied:
    """What a backup or restore did: where to, how big, which schema revision."""

    path: Path
    size: int
    revision: str | None


def sqlite_path(db_url: str) -> Path | None:
    """The file behind a SQLite URL; None for another database (or an in-memory one)."""
    url = make_url(db_url)
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def pg_dump_line(path: str) -> str:
    """The command an operator runs to back up a PostgreSQL store (custom format)."""
    return f'pg_dump --format=custom --no-owner --file "{path}" "$DATABASE_URL"'


def pg_restore_line(path: str) -> str:
    """The command that restores such a dump into an empty database."""
    return f'pg_restore --no-owner --clean --if-exists --dbname "$DATABASE_URL" "{path}"'


def backup(db_url: str, target: Path, *, force: bool = False) -> Copied:
    """Copy the live SQLite database to `target` (written to a temporary name, then renamed)."""
    source = sqlite_path(db_url)
    if source is None:
        raise BackupError(
            "not a SQLite database; for PostgreSQL run: " + pg_dump_line(str(target))
        )
    if not source.exists():
        raise BackupError(f"no database at {source}")
    if target.exists() and not force:
        raise BackupError(f"{target} exists; pass --force to overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    _copy(source, partial)
    os.replace(partial, target)
    return Copied(target, target.stat().st_size, _revision(target))


def restore(db_url: str, source: Path, *, force: bool = False) -> Copied:
    """Replace the SQLite database's contents with a backup's (the bot must be stopped)."""
    target = sqlite_path(db_url)
    if target is None:
        raise BackupError(
            "not a SQLite database; for PostgreSQL run: " + pg_restore_line(str(source))
        )
    if not source.exists():
        raise BackupError(f"no backup at {source}")
    revision = _check_backup(source)
    if target.exists() and not force:
        raise BackupError(
            f"{target} exists; stop the bot and pass --force to replace its contents"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    # Copying into the live file (not replacing it) keeps its WAL and -shm files consistent.
    _copy(source, target)
    return Copied(target, target.stat().st_size, revision)


def _copy(source: Path, target: Path) -> None:
    src = sqlite3.connect(_read_only(source), uri=True, timeout=30)
    try:
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dst, pages=PAGES_PER_STEP)
        finally:
            dst.close()
    finally:
        src.close()


def _check_backup(path: Path) -> str:
    """A restorable backup is a sound SQLite file holding our schema; returns its revision."""
    try:
        conn = sqlite3.connect(_read_only(path), uri=True)
        try:
            ok = conn.execute("PRAGMA quick_check").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a SQLite database ({exc})") from None
    if not ok or ok[0] != "ok":
        raise BackupError(f"{path} is damaged: {ok[0] if ok else 'no answer'}")
    revision = _revision(path)
    if revision is None:
        raise BackupError(f"{path} holds no bot database (no schema revision)")
    return revision


def _revision(path: Path) -> str | None:
    try:
        conn = sqlite3.connect(_read_only(path), uri=True)
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return None
    return str(row[0]) if row else None


def _read_only(path: Path) -> str:
    """A URI opening the file read-only (whatever characters its name holds)."""
    return path.resolve().as_uri() + "?mode=ro"
