"""The portal's "Download my data": the signed-in member gets everything stored about them, and only about them, as
a JSON file; without a session or with a forged form nothing is sent; the audit log records the download."""

from __future__ import annotations

import json

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from punchcard.staff.models import AuditEntry
from tests.portal.conftest import Browser, enrol_anna


def test_a_signed_in_member_downloads_their_own_data_and_no_one_else_s(browser: Browser, engine: Engine) -> None:
    # Given Anna, signed in, and another member of the program
    other = browser.api.member(f"bea-{browser.api.slug}", email=f"bea-{browser.api.slug}@example.com", name="Bea")
    anna = enrol_anna(browser.api)
    assert browser.sign_in(anna.email).status_code == 303
    assert "Download my data" in browser.get("/profile").text

    # When she downloads her data from her profile
    answer = browser.post("/profile/data", {"csrf": browser.csrf("/profile")})

    # Then she gets a JSON file of her own data
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["content-disposition"] == f'attachment; filename="{browser.api.slug}-my-data.json"'
    document = json.loads(answer.text)
    assert (document["program"], document["member"]) == (browser.api.slug, anna.external_id)
    assert document["data"]["profile"]["members"][0]["email"] == anna.email
    assert [order["order_id"] for order in document["data"]["events"]["orders"]] == ["O-1", "O-2"]
    assert other not in answer.text
    # and the audit log records that she took it
    with Session(engine) as session:
        entry = session.execute(
            select(AuditEntry).where(
                AuditEntry.program_id == browser.api.program_id, AuditEntry.action == "member.data_exported"
            )
        ).scalar_one()
    assert (entry.staff_id, entry.target, entry.details) == (None, f"member {anna.external_id}", {"source": "portal"})


def test_without_a_session_or_with_a_forged_form_nothing_is_downloaded(browser: Browser) -> None:
    anna = enrol_anna(browser.api)

    signed_out = browser.post("/profile/data", {"csrf": browser.csrf("/sign-in")})
    assert (signed_out.status_code, signed_out.headers["location"]) == (303, browser.url("/sign-in"))

    assert browser.sign_in(anna.email).status_code == 303
    forged = browser.post("/profile/data", {"csrf": "0" * 64})
    assert forged.status_code == 403
    assert anna.email not in forged.text
