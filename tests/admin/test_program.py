"""The program in the console: its form and its file are applied through the same validation as `punchcard program
apply` (same messages, errors next to their fields, nothing applied on an error), each change is a new version whose
differences can be read, and the preview says what a basket would earn, rule by rule."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine
from tests.admin.conftest import Console, audit_entries, metric
from tests.factories import ApiClient, ProgramMaker, line
from typer.testing import CliRunner

from punchcard.admin import program_form
from punchcard.cli.main import app as cli
from punchcard.kit.db import unit_of_work
from punchcard.program import service as programs
from punchcard.staff.domain import Action, Role

DEMO = (Path(__file__).resolve().parents[2] / "examples" / "demo" / "program.yaml").read_text()


def version_of(api: ApiClient, engine: Engine) -> int:
    with unit_of_work(engine) as session:
        return programs.current(session, api.program_id).version


def source_of(api: ApiClient, engine: Engine) -> str:
    """The current version's file as the console shows it in the editor."""
    with unit_of_work(engine) as session:
        version = programs.current(session, api.program_id).version
    return version_text(api, engine, version)


def version_text(api: ApiClient, engine: Engine, number: int) -> str:
    with unit_of_work(engine) as session:
        row = programs.version(session, api.program_id, number)
        assert row is not None
        return row.source_text


def problem(page: str) -> str:
    found = re.search(r'<div class="problem" role="alert" id="problem">\s*<p>(.*?)</p>', page, re.S)
    assert found is not None, "no error summary on the page"
    return html.unescape(found.group(1))


def editor_text(page: str) -> str:
    found = re.search(r'<textarea id="source_text"[^>]*>(.*?)</textarea>', page, re.S)
    assert found is not None
    return html.unescape(found.group(1))


def field_error(page: str, path: str) -> str:
    found = re.search(rf'<p class="error" id="error-{re.escape(path.replace(".", "-"))}">(.*?)</p>', page, re.S)
    assert found is not None, f"no error next to {path}"
    return html.unescape(found.group(1))


def preview_total(console: Console, api: ApiClient, **basket: str | list[str]) -> str:
    return metric(console.page(f"/admin/p/{api.slug}/preview", **basket), "preview-total")


BEANS = {"sku": "BEANS", "category": "coffee-beans", "quantity": "1", "unit_price": "20.00"}


def test_a_marketer_edits_an_earning_rate_and_the_preview_changes(
    api: ApiClient, signed_in: Callable[[Role], Console], engine: Engine
) -> None:
    console = signed_in(Role.MARKETER)
    base = f"/admin/p/{api.slug}"
    # Given 20 € of beans earn 40 points (2 per €)
    assert preview_total(console, api, **BEANS) == "40"
    editor = console.page(f"{base}/program/edit")
    assert 'name="earning_rules.0.then.points_per_currency_unit" value="2"' in editor
    # When the marketer makes it 3 per € in the form
    response = console.post(
        f"{base}/program/form", {"earning_rules.0.then.points_per_currency_unit": "3", "note": "summer campaign"}
    )
    # Then version 2 is in force and the same basket earns 60
    assert (response.status_code, response.headers["location"]) == (303, f"{base}/program?notice=applied%3A2")
    assert version_of(api, engine) == 2
    assert preview_total(console, api, **BEANS) == "60"
    # And the change is readable between the versions and in the audit log
    changes = console.page(f"{base}/program/versions/2")
    assert '<span class="remove">-    points_per_currency_unit: 2</span>' in changes
    assert '<span class="add">+    points_per_currency_unit: 3</span>' in changes
    [entry] = audit_entries(engine, program_id=api.program_id, action=Action.PROGRAM_APPLIED.value)
    assert (entry.target, entry.reason, entry.details) == (
        f"program {api.slug} version 2",
        "summer campaign",
        {"version": 2, "previous": 1},
    )


