"""Reading program files, applying them as new versions, and loading the version in force."""

from __future__ import annotations

import json
import re
import threading
import time
import tomllib
from collections.abc import Collection, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from punchcard.auth.service import UNKNOWN_KEY, Caller, Scope, bearer_key_hash, live_key
from punchcard.kit import invalidation
from punchcard.kit.errors import Unauthorized
from punchcard.program.domain import ProgramVersion
from punchcard.program.errors import ProgramFileInvalid, ProgramNotFound

# The rows are how programs and their versions cross this feature's boundary (the console lists and shows them).
from punchcard.program.models import ProgramRow as ProgramRow
from punchcard.program.models import ProgramVersionRow as ProgramVersionRow
from punchcard.program.schemas import ProgramFile, error_details


class _Yaml12Loader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2's booleans, ``true`` and ``false`` only. YAML 1.1 also reads ``on``,
    ``off``, ``yes`` and ``no`` as booleans, which turned ``qualify: {on: first_purchase}`` into a key ``true`` and a
    fraud check set to ``off`` into ``false``: the program file's words stay words."""


_BOOL = "tag:yaml.org,2002:bool"
_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != _BOOL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def load(text: str, source_format: str) -> Any:
    """A program file's text as data, not yet validated (``tomllib``, or YAML with 1.2's booleans)."""
    return tomllib.loads(text) if source_format == "toml" else yaml.load(text, Loader=_Yaml12Loader)


def parse_text(text: str, source_format: str) -> ProgramFile:
    """Parse and validate a program file's text; errors name the field and say what is wrong."""
    try:
        raw: Any = load(text, source_format)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as error:
        raise ProgramFileInvalid(f"the file is not valid {source_format.upper()}: {error}") from error
    if not isinstance(raw, dict):
        raise ProgramFileInvalid("a program file must be a mapping of settings at the top level")
    try:
        return ProgramFile.read(raw)
    except ValidationError as error:
        details = error_details(error.errors())
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in details)
        raise ProgramFileInvalid(f"the program file is invalid: {summary}", details) from error


def read_file(path: Path) -> tuple[ProgramFile, str, str]:
    source_format = "toml" if path.suffix.lower() == ".toml" else "yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ProgramFileInvalid(f"cannot read {path}: {error.strerror}") from error
    return parse_text(text, source_format), text, source_format


