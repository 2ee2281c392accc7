"""Coalition error codes (docs/errors.md)."""

from __future__ import annotations

from punchcard.coalition.domain import CoalitionRefused, Reason
from punchcard.kit.errors import Forbidden, NotFound, PunchcardError, Unprocessable


class CoalitionNotFound(NotFound):
    """No coalition with this code has an owner (no program's file founds it)."""

    code = "coalition_not_found"


class NotCoalitionOwner(Forbidden):
    """Only the coalition owner's admin key reads the settlement between its brands."""

    code = "not_coalition_owner"


class NotInCoalition(NotFound):
    code = Reason.NOT_IN_COALITION.value


class SameBrand(Unprocessable):
    code = Reason.SAME_BRAND.value


class TooFewPoints(Unprocessable):
    code = Reason.TOO_FEW_POINTS.value


class NotLinked(Unprocessable):
    code = Reason.NOT_LINKED.value


class EmailMissing(Unprocessable):
    code = Reason.NO_EMAIL.value


_ERRORS: dict[Reason, type[PunchcardError]] = {
    Reason.NOT_IN_COALITION: NotInCoalition,
    Reason.SAME_BRAND: SameBrand,
    Reason.TOO_FEW_POINTS: TooFewPoints,
    Reason.NOT_LINKED: NotLinked,
    Reason.NO_EMAIL: EmailMissing,
}


def as_error(refused: CoalitionRefused) -> PunchcardError:
    return _ERRORS[refused.reason](str(refused))
