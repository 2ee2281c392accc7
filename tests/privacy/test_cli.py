"""``punchcard member export`` writes the member's data to a file; ``punchcard member erase`` erases them and prints
the pseudonym; an unknown member is an error and writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from punchcard.cli.main import app
from tests.factories import ApiClient


def test_an_operator_exports_a_member_to_a_file_then_erases_them(
    api: ApiClient, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUNCHCARD_DATABASE_URL", database_url)  # the command exports it; put back afterwards
    member = api.member(email="by-letter@example.com", name="Letter Writer")
    runner, out = CliRunner(), tmp_path / "member.json"
    base = ["--database-url", database_url, "member"]

    exported = runner.invoke(app, [*base, "export", "--program", api.slug, member, "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert (document["member"], document["data"]["profile"]["members"][0]["email"]) == (member, "by-letter@example.com")

    erased = runner.invoke(app, [*base, "erase", "--program", api.slug, member, "--reason", "asked by letter"])
    assert erased.exit_code == 0, erased.output
    pseudonym = erased.output.strip().splitlines()[-1]
    view = api.get(f"/api/v1/members/{pseudonym}").json()
    assert (view["status"], view["email"]) == ("erased", None)

    unknown = runner.invoke(
        app, [*base, "export", "--program", api.slug, "nobody-at-all", "--out", str(tmp_path / "x")]
    )
    assert unknown.exit_code == 1
    assert "member_not_found" in unknown.output
    assert not (tmp_path / "x").exists()
