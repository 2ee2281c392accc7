"""``punchcard import members``: members from Smile.io, LoyaltyLion, Yotpo and a mapped CSV come over with their
balances (as opening lots that expire by the program's policy), tiers and referral codes, exactly once however often
the import runs or is interrupted, bad rows refused by line and nothing written for them, the ledger balanced."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from punchcard.cli.main import app
from punchcard.importer import members
from punchcard.importer.errors import ImportFileInvalid
from punchcard.importer.exports import Source, mapping_for
from punchcard.kit.db import unit_of_work
from punchcard.ledger.verify import verify
from punchcard.portal.history import movements
from tests.clock import NOW
from tests.factories import ApiClient, ProgramMaker

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
PUNCHCARD = Path(sys.executable).with_name("punchcard")
EXPIRES = datetime(2027, 11, 25, 22, 0, tzinfo=UTC)
"""12 months after NOW (2026-11-25, Tallinn): the first instant of 2026-11-26 there, in UTC."""


def run_import(
    engine: Engine, api: ApiClient, path: Path, source: Source, mapping: Path | None = None, batch_size: int = 2000
) -> members.Summary:
    """``punchcard import members PATH --program <api's program> --from SOURCE``, through the service it calls."""
    plan = members.check(engine, api.slug, path, source, mapping_for(source, mapping), NOW)
    return members.run(engine, api.slug, plan, now=NOW, batch_size=batch_size)


def rows(engine: Engine, query: str, program_id: int) -> list[tuple[Any, ...]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(query), {"program": program_id})]


def imported(engine: Engine, program_id: int) -> dict[str, tuple[Any, ...]]:
    """Each member: e-mail, name, tier, referral code, and their lots (points, left, earned, expiring)."""
    found = rows(
        engine,
        "SELECT m.external_id, m.email, m.name, m.tier_code, r.code FROM members m"
        " LEFT JOIN referral_codes r ON r.member_id = m.id WHERE m.program_id = :program",
        program_id,
    )
    lots = rows(
        engine,
        "SELECT m.external_id, l.amount, l.remaining, l.earned_at, l.expires_at FROM lots l"
        " JOIN members m ON m.id = l.member_id WHERE l.program_id = :program ORDER BY l.id",
        program_id,
    )

    def moment(value: Any) -> datetime:
        found: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        return found if found.tzinfo is not None else found.replace(tzinfo=UTC)

    return {
        external_id: (
            email,
            name,
            tier,
            code,
            [
                (amount, left, moment(earned), moment(expires))
                for who, amount, left, earned, expires in lots
                if who == external_id
            ],
        )
        for external_id, email, name, tier, code in found
    }


def balanced(engine: Engine, program_id: int) -> None:
    with unit_of_work(engine) as session:
        assert verify(session, program_id).problems == []


def test_a_smile_export_opens_balances_sets_tiers_and_keeps_codes(make_program: ProgramMaker, engine: Engine) -> None:
    api = make_program()
    summary = run_import(engine, api, FIXTURES / "smile_customers.csv", Source.SMILE)
    assert (summary.rows, summary.created, summary.updated, summary.skipped) == (3, 3, 0, 0)
    assert (summary.points_opened, summary.tiers_set, summary.codes_kept, summary.refused) == (1330, 2, 2, [])
    assert imported(engine, api.program_id) == {
        "1001": ("mari@example.com", "Mari Maasikas", "gold", "MARI1250", [(1250, 1250, NOW, EXPIRES)]),
        "1002": ("jaan@example.com", "Jaan Tamm", "bronze", "JAANT", []),
        "1003": ("liis@example.com", "Liis Kask", "silver", None, [(80, 80, NOW, EXPIRES)]),
    }
    assert api.points("1001")["available"] == 1250
    assert rows(
        engine,
        "SELECT account, kind, amount, operation FROM ledger_entries WHERE program_id = :program"
        " AND kind = 'import' ORDER BY id",
        api.program_id,
    ) == [
        ("points", "import", 1250, "import:smile:1001"),
        ("program:migration", "import", -1250, "import:smile:1001"),
        ("points", "import", 0, "import:smile:1002"),
        ("points", "import", 80, "import:smile:1003"),
        ("program:migration", "import", -80, "import:smile:1003"),
    ]
    balanced(engine, api.program_id)


