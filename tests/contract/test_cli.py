"""The command line as an operator uses it on a fresh SQLite file: migrate, apply program files (validated, versioned),
create API keys that work with the HTTP API, and run the scheduled jobs as of a moment."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from typer.testing import CliRunner, Result

from punchcard.api import app as app_module
from punchcard.api.app import create_app
from punchcard.cli import main as cli_main
from punchcard.cli.main import app
from punchcard.kit.db import get_engine
from punchcard.kit.settings import Settings
from tests.clock import NOW

ROOT = Path(__file__).resolve().parent.parent.parent
DEMO = yaml.safe_load((ROOT / "examples" / "demo" / "program.yaml").read_text())

Cli = Callable[..., Result]


@pytest.fixture
def cli_database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


@pytest.fixture(autouse=True)
def own_engines(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The same engines as always, but not in the process-wide engine cache, and closed after the test.

    Every test here has its own database file; kept in the small shared cache they would push out (and leave open)
    the engines the rest of the suite uses.
    """
    created: list[Engine] = []

    def uncached(url: str, pool_size: int = 10) -> Engine:
        engine = get_engine.__wrapped__(url, pool_size)
        created.append(engine)
        return engine

    for module in (cli_main, app_module):
        monkeypatch.setattr(module, "get_engine", uncached)
    yield
    for engine in created:
        engine.dispose()


@pytest.fixture
def cli(cli_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """Runs ``punchcard --database-url <fresh SQLite file> ARGS``."""
    # The CLI exports the URL to the environment for the API; put it back afterwards.
    monkeypatch.delenv("PUNCHCARD_DATABASE_URL", raising=False)
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, ["--database-url", cli_database_url, *args])

    return run


def program_file(tmp_path: Path, name: str = "program.yaml", **changes: Any) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump({**DEMO, **changes}))
    return path


def last_line(result: Result) -> str:
    return result.stdout.strip().splitlines()[-1]


def create_key(cli: Cli, slug: str, scope: str) -> str:
    result = cli("apikey", "create", "--program", slug, "--scope", scope)
    assert result.exit_code == 0, result.output
    return last_line(result)


@pytest.fixture
def http(cli_database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(fixed_now=NOW, database_url=cli_database_url))) as client:
        yield client


def test_migrate_creates_the_schema_and_running_it_again_is_harmless(cli: Cli) -> None:
    first, second = cli("migrate"), cli("migrate")
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert last_line(second) == "database is up to date"


def test_program_apply_prints_the_slug_on_the_last_line(cli: Cli, tmp_path: Path) -> None:
    assert cli("migrate").exit_code == 0
    result = cli("program", "apply", str(program_file(tmp_path)))
    assert result.exit_code == 0, result.output
    assert last_line(result) == "bean-there"
    assert "version 1" in result.stdout


def test_applying_a_file_again_makes_a_new_version(cli: Cli, tmp_path: Path, http: TestClient) -> None:
    # Given the demo program applied once
    assert cli("program", "apply", str(program_file(tmp_path))).exit_code == 0
    # When a changed file is applied (the free drink now costs 120 points)
    rewards = [{**reward, "cost": 120} if reward["code"] == "free-drink" else reward for reward in DEMO["rewards"]]
    result = cli("program", "apply", str(program_file(tmp_path, rewards=rewards)))
    # Then it is version 2 of the same program, and the API serves version 2
    assert result.exit_code == 0, result.output
    assert "version 2" in result.stdout
    assert last_line(result) == "bean-there"
    headers = {"Authorization": f"Bearer {create_key(cli, 'bean-there', 'admin')}"}
    assert http.get("/api/v1/program", headers=headers).json()["version"] == 2
    costs = {item["code"]: item["points_cost"] for item in http.get("/api/v1/rewards", headers=headers).json()["items"]}
    assert costs == {"five-euro-off": 500, "free-drink": 120, "free-shipping": 200, "seasonal-beans": 300}


