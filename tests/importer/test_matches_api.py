"""Importing a history gives exactly what posting the same orders through the API gives: the same ledger entries,
balances, tiers and stored responses, whether the file is CSV or JSON Lines, sorted or not, and for members who
already had history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.factories import ProgramMaker
from tests.importer.history import (
    history,
    import_file,
    post_through_api,
    responses,
    state,
    write_csv,
    write_jsonl,
)

EXTRA_RULES = [
    {
        "code": "monthly-bonus",
        "name": "Monthly bonus",
        "when": "purchase",
        "limit": {"times": 2, "per": "month"},
        "then": {"points": 5},
    },
    {
        "code": "loyal",
        "name": "Loyal customer",
        "when": "purchase",
        "if": {"member": {"order_count": {"min": 3}}},
        "then": {"points": 7},
    },
]


def rich(make_program: ProgramMaker) -> dict[str, Any]:
    """The demo program with a return window (pending points vest later), a rule limited per month and a rule
    on the member's order count."""
    return {"points": {"pending_days": 14}, "earning_rules": make_program.definition["earning_rules"] + EXTRA_RULES}


@pytest.mark.parametrize("variant", ["demo", "rich"])
def test_an_imported_history_equals_the_same_orders_posted_live(
    variant: str, make_program: ProgramMaker, engine: Engine, tmp_path: Path
) -> None:
    # Given two years of orders by five members (points expire after 12 months; members climb tiers)
    orders = history(members=5, orders=45)
    changes = rich(make_program) if variant == "rich" else {}
    imported, live = make_program(changes), make_program(changes)
    # When one program imports the file and the other receives the same orders through the API
    summary = import_file(engine, imported, write_csv(tmp_path / "orders.csv", orders), batch_size=7)
    post_through_api(live, orders)
    # Then every member's view and ledger, and every stored response, are the same
    members = sorted({order.member for order in orders})
    assert summary.imported == 45
    assert summary.members_created == 5
    assert state(imported, members) == state(live, members)
    assert responses(engine, imported.program_id) == responses(engine, live.program_id)
    kinds = {entry["kind"] for name in members for entry in state(imported, members)[name]["ledger"]}
    assert {"earn", "expire"} <= kinds


def test_json_lines_and_csv_import_the_same(make_program: ProgramMaker, engine: Engine, tmp_path: Path) -> None:
    orders = history(members=3, orders=20)
    from_csv, from_jsonl = make_program(), make_program()
    import_file(engine, from_csv, write_csv(tmp_path / "orders.csv", orders))
    import_file(engine, from_jsonl, write_jsonl(tmp_path / "orders.jsonl", orders))
    members = sorted({order.member for order in orders})
    assert state(from_jsonl, members) == state(from_csv, members)


def test_a_file_out_of_order_is_applied_oldest_first(
    make_program: ProgramMaker, engine: Engine, tmp_path: Path
) -> None:
    # Given the same orders, once in time order and once shuffled
    orders = history(members=3, orders=24)
    shuffled = orders[12:] + orders[:12][::-1]
    in_order, out_of_order = make_program(), make_program()
    # When both files are imported
    import_file(engine, in_order, write_jsonl(tmp_path / "sorted.jsonl", orders), batch_size=5)
    import_file(engine, out_of_order, write_jsonl(tmp_path / "shuffled.jsonl", shuffled), batch_size=5)
    # Then the results are the same: each member enrolled at their earliest order, orders applied oldest first
    members = sorted({order.member for order in orders})
    assert state(out_of_order, members) == state(in_order, members)


def test_members_who_already_have_history_continue_from_it(
    make_program: ProgramMaker, engine: Engine, tmp_path: Path
) -> None:
    # Given members who earned through the API during the first year
    orders = history(members=4, orders=40)
    earlier, later = orders[:20], orders[20:]
    imported, live = make_program(rich(make_program)), make_program(rich(make_program))
    post_through_api(imported, earlier)
    post_through_api(live, earlier)
    # When the second year is imported into one program and posted live to the other
    summary = import_file(engine, imported, write_csv(tmp_path / "later.csv", later), batch_size=6)
    post_through_api(live, later)
    # Then both end the same (new members of the second year were enrolled by the import)
    members = sorted({order.member for order in orders})
    assert summary.imported == 20
    assert state(imported, members) == state(live, members)
    assert responses(engine, imported.program_id) == responses(engine, live.program_id)
