"""A member's accounts across a coalition's brands: linked by the e-mail address the member proved by signing in to
a brand's portal, with their asking as consent (docs/decisions.md, "Coalitions of brands" 6). Nothing here commits."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from punchcard.coalition import repository
from punchcard.coalition.domain import Brand, Coalition, CoalitionRefused, Linked, Reason, Unlinked
from punchcard.coalition.errors import as_error
from punchcard.ledger import service as ledger
from punchcard.member import service as members
from punchcard.member.service import Member
from punchcard.outbox import service as outbox


def person_of(email: str) -> str:
    """Who a link belongs to: the e-mail address the member proved by signing in, hashed (links compare it, nothing
    needs to read it back)."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


@dataclass(frozen=True)
class Account:
    """A member's account at one brand of the coalition, as the member's view shows it."""

    brand: Brand
    member_id: int
    available: int

    @property
    def units(self) -> int:
        """The whole coalition units the available points make."""
        return self.available // self.brand.points_per_unit


def accounts(session: Session, found: Coalition, member_id: int) -> list[Account]:
    """The member's linked accounts at every brand (theirs first, then in the coalition's order); empty when they
    have not linked."""
    link = repository.link_of(session, found.code, member_id)
    if link is None:
        return []
    linked = {row.program_id: row.member_id for row in repository.links_of(session, found.code, link.person)}
    found_accounts = [
        Account(brand, linked[brand.program_id], ledger.balances(session, linked[brand.program_id]).available)
        for brand in found.brands
        if brand.program_id in linked
    ]
    return sorted(found_accounts, key=lambda account: account.member_id != member_id)


def link(session: Session, found: Coalition, member: Member, now: datetime) -> list[str]:
    """Link the member's account to the accounts at the coalition's other brands that have the same e-mail address:
    the one each brand's own portal signs that address in to. The member's portal sign-in proved the address is
    theirs, and their asking is their consent. Returns the brands linked (theirs included); linking again adds what
    is new (a brand joined since, an account opened since)."""
    if not member.email:
        raise as_error(CoalitionRefused(Reason.NO_EMAIL, "the member has no e-mail address to link by"))
    person = person_of(member.email)
    existing = repository.link_of(session, found.code, member.id)
    if existing is not None and existing.person != person:  # the address changed since: link under the new one
        repository.remove_links(session, found.code, existing.person)
    brands = []
    for brand in found.brands:
        other = (
            member
            if brand.program_id == member.program_id
            else members.by_email(session, brand.program_id, member.email)
        )
        if other is None or other.status == members.BLOCKED:
            continue
        if repository.add_link(session, found.code, person, brand.program_id, other.id, now) or _linked_to(
            session, found.code, other.id, person
        ):
            brands.append(brand.slug)  # not an account already linked under another address: that is someone else's
    outbox.publish(
        session,
        [
            Linked(
                program_id=member.program_id,
                member_id=member.id,
                occurred_at=now,
                coalition=found.code,
                brands=tuple(brands),
            )
        ],
        now,
    )
    return brands


def unlink(session: Session, found: Coalition, member: Member, now: datetime) -> bool:
    """Undo the person's links at every brand of the coalition; ``False`` when there were none. Points already moved
    stay where they went."""
    link_row = repository.link_of(session, found.code, member.id)
    if link_row is None:
        return False
    repository.remove_links(session, found.code, link_row.person)
    outbox.publish(
        session,
        [Unlinked(program_id=member.program_id, member_id=member.id, occurred_at=now, coalition=found.code)],
        now,
    )
    return True


def _linked_to(session: Session, coalition: str, member_id: int, person: str) -> bool:
    found = repository.link_of(session, coalition, member_id)
    return found is not None and found.person == person


def linked_account(session: Session, found: Coalition, member: Member, brand: Brand) -> Member:
    """The member's linked account at ``brand``."""
    linked = {account.brand.program_id: account.member_id for account in accounts(session, found, member.id)}
    if member.id not in linked.values() or brand.program_id not in linked:
        raise as_error(
            CoalitionRefused(Reason.NOT_LINKED, f"the member has no linked account at {brand.slug!r} in {found.code!r}")
        )
    partner = members.by_id(session, brand.program_id, linked[brand.program_id])
    assert partner is not None
    return partner
