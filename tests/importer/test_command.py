"""``punchcard import orders FILE --program SLUG`` as an operator runs it: it reports what it imported, runs again
harmlessly, and exits 1 listing the bad rows when the file has any."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from punchcard.cli import main as cli_main
from punchcard.cli.main import app
from punchcard.importer import cli as importer_cli
from punchcard.kit.db import get_engine
from tests.importer.history import history, write_jsonl


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh SQLite file with the demo program applied, on an engine kept out of the shared engine cache."""
    url = f"sqlite:///{tmp_path / 'import.db'}"
    created: list[Engine] = []

    def uncached(url: str, pool_size: int = 10) -> Engine:
        engine = get_engine.__wrapped__(url, pool_size)
        created.append(engine)
        return engine

    for module in (cli_main, importer_cli):
        monkeypatch.setattr(module, "get_engine", uncached)
    monkeypatch.delenv("PUNCHCARD_DATABASE_URL", raising=False)
    demo = Path(__file__).resolve().parents[2] / "examples" / "demo" / "program.yaml"
    assert CliRunner().invoke(app, ["--database-url", url, "program", "apply", str(demo)]).exit_code == 0
    yield url
    monkeypatch.delenv("PUNCHCARD_DATABASE_URL", raising=False)
    for engine in created:
        engine.dispose()


def test_the_command_imports_then_skips_what_it_already_imported(database: str, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "orders.jsonl", history(members=3, orders=10))
    command = ["--database-url", database, "import", "orders", str(path), "--program", "bean-there"]
    first = CliRunner().invoke(app, command)
    second = CliRunner().invoke(app, [*command, "--format", "jsonl"])
    assert first.exit_code == 0, first.output
    assert "imported 10 of 10 orders (0 already recorded), 3 new members" in first.stdout
    assert second.exit_code == 0, second.output
    assert "imported 0 of 10 orders (10 already recorded), 0 new members" in second.stdout


def test_a_bad_file_exits_1_and_lists_the_lines(database: str, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,member_external_id,occurred_at,currency,sku,category,quantity,unit_price\n"
        "A1,alice,2025-01-05T10:00:00Z,EUR,MUG,merch,-1,8.00\n"
    )
    result = CliRunner().invoke(
        app, ["--database-url", database, "import", "orders", str(path), "--program", "bean-there"]
    )
    assert result.exit_code == 1
    assert "error [import_file_invalid]: 1 problem(s) in orders.csv, nothing was imported" in result.stderr
    assert "line: 2, field: lines.0.quantity" in result.stderr


def test_an_unknown_program_is_an_error(database: str, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "orders.jsonl", history(members=1, orders=1))
    result = CliRunner().invoke(app, ["--database-url", database, "import", "orders", str(path), "--program", "nope"])
    assert result.exit_code == 1
    assert "program_not_found" in result.stderr
