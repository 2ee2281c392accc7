"""The building blocks of the program file's models: codes, member texts in the program's languages, the strict
base model that refuses unknown keys, the line selector that rules and rewards share, and the gift that mechanics
give."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationInfo, model_validator

from punchcard.rules import domain as rules

Code = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
NonNegativeDecimal = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
Language = Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")]


def _local_text(value: object, info: ValidationInfo) -> str | dict[str, str]:
    """A text members read: one non-empty string, or a map of them by language that names only the program's
    languages and includes the first (the fallback). The languages come in the validation context
    (``ProgramFile.read``); stored definitions, checked when they were applied, come without."""
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("the text is empty")
        return value
    if not isinstance(value, dict) or not value:
        raise ValueError("give a text, or texts by language: {en: Free drink, et: Tasuta jook}")
    empty = sorted(str(tag) for tag, text in value.items() if not isinstance(text, str) or not text.strip())
    if empty:
        raise ValueError(f"{', '.join(empty)}: the text is empty")
    languages = (info.context or {}).get("languages")
    if languages:
        unknown = sorted(set(value) - set(languages))
        if unknown:
            raise ValueError(f"{', '.join(unknown)}: not among the program's languages ({', '.join(languages)})")
        if languages[0] not in value:
            raise ValueError(f"give the text in {languages[0]}, the program's first language (the fallback)")
    return value


LocalText = Annotated[str | dict[str, str], PlainValidator(_local_text, json_schema_input_type=str | dict[str, str])]
"""A text members read: one string (in the program's first language) or a map by language (``i18n.text``)."""


def _optional_local_text(value: object, info: ValidationInfo) -> str | dict[str, str]:
    return "" if value == "" else _local_text(value, info)


OptionalLocalText = Annotated[
    str | dict[str, str], PlainValidator(_optional_local_text, json_schema_input_type=str | dict[str, str])
]
"""``LocalText``, or ``""`` for none."""


def _follow_up(value: object, info: ValidationInfo) -> bool | str | dict[str, str]:
    return value if isinstance(value, bool) else _local_text(value, info)


FollowUp = Annotated[
    bool | str | dict[str, str], PlainValidator(_follow_up, json_schema_input_type=bool | str | dict[str, str])
]
"""A survey's follow-up question: ``true`` for ours, ``false`` for none, or the program's own ``LocalText``."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class LineSelector(Strict):
    categories: list[str] = []
    skus: list[str] = []
    exclude_categories: list[str] = []
    exclude_skus: list[str] = []

    def to_domain(self) -> rules.LineFilter:
        return rules.LineFilter(
            frozenset(self.categories),
            frozenset(self.skus),
            frozenset(self.exclude_categories),
            frozenset(self.exclude_skus),
        )


def unique(codes: list[str], what: str) -> None:
    duplicates = sorted({code for code in codes if codes.count(code) > 1})
    if duplicates:
        raise ValueError(f"{what} codes must be unique; repeated: {', '.join(duplicates)}")


class GiftSpec(Strict):
    """What a mechanic gives a member (a referral, a birthday): points, a reward of the file's ``rewards`` as a coupon
    without spending points, or both."""

    points: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    reward: Code | None = None
    """A reward of ``rewards``, whose coupon is given without spending points."""

    @model_validator(mode="after")
    def _something_given(self) -> Self:
        if self.points == 0 and self.reward is None:
            raise ValueError("give points, a reward, or both")
        return self

    def rewards(self) -> list[str]:
        return [self.reward] if self.reward is not None else []