def test_loyaltylion_and_yotpo_exports_match_tiers_by_name_and_members_by_id_or_email(
    make_program: ProgramMaker, engine: Engine
) -> None:
    api = make_program()
    lion = run_import(engine, api, FIXTURES / "loyaltylion_customers.csv", Source.LOYALTYLION)
    yotpo = run_import(engine, api, FIXTURES / "yotpo_customers.csv", Source.YOTPO)
    assert (lion.created, lion.points_opened, lion.tiers_set, lion.codes_kept) == (2, 2300, 2, 1)
    assert (yotpo.created, yotpo.points_opened, yotpo.tiers_set, yotpo.codes_kept) == (2, 450, 1, 1)
    assert imported(engine, api.program_id) == {
        "shop-501": ("anu@example.com", "Anu Saar", "silver", "ANU300", [(300, 300, NOW, EXPIRES)]),
        "shop-502": ("peeter@example.com", "Peeter Mets", "gold", None, [(2000, 2000, NOW, EXPIRES)]),
        "kati.karu@example.com": (
            "Kati.Karu@Example.com",
            "Kati Karu",
            "bronze",
            "KATI450",
            [(450, 450, NOW, EXPIRES)],
        ),
        "toomas@example.com": ("toomas@example.com", "Toomas Org", "bronze", None, []),
    }
    balanced(engine, api.program_id)


def test_a_mapped_csv_uses_its_columns_tier_table_prefix_and_dates(make_program: ProgramMaker, engine: Engine) -> None:
    api = make_program()
    mapping = FIXTURES / "legacy_members.mapping.yaml"
    summary = run_import(engine, api, FIXTURES / "legacy_members.csv", Source.CSV, mapping)
    assert (summary.created, summary.points_opened, summary.tiers_set, summary.codes_kept) == (2, 715, 2, 1)
    march = datetime(2026, 2, 28, 22, 0, tzinfo=UTC)  # 2026-03-01 00:00 in Tallinn
    november = datetime(2026, 11, 1, 7, 30, tzinfo=UTC)
    assert imported(engine, api.program_id) == {
        "legacy:c-1": (
            "eva@example.com",
            "Eva Elu",
            "gold",
            "EVA-700",
            [(700, 700, march, datetime(2027, 3, 1, 22, 0, tzinfo=UTC))],
        ),
        "legacy:c-2": (
            "olev@example.com",
            "Olev Oja",
            "bronze",
            None,
            [(15, 15, november, datetime(2027, 11, 1, 22, 0, tzinfo=UTC))],
        ),
    }
    assert rows(
        engine,
        "SELECT m.external_id, t.from_code, t.to_code, t.reason FROM tier_changes t"
        " JOIN members m ON m.id = t.member_id WHERE t.program_id = :program ORDER BY m.external_id",
        api.program_id,
    ) == [("legacy:c-1", None, "gold", "import"), ("legacy:c-2", None, "bronze", "import")]


def test_csv_without_a_mapping_is_refused_before_anything_is_read() -> None:
    with pytest.raises(ImportFileInvalid, match="--from csv needs a mapping file"):
        mapping_for(Source.CSV, None)


def test_running_again_imports_nothing_twice(make_program: ProgramMaker, engine: Engine) -> None:
    api = make_program()
    path = FIXTURES / "smile_customers.csv"
    run_import(engine, api, path, Source.SMILE)
    before = imported(engine, api.program_id)
    again = run_import(engine, api, path, Source.SMILE)
    assert (again.created, again.updated, again.skipped, again.points_opened) == (0, 0, 3, 0)
    assert (again.tiers_set, again.codes_kept) == (0, 0)
    assert imported(engine, api.program_id) == before
    assert rows(engine, "SELECT count(*) FROM ledger_entries WHERE program_id = :program", api.program_id) == [(5,)]
    balanced(engine, api.program_id)


def test_an_existing_member_keeps_their_points_and_gets_the_opening_balance_and_tier(
    make_program: ProgramMaker, engine: Engine, tmp_path: Path
) -> None:
    api = make_program()
    api.member("1003")
    assert api.points("1003")["available"] == 50  # the demo's welcome bonus
    path = tmp_path / "one.csv"
    path.write_text("id,email,points_balance,vip_tier\n1003,liis@example.com,80,Gold\n")
    summary = run_import(engine, api, path, Source.SMILE)
    assert (summary.created, summary.updated, summary.tiers_set) == (0, 1, 1)
    assert api.points("1003")["available"] == 130
    assert rows(
        engine,
        "SELECT t.from_code, t.to_code, t.reason FROM tier_changes t JOIN members m ON m.id = t.member_id"
        " WHERE t.program_id = :program ORDER BY t.id",
        api.program_id,
    ) == [(None, "bronze", "enrolment"), ("bronze", "gold", "import")]
    balanced(engine, api.program_id)


def test_bad_rows_are_refused_with_their_lines_and_leave_nothing_behind(
    make_program: ProgramMaker, engine: Engine, tmp_path: Path
) -> None:
    api = make_program()
    holder = tmp_path / "holder.csv"
    holder.write_text("id,email,points_balance,referral_url\n9000,holder@example.com,5,TAKEN1\n")
    run_import(engine, api, holder, Source.SMILE)
    summary = run_import(engine, api, FIXTURES / "smile_bad_rows.csv", Source.SMILE)
    assert [(problem.line, problem.field) for problem in summary.refused] == [
        (3, "points"),
        (4, "tier"),
        (5, "external_id"),
        (6, "points"),
        (7, "referral_code"),
        (8, "email"),
        (9, ""),
    ]
    assert summary.refused[0].message == "-5: a negative balance is not imported (docs/import.md)"
    assert summary.refused[1].message == "'Platinum' is not one of the program's tiers (bronze, silver, gold)"
    assert summary.refused[2].message == "'2001' already appeared at line 2"
    assert summary.refused[4].message == "'TAKEN1' is another member's code"
    assert (summary.rows, summary.created, summary.points_opened) == (8, 1, 10)
    assert sorted(imported(engine, api.program_id)) == ["2001", "9000"]
    balanced(engine, api.program_id)


