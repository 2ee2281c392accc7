"""No table about members is forgotten: every table that refers to a member (by the schema) is exported by a
feature's part or listed, with its reason, as holding nothing personal; and the registry names only real tables."""

from __future__ import annotations

from punchcard.privacy.registry import PARTS, WITHOUT_PERSONAL_DATA
from punchcard.schema import metadata
from tests.privacy.database import about_members

EXPORTED = {table for part in PARTS for table in part.tables}


def test_every_table_about_members_is_exported_or_said_to_hold_nothing_personal() -> None:
    forgotten = sorted(
        table.name for table in about_members() if table.name not in EXPORTED | set(WITHOUT_PERSONAL_DATA)
    )
    assert forgotten == [], "add these tables to their feature's personal_data part (or to WITHOUT_PERSONAL_DATA)"


def test_the_registry_names_real_tables_once_and_says_why_a_table_is_left_out() -> None:
    named = [table for part in PARTS for table in part.tables]
    assert len(named) == len(set(named))
    assert set(named) | set(WITHOUT_PERSONAL_DATA) <= set(metadata.tables)
    assert not set(named) & set(WITHOUT_PERSONAL_DATA)
    assert all(len(reason) > 40 for reason in WITHOUT_PERSONAL_DATA.values())
    assert len({part.name for part in PARTS}) == len(PARTS)
