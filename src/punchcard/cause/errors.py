"""Cause error codes (docs/errors.md)."""

from __future__ import annotations

from punchcard.cause.domain import CauseRefused, Refusal
from punchcard.kit.errors import NotFound, PunchcardError, Unprocessable


class CauseNotFound(NotFound):
    code = Refusal.CAUSE_NOT_FOUND.value


class CauseClosed(Unprocessable):
    code = Refusal.CAUSE_CLOSED.value


def as_error(refused: CauseRefused) -> PunchcardError:
    kind: type[PunchcardError] = CauseNotFound if refused.refusal is Refusal.CAUSE_NOT_FOUND else CauseClosed
    return kind(refused.message)
