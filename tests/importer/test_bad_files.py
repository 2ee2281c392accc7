"""A file with bad rows imports nothing: every problem is reported with its line number and field, and the program
is left exactly as it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from punchcard.importer.errors import ImportFileInvalid
from tests.factories import ProgramMaker
from tests.importer.history import CSV_HEADER, counts, history, import_file, post_through_api, state, write_csv

GOOD = "A1,alice,2025-01-05T10:00:00+02:00,EUR,BEANS,coffee-beans,2,12.50,4.90"


def problems(error: pytest.ExceptionInfo[ImportFileInvalid]) -> list[tuple[int, str]]:
    return [(int(str(detail["line"])), str(detail["field"])) for detail in error.value.details]


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_imported(
    make_program: ProgramMaker, engine: Engine, tmp_path: Path
) -> None:
    # Given a CSV file whose good orders are mixed with bad rows
    rows = [
        ",".join(CSV_HEADER),
        GOOD,  # line 2: fine
        "A1,alice,2025-01-05T10:00:00+02:00,EUR,MUG,merch,1,8.00,4.90",  # line 3: fine (same order)
        "A2,alice,2025-01-06T10:00:00+02:00,EUR,MUG,merch,0,8.00,0",  # line 4: quantity 0
        "A3,bob,2025-01-07,EUR,MUG,merch,1,8.00,0",  # line 5: no time zone
        "A4,bob,2025-01-08T10:00:00Z,USD,MUG,merch,1,8.00,0",  # line 6: other currency
        "A5,carol,2099-01-01T10:00:00Z,EUR,MUG,merch,1,8.00,0",  # line 7: in the future
        "A6,carol,2025-01-09T10:00:00Z,EUR,MUG,merch,1,eight,0",  # line 8: not a price
        "A7,dave,2025-01-10T10:00:00Z,EUR,MUG,merch,1,8.00,0",  # line 9: fine
        "A7,erin,2025-01-10T10:00:00Z,EUR,CUP,merch,1,3.00,0",  # line 10: another member
        "A1,alice,2025-01-11T10:00:00Z,EUR,MUG,merch,1,8.00,0",  # line 11: A1 again
        "A8,frank,2025-01-12T10:00:00Z,EUR,MUG,merch,1",  # line 12: short row
    ]
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(rows) + "\n")
    api = make_program()
    # When it is imported
    with pytest.raises(ImportFileInvalid) as error:
        import_file(engine, api, path)
    # Then each problem names its line and field, and no member, event or entry was written
    assert problems(error) == [
        (4, "lines.0.quantity"),
        (5, "occurred_at"),
        (6, "currency"),
        (7, "occurred_at"),
        (8, "lines.0.unit_price"),
        (10, "member_external_id"),
        (11, "order_id"),
        (12, ""),
    ]
    assert error.value.code == "import_file_invalid"
    assert "8 problem(s)" in error.value.message
    assert counts(engine, api.program_id) == (0, 0)


def test_a_blocked_member_stops_the_import_before_anything_is_written(
    make_program: ProgramMaker, engine: Engine, tmp_path: Path
) -> None:
    # Given a member with history who has since been blocked
    orders = history(members=3, orders=12)
    api = make_program()
    post_through_api(api, orders[:3])
    blocked = orders[0].member
    assert api.patch(f"/api/v1/members/{blocked}", {"status": "blocked"}).status_code == 200
    members = sorted({order.member for order in orders})
    before = counts(engine, api.program_id), state(api, [blocked])
    # When the rest of the history is imported
    with pytest.raises(ImportFileInvalid) as error:
        import_file(engine, api, write_csv(tmp_path / "orders.csv", orders[3:]))
    # Then the member's first order in the file is reported and nothing changed
    assert [detail["message"] for detail in error.value.details] == [f"member {blocked!r} is blocked"]
    assert (counts(engine, api.program_id), state(api, [blocked])) == before
    assert len(members) == 3


def test_json_lines_problems_name_their_line(make_program: ProgramMaker, engine: Engine, tmp_path: Path) -> None:
    good = {
        "order_id": "J1",
        "member_external_id": "m",
        "occurred_at": "2025-01-05T10:00:00Z",
        "currency": "EUR",
        "lines": [{"sku": "MUG", "category": "merch", "quantity": 1, "unit_price": "8.00"}],
    }
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps({**good, "order_id": "J2", "lines": []}),
        json.dumps({**good, "order_id": "J3", "colour": "blue"}),
        "",
        json.dumps([1, 2]),
    ]
    path = tmp_path / "orders.jsonl"
    path.write_text("\n".join(lines) + "\n")
    api = make_program()
    with pytest.raises(ImportFileInvalid) as error:
        import_file(engine, api, path)
    assert problems(error) == [(2, ""), (3, "order"), (4, "colour"), (6, "")]
    assert counts(engine, api.program_id) == (0, 0)


def test_a_csv_file_without_the_needed_columns_is_refused(
    make_program: ProgramMaker, engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("order_id,customer,occurred_at\nA1,alice,2025-01-05T10:00:00Z\n")
    api = make_program()
    with pytest.raises(ImportFileInvalid) as error:
        import_file(engine, api, path)
    assert problems(error) == [(1, "header")]
    assert "missing member_external_id, currency, sku, quantity, unit_price" in str(error.value.details[0]["message"])
    assert counts(engine, api.program_id) == (0, 0)
