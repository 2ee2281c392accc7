"""/api/v1/surveys/{code}/results: what a survey's answers add up to, for a period.

It needs the admin scope: the figures are the shop's own business numbers, not something a till needs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from punchcard.kit.errors import ValidationFailed
from punchcard.kit.http import SessionDep
from punchcard.kit.schemas import Moment
from punchcard.member.schemas import iso
from punchcard.program.http import CallerDep, VersionDep
from punchcard.survey import service

router = APIRouter(prefix="/api/v1/surveys", tags=["surveys"])


@router.get("/{code}/results")
def survey_results(
    code: str,
    session: SessionDep,
    version: VersionDep,
    caller: CallerDep,
    since: Annotated[Moment | None, Query(alias="from", description="answers at or after this moment")] = None,
    until: Annotated[Moment | None, Query(alias="to", description="answers before this moment")] = None,
) -> dict[str, Any]:
    """NPS (promoters' share minus detractors', -100 to 100) or the CES average of the answers given in
    ``[from, to)``; either bound may be left out."""
    caller.require_admin()
    _check_period(since, until)
    survey = service.survey_of(version.program, code)
    found = service.results_of(session, version.program_id, survey, since, until)
    return {
        "survey": survey.code,
        "kind": survey.kind.value,
        "from": iso(since),
        "to": iso(until),
        "responses": found.responses,
        "nps": found.nps,
        "promoters": found.promoters,
        "passives": found.passives,
        "detractors": found.detractors,
        "ces_average": found.ces_average,
    }


def _check_period(since: datetime | None, until: datetime | None) -> None:
    if since is not None and until is not None and until <= since:
        raise ValidationFailed("the period is empty", [{"field": "to", "message": "must be after from"}])