def apply(session: Session, program_file: ProgramFile, text: str, source_format: str, now: datetime) -> int:
    """Create the program or add a new version of it; returns the new version number.

    The currency is fixed once a program exists: its ledger and orders are in that currency.
    """
    definition = json.loads(program_file.model_dump_json(by_alias=True))
    row = session.execute(
        select(ProgramRow).where(ProgramRow.slug == program_file.slug).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        row = ProgramRow(
            slug=program_file.slug,
            name=program_file.title,
            currency=program_file.currency,
            current_version=0,
            created_at=now,
        )
        session.add(row)
        session.flush()
    elif row.currency != program_file.currency:
        raise ProgramFileInvalid(
            f"currency cannot change from {row.currency} to {program_file.currency} on an existing program",
            [{"field": "currency", "message": f"must stay {row.currency}"}],
        )
    row.current_version += 1
    row.name = program_file.title
    row.coalition = program_file.coalition.code if program_file.coalition else None
    invalidation.announce(session)  # keys cached with the old version read it again once this commits
    session.add(
        ProgramVersionRow(
            program_id=row.id,
            version=row.current_version,
            definition=definition,
            source_text=text,
            source_format=source_format,
            created_at=now,
        )
    )
    session.flush()
    return row.current_version


def programs(session: Session) -> Sequence[ProgramRow]:
    """Every program, by name."""
    return session.execute(select(ProgramRow).order_by(ProgramRow.name, ProgramRow.id)).scalars().all()


def slugs(session: Session, only: Collection[str] | None = None) -> list[tuple[int, str]]:
    """(id, slug) of every program, or of those whose slugs are in ``only``, in id order."""
    query = select(ProgramRow.id, ProgramRow.slug).order_by(ProgramRow.id)
    if only is not None:
        query = query.where(ProgramRow.slug.in_(list(only)))
    return [(int(row.id), str(row.slug)) for row in session.execute(query)]


def in_coalition(session: Session, code: str) -> list[tuple[ProgramRow, ProgramVersion]]:
    """Every program whose version in force names the coalition ``code``, with that version, in id order."""
    rows = session.execute(select(ProgramRow).where(ProgramRow.coalition == code).order_by(ProgramRow.id)).scalars()
    return [(row, _load(session, row.id, row.current_version)) for row in rows]


def versions(session: Session, program_id: int) -> Sequence[ProgramVersionRow]:
    """Every version of the program, newest first."""
    query = select(ProgramVersionRow).where(ProgramVersionRow.program_id == program_id)
    return session.execute(query.order_by(ProgramVersionRow.version.desc())).scalars().all()


def version(session: Session, program_id: int, number: int) -> ProgramVersionRow | None:
    query = select(ProgramVersionRow).where(
        ProgramVersionRow.program_id == program_id, ProgramVersionRow.version == number
    )
    return session.execute(query).scalar_one_or_none()


def program_id_for(session: Session, slug: str) -> int:
    found = session.execute(select(ProgramRow.id).where(ProgramRow.slug == slug)).scalar_one_or_none()
    if found is None:
        raise ProgramNotFound(f"no program with slug {slug!r}")
    return int(found)


_KEY = live_key(bindparam("key_hash"))
_KEY_AND_VERSION = _KEY.add_columns(ProgramRow.current_version).join(
    ProgramRow, ProgramRow.id == _KEY.selected_columns.program_id
)
"""Built once: constructing a statement costs more Python than running a cached one (docs/performance.md)."""


KEY_CACHE_SECONDS = 1.0
"""The backstop: how long a process trusts a key it has read (and the program version that came with it) when it
hears of no change.

Reading the key was a query on every request, and on an API write a session of its own (four round trips:
docs/performance.md). A revocation or a new program version is announced (``kit.invalidation``): this process and,
on PostgreSQL, every other forgets its cached keys when the change commits. Only a change made by another process on
SQLite waits for this backstop. Unknown keys are never remembered, so a guessed key costs a query every time and the
cache cannot be filled from outside."""

KEYS_CACHED = 4096
"""At most this many keys are remembered; past it the cache starts afresh (a process serves a few programs' keys)."""


_keys: dict[tuple[str, str], tuple[float, int, Caller, int]] = {}
_keys_lock = threading.Lock()


def for_key(session: Session, authorization: str | None) -> tuple[Caller, ProgramVersion]:
    """Who is calling (``Authorization: Bearer <key>``) and the version of their program in force, in one query
    (none when this process read the same key less than ``KEY_CACHE_SECONDS`` ago and heard of no change since); a
    missing, malformed, unknown or revoked key is 401."""
    key_hash = bearer_key_hash(authorization)
    cache_key = (str(session.get_bind().engine.url), key_hash)
    cached = _keys.get(cache_key)
    if cached is not None:
        read_at, generation, caller, version = cached
        if generation == invalidation.generation() and time.monotonic() - read_at < KEY_CACHE_SECONDS:
            return caller, _load(session, caller.program_id, version)
    generation = invalidation.generation()  # before the read: a change committed during it makes the entry stale
    row = session.connection().execute(_KEY_AND_VERSION, {"key_hash": key_hash}).one_or_none()
    if row is None:
        raise Unauthorized(UNKNOWN_KEY)
    caller = Caller(row.program_id, Scope(row.scope))
    with _keys_lock:
        if len(_keys) >= KEYS_CACHED:
            _keys.clear()
        _keys[cache_key] = (time.monotonic(), generation, caller, int(row.current_version))
    return caller, _load(session, row.program_id, int(row.current_version))


def current(session: Session, program_id: int) -> ProgramVersion:
    """The program version in force; definitions are parsed once per process and version."""
    version = session.execute(
        select(ProgramRow.current_version).where(ProgramRow.id == program_id)
    ).scalar_one_or_none()
    if version is None:
        raise ProgramNotFound(f"no program with id {program_id}")
    return _load(session, program_id, int(version))


def at_version(session: Session, program_id: int, number: int) -> ProgramVersion:
    """Version ``number`` of the program, whether or not it is still in force (an event accepted under it is
    processed under it)."""
    return _load(session, program_id, number)


_versions: dict[tuple[str, int, int], ProgramVersion] = {}


def _load(session: Session, program_id: int, version: int) -> ProgramVersion:
    # Versions are immutable, so a parsed one can be kept for the life of the process (keyed by database too).
    key = (str(session.get_bind().engine.url), program_id, version)
    if key not in _versions:
        definition = session.execute(
            select(ProgramVersionRow.definition).where(
                ProgramVersionRow.program_id == program_id, ProgramVersionRow.version == version
            )
        ).scalar_one()
        if len(_versions) > 256:
            _versions.clear()
        _versions[key] = ProgramVersion(program_id, version, ProgramFile.model_validate(definition).to_domain())
    return _versions[key]