def test_the_form_covers_the_common_settings(
    api: ApiClient, signed_in: Callable[[Role], Console], engine: Engine
) -> None:
    console = signed_in(Role.MARKETER)
    form = {
        "name.en": "Bean There Club",  # the first language's text of a translated name
        "point_value": "0.02",
        "points.expiry.after_months": "",
        "points.pending_days": "14",
        "points.return_policy": "within_balance",
        "tiers.levels.1.threshold": "400",
        "tiers.levels.2.multiplier": "2",
        "rewards.1.cost": "120",
    }
    assert console.post(f"/admin/p/{api.slug}/program/form", form).status_code == 303
    with unit_of_work(engine) as session:
        program = programs.current(session, api.program_id).program
    assert program.name.default == "Bean There Club"
    assert program.name.in_language("et") == "Bean There kohvirööstikoda"  # the translations are kept
    assert str(program.point_value) == "0.02"
    assert (program.points.expire_after_months, program.points.expire_after_days) == (None, None)
    assert (program.points.pending_days, program.points.return_policy.value) == (14, "within_balance")
    assert program.tiers is not None
    assert [(t.threshold, str(t.multiplier)) for t in program.tiers.tiers] == [(0, "1"), (400, "1.25"), (1500, "2")]
    assert [reward.points_cost for reward in program.rewards] == [500, 120, 200]
    assert "expiry: never" in source_of(api, engine)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("tiers.levels.1.multiplier", "0"),
        ("rewards.0.cost", "five hundred"),
        ("points.pending_days", "-1"),
        ("name.en", ""),  # the demo's name is translated: the form edits its first language's text
        ("points.expiry.after_months", "0"),
    ],
)
def test_a_refused_form_shows_the_clis_message_next_to_the_field_and_applies_nothing(
    path: str,
    value: str,
    api: ApiClient,
    signed_in: Callable[[Role], Console],
    engine: Engine,
    cli_apply: Callable[[str], str],
) -> None:
    console = signed_in(Role.OWNER)
    before = source_of(api, engine)
    response = console.post(f"/admin/p/{api.slug}/program/form", {path: value})
    assert response.status_code == 422
    assert version_of(api, engine) == 1
    # The same change, as a file given to `punchcard program apply`, is refused with the same message
    edited = program_form.to_yaml(program_form.edited(program_form.load(before, "yaml"), {path: value}))
    assert cli_apply(edited).startswith(problem(response.text) + "\n")
    # And the field says what is wrong with it, keeping what was typed
    assert field_error(response.text, path) in problem(response.text)
    assert f'name="{path}" value="{value}"' in response.text


def test_a_problem_with_a_whole_section_is_shown_on_the_section(
    api: ApiClient, signed_in: Callable[[Role], Console], engine: Engine
) -> None:
    response = signed_in(Role.MARKETER).post(f"/admin/p/{api.slug}/program/form", {"tiers.levels.2.threshold": "400"})
    assert response.status_code == 422
    assert field_error(response.text, "tiers") == "tier thresholds must be strictly ascending"
    assert version_of(api, engine) == 1


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda text: text.replace("rewards:", "rewards: [", 1), "the file is not valid YAML"),
        (lambda text: text.replace("rounding: down", "rounding: down\ncolour: brown"), "colour: Extra inputs"),
        (lambda text: text.replace("currency: EUR", "currency: SEK"), "currency cannot change from EUR to SEK"),
        (lambda text: text.replace("threshold: 1500", "threshold: 100"), "tier thresholds must be strictly ascending"),
    ],
)
def test_the_program_file_is_refused_exactly_as_program_apply_refuses_it(
    change: Callable[[str], str],
    expected: str,
    make_program: ProgramMaker,
    signed_in: Callable[[Role], Console],
    engine: Engine,
    cli_apply: Callable[[str], str],
) -> None:
    api = make_program()
    console = signed_in(Role.MARKETER)
    text = change(source_of(api, engine))
    response = console.post(f"/admin/p/{api.slug}/program/file", {"source_text": text, "source_format": "yaml"})
    assert response.status_code == 422
    assert expected in problem(response.text)
    assert cli_apply(text).startswith(problem(response.text) + "\n")
    assert version_of(api, engine) == 1
    assert editor_text(response.text) == text  # the refused text stays in the editor


def test_the_console_edits_only_the_program_it_shows(
    api: ApiClient, signed_in: Callable[[Role], Console], engine: Engine
) -> None:
    text = source_of(api, engine).replace(f"slug: {api.slug}", "slug: another-program")
    response = signed_in(Role.OWNER).post(f"/admin/p/{api.slug}/program/file", {"source_text": text})
    assert response.status_code == 422
    assert f"slug: must stay {api.slug}" in problem(response.text)
    assert version_of(api, engine) == 1


def test_a_file_keeps_its_comments_and_versions_can_be_compared_with_any_other(
    api: ApiClient, signed_in: Callable[[Role], Console], engine: Engine
) -> None:
    console = signed_in(Role.OWNER)
    base = f"/admin/p/{api.slug}"
    text = DEMO.replace("slug: bean-there", f"slug: {api.slug}")
    for cost in ("150", "120"):
        edited = text.replace("    cost: 150", f"    cost: {cost}  # the drink")
        assert console.post(f"{base}/program/file", {"source_text": edited, "note": "drink"}).status_code == 303
    assert version_of(api, engine) == 3
    assert version_text(api, engine, 3) == text.replace("    cost: 150", "    cost: 120  # the drink")
    page = console.page(f"{base}/program/versions/3", against="2")
    assert '<span class="remove">-    cost: 150  # the drink</span>' in page
    assert '<span class="add">+    cost: 120  # the drink</span>' in page
    history = console.page(f"{base}/program")
    assert "Version 3</a> (in force)" in history
    assert "Changes from version 2" in history


