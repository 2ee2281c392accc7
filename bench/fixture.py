"""Test data made set-wise in SQL: programs, members with a welcome lot, and the nightly jobs' lots and credits.

Rows are written directly with ``INSERT ... SELECT`` (thousands of times faster than going through the API), but
with exactly the shape the engine itself writes: every lot has the entry that explains it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import yaml
from sqlalchemy import Engine, TextClause, bindparam, text

from punchcard.auth.service import Scope, create_key
from punchcard.kit.clock import utc_now
from punchcard.kit.db import UtcDateTime, unit_of_work
from punchcard.program import service as programs
from punchcard.program.domain import ProgramVersion

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo" / "program.yaml"


@dataclass(frozen=True)
class Program:
    slug: str
    program_id: int
    key: str
    version: ProgramVersion


def program(engine: Engine, slug: str) -> Program:
    """Apply the demo program (Bean There's rules, tiers and expiry) under ``slug`` and create an admin key."""
    definition = yaml.safe_load(DEMO.read_text())
    definition["slug"] = slug
    source = yaml.safe_dump(definition)
    with unit_of_work(engine) as session:
        programs.apply(session, programs.parse_text(source, "yaml"), source, "yaml", utc_now())
        program_id = programs.program_id_for(session, slug)
        key = create_key(session, program_id, Scope.ADMIN, utc_now())
        version = programs.current(session, program_id)
    return Program(slug, program_id, key, version)


def _series(engine: Engine, count: int) -> str:
    """A query yielding ``n`` = 1..count on either database."""
    if engine.dialect.name == "postgresql":
        return f"SELECT generate_series(1, {int(count)}) AS n"
    return f"WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {int(count)}) SELECT n FROM s"


def _at(statement: str, *names: str) -> TextClause:
    return text(statement).bindparams(*(bindparam(name, type_=UtcDateTime()) for name in names))


def members(engine: Engine, target: Program, count: int, enrolled_at: datetime, *, prefix: str = "m") -> None:
    """Members ``{prefix}1..{prefix}N``, Bronze since enrolment, each with the 50-point welcome lot and its entry."""
    expires = enrolled_at + timedelta(days=366)
    welcome = target.version.program.rules
    assert any(rule.code == "welcome" for rule in welcome)
    with engine.begin() as connection:
        parameters = {"program": target.program_id, "at": enrolled_at, "expires": expires, "prefix": prefix}
        connection.execute(
            _at(
                "INSERT INTO members (program_id, external_id, marketing_consent, status, enrolled_at, tier_code,"
                " tier_since) SELECT :program, :prefix || n, false, 'active', :at, 'bronze', :at"
                f" FROM ({_series(engine, count)}) AS series",
                "at",
            ),
            parameters,
        )
        new = f"program_id = :program AND external_id LIKE '{prefix}%'"
        connection.execute(
            _at(
                "INSERT INTO tier_changes (program_id, member_id, from_code, to_code, reason, changed_at)"
                f" SELECT program_id, id, NULL, 'bronze', 'enrolment', :at FROM members WHERE {new}",
                "at",
            ),
            parameters,
        )
        connection.execute(
            _at(
                "INSERT INTO lots (program_id, member_id, amount, remaining, earned_at, expires_at, is_pending)"
                f" SELECT program_id, id, 50, 50, :at, :expires, false FROM members WHERE {new}",
                "at",
                "expires",
            ),
            parameters,
        )
        account, rule = _on_member_leg("'points'", PROGRAM), _on_member_leg("'welcome'")
        connection.execute(
            _at(
                "INSERT INTO ledger_entries (program_id, member_id, account, asset, kind, amount, transfer_id,"
                " occurred_at, recorded_at, program_version, lot_id, operation, rule_code, description)"
                f" SELECT l.program_id, {_on_member_leg('l.member_id')}, {account},"
                f" 'points', 'earn', {SIDE} * 50, {_transfer_id(engine, 'l.id')}, l.earned_at, l.earned_at, 1,"
                f" {_on_member_leg('l.id')}, 'enrolment', {rule}, 'Welcome bonus: 50 points'"
                f" FROM lots l JOIN members m ON m.id = l.member_id CROSS JOIN {SIDES}"
                f" WHERE l.program_id = :program AND m.external_id LIKE '{prefix}%'",
            ),
            parameters,
        )
    analyze(engine)


def nightly(engine: Engine, target: Program, count: int, lots_per_member: int, at: datetime) -> None:
    """``count`` members with ``lots_per_member`` lots each, earned over the 400 days before ``at`` (so about one in
    eleven is due to expire at ``at``), every lot with its earn entry and its tier credit; tiers are spread so the
    review upgrades, starts grace periods and downgrades. PostgreSQL only (it uses ``generate_series``)."""
    parameters = {"program": target.program_id, "at": at, "lots": lots_per_member}
    with engine.begin() as connection:
        # Generated rows are consistent by construction; skipping the foreign-key triggers makes loading them faster.
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        connection.execute(
            _at(
                "INSERT INTO members (program_id, external_id, marketing_consent, status, enrolled_at, tier_code,"
                " tier_since, tier_grace_until)"
                " SELECT :program, 'n' || n, false, 'active', :at - interval '800 days',"
                " (ARRAY['bronze', 'silver', 'gold'])[1 + n % 3], :at - interval '400 days',"
                " CASE WHEN n % 7 = 0 THEN :at - interval '1 day' END"
                f" FROM generate_series(1, {int(count)}) AS n",
                "at",
            ),
            parameters,
        )
        connection.execute(
            _at(
                "INSERT INTO lots (program_id, member_id, amount, remaining, earned_at, expires_at, is_pending)"
                " SELECT :program, m.id, x.amount, x.amount, x.earned, x.earned + interval '365 days', false"
                " FROM members m CROSS JOIN generate_series(0, :lots - 1) AS k"
                " CROSS JOIN LATERAL (SELECT 10 + (m.id * 7 + k * 13) % 290 AS amount,"
                " :at - ((m.id + k * 41) % 400) * interval '1 day' - interval '3 hours' AS earned) AS x"
                " WHERE m.program_id = :program",
                "at",
            ),
            parameters,
        )
        for account in ("points", "tier_credits"):
            lot = _on_member_leg("l.id") if account == "points" else "NULL"
            rule = _on_member_leg("'everything-else'") if account == "points" else "NULL"
            transfer = _transfer_id(engine, f"'{account}' || l.id")
            connection.execute(
                text(
                    "INSERT INTO ledger_entries (program_id, member_id, account, asset, kind, amount, transfer_id,"
                    " occurred_at, recorded_at, program_version, lot_id, event_id, order_id, rule_code, description)"
                    f" SELECT l.program_id, {_on_member_leg('l.member_id')}, {_on_member_leg(repr(account), PROGRAM)},"
                    f" '{account}', 'earn', {SIDE} * l.amount, {transfer},"
                    f" l.earned_at, l.earned_at, 1, {lot}, NULL, 'N-' || l.id, {rule}, 'Order N-' || l.id"
                    f" FROM lots l CROSS JOIN {SIDES} WHERE l.program_id = :program"
                ),
                parameters,
            )
    analyze(engine)


# Every generated earning is a balanced transfer, as the ledger writes them (docs/decisions.md, Foundation 12): the
# member's leg and the program's issuance leg, one row each from the same lot, sharing a transfer id derived from it.
SIDES = "(SELECT 1 AS side UNION ALL SELECT -1) AS sides"
SIDE = "sides.side"
PROGRAM = "'program:issuance'"


def _on_member_leg(value: str, otherwise: str = "NULL") -> str:
    return f"CASE WHEN {SIDE} = 1 THEN {value} ELSE {otherwise} END"


def _transfer_id(engine: Engine, key: str) -> str:
    """A transfer id made from ``key`` in SQL: an MD5 as a UUID on PostgreSQL, 32 hex digits (how SQLite stores a
    UUID) of the integer key on SQLite."""
    if engine.dialect.name == "postgresql":
        return f"CAST(md5({key}::text) AS uuid)"
    return f"printf('%032x', {key})"


def analyze(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    else:
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
