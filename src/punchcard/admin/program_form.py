"""The form for the common parts of a program — its name, point value, expiry, return policy, tiers, earning rates and
reward costs — as edits to the program file itself.

Each input is named by its path in the file (``rewards.0.cost``), which is also where ``program apply``'s validation
puts an error, so every error lands next to its field. The edited file is written back as YAML: the console keeps no
comments or layout of the original (see docs/decisions.md), and the version history shows exactly what changed.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from punchcard.admin.form_values import put, scalar
from punchcard.ledger.domain import ReturnPolicy
from punchcard.program import service as program_service

NEVER = "never"
NEVER_HINT = "Leave empty for points that never expire."


@dataclass(frozen=True)
class Field:
    path: str
    label: str
    value: str
    numeric: bool = True
    options: tuple[str, ...] = ()
    hint: str = ""


@dataclass(frozen=True)
class Section:
    path: str
    """Where errors about the section as a whole point (``tiers`` for thresholds that do not ascend)."""
    title: str
    fields: tuple[Field, ...]


def load(text: str, source_format: str) -> dict[str, Any]:
    """The program file's mapping as written (the stored text has been validated when it was applied)."""
    raw = program_service.load(text, source_format)
    assert isinstance(raw, dict)
    return raw


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _expiry(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    expiry = raw.get("points", {}).get("expiry", NEVER)
    return expiry if isinstance(expiry, dict) else {}


def item_name(item: Mapping[str, Any]) -> str:
    """A rule's, tier's or reward's name for a label: as written, or its first translation (the file lists the
    program's first language first)."""
    name = item.get("name")
    if isinstance(name, dict):
        name = next(iter(name.values()), None)
    return str(name or item.get("code"))


def _program(raw: Mapping[str, Any]) -> Section:
    currency = raw.get("currency")
    name, first = raw.get("name"), (raw.get("languages") or ["en"])[0]
    if isinstance(name, dict):  # the form edits the first language's text and keeps the translations
        field = Field(f"name.{first}", f"Name ({first})", _text(name.get(first)), numeric=False)
    else:
        field = Field("name", "Name", _text(name), numeric=False)
    return Section(
        "",
        "Program",
        (
            field,
            Field("point_value", f"What one point costs you ({currency})", _text(raw.get("point_value", 0))),
        ),
    )


def _points(raw: Mapping[str, Any]) -> Section:
    points = raw.get("points", {})
    months = _text(_expiry(raw).get("after_months"))
    policies = tuple(policy.value for policy in ReturnPolicy)
    policy = _text(points.get("return_policy", ReturnPolicy.UNLIMITED.value))
    return Section(
        "points",
        "Points",
        (
            Field("points.expiry.after_months", "Points expire after (months)", months, hint=NEVER_HINT),
            Field("points.pending_days", "Pending for (days after a purchase)", _text(points.get("pending_days", 0))),
            Field("points.return_policy", "Return policy", policy, numeric=False, options=policies),
        ),
    )


def _tiers(tiers: Mapping[str, Any]) -> Section:
    fields = [Field("tiers.grace_days", "Grace before a downgrade (days)", _text(tiers.get("grace_days", 0)))]
    for i, level in enumerate(tiers.get("levels", [])):
        fields += [
            Field(f"tiers.levels.{i}.threshold", f"{item_name(level)}: threshold", _text(level.get("threshold"))),
            Field(f"tiers.levels.{i}.multiplier", f"{item_name(level)}: multiplier", _text(level.get("multiplier", 1))),
        ]
    return Section("tiers", "Tiers", tuple(fields))


def _rate(index: int, rule: Mapping[str, Any]) -> Field | None:
    """The number that says how much a rule gives; the tier multiplier rule has none to edit."""
    then = rule.get("then", {})
    named = (
        ("points_per_currency_unit", "points per currency unit"),
        ("points", "points"),
        ("cashback_percent", "% cashback"),
    )
    for key, label in named:
        if key in then:
            return Field(f"earning_rules.{index}.then.{key}", f"{item_name(rule)}: {label}", _text(then[key]))
    if then.get("multiply_by", "tier") != "tier":
        return Field(
            f"earning_rules.{index}.then.multiply_by", f"{item_name(rule)}: multiply by", _text(then["multiply_by"])
        )
    return None


def sections(raw: Mapping[str, Any]) -> list[Section]:
    found = [_program(raw), _points(raw)]
    if isinstance(raw.get("tiers"), dict):
        found.append(_tiers(raw["tiers"]))
    rates = [field for i, rule in enumerate(raw.get("earning_rules", [])) if (field := _rate(i, rule)) is not None]
    if rates:
        found.append(Section("earning_rules", "Earning rules", tuple(rates)))
    costs = [
        Field(f"rewards.{i}.cost", f"{item_name(reward)}: cost in points", _text(reward.get("cost")))
        for i, reward in enumerate(raw.get("rewards", []))
    ]
    if costs:
        found.append(Section("rewards", "Rewards", tuple(costs)))
    return found


def paths(raw: Mapping[str, Any]) -> set[str]:
    """Every place an error can be shown on the form: the fields and the sections."""
    return {f.path for s in sections(raw) for f in s.fields} | {s.path for s in sections(raw)}


def form_path(field: str, fields: set[str] | frozenset[str] = frozenset()) -> str:
    """An error's field as the form names it: without the union member Pydantic puts in the path
    (``points.expiry.Expiry.after_months`` is the form's ``points.expiry.after_months``), and an error about a
    translated text on the one input of it the form has (``name`` is the form's ``name.en``)."""
    path = ".".join(part for part in field.split(".") if not (part[:1].isupper() or "[" in part))
    inside = [known for known in fields if known.startswith(path + ".")] if path not in fields else []
    return inside[0] if len(inside) == 1 else path


def edited(raw: Mapping[str, Any], form: Mapping[str, str]) -> dict[str, Any]:
    """The program file with the form's values in place of the current ones."""
    changed = copy.deepcopy(dict(raw))
    for section in sections(raw):
        for field in section.fields:
            if field.path not in form:
                continue
            given = form[field.path]
            if field.path == "points.expiry.after_months":
                _set_expiry(changed, given)
            else:
                put(changed, field.path, scalar(given) if field.numeric else given.strip())
    return changed


def _set_expiry(raw: dict[str, Any], months: str) -> None:
    points = raw.setdefault("points", {})
    expiry = dict(_expiry(raw))
    if months.strip():
        expiry["after_months"] = scalar(months)
    else:
        expiry.pop("after_months", None)
    points["expiry"] = expiry or NEVER


def to_yaml(raw: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(raw), sort_keys=False, allow_unicode=True, default_flow_style=False)
