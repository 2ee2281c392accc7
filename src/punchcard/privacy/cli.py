"""``punchcard member export`` and ``punchcard member erase``: a member's data for an operator who has no API key at
hand (a request that came by post, a support ticket)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from punchcard.kit.clock import utc_now
from punchcard.kit.db import get_engine, unit_of_work
from punchcard.kit.errors import PunchcardError
from punchcard.kit.migrate import upgrade
from punchcard.kit.settings import Settings
from punchcard.member import service as members
from punchcard.privacy import service
from punchcard.privacy.domain import Requester, Source
from punchcard.program import service as programs

app = typer.Typer(help="Members' data: export and erasure.", no_args_is_help=True)

Program = Annotated[str, typer.Option(help="the program's slug")]
ExternalId = Annotated[str, typer.Argument(help="the member's external id")]


@app.command("export")
def export(
    program: Program,
    external_id: ExternalId,
    out: Annotated[Path | None, typer.Option(help="write the JSON document here instead of printing it")] = None,
) -> None:
    """Everything stored about the member, as one JSON document (docs/privacy.md); the audit log records it."""
    engine = get_engine(Settings().database_url)
    upgrade(engine)
    try:
        with unit_of_work(engine) as session:
            version = programs.current(session, programs.program_id_for(session, program))
            member = members.get(session, version.program_id, external_id)
            document = service.export(session, version, member, Requester(Source.CLI), utc_now())
    except PunchcardError as error:
        _fail(error)
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    if out is None:
        typer.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote the data of {external_id} in {program} to {out}")


@app.command("erase")
def erase(
    program: Program,
    external_id: ExternalId,
    reason: Annotated[str, typer.Option(help="why (the member's request, ...): kept in the audit log")],
) -> None:
    """Erase the member's personal data for good (docs/privacy.md); their ledger stays. Prints the pseudonym."""
    engine = get_engine(Settings().database_url)
    upgrade(engine)
    try:
        with unit_of_work(engine) as session:
            program_id = programs.program_id_for(session, program)
            requester = Requester(Source.CLI)
            erased = service.erase(session, program_id, external_id, reason=reason, requester=requester, now=utc_now())
    except PunchcardError as error:
        _fail(error)
    done = "erased" if erased.erased_now else "was already erased"
    typer.echo(f"{external_id} in {program} {done}; known from now on as")
    typer.echo(erased.member)


def _fail(error: PunchcardError) -> NoReturn:
    typer.secho(f"error [{error.code}]: {error.message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1) from error
