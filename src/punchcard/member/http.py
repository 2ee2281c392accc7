"""The member as the API and the console show it: profile, tier with progress, and points derived from the ledger.

The member resource's representation, next to its endpoints; the admin console's member page shows the same view."""

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from punchcard.ledger import service as ledger
from punchcard.member.schemas import iso
from punchcard.member.service import Member
from punchcard.program.domain import ProgramVersion
from punchcard.tier import service as tiers


def member_view(session: Session, version: ProgramVersion, member: Member, now: datetime) -> dict[str, Any]:
    program = version.program
    if program.tiers is not None:  # the points and the tier's qualifying value in one round trip
        since = program.tiers.window.start(now, program.zone)
        points, value = ledger.balances_and_credits(session, member.id, since, now)
    else:
        points, value = ledger.balances(session, member.id), 0
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
                {"points": amount, "expires_at": iso(moment)}
                for moment, amount in ledger.expiring(session, member.id, now)
            ],
        },
    }
    if program.tiers is not None:
        state = tiers.status(session, member, program.tiers, program.zone, now, value)
        view["tier"] = {
            "code": state.tier.code,
            "name": state.tier.name,
            "multiplier": str(state.tier.multiplier),
            "perks": list(state.tier.perks),
            "since": iso(member.tier_since),
        }
        view["tier_progress"] = {
            "metric": program.tiers.metric.value,
            "window": program.tiers.window.kind.value,
            "value": state.value,
            "next_tier": {
                "code": state.next_tier.code,
                "name": state.next_tier.name,
                "threshold": state.next_tier.threshold,
            }
            if state.next_tier
            else None,
            "needed_for_next": state.needed_for_next,
            "needed_to_keep": state.needed_to_keep,
            "grace_until": iso(state.grace_until),
        }
    return view
