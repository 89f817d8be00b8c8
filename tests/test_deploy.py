"""The deployment files hold together: compose (checked by `docker compose config` where Docker
Compose exists, else by the structure below), the Dockerfile, the proxy, the systemd units."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core.config import Settings
from tests.harness import ROOT

COMPOSE = ROOT / "docker-compose.yml"
SETTINGS = {name.upper() for name in Settings.model_fields}
DUMMY_ENV = "BOT_TOKEN=123:abc\nBOT_DOMAIN=bot.example.org\nPOSTGRES_PASSWORD=x\n"


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return data


def has_compose() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30)
    return probe.returncode == 0


@pytest.mark.skipif(not has_compose(), reason="Docker Compose is not installed here")
def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(DUMMY_ENV)
    result = subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE), "--env-file", str(tmp_path / ".env"), "config"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr


def test_compose_services_and_roles() -> None:
    services = compose()["services"]
    assert set(services) == {"postgres", "redis", "migrate", "bot", "worker", "proxy"}
    bot, worker, migrate = services["bot"], services["worker"], services["migrate"]
    assert bot["command"] == ["run"] and bot["deploy"]["replicas"] == 2
    assert bot["environment"]["RUN_DELIVERY"] == "false", "delivery runs in the worker only"
    assert bot["environment"]["WEBHOOK_URL"].startswith("https://")
    assert worker["command"] == ["worker"] and "replicas" not in worker.get("deploy", {})
    assert migrate["command"] == ["migrate"] and migrate["restart"] == "no"
    for name in ("bot", "worker"):
        deps = services[name]["depends_on"]
        assert deps["migrate"]["condition"] == "service_completed_successfully"
        env = services[name]["environment"]
        assert (
            env["DATABASE_URL"].startswith("postgresql://")
            and "@postgres:5432/" in env["DATABASE_URL"]
        )
        assert env["REDIS_URL"] == "redis://redis:6379/0"
        unknown = set(env) - SETTINGS
        assert not unknown, f"{name} sets variables the bot does not read: {unknown}"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"]
    assert services["proxy"]["ports"] == ["80:80", "443:443"]
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in services["proxy"]["volumes"]
    volumes = {v.split(":")[0] for s in services.values() for v in s.get("volumes", [])}
    named = {v for v in volumes if not v.startswith(".")}
    assert named <= set(compose()["volumes"]), "every named volume is declared"


def test_proxy_forwards_only_the_webhook_to_both_replicas() -> None:
    caddy = (ROOT / "deploy" / "Caddyfile").read_text(encoding="utf-8")
    port = compose()["services"]["bot"]["environment"]["WEBHOOK_PORT"]
    assert f"dynamic a bot {port}" in caddy and "lb_policy round_robin" in caddy
    assert "handle /telegram {" in caddy, Settings.model_fields["webhook_path"].default
    assert "respond 404" in caddy, "/healthz and /metrics are not published"
    assert caddy.count("{") == caddy.count("}")


def test_dockerfile_is_slim_non_root_with_fonts_and_compiled_locales() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.\d+-slim$", text, re.M)
    assert re.search(r"^USER bot$", text, re.M)
    assert "libfribidi0" in text  # Raqm's bidi: Arabic joined and right to left in charts
    assert (ROOT / "bot" / "polls" / "fonts" / "DejaVuSans.ttf").is_file()  # copied with bot/
    assert "COPY bot bot" in text
    assert "pybabel compile -d locales" in text
    assert "-c constraints.txt" in text
    assert 'CMD ["python", "-m", "bot", "healthcheck"]' in text
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".env", "data", ".venv"} <= set(ignored), "secrets and data stay out of the image"


@pytest.mark.parametrize(
    "unit",
    ["participation-bot.service", "participation-bot-backup.service"],
)
def test_systemd_units(unit: str) -> None:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(ROOT / "deploy" / unit)
    service = parser["Service"]
    assert service["User"] == "participation-bot"
    assert service["ExecStart"].split()[0].startswith(("/opt/participation-bot/.venv", "/bin/sh"))
    assert "-m bot" in service["ExecStart"]
    assert "DATA_DIR=/var/lib/participation-bot" in service["Environment"].split()


def test_constraints_pin_every_dependency() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not an exact pin: {line}"
            pins[name.lower()] = version
    for requirement in wanted:
        name = re.split(r"[\[<>=!~ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        assert name in pins, f"{name} is not pinned in constraints.txt"
