"""Punchcard's own import-linter contract type: features layered, HTTP modules composing, no feature reading another's
tables. Registered in pyproject.toml (``[tool.importlinter] contract_types``); ``lint-imports`` runs from the project
root, which it puts on ``sys.path``, so this module is found without installing it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import cast

import grimp
from importlinter import Contract, ContractCheck, fields, output
from importlinter.contracts.layers import Layer, LayerField

RULES = {
    "unplaced": "Every module belongs to a layer",
    "layered": "Services are layered: a module that is not an HTTP module imports only its own feature and the "
    "features below it",
    "reach": "HTTP modules compose: above their own feature they import only public modules, never an independent "
    "sibling's or an assembly's",
    "leaf": "HTTP modules are leaves: endpoints and routes are imported only by their own feature's HTTP modules and "
    "by assemblies, http modules only by HTTP modules and assemblies",
    "private": "No feature imports another feature's private modules (repository, models)",
}


@dataclass(frozen=True)
class Place:
    """Where a module of the root package sits: its feature, the feature's layer, and what kind of module it is."""

    feature: str
    rank: int
    """The index of the feature's layer in ``layers``: a lower rank is a higher layer."""
    tail: tuple[str, ...]
    """The module's name inside its feature (empty for the feature's package itself)."""


@dataclass(frozen=True)
class Violation:
    rule: str
    importer: str
    imported: str
    line_numbers: tuple[int, ...]


class FeaturesContract(Contract):
    """Features are the packages (and top-level modules) of the root package, listed in ``layers`` top to bottom with
    the syntax of import-linter's layers contract: ``"a | b"`` are independent siblings, ``"a : b"`` siblings that may
    import each other, and a name in parentheses may be missing. Import by import, it checks:

    - *unplaced*: every module of the root package (but the root package itself) belongs to a layer's feature.
    - *layered*: a module that is not an HTTP module imports only its own feature and features in lower layers
      (assemblies included: they are layered like features).
    - *reach*: an HTTP module (a module named in ``http_modules``, or below one: ``endpoints``, ``routes.members``,
      ``http``) may also import features above its own, since an endpoint composes several features' services and
      needs the caller's program (``program.http``) wherever it sits; but only their ``public_modules`` (service,
      http, schemas, domain, errors), and never those of an independent sibling of its own feature or of an
      ``assemblies`` layer (the application that puts the features together sits above them all).
    - *leaf*: only HTTP modules and assemblies import HTTP modules; another feature's endpoints or routes (HTTP
      modules that are not public) only assemblies. So what an HTTP module reaches above its feature never leaks into a
      service, and *layered*, checked on direct imports, holds for every chain of imports too.
    - *private*: no module imports another feature's ``private_modules`` (repository, models, or a module below them):
      a feature's tables are read and written by the feature itself, and others get what its public modules hand
      out. The modules named in ``private_gatherers`` are the only exception, by exact name: ``punchcard.schema``
      imports every feature's models so that ``Base.metadata`` describes the whole database for Alembic.

    A broken contract lists each import against the rule it breaks, with its line numbers, as import-linter does.
    """

    type_name = "features"

    layers = fields.ListField(subfield=LayerField())
    assemblies = fields.ListField(subfield=fields.StringField())
    http_modules = fields.ListField(subfield=fields.StringField())
    public_modules = fields.ListField(subfield=fields.StringField())
    private_modules = fields.ListField(subfield=fields.StringField())
    private_gatherers = fields.ListField(subfield=fields.StringField(), required=False)

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        root = cast(list[str], self.session_options["root_packages"])
        if len(root) != 1:
            raise ValueError("the features contract needs exactly one root package")
        places = Places(
            root[0],
            cast(list[Layer], self.layers),
            set(cast(list[str], self.assemblies)),
            set(cast(list[str], self.http_modules)),
            set(cast(list[str], self.public_modules)),
            set(cast(list[str], self.private_modules)),
        )
        missing = places.missing_layers(graph.modules)
        if missing:
            raise ValueError(f"layers name features that do not exist: {', '.join(missing)}")
        gatherers = set(cast(list[str] | None, self.private_gatherers) or ())
        violations: list[Violation] = []
        for importer in sorted(graph.modules):
            if importer == places.root or not places.inside(importer):
                continue
            place = places.of(importer)
            if place is None:
                violations.append(Violation("unplaced", importer, "", ()))
                continue
            for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                if imported == places.root or not places.inside(imported):
                    continue  # the root package (its version) and external packages
                target = places.of(imported)
                if target is None:
                    continue  # reported as unplaced, as an importer
                for rule in places.broken(place, target, importer in gatherers):
                    details = graph.get_import_details(importer=importer, imported=imported)
                    lines = tuple(sorted({detail["line_number"] for detail in details}))
                    violations.append(Violation(rule, importer, imported, lines))
        return ContractCheck(kept=not violations, warnings=None, metadata={"violations": violations})

    def render_broken_contract(self, check: ContractCheck) -> None:
        violations = cast(list[Violation], check.metadata["violations"])
        for rule, heading in RULES.items():
            broken = [violation for violation in violations if violation.rule == rule]
            if not broken:
                continue
            output.print(f"{heading}:")
            output.new_line()
            for violation in broken:
                if not violation.imported:
                    output.print_error(f"- {violation.importer} (in no layer)", bold=False)
                    continue
                lines = ", ".join(f"l.{number}" for number in violation.line_numbers) or "l.?"
                output.print_error(f"- {violation.importer} -> {violation.imported} ({lines})", bold=False)
            output.new_line()


