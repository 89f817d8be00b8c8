"""Settings from the environment and `.env`, validated once at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LOCALES_DIR = Path(__file__).resolve().parents[2] / "locales"
SOURCE_LOCALE = "en"  # the language the code's strings are written in
DEFAULT_DATA_DIR = Path("data")


def shipped_locales(path: Path = LOCALES_DIR) -> tuple[str, ...]:
    """The source language and every language with a catalogue, so adding a language is
    adding its `.po` file: left-to-right languages first, then right-to-left, each by code."""
    from babel import Locale, UnknownLocaleError

    rtl: dict[str, bool] = {}
    for po_path in path.glob("*/LC_MESSAGES/messages.po"):
        code = po_path.parent.parent.name
        try:
            rtl[code] = Locale.parse(code).character_order == "right-to-left"
        except (UnknownLocaleError, ValueError):
            continue  # not a language Babel knows: nothing could be formatted in it
    rtl.pop(SOURCE_LOCALE, None)
    return (SOURCE_LOCALE, *sorted(rtl, key=lambda code: (rtl[code], code)))


SUPPORTED_LOCALES = shipped_locales()


class Settings(BaseSettings):
    """Everything an operator can set; see the README's configuration table."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr
    telegram_api_url: str = "https://api.telegram.org"
    database_url: str = Field(default="")
    redis_url: str | None = None
    # Connection pools: updates beyond them wait for a connection (up to the timeout) rather
    # than fail, so a burst is queued, not refused.
    db_pool_size: int = Field(10, ge=1, le=1000)  # PostgreSQL connections (x2 in a burst)
    db_pool_timeout: float = Field(60.0, gt=0)  # seconds an update may wait for an SQL connection
    redis_max_connections: int = Field(50, ge=1)
    redis_pool_timeout: float = Field(30.0, gt=0)  # seconds a command may wait for a connection
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    default_locale: str = "en"
    open_registration: bool = False
    data_dir: Path = DEFAULT_DATA_DIR
    # Delivery engine limits (Telegram's published figures).
    send_rate_global: float = Field(30.0, ge=0, le=1000)  # 0: no global limit (benchmarks)
    send_rate_per_chat: float = Field(1.0, gt=0, le=100)
    send_rate_per_group_minute: int = Field(20, ge=1, le=1000)
    reply_burst: int = Field(1, ge=1, le=20)  # replies to one chat at once, then the rate
    delivery_workers: int = Field(32, ge=1, le=1000)  # sends in flight at once (hides latency)
    delivery_lease_seconds: float = Field(30.0, gt=0)  # a claim not renewed this long is dead
    delivery_max_attempts: int = Field(5, ge=1, le=100)  # for 5xx and timeouts, then `failed`
    delivery_retry_seconds: float = Field(5.0, gt=0)  # first backoff after a 5xx; doubles
    delivery_progress_seconds: float = Field(5.0, ge=0)  # least time between progress edits
    delivery_poll_seconds: float = Field(1.0, gt=0)  # how often an idle engine looks for work
    scheduler_poll_seconds: float = Field(1.0, gt=0)  # how often the scheduler looks for jobs
    delivery_retention_days: int = Field(60, ge=1)  # finished broadcasts are erased after this
    # Hold normal messages during each member's quiet hours (off: send at any hour).
    quiet_hours: bool = True
    audit_retention_days: int = Field(730, ge=1)  # audit trail entries are erased after this
    run_delivery: bool = True
    run_scheduler: bool = True
    # Key of the one-way tokens that outlive /forget (who voted, who was removed) and of the
    # seal on secret ballots and comments waiting in the pool; when unset it is made once and
    # kept in DATA_DIR/privacy.key (next to the SQLite file: better set it from a secret store
    # kept out of the database's backups). Set it when several hosts run the bot.
    privacy_key: SecretStr | None = None
    # Incoming floods: updates one person may send in a burst, then per second, before the
    # bot asks them to slow down and drops the rest.
    flood_burst: int = Field(10, ge=1, le=10_000)
    flood_rate: float = Field(3.0, gt=0, le=1000)
    # Telegram shows a tapped button as busy until the bot answers and refuses an answer
    # after about 15 s: one still missing after this long is given empty (bot.core.floods).
    callback_answer_seconds: float = Field(5.0, gt=0, le=14)
    # Start-up: how long to keep trying an unreachable Telegram before giving up.
    startup_retry_seconds: float = Field(60.0, ge=0, le=3600)
    # Webhook mode (optional; long polling when unset).
    webhook_url: str | None = None
    webhook_path: str = "/telegram"
    webhook_secret: SecretStr | None = Field(default=None, validate_default=True)
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(8080, ge=1, le=65535)
    # Webhook inbox (bot.core.inbox): how often a process renews its claim on the updates it
    # handles and looks for updates left by a stopped one, and how old a claim must be before
    # another process takes the update over.
    inbox_sweep_seconds: float = Field(30.0, gt=0, le=3600)
    inbox_stale_seconds: float = Field(60.0, gt=0, le=86400)
    # Logs: "text" for people, "json" for log collectors (one object per line).
    log_format: str = "text"
    log_level: str = "INFO"
    # /healthz and /metrics in polling and worker mode (the webhook server always has them).
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = None

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        """A token is `<digits>:<secret>`; catching a paste error here saves a confusing 401."""
        head, _, tail = value.get_secret_value().partition(":")
        if not head.isdigit() or not tail:
            raise ValueError("must look like 123456:ABC-DEF (from @BotFather)")
        return value

    @field_validator("inbox_stale_seconds")
    @classmethod
    def _inbox_stale(cls, value: float, info: ValidationInfo) -> float:
        """A live process renews its claims every sweep: a claim must outlast two of them."""
        sweep = info.data.get("inbox_sweep_seconds")
        if sweep is not None and value < 2 * sweep:
            raise ValueError("must be at least twice INBOX_SWEEP_SECONDS")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        """Without a secret anyone who finds the URL could post updates as Telegram; and
        Telegram accepts only 1-256 of A-Z, a-z, 0-9, _ and -."""
        if value is None:
            if info.data.get("webhook_url"):
                raise ValueError("is required when WEBHOOK_URL is set")
            return None
        secret = value.get_secret_value()
        if not 1 <= len(secret) <= 256 or not all(
            ch.isascii() and (ch.isalnum() or ch in "_-") for ch in secret
        ):
            raise ValueError("must be 1 to 256 characters among A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        """Accept `1,2,3` or a JSON list, as people write both in `.env` files."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                return json.loads(text)
            return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("default_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        """The fallback language must be one we ship, or members would see raw msgids."""
        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        """Two formats; a typo would otherwise silently give the other one."""
        if value not in ("text", "json"):
            raise ValueError("must be text or json")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        """A level Python's logging knows."""
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return value.upper()

    @field_validator("telegram_api_url")
    @classmethod
    def _url(cls, value: str) -> str:
        """Only an http(s) base URL can reach a Bot API server."""
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("webhook_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        """Telegram delivers webhooks only over HTTPS; an empty value means long polling."""
        if not value:
            return None
        if not value.startswith("https://") or len(value) <= len("https://"):
            raise ValueError("must be an https:// URL (Telegram sends webhooks only over HTTPS)")
        return value.rstrip("/")

    @field_validator("webhook_path")
    @classmethod
    def _path(cls, value: str) -> str:
        """A path on the bot's own web server."""
        if not value.startswith("/"):
            raise ValueError("must start with /")
        return value

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        """A PostgreSQL or SQLite URL: anything else fails only later, with a traceback."""
        if not value:
            return value
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            backend = make_url(normalise_db_url(value)).get_backend_name()
        except ArgumentError:
            raise ValueError("is not a database URL (postgresql://... or sqlite:///...)") from None
        if backend not in ("postgresql", "sqlite"):
            raise ValueError(f"{backend} is not supported: use PostgreSQL or SQLite")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, value: str | None) -> str | None:
        """redis:// or rediss://; empty means the SQL store keeps conversation state."""
        if not value:
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis:// or rediss://")
        return value

    @property
    def db_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data folder."""
        if self.database_url:
            return normalise_db_url(self.database_url)
        return f"sqlite+aiosqlite:///{(self.data_dir / 'bot.sqlite3').as_posix()}"


def normalise_db_url(url: str) -> str:
    """Map the URLs operators paste (postgres://, sqlite://) to their async drivers."""
    for prefix, driver in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(prefix):
            return driver + url[len(prefix) :]
    return url


def load_settings(**overrides: object) -> Settings:
    """Build settings, or exit with status 2 and one line naming the bad setting."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        import sys

        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "configuration"
        if first["type"] == "missing":
            print(f"error: setting {name} is required but missing", file=sys.stderr)
        else:
            print(f"error: setting {name} is invalid: {first['msg']}", file=sys.stderr)
        raise SystemExit(2) from None
