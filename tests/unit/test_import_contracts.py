"""The ``features`` import contract (tools/import_contracts.py) on a small made-up package: each rule catches what it
should, and lets through what it should."""

from __future__ import annotations

from typing import Any

import grimp
import pytest
from tools.import_contracts import FeaturesContract, Violation

OPTIONS: dict[str, Any] = {
    "layers": ["app.api", "app.shop | app.console", "app.order", "app.member", "app.kit"],
    "assemblies": ["app.api"],
    "http_modules": ["endpoints", "routes", "http"],
    "public_modules": ["service", "http", "schemas", "domain", "errors"],
    "private_modules": ["repository", "models"],
    "private_gatherers": ["app.api.schema"],
}
MODULES = (
    "app",
    "app.api", "app.api.app", "app.api.errors", "app.api.schema",
    "app.shop", "app.shop.routes", "app.shop.routes.home", "app.shop.service",
    "app.console", "app.console.service",
    "app.order", "app.order.service", "app.order.http", "app.order.endpoints", "app.order.models", "app.order.pricing",
    "app.member", "app.member.service", "app.member.endpoints", "app.member.repository", "app.member.models",
    "app.kit", "app.kit.db", "app.kit.http",
)  # fmt: skip


def check(*imports: tuple[str, str]) -> list[tuple[str, str, str]]:
    graph = grimp.ImportGraph()
    for module in MODULES:
        graph.add_module(module)
    for line, (importer, imported) in enumerate(imports, start=1):
        graph.add_import(importer=importer, imported=imported, line_number=line, line_contents=f"import {imported}")
    contract = FeaturesContract("features", {"root_packages": ["app"]}, OPTIONS)
    found: list[Violation] = contract.check(graph, verbose=False).metadata["violations"]
    return [(violation.rule, violation.importer, violation.imported) for violation in found]


def test_what_the_rules_allow_breaks_nothing() -> None:
    assert (
        check(
            ("app.api.app", "app.member.endpoints"),  # the assembly gathers the routers
            ("app.api.schema", "app.member.models"),  # the one module named to gather every feature's models
            ("app.order.service", "app.member.service"),  # downwards
            ("app.member.service", "app.member.repository"),  # inside a feature
            ("app.member.endpoints", "app.order.http"),  # an endpoint reaches up to a public module
            ("app.member.endpoints", "app.order.service"),
            ("app.member.endpoints", "app.kit.http"),
            ("app.shop.routes.home", "app.member.service"),
            ("app.shop.routes.home", "app"),  # the root package: its version
        )
        == []
    )


@pytest.mark.parametrize(
    ("importer", "imported", "rule"),
    [
        ("app.member.service", "app.order.service", "layered"),  # a service reaching up
        ("app.shop.service", "app.console.service", "layered"),  # independent siblings
        ("app.kit.db", "app.api.app", "layered"),
        ("app.member.endpoints", "app.order.pricing", "reach"),  # up, but not to a public module
        ("app.shop.routes.home", "app.console.service", "reach"),  # an independent sibling's service
        ("app.member.endpoints", "app.api.errors", "reach"),  # an assembly, even its public modules
        ("app.order.service", "app.order.http", "leaf"),  # a service importing an HTTP module, even its own
        ("app.order.service", "app.kit.http", "leaf"),
        ("app.shop.service", "app.member.endpoints", "leaf"),
        ("app.order.endpoints", "app.member.endpoints", "leaf"),  # another feature's endpoints: only assemblies
        ("app.order.service", "app.member.repository", "private"),
        ("app.order.service", "app.member.models", "private"),
    ],
)
def test_each_rule_catches_its_import(importer: str, imported: str, rule: str) -> None:
    assert check((importer, imported)) == [(rule, importer, imported)]


def test_an_import_breaking_several_rules_is_listed_under_each() -> None:
    # an endpoint of a low feature reaching up to another feature's tables
    assert check(("app.member.endpoints", "app.order.models")) == [
        ("reach", "app.member.endpoints", "app.order.models"),
        ("private", "app.member.endpoints", "app.order.models"),
    ]


def test_a_module_in_no_layer_is_reported() -> None:
    graph = grimp.ImportGraph()
    for module in (*MODULES, "app.stray"):
        graph.add_module(module)
    contract = FeaturesContract("features", {"root_packages": ["app"]}, OPTIONS)
    [violation] = contract.check(graph, verbose=False).metadata["violations"]
    assert (violation.rule, violation.importer) == ("unplaced", "app.stray")
