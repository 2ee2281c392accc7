"""Erasing a member: afterwards no personal value of theirs is stored anywhere in the database (every text and JSON
column of every table is searched), while the ledger and every total stay exactly as they were; erasing again
changes nothing; and the partner brand's account of the same person is the partner's to erase."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from punchcard.kit.personal import ERASED
from punchcard.ledger import reports
from punchcard.ledger.verify import verify
from punchcard.member.models import Member
from punchcard.outbox.models import OutboxEvent
from punchcard.staff.models import AuditEntry
from tests.factories import ApiClient, ProgramMaker, deliver_outbox, ledger_items
from tests.privacy.database import found_anywhere
from tests.privacy.life import live, programs_of_a_coalition

FAR = datetime(2100, 1, 1, tzinfo=UTC)


def totals(engine: Engine, api: ApiClient, members: tuple[str, ...]) -> dict[str, Any]:
    """What erasure must not change: the program's ledger proved balanced, its size, the outstanding points (the
    liability) and each of ``members``' points and ledger."""
    with Session(engine) as session:
        report = verify(session, api.program_id)
        outstanding = reports.outstanding(session, api.program_id, FAR)
    return {
        "balanced": report.is_balanced,
        "transfers": report.transfers,
        "lots": report.lots,
        "outstanding": outstanding,
        "members": {member: (api.points(member), ledger_items(api, member)) for member in members},
    }


def erase(api: ApiClient, member: str, reason: str = "the member asked") -> dict[str, Any]:
    answer = api.post(f"/api/v1/members/{member}/erase", {"reason": reason})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_after_erasure_no_personal_value_of_the_member_is_stored_anywhere_and_every_total_is_unchanged(
    make_program: ProgramMaker, engine: Engine, client: TestClient
) -> None:
    # Given a member who did everything, and the same person's linked account at the partner brand
    life = live(make_program, engine, client)
    planted = {value.lower() for *_, value in found_anywhere(engine, life.personal)}
    assert planted == {value.lower() for value in life.personal}, "the life should store every value it names"
    roaster_before = totals(engine, life.roaster, life.others)
    tea_before = totals(engine, life.tea, ())
    own = life.roaster.points(life.member), ledger_items(life.roaster, life.member)

    # When the person has both brands erase them, and whatever was pending goes out
    erased = erase(life.roaster, life.member)
    erase(life.tea, life.tea_member)
    deliver_outbox(client)
    client.app.state.mail.drain()  # type: ignore[attr-defined]

    # Then none of their values is stored anywhere, in any program's rows
    left = found_anywhere(engine, life.personal)
    assert left == [], "\n".join(map(str, left))
    # and the ledgers, the liability and every other member are exactly as they were
    assert totals(engine, life.roaster, life.others) == roaster_before
    assert totals(engine, life.tea, ()) == tea_before
    # and the member's points stay theirs, under the pseudonym, with the ledger that explains them; only the
    # adjustment's reason, which named them, no longer does
    pseudonym = erased["member"]
    assert erased == {"member": pseudonym, "status": "erased", "erased_now": True}
    assert pseudonym.startswith("erased-")
    points, entries = own
    unnamed = [{**entry, "description": without(entry["description"], life.personal)} for entry in entries]
    assert [entry["description"] for entry in unnamed if ERASED in entry["description"]] == [
        f"Adjustment: Late delivery to {ERASED}"
    ]
    assert (life.roaster.points(pseudonym), ledger_items(life.roaster, pseudonym)) == (points, unnamed)


def without(text: str, values: tuple[str, ...]) -> str:
    for value in values:
        text = text.replace(value, ERASED)
    return text


def member_state(engine: Engine, api: ApiClient) -> tuple[Any, ...]:
    with Session(engine) as session:
        members = session.execute(
            select(Member.external_id, Member.email, Member.name, Member.status).where(
                Member.program_id == api.program_id
            )
        ).all()
        events = session.execute(
            select(OutboxEvent.type, func.count())
            .where(OutboxEvent.program_id == api.program_id)
            .group_by(OutboxEvent.type)
        ).all()
        audit = session.execute(select(func.count()).where(AuditEntry.program_id == api.program_id)).scalar_one()
    return sorted(members), sorted(events), audit


def test_erasing_again_by_any_of_the_member_s_names_answers_the_same_and_changes_nothing(
    api: ApiClient, engine: Engine
) -> None:
    # Given an erased member
    member = api.member(email="once@example.com", name="Once Erased")
    first = erase(api, member)
    before = member_state(engine, api)

    # When they are erased again, by their former id and by their pseudonym
    again = [erase(api, member), erase(api, first["member"])]

    # Then both answer the pseudonym, erased before, and nothing changed: no event, no audit entry
    assert again == [{"member": first["member"], "status": "erased", "erased_now": False}] * 2
    assert member_state(engine, api) == before


def test_erasing_at_one_brand_leaves_the_person_s_account_at_the_partner_brand_to_the_partner(
    make_program: ProgramMaker, engine: Engine
) -> None:
    # Given a person with linked accounts at two brands of a coalition
    roaster, tea = programs_of_a_coalition(make_program)
    email = "both-brands@example.com"
    at_roaster, at_tea = roaster.member(email=email, name="Both Brands"), tea.member(email=email, name="Both Brands")
    tea_before = totals(engine, tea, (at_tea,))

    # When the roaster erases its member
    erase(roaster, at_roaster)

    # Then the partner's account is untouched: still active, still theirs, its ledger as it was
    view = tea.get(f"/api/v1/members/{at_tea}").json()
    assert (view["status"], view["email"], view["name"]) == ("active", email, "Both Brands")
    assert totals(engine, tea, (at_tea,)) == tea_before