class Places:
    """The layers, read once: which feature a module belongs to, and which of the rules an import breaks."""

    def __init__(
        self,
        root: str,
        layers: Sequence[Layer],
        assemblies: set[str],
        http_modules: set[str],
        public_modules: set[str],
        private_modules: set[str],
    ) -> None:
        self.root = root
        self.rank: dict[str, int] = {}
        self.independent: dict[str, bool] = {}
        self.optional: dict[str, bool] = {}
        for rank, layer in enumerate(layers):
            for tail in layer.module_tails:
                self.rank[tail.name] = rank
                self.independent[tail.name] = layer.is_independent
                self.optional[tail.name] = tail.is_optional
        unknown = assemblies - set(self.rank)
        if unknown:
            raise ValueError(f"assemblies must be layers: {', '.join(sorted(unknown))}")
        self.assemblies = assemblies
        self.http_modules = http_modules
        self.public_modules = public_modules
        self.private_modules = private_modules

    def missing_layers(self, modules: Iterable[str]) -> list[str]:
        present = set(modules)
        return sorted(name for name in self.rank if name not in present and not self.optional[name])

    def inside(self, module: str) -> bool:
        return module.startswith(f"{self.root}.")

    def of(self, module: str) -> Place | None:
        parts = module.split(".")
        feature = ".".join(parts[:2])
        if feature not in self.rank:
            return None
        return Place(feature, self.rank[feature], tuple(parts[2:]))

    def is_http(self, place: Place) -> bool:
        return any(part in self.http_modules for part in place.tail)

    def is_public(self, place: Place) -> bool:
        return bool(place.tail) and place.tail[0] in self.public_modules

    def is_private(self, place: Place) -> bool:
        return bool(place.tail) and place.tail[0] in self.private_modules

    def is_sibling(self, one: Place, other: Place) -> bool:
        """In the same layer and allowed to import each other (``"a : b"``)."""
        return one.rank == other.rank and not self.independent[one.feature]

    def broken(self, place: Place, target: Place, gathers: bool) -> list[str]:
        """The rules an import from ``place`` to ``target`` breaks (``gathers``: the importer may import models)."""
        if target.feature == place.feature:
            if self.is_http(target) and not self.is_http(place) and place.feature not in self.assemblies:
                return ["leaf"]
            return []
        rules = []
        below = target.rank > place.rank or self.is_sibling(place, target)
        if self.is_http(place):
            reachable = self.is_public(target) and target.rank != place.rank and target.feature not in self.assemblies
            if not below and not reachable:
                rules.append("reach")
        elif not below:
            rules.append("layered")
        leaves = not self.is_http(place) or not self.is_public(target)
        if self.is_http(target) and place.feature not in self.assemblies and leaves:
            rules.append("leaf")
        if self.is_private(target) and not gathers:
            rules.append("private")
        return rules