def test_a_toml_program_file_is_applied_too(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "program.toml"
    path.write_text(
        'slug = "tea-house"\nname = "Tea House"\ncurrency = "EUR"\ntimezone = "Europe/Helsinki"\n'
        'languages = ["fi", "sv"]\n'
    )
    result = cli("program", "apply", str(path))
    assert result.exit_code == 0, result.output
    assert last_line(result) == "tea-house"


def test_an_invalid_program_file_fails_naming_the_field_and_applies_nothing(cli: Cli, tmp_path: Path) -> None:
    # Given a new program file whose currency is not an ISO 4217 code
    path = program_file(tmp_path, slug="broken", currency="euro")
    # When it is applied
    result = cli("program", "apply", str(path))
    # Then the command fails with exit code 1, saying which field is wrong
    assert result.exit_code == 1, result.output
    assert "program_file_invalid" in result.stderr
    assert "currency" in result.stderr
    # And no program was created
    missing = cli("apikey", "create", "--program", "broken", "--scope", "admin")
    assert missing.exit_code == 1
    assert "program_not_found" in missing.stderr


def test_an_invalid_new_version_leaves_the_program_as_it_was(cli: Cli, tmp_path: Path, http: TestClient) -> None:
    # Given the demo program at version 1
    assert cli("program", "apply", str(program_file(tmp_path))).exit_code == 0
    # When a version with tiers out of order is applied
    levels = [dict(level) for level in DEMO["tiers"]["levels"]]
    levels[1]["threshold"], levels[2]["threshold"] = 1500, 500
    result = cli("program", "apply", str(program_file(tmp_path, tiers={**DEMO["tiers"], "levels": levels})))
    # Then it fails naming the tiers, and version 1 stays in force
    assert result.exit_code == 1, result.output
    assert "tiers" in result.stderr
    headers = {"Authorization": f"Bearer {create_key(cli, 'bean-there', 'admin')}"}
    assert http.get("/api/v1/program", headers=headers).json()["version"] == 1


def test_a_program_file_that_is_not_there_fails_cleanly(cli: Cli, tmp_path: Path) -> None:
    result = cli("program", "apply", str(tmp_path / "missing.yaml"))
    assert result.exit_code == 1, result.output
    assert "cannot read" in result.stderr


def test_apikey_create_prints_the_key_alone_on_the_last_line_and_it_works(
    cli: Cli, tmp_path: Path, http: TestClient
) -> None:
    # Given the demo program
    assert cli("program", "apply", str(program_file(tmp_path))).exit_code == 0
    # When an admin key and an integration key are created
    admin, integration = create_key(cli, "bean-there", "admin"), create_key(cli, "bean-there", "integration")
    # Then each is a single token on its own line
    assert re.fullmatch(r"pc_adm_\S{20,}", admin), admin
    assert re.fullmatch(r"pc_int_\S{20,}", integration), integration
    # And the HTTP API accepts them, each with its scope
    as_admin, as_shop = {"Authorization": f"Bearer {admin}"}, {"Authorization": f"Bearer {integration}"}
    created = http.post("/api/v1/members", json={"external_id": "ann"}, headers=as_shop)
    assert created.status_code == 201, created.text
    assert created.json()["points"]["available"] == 50
    adjustment = {"points": 10, "reason": "goodwill"}
    assert http.post("/api/v1/members/ann/adjustments", json=adjustment, headers=as_shop).status_code == 403
    assert http.post("/api/v1/members/ann/adjustments", json=adjustment, headers=as_admin).status_code == 201


def test_apikey_create_for_an_unknown_program_fails(cli: Cli) -> None:
    assert cli("migrate").exit_code == 0
    result = cli("apikey", "create", "--program", "nope", "--scope", "admin")
    assert result.exit_code == 1
    assert "program_not_found" in result.stderr


def test_apikey_revoke_stops_a_key_at_once_and_leaves_the_others_working(
    cli: Cli, tmp_path: Path, http: TestClient
) -> None:
    # Given two keys of the demo program, one of which the server has just accepted (and so remembers)
    assert cli("program", "apply", str(program_file(tmp_path))).exit_code == 0
    leaked, other = create_key(cli, "bean-there", "admin"), create_key(cli, "bean-there", "admin")
    assert http.get("/api/v1/program", headers={"Authorization": f"Bearer {leaked}"}).status_code == 200
    # When the operator revokes the leaked one
    result = cli("apikey", "revoke", "--program", "bean-there", leaked)
    # Then it says which key it revoked, by its prefix only
    assert result.exit_code == 0, result.output
    assert leaked[:10] in result.stdout
    assert leaked not in result.stdout
    # And the server refuses it on the very next request, while the other key still works
    assert http.get("/api/v1/program", headers={"Authorization": f"Bearer {leaked}"}).status_code == 401
    assert http.get("/api/v1/program", headers={"Authorization": f"Bearer {other}"}).status_code == 200
    # And revoking it again, or a key that never existed, fails cleanly
    for key in (leaked, "pc_adm_not-a-key"):
        again = cli("apikey", "revoke", "--program", "bean-there", key)
        assert again.exit_code == 1
        assert "api_key_not_found" in again.stderr


def test_jobs_run_at_a_moment_does_what_is_due_then_and_only_once(cli: Cli, tmp_path: Path, http: TestClient) -> None:
    # Given a member imported with an enrolment on 1 January 2026, whose 50 welcome points expire at the end of
    # 1 January 2027 in Tallinn (22:00 UTC)
    assert cli("program", "apply", str(program_file(tmp_path))).exit_code == 0
    headers = {"Authorization": f"Bearer {create_key(cli, 'bean-there', 'admin')}"}
    enrol = {"external_id": "ann", "enrolled_at": "2026-01-01T10:00:00+00:00"}
    assert http.post("/api/v1/members", json=enrol, headers=headers).status_code == 201
    # When the jobs run as of a moment before that, nothing expires
    early = cli("jobs", "run", "--at", "2027-01-01T21:59:59+00:00")
    assert early.exit_code == 0, early.output
    assert early.stdout.startswith("as of 2027-01-01T21:59:59+00:00: 0 lots vested, 0 lots expired")
    # When they run as of 2 January 2027, the lot expires, dated at its own expiry
    due = cli("jobs", "run", "--at", "2027-01-02T00:00:00+00:00")
    assert due.exit_code == 0, due.output
    assert due.stdout.startswith("as of 2027-01-02T00:00:00+00:00: 0 lots vested, 1 lots expired")
    member = http.get("/api/v1/members/ann", headers=headers).json()
    assert member["points"]["available"] == 0
    newest = http.get("/api/v1/members/ann/ledger", headers=headers).json()["items"][0]
    assert (newest["kind"], newest["points"], newest["occurred_at"]) == ("expire", -50, "2027-01-01T22:00:00+00:00")
    # And running again (a naive --at means UTC) finds nothing more to do
    again = cli("jobs", "run", "--at", "2027-01-02T00:00:00")
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith("as of 2027-01-02T00:00:00+00:00: 0 lots vested, 0 lots expired")
    assert http.get("/api/v1/members/ann", headers=headers).json()["points"]["available"] == 0


def test_jobs_run_refuses_a_moment_it_cannot_read(cli: Cli) -> None:
    assert cli("migrate").exit_code == 0
    result = cli("jobs", "run", "--at", "next tuesday")
    assert result.exit_code == 2
    assert "not an ISO timestamp" in result.output


def test_ledger_verify_says_the_ledger_balances_and_exits_1_when_a_lot_or_an_account_disagrees_with_its_entries(
    cli: Cli, tmp_path: Path, http: TestClient, cli_database_url: str
) -> None:
    # Given a member with a welcome bonus and an order
    assert cli("program", "apply", str(program_file(tmp_path))).exit_code == 0
    headers = {"Authorization": f"Bearer {create_key(cli, 'bean-there', 'admin')}"}
    assert http.post("/api/v1/members", json={"external_id": "ann"}, headers=headers).status_code == 201
    # When the ledger is verified, it balances: one transfer (the bonus) and one lot
    result = cli("ledger", "verify", "--program", "bean-there")
    assert result.exit_code == 0, result.output
    assert last_line(result) == (
        "1 transfers, 1 lots: every transfer balances, every lot and every account equals its entries"
    )
    # When a lot and a stored balance are changed behind the ledger's back, verify names both and fails
    engine = create_engine(cli_database_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE lots SET remaining = remaining - 1"))
        connection.execute(text("UPDATE ledger_accounts SET balance = balance + 7 WHERE account = 'points'"))
    engine.dispose()
    broken = cli("ledger", "verify")
    assert broken.exit_code == 1
    assert "lot_equals_entries: lot 1 of member 1 holds 49 (available), its entries say 50 (0 pending)" in broken.output
    assert "account_equals_entries: points of member 1 stores 57 (debt line 0), its entries say 50" in broken.output
    assert last_line(broken) == "1 transfers, 1 lots: NOT BALANCED"
    # And an unknown program is an error of its own
    unknown = cli("ledger", "verify", "--program", "nope")
    assert unknown.exit_code == 1
    assert "program_not_found" in unknown.output
