"""The program editor: a marketer adds, changes, reorders, switches off and removes earning rules, tiers and rewards
without touching the file. Every change is checked exactly as `punchcard program apply` checks a file (same
messages, each next to its input), is reviewed with what it would do (a basket now and after, members who would
change tier, the points' liability) before it is saved, and is saved as the next version with its diff."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from tests.admin.conftest import Console, audit_entries, metric
from tests.admin.test_program import field_error, problem, source_of, version_of
from tests.factories import ApiClient, line

from punchcard.admin import draft, item_form, program_form
from punchcard.admin.catalogue_form import BENEFITS, reward_form, tier_form, tier_settings_form
from punchcard.admin.rule_form import ACTION_MODIFIERS, ACTIONS, ATTRIBUTE_ROWS, condition_groups
from punchcard.admin.rule_form import form as rule_form
from punchcard.program.schemas import (
    Action,
    BenefitSpec,
    Conditions,
    PerkSpec,
    ProgramFile,
    RewardSpec,
    TierLevel,
    Tiers,
)
from punchcard.staff.domain import Action as Audited
from punchcard.staff.domain import Role

LANGUAGES = ["en", "et", "fi", "sv", "ru"]
DEMO = (Path(__file__).resolve().parents[2] / "examples" / "demo" / "program.yaml").read_text()


def hidden(page: str, name: str) -> str:
    found = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)">', page)
    assert found is not None, f"no hidden {name} on the page"
    return html.unescape(found.group(1))


def heading(page: str) -> str:
    found = re.search(r"<h1>(.*?)</h1>", page, re.S)
    assert found is not None
    return html.unescape(found.group(1))


def reviewed(response: Any) -> str:
    """The review page a change leads to (it must pass validation)."""
    assert response.status_code == 200, response.text
    assert heading(response.text).startswith("Review: "), heading(response.text)
    return str(response.text)


def save(console: Console, api: ApiClient, review: str, note: str = "") -> Any:
    form = {"base": hidden(review, "base"), "source_text": hidden(review, "source_text"), "note": note}
    return console.post(f"/admin/p/{api.slug}/program/editor/save", form)


def current_file(api: ApiClient, engine: Engine) -> dict[str, Any]:
    return program_form.load(source_of(api, engine), "yaml")


PASTRY_RULE: dict[str, str | list[str]] = {
    "base": "1",
    "code": "pastry-bonus",
    "name.en": "Pastry bonus",
    "name.et": "Saiakese boonus",
    "when": "purchase",
    "priority": "5",
    "enabled": "on",
    "then.kind": "points",
    "then.amount": "10",
    "if.has_lines.categories": "pastry, cakes",
    "if.weekdays": ["wed", "sat"],
}


@pytest.fixture
def marketer(signed_in: Callable[[Role], Console]) -> Console:
    return signed_in(Role.MARKETER)


def test_a_marketer_adds_an_earning_rule_reviews_what_it_does_and_saves_it(
    api: ApiClient, marketer: Console, engine: Engine
) -> None:
    base = f"/admin/p/{api.slug}/program/editor"
    assert f'href="{base}/rules/new"' in marketer.page(base)
    assert "Pastry bonus" not in marketer.page(f"{base}/rules/new")
    # When the marketer fills in a pastry bonus for Wednesdays and Saturdays
    review = reviewed(marketer.post(f"{base}/rules/new", PASTRY_RULE))
    # Then the review names the change and shows it as lines added to the file
    assert heading(review) == "Review: Add the earning rule “Pastry bonus”"
    assert '<span class="add">+- code: pastry-bonus</span>' in review
    assert '<span class="add">+  if:</span><span class="add">+    has_lines:</span>' in review
    # And a pastry basket bought now (the tests' today, 25 Nov 2026, is a Wednesday) earns 10 points more after
    basket = {
        "base": "1",
        "source_text": hidden(review, "source_text"),
        "summary": hidden(review, "summary"),
        "sku": ["CROISSANT"],
        "category": ["pastry"],
        "quantity": ["2"],
        "unit_price": ["3.50"],
        "shipping": "0",
        "member": "",
    }
    tried = marketer.post(f"{base}/review", basket)
    assert tried.status_code == 200
    assert (metric(tried.text, "earned-now"), metric(tried.text, "earned-after")) == ("7", "17")
    # Nothing is saved until the marketer saves
    assert version_of(api, engine) == 1
    saved = save(marketer, api, review, note="weekend pastries")
    assert (saved.status_code, saved.headers["location"]) == (
        303,
        f"/admin/p/{api.slug}/program/versions/2?notice=saved",
    )
    assert "Saved as version 2" in marketer.page(saved.headers["location"])
    rule = current_file(api, engine)["earning_rules"][-1]
    assert rule == {
        "code": "pastry-bonus",
        "name": {"en": "Pastry bonus", "et": "Saiakese boonus"},
        "when": "purchase",
        "priority": 5,
        "if": {"has_lines": {"categories": ["pastry", "cakes"]}, "weekdays": ["wed", "sat"]},
        "then": {"points": 10},
    }
    [entry] = audit_entries(engine, program_id=api.program_id, action=Audited.PROGRAM_APPLIED.value)
    assert (entry.reason, entry.details) == ("weekend pastries", {"version": 2, "previous": 1})


@pytest.mark.parametrize(
    ("change", "input_name"),
    [
        ({"then.amount": "-5"}, "then.amount"),
        ({"then.amount": ""}, "then.amount"),
        ({"code": "Pastry Bonus"}, "code"),
        ({"code": "coffee-beans"}, None),  # a duplicate code is about the list: above the form
        ({"name.en": "", "name.et": "Saiake"}, "name.en"),
        ({"if.order_total.min": "lots"}, "if.order_total.min"),
        ({"limit.times": "0", "limit.per": "month"}, "limit.times"),
        ({"if.member.0.name": "vip", "if.member.0.test": "between", "if.member.0.min": "x"}, "if.member.0.min"),
    ],
)
def test_a_refused_rule_shows_the_clis_message_by_its_input_and_saves_nothing(
    change: dict[str, str],
    input_name: str | None,
    api: ApiClient,
    marketer: Console,
    engine: Engine,
    cli_apply: Callable[[str], str],
) -> None:
    submitted: dict[str, str | list[str]] = {**PASTRY_RULE, **change}
    response = marketer.post(f"/admin/p/{api.slug}/program/editor/rules/new", submitted)
    assert response.status_code == 422
    assert version_of(api, engine) == 1
    # The same rule in a file given to `punchcard program apply` is refused with the same message
    form = rule_form([], new=True, event_types=[], plan_codes=[])
    as_posted = {key: [value] if isinstance(value, str) else value for key, value in submitted.items()}
    rule = item_form.read(form, as_posted, LANGUAGES, keep={})
    changed = draft.put(current_file(api, engine), draft.Kind.RULES, None, rule).raw
    assert cli_apply(program_form.to_yaml(changed)).startswith(problem(response.text) + "\n")
    if input_name is not None:  # the input says what is wrong with it, and keeps what was typed
        assert field_error(response.text, input_name) in problem(response.text)
    typed = change.get("code", "pastry-bonus")
    assert f'value="{typed}"' in response.text
    assert 'value="wed" checked' in response.text


def test_a_refused_change_to_a_rule_keeps_its_code_and_what_was_typed(
    api: ApiClient, marketer: Console, engine: Engine
) -> None:
    typed = {"base": "1", "name.en": "Beans", "when": "purchase", "then.kind": "points_per_currency_unit"}
    response = marketer.post(f"/admin/p/{api.slug}/program/editor/rules/0", {**typed, "then.amount": "-2"})
    assert response.status_code == 422
    assert "<code>coffee-beans</code>" in response.text  # a code cannot change, and is still shown
    assert 'value="-2"' in response.text
    assert field_error(response.text, "then.amount") == "Input should be greater than or equal to 0"
    assert version_of(api, engine) == 1


def test_every_rule_tier_and_reward_of_the_demo_opens_and_saves_unchanged(
    api: ApiClient, marketer: Console, engine: Engine
) -> None:
    """The forms show every key an item has and read back exactly what they show."""
    raw = current_file(api, engine)
    tier_codes = [level["code"] for level in raw["tiers"]["levels"]]
    forms = {
        draft.Kind.RULES: rule_form(tier_codes, new=False, event_types=[], plan_codes=[]),
        draft.Kind.TIERS: tier_form(new=False),
        draft.Kind.REWARDS: reward_form(tier_codes, new=False),
    }
    for kind, form in forms.items():
        for index, item in enumerate(draft.items(raw, kind)):
            page = marketer.page(f"/admin/p/{api.slug}/program/editor/{kind.value}/{index}")
            assert f"<code>{item['code']}</code>" in page
            filled = item_form.fill(form, item, LANGUAGES)
            posted = {key: _posted(value) for key, value in filled.items()}
            again = item_form.read(form, posted, LANGUAGES, keep=item)
            changed = draft.put(raw, kind, index, again).raw
            assert ProgramFile.read(changed) == ProgramFile.read(raw), (kind, item["code"])


def _posted(value: object) -> list[str]:
    """An input's value as a browser posts it: a checked box is "on", an unchecked one is absent."""
    if isinstance(value, list):
        return value
    if isinstance(value, bool):
        return ["on"] if value else []
    return [str(value)]


