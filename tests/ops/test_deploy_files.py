"""The deploy files, read as far as a machine without Docker can: compose.yaml's services, health checks and settings,
the Dockerfile's stages and health check, and every Punchcard command they (and docs/deploy.md's systemd units) run,
parsed by the CLI itself. Nothing here builds or starts a container (docs/deploy.md says what was verified)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from punchcard.cli.main import app as cli
from punchcard.kit.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
DEPLOY = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
SETTINGS = {f"PUNCHCARD_{name.upper()}" for name in Settings.model_fields}
PUNCHCARD_SERVICES = ("migrate", "api", "worker")


def parses(arguments: list[str]) -> None:
    """``punchcard <arguments>`` is a command the CLI knows, with options it knows: walked down the command groups by
    name, then parsed by the command itself (which raises on an unknown option or a bad value), never run."""
    command = typer.main.get_command(cli)
    context = command.context_class(command, info_name="punchcard")
    words, name = list(arguments), "punchcard"
    while hasattr(command, "get_command"):  # a group: `punchcard`, `punchcard jobs`, ...
        name = words.pop(0)
        found = command.get_command(context, name)
        assert found is not None, f"punchcard has no command {name!r}: {arguments}"
        command = found
        if hasattr(command, "get_command"):
            context = command.context_class(command, info_name=name, parent=context)
    command.make_context(name, words, parent=context).close()


def environment_of(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment", {})
    if isinstance(environment, list):
        return dict(item.split("=", 1) for item in environment)
    return {str(key): str(value) for key, value in environment.items()}


def test_compose_runs_the_api_its_worker_postgresql_and_a_mail_relay() -> None:
    services = COMPOSE["services"]
    assert set(services) == {"postgres", "migrate", "api", "worker", "mailpit"}
    assert services["postgres"]["image"].startswith("postgres:16")
    assert "postgres-data:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "postgres-data" in COMPOSE["volumes"]
    assert services["mailpit"]["image"].startswith("axllent/mailpit")
    for name in PUNCHCARD_SERVICES:
        assert services[name]["build"] == "."
        assert services[name]["image"] == services["api"]["image"]
    assert services["api"]["command"][0] == "serve"
    assert services["worker"]["command"][0] == "worker"
    assert services["migrate"]["command"] == ["migrate"]
    # Nothing starts before the schema is there, and the schema waits for a healthy database
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("api", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_compose_health_checks_ask_the_right_things() -> None:
    services = COMPOSE["services"]
    api_check = " ".join(services["api"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/healthz" in api_check
    assert services["api"]["command"][services["api"]["command"].index("--port") + 1] == "8000"
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    # The image's own check asks port 8000, which only the API serves
    assert services["worker"]["healthcheck"] == {"disable": True}
    assert services["migrate"]["healthcheck"] == {"disable": True}


def test_every_punchcard_variable_in_compose_is_a_setting() -> None:
    named = {key for service in COMPOSE["services"].values() for key in environment_of(service)}
    punchcard = {key for key in named if key.startswith("PUNCHCARD_")}
    assert punchcard, named
    assert punchcard <= SETTINGS, punchcard - SETTINGS
    # the settings a real installation must not leave at their defaults are given
    assert {
        "PUNCHCARD_DATABASE_URL",
        "PUNCHCARD_SECRET_KEY",
        "PUNCHCARD_PUBLIC_URL",
        "PUNCHCARD_SMTP_HOST",
    } <= punchcard
    api = environment_of(COMPOSE["services"]["api"])
    assert api["PROMETHEUS_MULTIPROC_DIR"].startswith("/tmp/")  # the image's user can write there
    assert api["PUNCHCARD_DATABASE_URL"].startswith("postgresql://punchcard:")
    assert api["PUNCHCARD_DATABASE_URL"].endswith("@postgres:5432/punchcard")


@pytest.mark.parametrize("service", PUNCHCARD_SERVICES)
def test_compose_runs_commands_the_cli_knows(service: str) -> None:
    parses(COMPOSE["services"][service]["command"])


def test_the_dockerfile_builds_from_the_lock_in_stages_and_runs_as_its_own_user() -> None:
    assert len(re.findall(r"^FROM ", DOCKERFILE, re.MULTILINE)) == 3  # uv, the build, the image
    assert "uv sync --locked --no-dev --no-install-project" in DOCKERFILE
    assert "uv sync --locked --no-dev --no-editable" in DOCKERFILE
    assert "COPY pyproject.toml uv.lock ./" in DOCKERFILE
    [user] = re.findall(r"^USER (\S+)", DOCKERFILE, re.MULTILINE)
    assert user.split(":")[0] not in {"root", "0"}
    [healthcheck] = re.findall(r"^\s+CMD (\[.*\])$", DOCKERFILE, re.MULTILINE)
    assert "http://127.0.0.1:8000/healthz" in " ".join(json.loads(healthcheck))
    [entrypoint] = re.findall(r"^ENTRYPOINT (\[.*\])$", DOCKERFILE, re.MULTILINE)
    assert json.loads(entrypoint) == ["punchcard"]
    [command] = re.findall(r"^CMD (\[.*\])$", DOCKERFILE, re.MULTILINE)
    arguments = json.loads(command)
    assert arguments[:3] == ["serve", "--host", "0.0.0.0"]
    assert arguments[arguments.index("--port") + 1] == "8000"
    parses(arguments)
    dockerignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert {"!pyproject.toml", "!uv.lock", "!README.md", "!src/"} <= set(dockerignore)


def test_the_systemd_units_in_docs_deploy_run_commands_the_cli_knows() -> None:
    commands = re.findall(r"^ExecStart(?:Pre)?=/opt/punchcard/bin/punchcard (.+)$", DEPLOY, re.MULTILINE)
    assert len(commands) >= 4, commands  # the migration, the API, the worker, the jobs
    for command in commands:
        parses(shlex.split(command))


def test_docs_deploy_names_every_setting() -> None:
    missing = sorted(name for name in SETTINGS if f"`{name}`" not in DEPLOY)
    assert not missing, f"docs/deploy.md does not describe {missing}"
