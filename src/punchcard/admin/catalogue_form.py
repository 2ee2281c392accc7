"""The program editor's forms for tiers (and the tiers' settings) and rewards, covering every key the file format
has for them (tests check it against ``program.schemas``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from punchcard.admin import form_values as values
from punchcard.admin.item_form import Group, Input, ItemForm, Rows, Submitted, first, row_count
from punchcard.admin.rule_form import LINE_KEYS
from punchcard.tier.domain import Metric, WindowKind

BENEFITS = {
    "amount_off": "An amount off",
    "percent_off": "A percentage off",
    "free_shipping": "Free shipping",
    "free_product": "A free product",
}


def tier_form(*, new: bool) -> ItemForm:
    return ItemForm(
        (
            Group(
                "The tier",
                (
                    Input("code", "Code", "text", hint="Lower-case letters, digits, - and _.", fixed=not new),
                    Input("name", "Name", "texts"),
                    Input("threshold", "Threshold", hint="What a member must reach in the window (0 for the first)."),
                    Input("multiplier", "Earning multiplier", hint="Applied by a rule that multiplies by “tier”."),
                ),
                "Tiers are kept in the order of their thresholds.",
            ),
        ),
        rows=(
            Rows(
                "perks",
                "Perks",
                (Input("code", "Perk code", "text"), Input("name", "Perk name", "texts")),
                "What the tier gives besides its multiplier; the shop delivers it. Members read the name; a perk "
                "without one is shown to no member.",
            ),
        ),
        read_extra=_read_perks,
        fill_extra=_fill_perks,
    )


def _read_perks(submitted: Submitted, item: dict[str, Any], languages: list[str]) -> None:
    flat = {key: first(submitted, key) for key in submitted}
    perks: list[str | dict[str, Any]] = []
    for n in range(row_count(submitted, "perks")):
        code = first(submitted, f"perks.{n}.code")
        name = values.texts(flat, f"perks.{n}.name", languages)
        if code or name:
            perks.append({"code": code, "name": name} if name else code)
    if perks:
        item["perks"] = perks


def _fill_perks(item: Mapping[str, Any], filled: dict[str, Any], languages: list[str]) -> None:
    for n, perk in enumerate(item.get("perks", [])):
        perk = perk if isinstance(perk, Mapping) else {"code": perk}
        filled[f"perks.{n}.code"] = str(perk["code"])
        filled.update(values.text_inputs(perk.get("name", ""), f"perks.{n}.name", languages))


def tier_settings_form() -> ItemForm:
    return ItemForm(
        (
            Group(
                "How tiers are earned",
                (
                    Input("metric", "Counted on", "choice", tuple(metric.value for metric in Metric)),
                    Input("window.kind", "Over", "choice", tuple(kind.value for kind in WindowKind)),
                    Input("window.months", "Months (for rolling months)"),
                    Input("grace_days", "Grace before a downgrade (days)"),
                ),
            ),
        )
    )


def reward_form(tier_codes: list[str], *, new: bool) -> ItemForm:
    return ItemForm(
        (
            Group(
                "The reward",
                (
                    Input("code", "Code", "text", hint="Lower-case letters, digits, - and _.", fixed=not new),
                    Input("name", "Name", "texts"),
                    Input("description", "Description", "texts"),
                    Input("cost", "Cost in points"),
                    Input("enabled", "Offered to members", "flag", default=True),
                ),
            ),
            Group(
                "What it gives",
                (
                    Input("benefit.kind", "Gives", "choice", tuple(BENEFITS)),
                    Input("benefit.amount", "Amount or percentage", hint="For an amount or a percentage off."),
                    Input("benefit.free_product.sku", "Free product's SKU", "text"),
                    Input("benefit.free_product.name", "Free product's name", "texts"),
                ),
            ),
            Group(
                "Conditions of the coupon",
                (
                    Input("min_order_total", "Minimum order total"),
                    *(Input(f"lines.{key}", f"Discounted lines: {label.lower()}", "list") for key, label in LINE_KEYS),
                    Input("coupon_valid_days", "Coupon valid for (days)"),
                ),
            ),
            Group(
                "Who and when",
                (
                    Input("min_tier", "Lowest tier", "choice", ("", *tier_codes)),
                    Input("limit_per_member", "At most per member"),
                    Input("available.from", "Available from", "text", hint="A date and time with its offset."),
                    Input("available.until", "Available until", "text", hint="2027-01-01T00:00:00+02:00"),
                ),
            ),
        ),
        read_extra=_read_benefit,
        fill_extra=_fill_benefit,
        locate=_locate,
    )


def _read_benefit(submitted: Submitted, item: dict[str, Any], languages: list[str]) -> None:
    benefit = item.get("benefit", {})
    kind, amount, product = benefit.pop("kind", ""), benefit.pop("amount", None), benefit.pop("free_product", {})
    if kind in ("amount_off", "percent_off"):
        item["benefit"] = {kind: "" if amount is None else amount}
    elif kind == "free_shipping":
        item["benefit"] = {"free_shipping": True}
    elif kind == "free_product":
        item["benefit"] = {"free_product": product}
    else:
        item["benefit"] = {}


def _fill_benefit(item: Mapping[str, Any], filled: dict[str, Any], languages: list[str]) -> None:
    benefit = item.get("benefit", {})
    kind = next((key for key in BENEFITS if key in benefit), "amount_off")
    filled["benefit.kind"] = kind
    if kind in ("amount_off", "percent_off") and kind in benefit:
        filled["benefit.amount"] = str(benefit[kind])
    if kind == "free_product" and isinstance(benefit[kind], str):
        filled["benefit.free_product.sku"] = benefit[kind]  # the short form, free_product: SKU


def _locate(path: str, submitted: Submitted) -> str:
    if path == "benefit":
        return "benefit.kind"
    if path.startswith(("benefit.amount_off", "benefit.percent_off")):
        return "benefit.amount"
    return path