def test_the_forms_offer_every_condition_action_and_benefit_of_the_file_format() -> None:
    conditions = {group.key for group in condition_groups([], [])} | set(ATTRIBUTE_ROWS)
    assert conditions == set(Conditions.model_fields)
    assert set(ACTIONS) | set(ACTION_MODIFIERS) == set(Action.model_fields)
    assert set(BENEFITS) == set(BenefitSpec.model_fields)
    rule_keys = {each.path.split(".")[0] for each in rule_form([], new=True, event_types=[], plan_codes=[]).inputs}
    assert rule_keys == {"code", "name", "when", "priority", "enabled", "then", "if", "limit", "max_points", "stop"}
    reward_keys = {each.path.split(".")[0] for each in reward_form([], new=True).inputs}
    assert reward_keys == set(RewardSpec.model_fields)
    tier = tier_form(new=True)
    assert {each.path for each in tier.inputs} | {rows.path for rows in tier.rows} == set(TierLevel.model_fields)
    assert {column.path for column in tier.rows[0].columns} == set(PerkSpec.model_fields)
    settings = {each.path.split(".")[0] for each in tier_settings_form().inputs}
    assert settings == set(Tiers.model_fields) - {"levels"}


def _step(console: Console, api: ApiClient, kind: str, index: int, step: str) -> Any:
    return console.post(f"/admin/p/{api.slug}/program/editor/{kind}/{index}/{step}", {"base": "1"})


