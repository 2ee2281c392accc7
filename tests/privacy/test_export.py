"""The export: one JSON document with every row of every table about the member (the tables found by walking the
schema, the rows counted in the database), without secrets; for admin keys only, and recorded in the audit log."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from punchcard.kit.db import unit_of_work
from punchcard.member import service as members
from punchcard.privacy.registry import WITHOUT_PERSONAL_DATA
from tests.clock import NOW
from tests.factories import ApiClient, ProgramMaker, error_of
from tests.privacy.database import about_members, rows_about
from tests.privacy.life import live

NOT_IN_THE_LIFE = {"shop_orders"}
"""Tables the life leaves empty for its member: the shop connectors' orders come from a shop platform."""
SECRETS = {"token_hash", "token", "unsubscribe_token", "p256dh", "auth", "endpoint", "code_hash", "delivery_code"}


def keys_in(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in keys_in(item)}
    if isinstance(value, list):
        return {key for item in value for key in keys_in(item)}
    return set()


def test_the_export_holds_every_row_of_every_table_about_the_member_and_no_secret(
    make_program: ProgramMaker, engine: Engine, client: TestClient
) -> None:
    # Given a member with rows nearly everywhere, counted in the database table by table
    life = live(make_program, engine, client)
    with unit_of_work(engine) as session:
        member = members.get(session, life.roaster.program_id, life.member)
        member_id, email = member.id, member.email
    program_id = life.roaster.program_id
    expected = {
        table.name: rows_about(engine, table, program_id, member_id, life.member)
        for table in about_members()
        if table.name not in WITHOUT_PERSONAL_DATA
    }
    assert {name for name, count in expected.items() if count == 0} == NOT_IN_THE_LIFE

    # When an admin key exports the member
    answer = life.roaster.get(f"/api/v1/members/{life.member}/export")

    # Then the document has exactly those rows, part by part, table by table
    assert answer.status_code == 200, answer.text
    document = answer.json()
    assert {key: document[key] for key in ("format", "version", "program", "member", "exported_at")} == {
        "format": "punchcard.member-export",
        "version": 1,
        "program": life.roaster.slug,
        "member": life.member,
        "exported_at": NOW.isoformat(),
    }
    exported = {table: rows for part in document["data"].values() for table, rows in part.items()}
    assert {table: len(rows) for table, rows in exported.items() if table in expected} == expected
    assert exported["members"][0]["email"] == email
    # and never a secret: no token or its hash, no device key, no gift-card code
    assert keys_in(document["data"]) & SECRETS == set()
    assert "whsec_" not in json.dumps(document)


def test_only_an_admin_key_exports_and_an_unknown_member_is_not_found(api: ApiClient) -> None:
    member = api.member(email="private@example.com")
    error_of(api.as_integration().get(f"/api/v1/members/{member}/export"), 403, "forbidden")
    error_of(api.get("/api/v1/members/nobody-here/export"), 404, "member_not_found")
