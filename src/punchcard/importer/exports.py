"""Other loyalty apps' customer exports: which column holds what, built in for the apps we know and read from a
mapping file otherwise (docs/import.md, "Importing members from another loyalty app").

The built-in column names come from the vendors' public help pages where those name them, and are assumptions where
they do not (each is marked in the docs); a mapping file overrides any of them, and ``--from csv`` always needs one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from punchcard.importer.errors import ImportFileInvalid


class Source(StrEnum):
    SMILE = "smile"
    LOYALTYLION = "loyaltylion"
    YOTPO = "yotpo"
    CSV = "csv"


class TierMatch(StrEnum):
    """How an export's tier is found among the program's tiers."""

    CODE = "code"
    NAME = "name"
    """By the tier's name in any of the program's languages."""
    ANY = "any"
    """By code, else by name."""


FIELDS = ("external_id", "email", "name", "first_name", "last_name", "points", "tier", "referral_code", "date")
"""What a column can hold; ``points`` and one of ``external_id`` or ``email`` are required."""


@dataclass(frozen=True)
class Mapping:
    """Which column of the export holds each field (``columns``: field → header), and how tiers match."""

    columns: dict[str, str]
    tier_match: TierMatch = TierMatch.ANY
    tiers: dict[str, str] = field(default_factory=dict)
    """Explicit tiers: the export's value (any case) → the program's tier code; checked before ``tier_match``."""
    external_id_prefix: str = ""
    """Put before the export's id (``shopify:``), so members meet the ones the shop's connector made."""
    named: frozenset[str] = frozenset()
    """The fields a mapping file names: their columns must be in the export (a built-in's optional ones may not)."""

    @property
    def key(self) -> str:
        """The field members are matched by: the external id, or the e-mail when the export has no id."""
        return "external_id" if "external_id" in self.columns else "email"


BUILT_IN: dict[Source, Mapping] = {
    Source.SMILE: Mapping(
        {
            "external_id": "id",
            "email": "email",
            "first_name": "first_name",
            "last_name": "last_name",
            "points": "points_balance",
            "tier": "vip_tier",
            "referral_code": "referral_url",
        }
    ),
    Source.LOYALTYLION: Mapping(
        {
            "external_id": "merchant_id",
            "email": "email",
            "first_name": "first_name",
            "last_name": "last_name",
            "points": "points_approved",
            "tier": "tier",
            "referral_code": "referral_url",
        }
    ),
    Source.YOTPO: Mapping(
        {
            "email": "Email",
            "name": "Full Name",
            "first_name": "First Name",
            "last_name": "Last Name",
            "points": "Points Balance",
            "tier": "VIP Tier",
            "referral_code": "Referral Link",
        }
    ),
}


def mapping_for(source: Source, path: Path | None) -> Mapping:
    """The source's built-in mapping, overridden by the mapping file at ``path``; ``--from csv`` needs one."""
    built_in = BUILT_IN.get(source)
    if path is None:
        if built_in is None:
            raise ImportFileInvalid("--from csv needs a mapping file (--mapping MAP.yaml) naming the columns")
        return built_in
    read = _read(path)
    if built_in is None:
        return read
    return replace(read, columns={**built_in.columns, **read.columns})


def _read(path: Path) -> Mapping:
    def invalid(message: str) -> ImportFileInvalid:
        return ImportFileInvalid(f"{path.name}: {message}", [{"line": 0, "field": "mapping", "message": message}])

    try:
        document: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise invalid(f"cannot be read as YAML: {error}") from error
    if not isinstance(document, dict) or not isinstance(document.get("columns"), dict):
        raise invalid("a mapping file has 'columns:' (field: the export's column header)")
    unknown = sorted(set(document) - {"columns", "tier_match", "tiers", "external_id_prefix"})
    if unknown:
        raise invalid(f"unknown key {unknown[0]!r}")
    columns = {str(name): str(header) for name, header in document["columns"].items() if header is not None}
    wrong = sorted(set(columns) - set(FIELDS))
    if wrong:
        raise invalid(f"unknown field {wrong[0]!r} in columns; the fields are {', '.join(FIELDS)}")
    tiers = document.get("tiers") or {}
    if not isinstance(tiers, dict):
        raise invalid("'tiers:' maps the export's tier names to the program's tier codes")
    try:
        match = TierMatch(document.get("tier_match", TierMatch.ANY.value))
    except ValueError as error:
        raise invalid("tier_match is code, name or any") from error
    prefix = str(document.get("external_id_prefix") or "")
    explicit = {str(value).casefold(): str(code) for value, code in tiers.items()}
    return Mapping(columns, match, explicit, prefix, frozenset(columns))