def test_moving_a_rule_writes_priorities_so_the_order_shown_is_the_order_run(
    api: ApiClient, marketer: Console, engine: Engine
) -> None:
    page = marketer.page(f"/admin/p/{api.slug}/program/editor")
    shown = re.findall(r'<tr data-rule="([^"]+)">', page)
    assert shown == ["coffee-beans", "everything-else", "review", "tier-multiplier", "welcome"]
    # When "everything-else" (index 1 in the file) moves up
    review = reviewed(_step(marketer, api, "rules", 1, "up"))
    assert heading(review) == "Review: Move the earning rule “1 point per €” up"
    assert save(marketer, api, review).status_code == 303
    rules = current_file(api, engine)["earning_rules"]
    assert [(rule["code"], rule["priority"]) for rule in rules] == [
        ("everything-else", 50),
        ("coffee-beans", 40),
        ("review", 30),
        ("tier-multiplier", 20),
        ("welcome", 10),
    ]
    page = marketer.page(f"/admin/p/{api.slug}/program/editor")
    assert re.findall(r'<tr data-rule="([^"]+)">', page)[:2] == ["everything-else", "coffee-beans"]


def test_a_disabled_rule_and_a_withdrawn_reward_stay_in_the_file_and_stop_acting(
    api: ApiClient, marketer: Console, engine: Engine
) -> None:
    member = api.member()
    api.purchase(member, [line("BEANS", "coffee-beans", "60.00")], occurred_at="2026-11-20T10:00:00+00:00")
    # Disabling the beans rule: the latest purchase (the review's basket) earns nothing from it after
    review = reviewed(_step(marketer, api, "rules", 0, "switch"))
    assert heading(review) == "Review: Disable the earning rule “2 points per € on coffee beans”"
    assert (metric(review, "earned-now"), metric(review, "earned-after")) == ("120", "0")
    assert save(marketer, api, review).status_code == 303
    assert current_file(api, engine)["earning_rules"][0]["enabled"] is False
    # Withdrawing the free drink: out of the catalogue, and not redeemable
    review = reviewed(marketer.post(f"/admin/p/{api.slug}/program/editor/rewards/1/switch", {"base": "2"}))
    assert heading(review) == "Review: Withdraw the reward “A free drink”"
    assert save(marketer, api, review).status_code == 303
    codes = [item["code"] for item in api.get("/api/v1/rewards").json()["items"]]
    assert codes == ["five-euro-off", "free-shipping"]
    refused = api.post(
        f"/api/v1/members/{member}/redemptions", {"reward": "free-drink"}, headers={"Idempotency-Key": "k1"}
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (422, "reward_not_available")
    # And switching it back offers it again, without a leftover key in the file
    review = reviewed(marketer.post(f"/admin/p/{api.slug}/program/editor/rewards/1/switch", {"base": "3"}))
    assert heading(review) == "Review: Offer again the reward “A free drink”"
    assert save(marketer, api, review).status_code == 303
    assert "enabled" not in current_file(api, engine)["rewards"][1]


def test_a_tier_change_says_how_many_members_would_move(api: ApiClient, marketer: Console, engine: Engine) -> None:
    at = "2026-11-20T10:00:00+00:00"
    for name, euros in (("ann", "150.00"), ("bob", "200.00"), ("cid", "100.00")):  # 300, 400 and 200 points
        api.purchase(api.member(name), [line("BEANS", "coffee-beans", euros)], occurred_at=at)
    # When silver's threshold falls from 500 to 250
    tier = {"base": "1", "name.en": "Silver", "threshold": "250", "multiplier": "1.25", "perks": ""}
    review = reviewed(marketer.post(f"/admin/p/{api.slug}/program/editor/tiers/1", tier))
    # Then ann (300) and bob (400) would be silver after the next review; cid (200) stays bronze
    assert metric(review, "tier-moved") == "2"
    assert '<tr><td>bronze</td><td>bronze</td><td>silver</td><td class="num">2</td></tr>' in review
    # And a change that leaves the thresholds alone says so
    renamed = {**tier, "threshold": "500", "name.et": "Hõbedane"}
    review = reviewed(marketer.post(f"/admin/p/{api.slug}/program/editor/tiers/1", renamed))
    assert "Who qualifies for which tier does not change." in review


def test_a_new_tier_takes_its_place_by_threshold(api: ApiClient, marketer: Console, engine: Engine) -> None:
    tier = {"base": "1", "code": "platinum", "name.en": "Platinum", "threshold": "1000", "multiplier": "1.4"}
    review = reviewed(marketer.post(f"/admin/p/{api.slug}/program/editor/tiers/new", tier))
    assert save(marketer, api, review).status_code == 303
    levels = current_file(api, engine)["tiers"]["levels"]
    assert [level["code"] for level in levels] == ["bronze", "silver", "platinum", "gold"]


def test_a_refused_tier_shows_the_error_by_its_input_wherever_its_threshold_puts_it(
    api: ApiClient, marketer: Console, engine: Engine
) -> None:
    # A new tier between silver and gold is third in the file: its error is still on its own input
    tier = {"base": "1", "code": "platinum", "name.en": "Platinum", "threshold": "1000", "multiplier": "0"}
    response = marketer.post(f"/admin/p/{api.slug}/program/editor/tiers/new", tier)
    assert response.status_code == 422
    assert "tiers.levels.2.multiplier: Input should be greater than 0" in problem(response.text)
    assert field_error(response.text, "multiplier") == "Input should be greater than 0"
    # And so is an error in how tiers are earned
    settings = {"base": "1", "metric": "points", "window.kind": "rolling_months", "window.months": "0"}
    response = marketer.post(f"/admin/p/{api.slug}/program/editor/tiers/settings", settings)
    assert response.status_code == 422
    assert field_error(response.text, "window.months") == "Input should be greater than 0"
    assert version_of(api, engine) == 1


def test_the_liability_effect_values_the_points_and_a_month_of_purchases(
    api: ApiClient, marketer: Console, engine: Engine
) -> None:
    member = api.member()
    api.purchase(member, [line("BEANS", "coffee-beans", "50.00")], occurred_at="2026-11-10T10:00:00+00:00")
    api.purchase(member, [line("MUG", "gear", "30.00")], occurred_at="2026-11-20T10:00:00+00:00")
    api.purchase(member, [line("BEANS", "coffee-beans", "80.00")], occurred_at="2026-09-01T10:00:00+00:00")
    assert api.available(member) == 340  # 50 welcome + 100 + 30 + 160
    # When the beans rate goes from 2 to 3 points per €
    rule = {
        "base": "1",
        "name.en": "3 points per € on coffee beans",
        "when": "purchase",
        "priority": "20",
        "enabled": "on",
        "then.kind": "points_per_currency_unit",
        "then.amount": "3",
        "then.lines.categories": "coffee-beans",
    }
    review = reviewed(marketer.post(f"/admin/p/{api.slug}/program/editor/rules/0", rule))
    # Then the outstanding points are valued at 0.01 € each, and the last 30 days' two purchases earn 130 → 180
    assert metric(review, "outstanding") == "340"
    assert metric(review, "liability-now") == metric(review, "liability-after")
    assert (metric(review, "monthly-now"), metric(review, "monthly-after")) == ("130", "180")
    assert "the liability would grow by €0.50 more a month" in html.unescape(review)


def test_a_change_made_from_an_older_version_is_not_saved(api: ApiClient, marketer: Console, engine: Engine) -> None:
    review = reviewed(_step(marketer, api, "rules", 0, "switch"))
    # Meanwhile someone else applies version 2
    other = reviewed(_step(marketer, api, "rewards", 0, "switch"))
    assert save(marketer, api, other).status_code == 303
    # Then the first change, made from version 1, is refused and version 2 stays in force
    refused = save(marketer, api, review)
    assert refused.status_code == 409
    assert "version 2 was applied while this change was being made from version 1" in html.unescape(refused.text)
    assert version_of(api, engine) == 2
    # And so is any step from the old version (its indexes may name other items now)
    assert _step(marketer, api, "rules", 0, "remove").status_code == 409


def test_a_step_the_file_format_refuses_is_shown_on_the_editor(
    api: ApiClient, marketer: Console, engine: Engine
) -> None:
    # Removing silver while the free-shipping reward requires it
    response = _step(marketer, api, "tiers", 1, "remove")
    assert response.status_code == 422
    assert "reward 'free-shipping': min_tier 'silver' is not one of the tiers" in html.unescape(problem(response.text))
    assert version_of(api, engine) == 1


def test_only_staff_who_may_edit_the_program_use_the_editor(
    api: ApiClient, signed_in: Callable[[Role], Console]
) -> None:
    support = signed_in(Role.SUPPORT)
    assert support.get(f"/admin/p/{api.slug}/program/editor").status_code == 403
    assert _step(support, api, "rules", 0, "switch").status_code == 403
