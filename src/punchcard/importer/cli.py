"""``punchcard import``: loading history into a program (registered by ``punchcard.cli.main``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from punchcard.importer import members, service
from punchcard.importer.exports import Source, mapping_for
from punchcard.importer.source import FileFormat
from punchcard.kit.db import get_engine
from punchcard.kit.errors import PunchcardError
from punchcard.kit.migrate import upgrade
from punchcard.kit.settings import Settings

app = typer.Typer(
    help="Load a shop's history: past orders earn points as of when they happened; members come over from another"
    " loyalty app with their balances, tiers and referral codes.",
    no_args_is_help=True,
)


@app.command("orders")
def import_orders(
    file: Annotated[Path, typer.Argument(help="CSV (one row per order line) or JSON Lines (one order per line)")],
    program: Annotated[str, typer.Option(help="the program's slug")],
    file_format: Annotated[
        FileFormat | None, typer.Option("--format", help="csv or jsonl (default: from the file name)")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="orders per transaction")] = service.BATCH_SIZE,
    processes: Annotated[
        int | None,
        typer.Option(
            min=1, help="parallel processes on PostgreSQL, members split between them (default: one per core)"
        ),
    ] = None,
) -> None:
    """Import past orders, oldest first, through the program's rules: points earn, expire and count towards tiers
    as of each order's time. Unknown members are created, enrolled at their first order. Every row is checked
    before anything is written; orders already recorded are skipped, so a run can be repeated or resumed."""
    if not file.is_file():
        raise typer.BadParameter(f"no such file: {file}", param_hint="FILE")
    chosen = file_format or FileFormat.of(file)
    engine = get_engine(os.environ.get("PUNCHCARD_DATABASE_URL", "sqlite:///punchcard.db"))
    upgrade(engine)
    now = Settings().clock().now()  # the real time, unless PUNCHCARD_FIXED_NOW sets it (a test's or a replay's)
    try:
        typer.echo(f"checking {file} ({chosen.value})", err=True)
        plan = service.check(engine, program, file, chosen, now)
        with typer.progressbar(length=plan.orders, label="importing orders", file=sys.stderr) as bar:
            summary = service.run(
                engine,
                program,
                file,
                chosen,
                now=now,
                plan=plan,
                batch_size=batch_size,
                lanes=processes,
                progress=bar.update,
            )
    except PunchcardError as error:
        typer.secho(f"error [{error.code}]: {error.message}", fg=typer.colors.RED, err=True)
        for detail in error.details:
            typer.secho("  " + ", ".join(f"{key}: {value}" for key, value in detail.items()), err=True)
        raise typer.Exit(code=1) from error
    rate = summary.imported / summary.seconds if summary.seconds else 0.0
    typer.echo(
        f"imported {summary.imported} of {summary.orders} orders ({summary.skipped} already recorded), "
        f"{summary.members_created} new members, in {summary.seconds:.1f} s ({rate:,.0f} orders/s)"
    )


@app.command("members")
def import_members(
    file: Annotated[Path, typer.Argument(help="the other app's customer export (CSV)")],
    program: Annotated[str, typer.Option(help="the program's slug")],
    source: Annotated[Source, typer.Option("--from", help="the app the export comes from")],
    mapping: Annotated[
        Path | None, typer.Option(help="YAML naming the export's columns (required with --from csv)")
    ] = None,
    rejects: Annotated[
        Path | None, typer.Option(help="where refused rows are written (default: FILE.rejects.csv)")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="members per transaction")] = members.BATCH_SIZE,
    processes: Annotated[
        int | None, typer.Option(min=1, help="parallel processes on PostgreSQL (default: one per core)")
    ] = None,
) -> None:
    """Import members with their points balance (an opening balance that expires by the program's policy from the
    import, or the export's date), tier and referral code. A bad row is refused (listed with its line in the rejects
    file) and the rest imported; members already imported are skipped, so a run can be repeated or resumed. Exits 1
    when rows were refused."""
    if not file.is_file():
        raise typer.BadParameter(f"no such file: {file}", param_hint="FILE")
    engine = get_engine(os.environ.get("PUNCHCARD_DATABASE_URL", "sqlite:///punchcard.db"))
    upgrade(engine)
    now = Settings().clock().now()  # the real time, unless PUNCHCARD_FIXED_NOW sets it (a test's or a replay's)
    try:
        typer.echo(f"checking {file} ({source.value})", err=True)
        plan = members.check(engine, program, file, source, mapping_for(source, mapping), now)
        total = len(plan.customers) + len(plan.refused)
        with typer.progressbar(length=total, label="importing members", file=sys.stderr) as bar:
            summary = members.run(
                engine, program, plan, now=now, batch_size=batch_size, lanes=processes, progress=bar.update
            )
    except PunchcardError as error:
        typer.secho(f"error [{error.code}]: {error.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from error
    typer.echo(
        f"{summary.rows} rows: {summary.created} members created, {summary.updated} updated, {summary.skipped}"
        f" already imported, {len(summary.refused)} refused; {summary.points_opened} points opened,"
        f" {summary.tiers_set} tiers set, {summary.codes_kept} referral codes kept"
    )
    if summary.refused:
        path = rejects or file.with_name(file.name + ".rejects.csv")
        members.write_rejects(path, summary.refused)
        for problem in summary.refused[:10]:
            typer.secho(f"  line {problem.line}: {problem.field}: {problem.message}", err=True)
        typer.secho(f"refused rows written to {path}", fg=typer.colors.YELLOW, err=True)
        raise typer.Exit(code=1)
