"""Changes the program editor makes to a program file's mapping: put an earning rule, tier or reward (new or
changed), move one, switch one off or on, remove one, or change how tiers are earned.

Each returns a new mapping and a sentence saying what it does, which heads the review page and is the default note
in the audit log. Nothing here validates: the changed file goes through ``program apply``'s validation like any
other, so an impossible change is refused with the same message.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from punchcard.admin.program_form import item_name


class Kind(StrEnum):
    RULES = "rules"
    TIERS = "tiers"
    REWARDS = "rewards"

    @property
    def noun(self) -> str:
        return {Kind.RULES: "earning rule", Kind.TIERS: "tier", Kind.REWARDS: "reward"}[self]


PRIORITY_STEP = 10
"""The gap between the priorities the editor writes when it reorders rules, room to slot one in by hand."""

NEW_TIERS = {"metric": "points", "window": {"kind": "rolling_months", "months": 12}}
"""How tiers are earned when the first tier is added to a program without any (changed in the tier settings)."""


@dataclass(frozen=True)
class Change:
    raw: dict[str, Any]
    summary: str
    path: str = ""
    """Where the item changed sits in the new file (``earning_rules.3.``), for its errors to find its form."""


LIST_PATHS = {Kind.RULES: "earning_rules", Kind.TIERS: "tiers.levels", Kind.REWARDS: "rewards"}


def items(raw: Mapping[str, Any], kind: Kind) -> list[dict[str, Any]]:
    """The rules, tiers or rewards as the file lists them."""
    if kind is Kind.TIERS:
        return list((raw.get("tiers") or {}).get("levels", []))
    return list(raw.get("earning_rules" if kind is Kind.RULES else "rewards", []))


def _set_items(raw: dict[str, Any], kind: Kind, found: list[dict[str, Any]]) -> None:
    if kind is Kind.TIERS:
        if found:
            raw["tiers"] = {**(raw.get("tiers") or NEW_TIERS), "levels": found}
        else:
            raw.pop("tiers", None)
    else:
        raw["earning_rules" if kind is Kind.RULES else "rewards"] = found


def evaluation_order(rules: list[dict[str, Any]]) -> list[int]:
    """The rules' indexes in the order the engine runs them: priority, highest first, then code."""
    return sorted(range(len(rules)), key=lambda i: (-_number(rules[i].get("priority", 0)), str(rules[i].get("code"))))


def _number(value: object) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal(0)


def _quoted(kind: Kind, item: Mapping[str, Any]) -> str:
    return f"the {kind.noun} “{item_name(item)}”"


def put(raw: Mapping[str, Any], kind: Kind, index: int | None, item: dict[str, Any]) -> Change:
    """``item`` in place of the one at ``index``, or added when ``index`` is ``None`` (a tier takes its place by
    threshold: tiers are kept in ascending order)."""
    changed = copy.deepcopy(dict(raw))
    found = items(changed, kind)
    if index is None:
        found.append(item)
        summary = f"Add {_quoted(kind, item)}"
    else:
        found[index] = item
        summary = f"Change {_quoted(kind, item)}"
    if kind is Kind.TIERS:
        found.sort(key=lambda level: _number(level.get("threshold", 0)))
    _set_items(changed, kind, found)
    position = next(i for i, each in enumerate(found) if each is item)
    return Change(changed, summary, f"{LIST_PATHS[kind]}.{position}.")


def move(raw: Mapping[str, Any], kind: Kind, index: int, step: int) -> Change:
    """Move a rule or reward one place up (``step`` −1) or down (+1). Rules move in the order they run, and the
    editor writes every rule's priority so that the order shown is the order run."""
    changed = copy.deepcopy(dict(raw))
    found = items(changed, kind)
    order = evaluation_order(found) if kind is Kind.RULES else list(range(len(found)))
    place = order.index(index)
    other = place + step
    if not 0 <= other < len(order):
        return Change(changed, f"Keep {_quoted(kind, found[index])} where it is")
    order[place], order[other] = order[other], order[place]
    moved = [found[i] for i in order]
    if kind is Kind.RULES:
        for place, rule in enumerate(moved):
            rule["priority"] = (len(moved) - place) * PRIORITY_STEP
    _set_items(changed, kind, moved)
    return Change(changed, f"Move {_quoted(kind, found[index])} {'up' if step < 0 else 'down'}")


def switch(raw: Mapping[str, Any], kind: Kind, index: int) -> Change:
    """Switch a rule or reward off (``enabled: false``) or back on (the key removed: on is the default)."""
    changed = copy.deepcopy(dict(raw))
    found = items(changed, kind)
    item = found[index]
    if item.get("enabled", True):
        item["enabled"] = False
        verb = "Disable" if kind is Kind.RULES else "Withdraw"
    else:
        item.pop("enabled")
        verb = "Enable" if kind is Kind.RULES else "Offer again"
    _set_items(changed, kind, found)
    return Change(changed, f"{verb} {_quoted(kind, item)}")


def remove(raw: Mapping[str, Any], kind: Kind, index: int) -> Change:
    changed = copy.deepcopy(dict(raw))
    found = items(changed, kind)
    gone = found.pop(index)
    _set_items(changed, kind, found)
    return Change(changed, f"Remove {_quoted(kind, gone)}")


def tier_settings(raw: Mapping[str, Any], settings: Mapping[str, Any]) -> Change:
    """How tiers are earned (metric, window, grace), the levels kept."""
    changed = copy.deepcopy(dict(raw))
    levels = items(changed, Kind.TIERS)
    changed["tiers"] = {**settings, "levels": levels}
    return Change(changed, "Change how tiers are earned", "tiers.")