def test_the_preview_uses_the_members_tier_and_writes_nothing(
    api: ApiClient, signed_in: Callable[[Role], Console]
) -> None:
    # Given a Silver member (600 purchase points), whose tier multiplies by 1.25
    member = api.member()
    api.purchase(member, [line("BEANS", "coffee-beans", "300.00")])
    before = api.available(member)
    console = signed_in(Role.VIEWER)
    # When a basket of 20 € of beans and a 10 € mug is previewed for them
    basket: dict[str, str | list[str]] = {
        "member": member,
        "sku": ["BEANS", "MUG"],
        "category": ["coffee-beans", "mugs"],
        "quantity": ["1", "1"],
        "unit_price": ["20.00", "10.00"],
    }
    page = console.page(f"/admin/p/{api.slug}/preview", **basket)
    # Then each rule's share is shown: 40 + 10, and the tier bonus of 25 % (12.5, the total rounded down once)
    assert metric(page, "preview-total") == "62"
    rows = re.findall(r'<tr data-rule="([^"]+)">.*?<td class="num">(\d+)</td></tr>', page)
    assert rows == [("coffee-beans", "40"), ("everything-else", "10"), ("tier-multiplier", "12")]
    # And without a member, no tier bonus applies
    assert preview_total(console, api, **{k: v for k, v in basket.items() if k != "member"}) == "50"
    assert api.available(member) == before


@pytest.mark.parametrize(
    ("basket", "field", "message"),
    [
        ({"sku": "B", "unit_price": "-1"}, "lines-0-unit_price", "Input should be greater than or equal to 0"),
        ({"sku": "B", "unit_price": "abc"}, "lines-0-unit_price", "Input should be a valid decimal"),
        ({"member": "nobody", "sku": "B", "unit_price": "1"}, "member", "this program has no member 'nobody'"),
        ({"shipping": "1"}, "lines", "add at least one line with a SKU and a unit price"),
    ],
)
def test_a_preview_with_a_mistake_says_where(
    basket: dict[str, str], field: str, message: str, api: ApiClient, signed_in: Callable[[Role], Console]
) -> None:
    page = signed_in(Role.VIEWER).page(f"/admin/p/{api.slug}/preview", **basket)
    assert field_error(page, field) == message
    assert 'data-metric="preview-total"' not in page


def test_the_program_page_lists_the_texts_missing_a_translation(
    make_program: ProgramMaker, signed_in: Callable[[Role], Console]
) -> None:
    # Given a program whose free drink has no Finnish name and whose mug reward is written in English only
    api = make_program(
        {
            "rewards": [
                {
                    "code": "free-drink",
                    "name": {
                        "en": "A free drink",
                        "et": "Tasuta jook",
                        "fi": "Ilmainen juoma",
                        "sv": "En gratis dryck",
                        "ru": "Бесплатный напиток",
                    },
                    "cost": 150,
                    "benefit": {
                        "free_product": {"sku": "DRINK-ANY", "name": {"en": "Any drink", "et": "Mis tahes jook"}}
                    },
                },
                {"code": "mug", "name": "A mug", "cost": 300, "benefit": {"free_product": "MUG"}},
            ]
        }
    )
    # When a marketer opens the program page
    page = signed_in(Role.MARKETER).page(f"/admin/p/{api.slug}/program")
    # Then it lists each text missing a language, with those languages, and nothing complete
    rows = re.findall(r"<tr><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td></tr>", page.split("Translations", 1)[1])
    assert ("reward free-drink: free product", "Any drink", "fi, sv, ru") in rows
    assert ("reward mug", "A mug", "et, fi, sv, ru") in rows
    assert not any(where == "reward free-drink" for where, _, _ in rows)
    assert not any(where.startswith("tier ") for where, _, _ in rows)


def test_a_version_is_downloaded_as_the_file_that_was_applied_and_applies_again_as_it_is(
    api: ApiClient,
    signed_in: Callable[[Role], Console],
    engine: Engine,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a program whose rate a marketer changed in the console (version 2)
    console = signed_in(Role.MARKETER)
    changed = {"earning_rules.0.then.points_per_currency_unit": "3"}
    assert console.post(f"/admin/p/{api.slug}/program/form", changed).status_code == 303
    # When they download version 2
    download = console.http.get(f"/admin/p/{api.slug}/program/versions/2/file")
    # Then it is the applied file, named after the program and version, ready to go back into git
    assert download.status_code == 200
    assert download.headers["content-disposition"] == f'attachment; filename="{api.slug}-v2.yaml"'
    assert download.headers["content-type"].startswith("application/yaml")
    assert download.text == source_of(api, engine)
    assert "points_per_currency_unit: 3" in download.text
    # And `punchcard program apply` applies it again as it is
    path = tmp_path / "downloaded.yaml"
    path.write_bytes(download.content)
    monkeypatch.setenv("PUNCHCARD_DATABASE_URL", database_url)  # the CLI exports its URL; put things back afterwards
    applied = CliRunner().invoke(cli, ["--database-url", database_url, "program", "apply", str(path)])
    assert applied.exit_code == 0, applied.output
    assert version_of(api, engine) == 3
