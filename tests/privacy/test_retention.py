"""The retention of a program file's ``privacy: {erase_inactive_after_years: N}``: the jobs erase the members with no
activity (an event, a spend, a portal sign-in) in the last N years, and only them; a program without it keeps
everyone; the next run finds nobody more."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from punchcard.jobs import service as jobs
from punchcard.kit.db import unit_of_work
from punchcard.member import service as members
from punchcard.portal import service as portal
from punchcard.staff.models import AuditEntry
from tests.clock import NOW
from tests.factories import ApiClient, ProgramMaker, at_moment, line

LONG_AGO = "2023-01-10T10:00:00+00:00"
"""Enrolment of the old members: before the two years that the program keeps (to 25 November 2024)."""


def enrol_old(api: ApiClient, name: str, bought: str = "2023-02-01T10:00:00+00:00") -> str:
    member = api.member(f"{name}-{api.slug}", email=f"{name}-{api.slug}@example.com", enrolled_at=LONG_AGO)
    api.purchase(member, [line("BEANS", "coffee-beans", "30.00")], occurred_at=bought)
    return member


def statuses(api: ApiClient, engine: Engine) -> dict[str, str]:
    with Session(engine) as session:
        found = members.search(session, api.program_id, "", 100)
        return {member.external_id: member.status for member in found}


def test_the_jobs_erase_only_the_members_inactive_for_the_years_the_program_keeps(
    make_program: ProgramMaker, engine: Engine
) -> None:
    # Given a program that keeps data of inactive members for two years, and its members
    api = make_program({"privacy": {"erase_inactive_after_years": 2}})
    sleeper = enrol_old(api, "sleeper")
    buyer = enrol_old(api, "buyer", bought="2025-06-01T10:00:00+00:00")
    reader = enrol_old(api, "reader")
    spender = enrol_old(api, "spender")
    newcomer = api.member(f"newcomer-{api.slug}", enrolled_at="2025-12-01T10:00:00+00:00")
    with unit_of_work(engine) as session:  # the reader signed in to the portal last year
        signed_in = datetime.fromisoformat("2025-03-01T09:00:00+00:00")
        portal.start_session(session, members.get(session, api.program_id, reader), signed_in)
    # the spender, given points by staff (which is not their doing), redeemed a reward last year
    given = {"points": 200, "reason": "goodwill"}
    assert at_moment(
        api, "2025-04-30T10:00:00+00:00", "POST", f"/api/v1/members/{spender}/adjustments", given
    ).is_success
    redeem = (f"/api/v1/members/{spender}/redemptions", {"reward": "free-drink"}, {"Idempotency-Key": "spend"})
    assert at_moment(api, "2025-05-01T10:00:00+00:00", "POST", *redeem).status_code == 201
    # and a program without a retention, with a member as old as the sleeper
    keeper = make_program()
    forever = enrol_old(keeper, "forever")

    # When the jobs run now, twice
    first = jobs.run(engine, at=NOW, now=NOW, only=[api.slug, keeper.slug])
    second = jobs.run(engine, at=NOW, now=NOW, only=[api.slug, keeper.slug])

    # Then the sleeper alone was erased, once
    assert (first.members_erased, second.members_erased) == (1, 0)
    found = statuses(api, engine)
    [erased] = [external_id for external_id, status in found.items() if status == "erased"]
    assert erased.startswith("erased-")
    assert {found[member] for member in (buyer, reader, spender, newcomer)} == {"active"}
    assert sleeper not in found
    assert statuses(keeper, engine)[forever] == "active"
    # and the audit log says the retention did it, and why
    with Session(engine) as session:
        entry = session.execute(
            select(AuditEntry).where(AuditEntry.program_id == api.program_id, AuditEntry.action == "member.data_erased")
        ).scalar_one()
    assert (entry.staff_id, entry.target, entry.reason, entry.details) == (
        None,
        f"member {erased}",
        "inactive for 2 years",
        {"source": "retention"},
    )
