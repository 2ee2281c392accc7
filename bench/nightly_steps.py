"""Each step of the nightly run, timed on copies of one generated database: steadier than a whole bench run, for
before/after comparisons of the jobs (docs/performance.md, "The import and the nightly jobs after the foundation").

    uv run python -m bench.nightly_steps [--runs 4] [--members 5000] [--lots 10] [--workers 2]

The bench's nightly fixture (``fixture.nightly``: members with lots over 400 days, tiers spread so that the review
moves many) is written once into a template database; each run copies it (``CREATE DATABASE … TEMPLATE``), runs
``jobs.run`` on the copy and prints the seconds of each step. Run it from two trees, alternated, to compare them.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

import psycopg

from bench import fixture
from punchcard.jobs import service as jobs
from punchcard.kit.db import get_engine
from punchcard.kit.migrate import upgrade


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432", help="server URL, no database")
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--lots", type=int, default=10, help="lots per member")
    parser.add_argument("--workers", type=int, default=2, help="connections working at once, as jobs run --workers")
    options = parser.parse_args()
    base = options.postgres.rstrip("/")
    now = datetime.now(UTC).replace(microsecond=0)
    template = "bench_nightly_template"
    _recreate(base, template)
    engine = get_engine(f"{base}/{template}")
    upgrade(engine)
    target = fixture.program(engine, "bench-nightly")
    fixture.nightly(engine, target, options.members, options.lots, now)
    engine.dispose()
    for run in range(options.runs):
        copy = f"bench_nightly_run_{run}"
        _recreate(base, copy, template=template)
        engine = get_engine(f"{base}/{copy}")
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
        report = jobs.run(engine, at=now, now=now, only=[target.slug], workers=options.workers)
        steps = ", ".join(f"{step} {seconds:.3f} s" for step, seconds in report.seconds.items())
        print(f"run {run + 1}: {steps}; {report.lots_expired} lots expired, {report.members_reviewed} reviewed")
        engine.dispose()
        _drop(base, copy)
    _drop(base, template)


def _recreate(base: str, name: str, *, template: str | None = None) -> None:
    _drop(base, name)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))


def _drop(base: str, name: str) -> None:
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
