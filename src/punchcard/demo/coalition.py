"""The demo's second brand: the tea house Leaf & Cup, in the coalition ``bean-and-leaf`` the roaster founds.

Some of the roaster's members shop at the tea house too, under the same e-mail address: they join there, buy tea
through the same event path as the roaster's orders, and a few link their accounts and move points between the brands
or pay for a pot of tea with roaster points, through the coalition's services with ``now`` set to the moment. The
sample member, Anna, is one of them, so the portal shows a linked coalition balance and the console a settlement.
Deterministic, from a random stream of its own, after the roaster's year is played (so that stays as it was).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from punchcard.coalition import service as coalitions
from punchcard.coalition.domain import Coalition
from punchcard.event import service as events
from punchcard.event.schemas import EventIn
from punchcard.jobs import service as jobs
from punchcard.kit.db import unit_of_work
from punchcard.kit.errors import PunchcardError
from punchcard.kit.idempotency import request_hash
from punchcard.member import service as member_service
from punchcard.member.service import Profile
from punchcard.program import service as programs
from punchcard.program.domain import ProgramVersion
from punchcard.reward import service as rewards

PARTNER_FILE = Path(__file__).resolve().parents[3] / "examples" / "demo" / "leaf-and-cup.yaml"
SHARE = 0.12
"""About one roaster member in eight drinks tea at Leaf & Cup too."""
LINK_SHARE = 0.4
"""Of those, the share who link their accounts in the portal."""
TEAS = (
    ("TEA-SENCHA", "green-tea", Decimal("7.50")),
    ("TEA-ASSAM", "black-tea", Decimal("6.20")),
    ("TEA-OOLONG", "oolong", Decimal("11.90")),
    ("POT-ANY", "tea-house", Decimal("5.40")),
    ("CAKE-SLICE", "tea-house", Decimal("3.80")),
)


@dataclass(frozen=True)
class Guest:
    """A roaster member who is a tea-house member too."""

    external_id: str
    roaster_id: str
    profile: Profile
    joined_at: datetime
    links: bool


def build(
    engine: Engine, people: Sequence[Any], sample_member: str, started: datetime, now: datetime, seed: int
) -> str:
    """Apply the partner's program file and play its members' year; returns a line for the demo's output."""
    program_file, text, source_format = programs.read_file(PARTNER_FILE)
    with unit_of_work(engine) as session:
        programs.apply(session, program_file, text, source_format, started)
        program_id = programs.program_id_for(session, program_file.slug)
    rng = random.Random(seed + 5)
    chosen = (_guest(person, rng, now, is_anna=person.external_id == sample_member) for person in people)
    guests = [guest for guest in chosen if guest is not None]
    orders = moved = 0
    for guest in sorted(guests, key=lambda guest: guest.joined_at):
        with unit_of_work(engine) as session:
            version = programs.current(session, program_id)
            events.enrol(session, version, guest.external_id, guest.profile, guest.joined_at, guest.joined_at)
            orders += _shop(session, version, guest, rng, now)
        if guest.links:
            with unit_of_work(engine) as session:
                moved += _link_and_move(session, program_id, guest, rng, now)
    jobs.run(engine, at=now, now=now, only=[program_file.slug])
    return (
        f"Applied {PARTNER_FILE.name} as the partner brand '{program_file.slug}': {len(guests)} members, {orders} "
        f"orders, {moved} movements between the brands"
    )


def _guest(person: Any, rng: random.Random, now: datetime, *, is_anna: bool) -> Guest | None:
    if not is_anna and rng.random() >= SHARE:
        return None
    joined_at = max(person.enrolled_at, now - timedelta(days=300)) + timedelta(days=rng.randint(1, 40), hours=3)
    if is_anna:
        joined_at = now - timedelta(days=200, hours=-10)
    profile = Profile(person.email, person.name, person.birth_date, person.language, person.marketing_consent)
    return Guest(
        f"tea-{person.external_id}", person.external_id, profile, joined_at, is_anna or rng.random() < LINK_SHARE
    )


def _shop(session: Session, version: ProgramVersion, guest: Guest, rng: random.Random, now: datetime) -> int:
    """The guest's tea orders, from their joining to ``now``."""
    at, count = guest.joined_at, 0
    while True:
        at += timedelta(days=rng.randint(12, 70), hours=rng.randint(0, 6))
        if at >= now - timedelta(days=2):
            return count
        count += 1
        lines = [
            {"sku": sku, "category": category, "quantity": str(rng.randint(1, 2)), "unit_price": str(price)}
            for sku, category, price in rng.sample(TEAS, rng.randint(1, 3))
        ]
        order_id = f"lc-{guest.external_id}-{count}"
        body = EventIn.model_validate(
            {
                "id": f"order-{order_id}",
                "type": "purchase",
                "member_external_id": guest.external_id,
                "occurred_at": at.isoformat(),
                "order_id": order_id,
                "currency": version.program.currency,
                "lines": lines,
            }
        )
        events.record(session, version, body, request_hash(body.model_dump(mode="json")), at)


def _link_and_move(session: Session, program_id: int, guest: Guest, rng: random.Random, now: datetime) -> int:
    """Link the guest's accounts a few weeks ago, then move roaster points over, and maybe pay a pot of tea with
    them, as the portal and the tea house's till would."""
    version = programs.current(session, program_id)
    coalition = coalitions.of_program(session, version)
    assert coalition is not None, "the demo's partner is admitted to the roaster's coalition"
    member = member_service.get(session, program_id, guest.external_id)
    linked_at = now - timedelta(days=rng.randint(15, 40), hours=2)
    coalitions.link(session, coalition, member, linked_at)
    roaster = coalition.owner
    at_roaster = member_service.get(session, roaster.program_id, guest.roaster_id)
    steps: list[Callable[[], object]] = [
        lambda: coalitions.transfer(
            session,
            coalition,
            at_roaster,
            version.program.slug,
            rng.choice((100, 150, 200)),
            key="demo-transfer",
            digest="demo",
            now=linked_at + timedelta(days=2),
        ),
        lambda: _pot_with_roaster_points(
            session, version, coalition, member, roaster.slug, linked_at + timedelta(days=9)
        ),
    ]
    moved = 0
    for step in steps:
        try:
            with session.begin_nested():
                step()
            moved += 1
        except PunchcardError:
            continue  # too few roaster points: they keep what they have
    return moved


def _pot_with_roaster_points(
    session: Session,
    version: ProgramVersion,
    coalition: Coalition,
    member: member_service.Member,
    roaster: str,
    at: datetime,
) -> None:
    program = version.program
    catalogue = rewards.Catalogue(version.program_id, version.version, program.rewards, program.tiers, program.zone)
    cost = catalogue.reward("free-pot").points_cost

    def redeem() -> dict[str, Any]:
        return rewards.redeem(session, catalogue, member, "free-pot", "demo-pot", "demo", at).body

    coalitions.pay_reward(session, coalition, member, roaster, cost, redeem, key="demo-pot", digest="demo", now=at)
