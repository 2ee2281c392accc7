"""The visual program editor: the program's earning rules, tiers and rewards as lists to change one at a time, each
change reviewed before it is saved, and saved as the program's next version.

A change is a new program file (``admin.draft``) that goes through ``program apply``'s validation on every step, so
the editor refuses what the command line refuses, with the same messages, each next to its input. The review shows
the change as a diff and what it would do (``admin.impact``); the file travels in the review's form, with the version
it was made from, and saving it when another version has been applied since is refused rather than undoing that
version's change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi.responses import HTMLResponse

from punchcard.admin import draft, impact, item_form, program_form, programs, rule_form
from punchcard.admin.catalogue_form import reward_form, tier_form, tier_settings_form
from punchcard.admin.draft import Change, Kind
from punchcard.admin.frame import Frame
from punchcard.admin.item_form import ItemForm, Submitted
from punchcard.admin.preview import Basket, basket
from punchcard.kit.errors import NotFound
from punchcard.program import service as program_service
from punchcard.program.errors import ProgramChanged, ProgramFileInvalid
from punchcard.program.schemas import ProgramFile
from punchcard.rules.domain import Evaluation


def languages(frame: Frame) -> list[str]:
    assert frame.version is not None
    return list(frame.version.program.languages)


def form_for(frame: Frame, raw: Mapping[str, Any], kind: Kind, new: bool) -> ItemForm:
    tier_codes = [str(level.get("code")) for level in draft.items(raw, Kind.TIERS)]
    if kind is Kind.RULES:
        used = sorted({str(rule.get("when")) for rule in draft.items(raw, Kind.RULES) if rule.get("when")})
        plans = [str(plan.get("code")) for plan in raw.get("membership_plans") or [] if isinstance(plan, Mapping)]
        return rule_form.form(tier_codes, new=new, event_types=used, plan_codes=plans)
    return tier_form(new=new) if kind is Kind.TIERS else reward_form(tier_codes, new=new)


def check_base(frame: Frame, base: str) -> None:
    """Refuse a step made from another version than the one in force (409): its indexes and file are stale."""
    assert frame.version is not None
    if base != str(frame.version.version):
        raise ProgramChanged(
            f"version {frame.version.version} was applied while this change was being made from version {base}; "
            "open the editor again to make it on the program in force",
            [{"field": "base", "message": f"is {base}, the program is at version {frame.version.version}"}],
        )


def item_at(raw: Mapping[str, Any], kind: Kind, index: int) -> dict[str, Any]:
    found = draft.items(raw, kind)
    if not 0 <= index < len(found):
        raise NotFound(f"the program has no {kind.noun} number {index + 1}")
    return found[index]


def overview_page(frame: Frame, status: int = 200, error: ProgramFileInvalid | None = None) -> HTMLResponse:
    _, raw = programs.current_file(frame)
    rules = draft.items(raw, Kind.RULES)
    return frame.page(
        "editor.html",
        status,
        rules=[(i, rules[i]) for i in draft.evaluation_order(rules)],
        tiers=list(enumerate(draft.items(raw, Kind.TIERS))),
        rewards=list(enumerate(draft.items(raw, Kind.REWARDS))),
        tier_settings=raw.get("tiers"),
        error=error,
        name=program_form.item_name,
        gives=rule_form.gives,
        conditions=rule_form.conditions,
    )


@dataclass(frozen=True)
class Refusal:
    """A form whose change the validation refused: what was posted, why, and where the item sits in the refused
    file (its errors' paths start there)."""

    submitted: Submitted
    error: ProgramFileInvalid
    path: str


def item_page(
    frame: Frame, kind: Kind, index: int | None, status: int = 200, refused: Refusal | None = None
) -> HTMLResponse:
    """An item's form: prefilled from the file, or after a refusal as it was typed with each error by its input."""
    _, raw = programs.current_file(frame)
    item = item_at(raw, kind, index) if index is not None else {}
    title = f"A new {kind.noun}" if index is None else f"The {kind.noun} “{program_form.item_name(item)}”"
    action = f"{kind}/new" if index is None else f"{kind}/{index}"
    return _form_page(frame, form_for(frame, raw, kind, index is None), item, title, action, status, refused)


def settings_page(frame: Frame, status: int = 200, refused: Refusal | None = None) -> HTMLResponse:
    _, raw = programs.current_file(frame)
    settings = raw.get("tiers") or draft.NEW_TIERS
    return _form_page(frame, tier_settings_form(), settings, "How tiers are earned", "tiers/settings", status, refused)


def _form_page(
    frame: Frame,
    form: ItemForm,
    item: Mapping[str, Any],
    title: str,
    action: str,
    status: int,
    refused: Refusal | None,
) -> HTMLResponse:
    filled = (
        item_form.echoed(form, refused.submitted, item)
        if refused is not None
        else item_form.fill(form, item, languages(frame))
    )
    placed, others = _placed_errors(frame, form, refused)
    return frame.page(
        "editor_item.html",
        status,
        action=action,
        form=form,
        values=filled,
        rows={group.path: item_form.row_count(filled, group.path) + 1 for group in form.rows},
        title=title,
        error=refused.error if refused else None,
        field_errors=placed,
        other_errors=others,
        languages=languages(frame),
    )


def _placed_errors(
    frame: Frame, form: ItemForm, refused: Refusal | None
) -> tuple[dict[str, str], list[dict[str, str]]]:
    """Each error of the refused file by the input it is about; the others (about the rest of the file) apart."""
    if refused is None:
        return {}, []
    known = item_form.names(form, languages(frame)) | set(refused.submitted)
    placed: dict[str, str] = {}
    others = []
    for detail in refused.error.details:
        field = program_form.form_path(detail.get("field", ""))
        inside = field[len(refused.path) :] if field.startswith(refused.path) else None
        target = item_form.input_path(form, inside, refused.submitted, known, languages(frame)) if inside else None
        if target is not None and target in known and target not in placed:
            placed[target] = detail["message"]
        else:
            others.append(detail)
    return placed, others


@dataclass(frozen=True)
class Proposal:
    """A change on its way to being saved: the file it makes, the version it was made from, and what it does."""

    base: int
    text: str
    summary: str
    program_file: ProgramFile

    @classmethod
    def checked(cls, frame: Frame, change: Change) -> Proposal:
        """The change's file, validated as ``program apply`` validates it (``ProgramFileInvalid`` otherwise)."""
        return cls.of_text(frame, program_form.to_yaml(change.raw), change.summary)

    @classmethod
    def of_text(cls, frame: Frame, text: str, summary: str) -> Proposal:
        assert frame.version is not None
        program_file = program_service.parse_text(text, "yaml")
        slug = frame.version.program.slug
        if program_file.slug != slug:
            message = f"must stay {slug}: the editor changes this program"
            raise ProgramFileInvalid(
                f"the program file is invalid: slug: {message}", [{"field": "slug", "message": message}]
            )
        return cls(frame.version.version, text, summary, program_file)


@dataclass(frozen=True)
class Compared:
    """One rule's points for the basket now and after the change."""

    code: str
    name: object
    now: int
    after: int


def compared(now: Evaluation, after: Evaluation) -> list[Compared]:
    rows: dict[str, Compared] = {}
    for award in now.awards:
        rows[award.rule_code] = Compared(award.rule_code, award.rule_name, award.points, 0)
    for award in after.awards:
        before = rows.get(award.rule_code)
        rows[award.rule_code] = Compared(award.rule_code, award.rule_name, before.now if before else 0, award.points)
    return list(rows.values())


def review_page(
    frame: Frame, proposal: Proposal, now: datetime, query: Mapping[str, Sequence[str]] | None = None
) -> HTMLResponse:
    """The change as a diff and what it would do, with the form that saves it."""
    assert frame.version is not None
    _, raw = programs.current_file(frame)
    chosen: Basket = basket(query) if query else impact.default_basket(frame.session, frame.version.program_id, now)
    found = impact.impact(frame.session, frame.version, proposal.program_file.to_domain(), chosen, now)
    earning = found.earning
    return frame.page(
        "editor_review.html",
        proposal=proposal,
        diff=programs.diff_texts(program_form.to_yaml(raw), proposal.text),
        impact=found,
        basket=earning.basket,
        errors=earning.errors,
        rows=compared(earning.now, earning.after) if earning.now and earning.after else [],
    )
