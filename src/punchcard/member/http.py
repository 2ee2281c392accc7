"""The member as the API and the console show it: profile, tier with progress, and points derived from the ledger.

The member resource's representation, next to its endpoints; the admin console's member page shows the same view."""

from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from punchcard.kit.money import format_amount, from_minor
from punchcard.ledger import service as ledger
from punchcard.member import repository as members
from punchcard.member.schemas import iso
from punchcard.member.service import Member
from punchcard.membership import service as memberships
from punchcard.program.domain import ProgramVersion
from punchcard.tier import service as tiers
from punchcard.tier.domain import Metric


def _read(*, by_id: bool, window: bool, since: bool) -> Select[Any]:
    """The member with their balances, expiring points and (``window``) tier credits in ``[:since, :until]``: one
    statement, so a member read is one round trip."""

    def columns(member_id: Any) -> tuple[Any, ...]:
        credits = (ledger.credits_column(member_id, since=since),) if window else ()
        return (*ledger.balance_columns(member_id), ledger.expiring_column(member_id), *credits)

    return members.read_with(columns, by_id=by_id)


_READS = {
    (by_id, window, since): _read(by_id=by_id, window=window, since=since)
    for by_id in (False, True)
    for window in (False, True)
    for since in (False, True)
}


def read_view(
    session: Session, version: ProgramVersion, external_id: str, now: datetime, asked: str | None = None
) -> dict[str, Any]:
    """``member_view`` of the member with ``external_id`` (``member_not_found`` when there is none), read in one
    statement."""
    return _view(session, version, now, asked, external_id=external_id)


def member_view(
    session: Session, version: ProgramVersion, member: Member, now: datetime, asked: str | None = None
) -> dict[str, Any]:
    """The member as the API shows them, after a write (enrolment, an update) in the same session. Program texts
    (tier names) are in the ``asked`` language (``program.http.asked_language``), else in the member's own, else in
    the program's first."""
    return _view(session, version, now, asked, member_id=member.id)


def _view(
    session: Session,
    version: ProgramVersion,
    now: datetime,
    asked: str | None,
    *,
    external_id: str = "",
    member_id: int = 0,
) -> dict[str, Any]:
    program = version.program
    window = program.tiers.window.start(now, program.zone) if program.tiers is not None else None
    statement = _READS[bool(member_id), program.tiers is not None, window is not None]
    parameters = {"program_id": version.program_id, "member_id": external_id, "id": member_id, "now": now}
    bounds = {"until": now, **({"since": window} if window is not None else {})}
    row = session.execute(statement, {**parameters, **bounds}).one_or_none()
    if row is None:
        raise members.missing(session, version.program_id, external_id)
    member, points, value = row[0], ledger.balances_from(row[1:5]), int(row[6]) if len(row) > 6 else 0
    view: dict[str, Any] = {
        "external_id": member.external_id,
        "email": member.email,
        "name": member.name,
        "birth_date": member.birth_date.isoformat() if member.birth_date else None,
        "language": member.language,
        "marketing_consent": member.marketing_consent,
        "status": member.status,
        "enrolled_at": iso(member.enrolled_at),
        "tier": None,
        "tier_progress": None,
        "points": {
            "available": points.available,
            "pending": points.pending,
            "lifetime_earned": points.lifetime_earned,
            "debt": points.debt,
            "expiring": [
                {"points": amount, "expires_at": iso(moment)} for moment, amount in ledger.expiring_from(row[5])
            ],
        },
    }
    language = program.text_language(asked, member.language)
    if program.plans:
        current = memberships.current(session, member.id)
        view["membership"] = memberships.view(current, program.membership_terms, now, language)
    if program.tiers is not None:
        state = tiers.status(session, member, program.tiers, program.zone, now, value)
        measured = partial(_measured, program.tiers.metric, program.currency)
        view["tier"] = {
            "code": state.tier.code,
            "name": state.tier.name.in_language(language),
            "multiplier": str(state.tier.multiplier),
            "perks": [
                {"code": perk.code, "name": perk.name.in_language(language) if perk.name.default else None}
                for perk in state.tier.perks
            ],
            "since": iso(member.tier_since),
        }
        view["tier_progress"] = {
            "metric": program.tiers.metric.value,
            "window": program.tiers.window.kind.value,
            "value": measured(state.value),
            "next_tier": {
                "code": state.next_tier.code,
                "name": state.next_tier.name.in_language(language),
                "threshold": measured(state.next_tier.threshold),
            }
            if state.next_tier
            else None,
            "needed_for_next": None if state.needed_for_next is None else measured(state.needed_for_next),
            "needed_to_keep": measured(state.needed_to_keep),
            "grace_until": iso(state.grace_until),
        }
    return view


def _measured(metric: Metric, currency: str, value: int) -> int | dict[str, str]:
    """A tier metric's value as the API writes it: points and orders are counts; an amount spent is money, a decimal
    string with its currency like every amount in the API (the tier counts it in minor units)."""
    if metric is Metric.AMOUNT_SPENT:
        return {"amount": format_amount(from_minor(value, currency), currency), "currency": currency}
    return value
