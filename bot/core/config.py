"""Settings from the environment and `.env`, validated once at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
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
    db_pool_size: int = 10  # PostgreSQL connections kept open (as many again in a burst)
    db_pool_timeout: float = 60.0  # seconds an update may wait for an SQL connection
    redis_max_connections: int = 50
    redis_pool_timeout: float = 30.0  # seconds a command may wait for a Redis connection
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    default_locale: str = "en"
    open_registration: bool = False
    data_dir: Path = DEFAULT_DATA_DIR
    # Delivery engine limits (Telegram's published figures).
    send_rate_global: float = 30.0
    send_rate_per_chat: float = 1.0
    send_rate_per_group_minute: int = 20
    delivery_workers: int = 32  # sends in flight at once (hides API latency)
    delivery_lease_seconds: float = 30.0  # a claim not renewed this long is a dead worker's
    delivery_max_attempts: int = 5  # for 5xx and timeouts, then `failed`
    delivery_retry_seconds: float = 5.0  # first backoff after a 5xx or timeout; doubles
    delivery_progress_seconds: float = 5.0  # least time between two progress edits
    delivery_poll_seconds: float = 1.0  # how often an idle engine looks for new deliveries
    scheduler_poll_seconds: float = 1.0  # how often the scheduler looks for due jobs
    delivery_retention_days: int = 60  # finished broadcasts and jobs are erased after this
    # Hold normal messages during each member's quiet hours (off: send at any hour).
    quiet_hours: bool = True
    run_delivery: bool = True
    run_scheduler: bool = True
    # Webhook mode (optional; long polling when unset).
    webhook_url: str | None = None
    webhook_path: str = "/telegram"
    webhook_secret: SecretStr | None = None
    webhook_host: str = "127.0.0.1"
    webhook_port: int = 8080

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        """A token is `<digits>:<secret>`; catching a paste error here saves a confusing 401."""
        head, _, tail = value.get_secret_value().partition(":")
        if not head.isdigit() or not tail:
            raise ValueError("must look like 123456:ABC-DEF (from @BotFather)")
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

    @field_validator("telegram_api_url")
    @classmethod
    def _url(cls, value: str) -> str:
        """Only an http(s) base URL can reach a Bot API server."""
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

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
