"""API keys from the console: a new key is shown once and works; a revoked key no longer authenticates; both are in
the audit log."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import Engine
from tests.admin.conftest import Console, audit_entries
from tests.factories import ApiClient, error_of

from punchcard.staff.domain import Action, Role


def test_an_owner_creates_a_key_that_is_shown_once_and_works(
    api: ApiClient, signed_in: Callable[[Role], Console], engine: Engine
) -> None:
    console = signed_in(Role.OWNER)
    base = f"/admin/p/{api.slug}/api-keys"
    # When the owner creates an integration key
    created = console.post(base, {"scope": "integration", "note": "the web shop"})
    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"
    found = re.search(r'<code id="new-key">([^<]+)</code>', created.text)
    assert found is not None
    key = found.group(1)
    # Then it authenticates, with the integration scope
    response = api.client.get("/api/v1/rewards", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    # And it is never shown again: the list has only its first characters
    listing = console.page(base)
    assert key not in listing
    assert f"<code>{key[:10]}…</code>" in listing
    [entry] = audit_entries(engine, program_id=api.program_id, action=Action.API_KEY_CREATED.value)
    assert (entry.target, entry.reason, entry.details) == (
        f"API key {key[:10]}…",
        "the web shop",
        {"scope": "integration"},
    )


def test_a_revoked_key_no_longer_authenticates(
    api: ApiClient, signed_in: Callable[[Role], Console], engine: Engine
) -> None:
    console = signed_in(Role.OWNER)
    base = f"/admin/p/{api.slug}/api-keys"
    key = re.findall(r'<code id="new-key">([^<]+)</code>', console.post(base, {"scope": "admin"}).text)[0]
    key_id = re.findall(r'/api-keys/(\d+)/revoke"', console.page(base))[0]  # the newest key is listed first
    # Given it was just used (so the server remembers it)
    assert api.client.get("/api/v1/rewards", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    # When the owner revokes it
    response = console.post(f"{base}/{key_id}/revoke", {"note": "leaked in a screenshot"})
    assert (response.status_code, response.headers["location"]) == (303, base)
    # Then it is refused, and the list says since when
    error_of(api.client.get("/api/v1/rewards", headers={"Authorization": f"Bearer {key}"}), 401, "unauthorized")
    assert "revoked" in console.page(base)
    [entry] = audit_entries(engine, program_id=api.program_id, action=Action.API_KEY_REVOKED.value)
    assert (entry.target, entry.reason) == (f"API key {key[:10]}…", "leaked in a screenshot")
    # And revoking it again finds no live key, changing nothing
    again = console.post(f"{base}/{key_id}/revoke")
    assert again.status_code == 404
    assert len(audit_entries(engine, program_id=api.program_id, action=Action.API_KEY_REVOKED.value)) == 1


def test_a_key_of_another_program_cannot_be_revoked_from_this_one(
    make_program: Callable[..., ApiClient], signed_in: Callable[[Role], Console]
) -> None:
    mine, theirs = make_program(), make_program()
    console = signed_in(Role.OWNER)
    their_key = re.findall(r"/api-keys/(\d+)/revoke", console.page(f"/admin/p/{theirs.slug}/api-keys"))[0]
    response = console.post(f"/admin/p/{mine.slug}/api-keys/{their_key}/revoke")
    assert response.status_code == 404
    assert theirs.get("/api/v1/program").status_code == 200
    assert theirs.as_integration().get("/api/v1/rewards").status_code == 200
