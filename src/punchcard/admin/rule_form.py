"""The earning rule's form in the program editor: every condition and action the rules engine knows.

The choices come from the program file's schema (``program.schemas.Conditions`` and ``Action``): a test fails when a
condition or action is added there and not here, so the editor never offers less than the file format. A rule gives
exactly one action; the form asks which (``then.kind``) and how much (``then.amount``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from punchcard.admin import form_values as values
from punchcard.admin.item_form import Group, Input, ItemForm, Rows, Submitted, first, row_count
from punchcard.kit.calendar import Period
from punchcard.rules.domain import MEMBER_ENROLLED, PURCHASE, WEEKDAYS

ACTIONS = {
    "points_per_currency_unit": "Points per currency unit spent",
    "points": "A fixed number of points",
    "multiply_by": "Multiply the points the other rules give",
    "cashback_percent": "Cashback: a percentage as store credit",
}
"""The actions, by their key in the file; ``multiply_by`` takes a number or ``tier`` (the member's tier multiplier)."""

ACTION_MODIFIERS = ("lines", "include_shipping")
"""The action's keys that refine ``points_per_currency_unit`` (and ``cashback_percent``'s lines) rather than being an
action of their own."""

TESTS = {"equals": "equals", "one_of": "is one of", "between": "is between"}
"""How an attribute is tested (``between`` is the file's ``min``/``max``)."""

ATTRIBUTE_ROWS = {"member": "The member's attributes", "attributes": "The event's attributes"}
ATTRIBUTE_COLUMNS = (
    Input("name", "Attribute", "text"),
    Input("test", "Test", "choice", tuple(TESTS)),
    Input("value", "Value (or values, comma-separated)", "text"),
    Input("min", "At least"),
    Input("max", "At most"),
)
ATTRIBUTE_HINT = (
    "Each named attribute must pass its test. Values are read as a file reads them: true, false, numbers, text."
)

LINE_KEYS = (
    ("categories", "Categories"),
    ("skus", "SKUs"),
    ("exclude_categories", "Except categories"),
    ("exclude_skus", "Except SKUs"),
)


def _lines(path: str) -> tuple[Input, ...]:
    return tuple(Input(f"{path}.{key}", label, "list") for key, label in LINE_KEYS)


def condition_groups(tier_codes: list[str], plan_codes: list[str]) -> tuple[Group, ...]:
    """One group per condition of ``program.schemas.Conditions`` that plain inputs can hold."""
    return (
        Group(
            "Order total",
            (Input("if.order_total.min", "At least"), Input("if.order_total.max", "At most")),
            "The merchandise value, shipping excluded.",
            key="order_total",
        ),
        Group("Has a line", _lines("if.has_lines"), "The order has at least one such line.", key="has_lines"),
        Group("Tier", (Input("if.tier", "Members in", "choices", tuple(tier_codes)),), key="tier"),
        Group(
            "Paid plan",
            (Input("if.plan", "Members on", "choices", tuple(plan_codes)),),
            "The membership is current: in its trial, paid, or in a payment's grace.",
            key="plan",
        ),
        Group(
            "Perk",
            (Input("if.has_perk", "Members with", "list"),),
            "A perk of their tier or their plan: free_shipping, earn_multiplier, your own codes…",
            key="has_perk",
        ),
        Group("Weekday", (Input("if.weekdays", "On", "choices", WEEKDAYS),), "In the program's time zone.", "weekdays"),
        Group(
            "Dates",
            (Input("if.dates.from", "From", "date"), Input("if.dates.to", "Until", "date")),
            "Both days included, in the program's time zone.",
            key="dates",
        ),
    )


def form(tier_codes: list[str], *, new: bool, event_types: list[str], plan_codes: list[str]) -> ItemForm:
    periods = tuple(period.value for period in Period)
    known_events = tuple(dict.fromkeys([PURCHASE, MEMBER_ENROLLED, *event_types]))
    rule = Group(
        "The rule",
        (
            Input("code", "Code", "text", hint="Lower-case letters, digits, - and _.", fixed=not new),
            Input("name", "Name", "texts", hint="Members read it in their history."),
            Input("when", "When", "text", known_events, hint="The event type: purchase, member_enrolled or your own."),
            Input("priority", "Priority", hint="Higher goes first; it matters only with “stop”."),
            Input("enabled", "Enabled", "flag", default=True),
        ),
    )
    action = Group(
        "What it gives",
        (
            Input("then.kind", "Gives", "choice", tuple(ACTIONS)),
            Input("then.amount", "How many", hint="Points, a rate, a factor (“tier” for the tier's), or a percentage."),
            *_lines("then.lines"),
            Input("then.include_shipping", "Shipping earns too", "flag"),
        ),
        "Categories and SKUs choose the lines a rate or a cashback counts; empty means every line.",
    )
    limits = Group(
        "Limits",
        (
            Input("limit.times", "At most (times)"),
            Input("limit.per", "Per", "choice", ("", *periods)),
            Input("max_points", "At most (points per event)"),
            Input("stop", "Stop here: no lower-priority rule adds points", "flag"),
        ),
    )
    return ItemForm(
        (rule, *condition_groups(tier_codes, plan_codes), action, limits),
        rows=tuple(
            Rows(f"if.{key}", title, ATTRIBUTE_COLUMNS, ATTRIBUTE_HINT) for key, title in ATTRIBUTE_ROWS.items()
        ),
        read_extra=_read_extra,
        fill_extra=_fill_extra,
        locate=_locate,
    )


def _read_extra(submitted: Submitted, item: dict[str, Any], languages: list[str]) -> None:
    then = item.setdefault("then", {})
    kind, amount = then.pop("kind", ""), then.pop("amount", None)
    if kind in ACTIONS:
        then[kind] = "" if amount is None else amount  # an empty amount is refused as such, on its input
    for key in ATTRIBUTE_ROWS:
        tests = _attribute_tests(submitted, f"if.{key}")
        if tests:
            values.put(item, f"if.{key}", tests)


def _attribute_tests(submitted: Submitted, path: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for n in range(row_count(submitted, path)):
        name = first(submitted, f"{path}.{n}.name")
        if not name:
            continue
        test, value = first(submitted, f"{path}.{n}.test"), first(submitted, f"{path}.{n}.value")
        if test == "between":
            bounds = {key: first(submitted, f"{path}.{n}.{key}") for key in ("min", "max")}
            found[name] = {key: values.scalar(text) for key, text in bounds.items() if text}
        elif test == "one_of":
            found[name] = {"one_of": [values.typed(each) for each in values.words(value)]}
        else:
            found[name] = {"equals": values.typed(value)}
    return found


def _fill_extra(item: Mapping[str, Any], filled: dict[str, Any], languages: list[str]) -> None:
    then = item.get("then", {})
    kind = next((key for key in ACTIONS if key in then), "points_per_currency_unit")
    filled["then.kind"], filled["then.amount"] = kind, values.shown(then.get(kind))
    for key in ATTRIBUTE_ROWS:
        tests = values.get(item, f"if.{key}") or {}
        for n, (name, test) in enumerate(tests.items()):
            row = f"if.{key}.{n}"
            filled[f"{row}.name"] = name
            if "one_of" in test:
                filled[f"{row}.test"], filled[f"{row}.value"] = "one_of", values.shown(test["one_of"])
            elif "equals" in test:
                filled[f"{row}.test"], filled[f"{row}.value"] = "equals", values.shown(test["equals"])
            else:
                filled[f"{row}.test"] = "between"
                filled[f"{row}.min"], filled[f"{row}.max"] = (
                    values.shown(test.get("min")),
                    values.shown(test.get("max")),
                )


def _locate(path: str, submitted: Submitted) -> str:
    """Errors about the action stand on its inputs; an attribute test's on the row that names the attribute."""
    if path == "then":
        return "then.kind"
    if any(path.startswith(f"then.{key}") for key in ACTIONS):
        return "then.amount"
    for key in ATTRIBUTE_ROWS:
        prefix = f"if.{key}."
        if path.startswith(prefix):
            name = path[len(prefix) :].split(".")[0]
            for n in range(row_count(submitted, f"if.{key}")):
                if first(submitted, f"if.{key}.{n}.name") == name:
                    test = first(submitted, f"if.{key}.{n}.test")
                    return f"if.{key}.{n}.{'min' if test == 'between' else 'value'}"
    return path


CONDITION_NAMES = {
    "order_total": "order total",
    "has_lines": "has a line",
    "tier": "tier",
    "plan": "paid plan",
    "has_perk": "perk",
    "weekdays": "weekday",
    "dates": "dates",
    "member": "member attributes",
    "attributes": "event attributes",
}


def gives(rule: Mapping[str, Any]) -> str:
    """What a rule of the file gives, in a few words, for the editor's list."""
    then = rule.get("then", {})
    if "points_per_currency_unit" in then:
        return f"{then['points_per_currency_unit']} per currency unit"
    if "points" in then:
        return f"{then['points']} points"
    if "cashback_percent" in then:
        return f"{then['cashback_percent']}% cashback"
    factor = then.get("multiply_by")
    return "× the tier's multiplier" if factor == "tier" else f"× {factor}"


def conditions(rule: Mapping[str, Any]) -> str:
    return ", ".join(CONDITION_NAMES.get(key, key) for key in rule.get("if", {})) or "none"