def test_the_command_reports_and_writes_the_rejects_file(
    make_program: ProgramMaker, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUNCHCARD_DATABASE_URL", database_url)  # the command sets it; undone after the test
    api = make_program()
    source = tmp_path / "export.csv"
    source.write_text((FIXTURES / "smile_bad_rows.csv").read_text())
    command = [
        "--database-url",
        database_url,
        "import",
        "members",
        str(source),
        "--program",
        api.slug,
        "--from",
        "smile",
    ]
    result = CliRunner().invoke(app, command, env={"PUNCHCARD_FIXED_NOW": NOW.isoformat()})
    assert result.exit_code == 1, result.output
    summary = "8 rows: 2 members created, 0 updated, 0 already imported, 6 refused; 20 points opened, 0 tiers set,"
    assert f"{summary} 1 referral codes kept" in result.stdout
    rejects = (tmp_path / "export.csv.rejects.csv").read_text().splitlines()
    assert rejects[0] == "line,field,reason"
    assert rejects[1] == "3,points,-5: a negative balance is not imported (docs/import.md)"
    assert len(rejects) == 7


def test_an_import_killed_mid_file_finishes_on_the_next_run_with_the_one_run_result(
    make_program: ProgramMaker, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    # Given 1,500 members in batches of 25, and an import killed (SIGKILL) once it has committed some of them
    path = tmp_path / "smile.csv"
    lines = [f"{n},member{n}@example.com,{n % 700},{['', 'Silver', 'Gold'][n % 3]},CODE{n}" for n in range(1500)]
    path.write_text("id,email,points_balance,vip_tier,referral_url\n" + "\n".join(lines) + "\n")
    killed, whole = make_program(), make_program()
    command = [str(PUNCHCARD), "--database-url", database_url, "import", "members", str(path)]
    with (tmp_path / "import.log").open("wb") as log:
        process = subprocess.Popen(
            [*command, "--program", killed.slug, "--from", "smile", "--batch-size", "25"],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "PUNCHCARD_FIXED_NOW": NOW.isoformat()},
        )
    while members_created(engine, killed.program_id) < 100 and process.poll() is None:
        time.sleep(0.02)
    assert process.poll() is None, (tmp_path / "import.log").read_text()
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    done = members_created(engine, killed.program_id)
    assert 100 <= done < 1500
    # When the same import runs again, and another program imports the file in one run
    resumed = run_import(engine, killed, path, Source.SMILE, batch_size=25)
    run_import(engine, whole, path, Source.SMILE, batch_size=25)
    # Then every member and every balance is there exactly once, as one uninterrupted run gives them
    assert (resumed.skipped, resumed.created) == (done, 1500 - done)
    assert imported(engine, killed.program_id) == imported(engine, whole.program_id)
    count = "SELECT count(*), sum(amount) FROM ledger_entries WHERE program_id = :program AND account = 'points'"
    assert rows(engine, count, killed.program_id) == rows(engine, count, whole.program_id)
    balanced(engine, killed.program_id)


def members_created(engine: Engine, program_id: int) -> int:
    """Read beside the import's open transaction without waiting for it (on SQLite through a plain WAL reader)."""
    query = "SELECT count(*) FROM members WHERE program_id = :program"
    if engine.dialect.name == "sqlite":
        with closing(sqlite3.connect(str(engine.url.database))) as reader:
            return int(reader.execute(query, {"program": program_id}).fetchone()[0])
    with engine.connect() as connection:
        return int(connection.execute(text(query), {"program": program_id}).scalar_one())


@dataclass
class _Entry:
    """The ledger entry fields the portal's wording reads (``portal.history.Entry``)."""

    kind: str
    amount: int
    id: int = 1
    account: str = "points"
    occurred_at: datetime = NOW
    event_id: int | None = None
    order_id: str | None = None
    rule_code: str | None = None
    operation: str | None = "import:smile:1001"
    description: str = "Opening balance from Smile.io"


def test_the_portal_history_says_where_opening_balances_came_from_and_hides_a_zero_one() -> None:
    lines = movements([_Entry("import", 1250), _Entry("import", 0, operation="import:smile:1002")], {}, {})
    assert [(line.message, line.count, line.change) for line in lines] == [("history.import", 1250, 1250)]
