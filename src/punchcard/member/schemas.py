"""Member request bodies."""

from datetime import date, datetime
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, EmailStr, Field, model_validator

from punchcard.kit.schemas import Attributes, Identifier, Moment, Request

Language = Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")]


class MemberIn(Request):
    external_id: Identifier
    email: EmailStr | None = None
    name: Annotated[str, Field(max_length=200)] | None = None
    birth_date: date | None = None
    language: Language | None = None
    marketing_consent: bool = False
    enrolled_at: Moment | None = None
    """For importing existing customers; defaults to now."""
    referred_by: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    """A member's referral code: the new member is their friend (the program's ``referrals``)."""
    attributes: Attributes = {}
    """What the shop knows about the sign-up, for the program's rules and the referral checks (``phone``, ``ip``,
    ``device_id``, ``shipping_address``, ``payment_fingerprint``, ``orders_count``)."""

    def enrolment_attributes(self) -> dict[str, object]:
        """The ``member_enrolled`` event's attributes: the shop's, and the referral code."""
        code = {"referred_by": self.referred_by} if self.referred_by is not None else {}
        return {**self.attributes, **code}


class MemberPatch(Request):
    email: EmailStr | None = None
    name: Annotated[str, Field(max_length=200)] | None = None
    birth_date: date | None = None
    language: Language | None = None
    marketing_consent: bool | None = None
    status: Literal["active", "blocked"] | None = None

    @model_validator(mode="after")
    def _required_fields_not_null(self) -> Self:
        # Optional in a PATCH means "may be left out", not "may be cleared": these always have a value.
        for name in ("marketing_consent", "status"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


def _not_zero(points: int) -> int:
    if points == 0:
        raise ValueError("an adjustment of 0 points changes nothing")
    return points


class AdjustmentIn(Request):
    points: Annotated[int, Field(strict=True, ge=-10_000_000, le=10_000_000), AfterValidator(_not_zero)]
    reason: Annotated[str, Field(min_length=3, max_length=400)]


class RedemptionIn(Request):
    reward: Identifier


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
