"""``punchcard``: migrate, apply programs, create API keys, serve, run jobs, and the demo.

Each command is a boundary: it opens a unit of work, calls services, and commits once at the end.
"""

from __future__ import annotations

import os
import signal
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine

from punchcard.auth.service import Scope, create_key, revoke_by_value
from punchcard.cli import integration as integration_cli
from punchcard.cli import wallet as wallet_cli
from punchcard.consumers import consumers
from punchcard.event import worker as event_worker
from punchcard.importer import cli as importer_cli
from punchcard.jobs import scheduler
from punchcard.jobs import service as jobs
from punchcard.kit import logs, metrics, ports
from punchcard.kit.clock import utc_now
from punchcard.kit.db import get_engine, session_factory, unit_of_work
from punchcard.kit.errors import PunchcardError
from punchcard.kit.migrate import upgrade
from punchcard.kit.settings import Settings
from punchcard.ledger.verify import verify
from punchcard.mailing.sender import MailSender
from punchcard.outbox.dispatcher import Dispatcher
from punchcard.passes.sender import PassUpdates
from punchcard.portal import cli as portal_cli
from punchcard.privacy import cli as privacy_cli
from punchcard.program import service as programs
from punchcard.staff import cli as staff_cli
from punchcard.webhook.sender import Sender

app = typer.Typer(help="Punchcard: a self-hosted loyalty and rewards engine.", no_args_is_help=True)
program_app = typer.Typer(help="Loyalty programs, kept as files.", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys for shops and staff tools.", no_args_is_help=True)
jobs_app = typer.Typer(help="Scheduled work.", no_args_is_help=True)
ledger_app = typer.Typer(help="The points ledger.", no_args_is_help=True)
app.add_typer(program_app, name="program")
app.add_typer(apikey_app, name="apikey")
app.add_typer(jobs_app, name="jobs")
app.add_typer(importer_cli.app, name="import")
app.add_typer(staff_cli.app, name="staff")
app.add_typer(portal_cli.app, name="portal")
app.add_typer(privacy_cli.app, name="member")
app.add_typer(ledger_app, name="ledger")
app.add_typer(integration_cli.app, name="integration")
app.add_typer(wallet_cli.app, name="wallet")

DEFAULT_URL = "sqlite:///punchcard.db"
DEMO_MAIL_PORT = 1025
"""The demo's mail catcher listens here for SMTP unless ``--mail-port`` says otherwise or the port is taken."""


@app.callback()
def main(
    database_url: Annotated[
        str, typer.Option(envvar="PUNCHCARD_DATABASE_URL", help="SQLAlchemy URL (SQLite or PostgreSQL).")
    ] = DEFAULT_URL,
) -> None:
    # The API reads settings from the environment; make the option visible to it and to every command.
    os.environ["PUNCHCARD_DATABASE_URL"] = database_url


def _url() -> str:
    return os.environ.get("PUNCHCARD_DATABASE_URL", DEFAULT_URL)


def _fail(error: PunchcardError) -> None:
    typer.secho(f"error [{error.code}]: {error.message}", fg=typer.colors.RED, err=True)
    for detail in error.details:
        typer.secho("  " + ", ".join(f"{k}: {v}" for k, v in detail.items()), err=True)
    raise typer.Exit(code=1)


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    upgrade(get_engine(_url()))
    typer.echo("database is up to date")


@program_app.command("apply")
def apply_program(file: Annotated[Path, typer.Argument(help="program.yaml or program.toml")]) -> None:
    """Validate a program file and apply it as a new version; prints the program's slug last."""
    engine = get_engine(_url())
    upgrade(engine)
    try:
        program_file, text, source_format = programs.read_file(file)
        with unit_of_work(engine) as session:
            version = programs.apply(session, program_file, text, source_format, utc_now())
    except PunchcardError as error:
        _fail(error)
        return
    typer.echo(f"applied {file} as version {version} of")
    typer.echo(program_file.slug)


@apikey_app.command("create")
def create_apikey(
    program: Annotated[str, typer.Option(help="the program's slug")],
    scope: Annotated[Scope, typer.Option(help="admin or integration")] = Scope.INTEGRATION,
) -> None:
    """Create an API key; it is printed once, alone on the last line."""
    try:
        with unit_of_work(get_engine(_url())) as session:
            key = create_key(session, programs.program_id_for(session, program), scope, utc_now())
    except PunchcardError as error:
        _fail(error)
        return
    typer.echo(f"{scope.value} key for {program} (store it now; it cannot be shown again):")
    typer.echo(key)


@apikey_app.command("revoke")
def revoke_apikey(
    program: Annotated[str, typer.Option(help="the program's slug")],
    key: Annotated[str, typer.Argument(help="the whole key, as it was shown at its creation")],
) -> None:
    """Revoke a key at once: running servers stop accepting it when this commits (on SQLite, other processes within
    a second)."""
    try:
        with unit_of_work(get_engine(_url())) as session:
            revoked = revoke_by_value(session, programs.program_id_for(session, program), key, utc_now())
            prefix = revoked.prefix
    except PunchcardError as error:
        _fail(error)
        return
    typer.echo(f"revoked the key {prefix}… of {program}")


WORKER_HEALTHCHECK_SECONDS = 30
"""uvicorn's supervisor restarts a worker that does not answer its ping within this time. Its default, 5 s, kills
workers that are merely busy on a loaded two-core machine (their event loop waits for the GIL), losing the requests
in flight; a worker that is really stuck still goes within half a minute."""


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
    jobs_every: Annotated[float, typer.Option(help="seconds between background job runs; 0 turns them off")] = 300,
    access_log: Annotated[bool, typer.Option(help="log every request (costs time on busy servers)")] = True,
    worker_healthcheck_timeout: Annotated[
        int, typer.Option(min=1, help="seconds a busy worker may take to answer the supervisor before it is restarted")
    ] = WORKER_HEALTHCHECK_SECONDS,
) -> None:
    """Serve the API (migrating the database first) and run the scheduled jobs in the background.

    Each worker process keeps its own pool of ``PUNCHCARD_DATABASE_POOL_SIZE`` connections (and as many again in
    overflow); see docs/performance.md for sizing.
    """
    _refuse_busy(host, port)
    engine = get_engine(_url())
    upgrade(engine)
    _serve(engine, host, port, workers, jobs_every, access_log=access_log, healthcheck=worker_healthcheck_timeout)


def _refuse_busy(host: str, port: int) -> None:
    """Stop with one line, before anything starts, when the server's port is taken (another demo, another server)."""
    if not ports.is_free(host, port):
        typer.secho(f"error: {host}:{port} is in use; choose another port with --port N", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2)


def _serve(
    engine: Engine,
    host: str,
    port: int,
    workers: int,
    jobs_every: float,
    *,
    access_log: bool = True,
    healthcheck: int = WORKER_HEALTHCHECK_SECONDS,
) -> None:
    import uvicorn

    settings = Settings()
    if workers > 1 and metrics.multiprocess_directory() is None:
        typer.secho(
            f"note: {workers} workers without {metrics.MULTIPROCESS_DIRECTORY}: each scrape of /metrics counts only "
            "the worker that answers it (docs/deploy.md)",
            err=True,
        )
    metrics.clear_multiprocess_directory()  # before any process of this server counts anything
    if jobs_every > 0:
        scheduler.start(engine, jobs_every)
    uvicorn.run(
        "punchcard.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        timeout_worker_healthcheck=healthcheck,
        log_config=logs.logging_config(settings.log_format, settings.log_level),  # every worker: JSON or text
    )


@app.command()
def worker(
    until_idle: Annotated[bool, typer.Option("--until-idle", help="process what is waiting, then exit")] = False,
    threads: Annotated[int, typer.Option(min=1, help="workers in this process, each on partitions of its own")] = 1,
    poll: Annotated[float, typer.Option(min=0.01, help="seconds between looks for new events when idle")] = 0.5,
) -> None:
    """Process the events accepted for later (``Prefer: respond-async``, ``POST /api/v1/events/batch``), each member's
    in the order they were accepted. Run as many as you like, on any machine that reaches the database: they share
    the work by partition (docs/scaling.md). Stops on SIGTERM or Ctrl-C after the batch in hand."""
    engine = get_engine(_url())
    settings = Settings(database_url=_url())
    logs.configure(settings.log_format, settings.log_level)
    sessions, clock = session_factory(engine), settings.clock()
    if until_idle:
        typer.echo(f"{event_worker.drain(sessions, clock)} events processed or rejected")
        return
    running = [event_worker.Worker(sessions, clock, poll) for _ in range(threads)]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    for each in running:
        each.start()
    typer.echo(f"Processing accepted events with {threads} worker(s); SIGTERM or Ctrl-C stops after the batch in hand.")
    try:
        while not stop.wait(1):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        for each in running:
            each.stop()


def _parse_at(value: str | None) -> datetime:
    if value is None:
        return utc_now()
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@jobs_app.command("run")
def run_jobs(
    at: Annotated[str | None, typer.Option(help="ISO timestamp to run as of (default now; naive means UTC)")] = None,
    batch_size: Annotated[int, typer.Option(min=1)] = 1000,
    workers: Annotated[int, typer.Option(min=1, help="database connections working at once")] = 1,
) -> None:
    """Do everything due at --at: vest pending points, expire lots, review tiers."""
    try:
        moment = _parse_at(at)
    except ValueError as error:
        raise typer.BadParameter(f"not an ISO timestamp: {at}") from error
    settings = Settings(database_url=_url())
    logs.configure(settings.log_format, settings.log_level)
    engine = get_engine(_url())
    report = jobs.run(engine, at=moment, now=utc_now(), batch_size=batch_size, workers=workers)
    # What the jobs (and anything before them) published is handed to the consumers now, not at a server's next poll.
    sessions = session_factory(engine)
    delivered = Dispatcher(sessions, consumers(settings), settings.clock()).drain()
    posted = Sender(sessions, settings.clock(), allow_private=settings.webhooks_allow_private).drain()
    mailed = MailSender(sessions, settings.clock(), settings).drain()
    passes = PassUpdates(sessions, settings.clock()).drain()
    typer.echo(
        f"as of {moment.isoformat()}: {report.lots_vested} lots vested, {report.lots_expired} lots expired, "
        f"{report.members_reviewed} members reviewed, {report.reminders} reminders, "
        f"{report.survey_invitations} survey invitations, {report.memberships} memberships settled, "
        f"{report.gift_cards_expired} gift cards expired, {report.members_erased} inactive members erased "
        f"in {len(report.programs)} program(s); "
        f"{delivered} outbox deliveries made, {posted} webhook attempts, {mailed} member mails sent, "
        f"{passes} wallet pass updates"
    )


@app.command()
def demo(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    database: Annotated[Path, typer.Option(help="SQLite file for the demo (recreated)")] = Path("punchcard-demo.db"),
    serve_api: Annotated[bool, typer.Option("--serve/--no-serve")] = True,
    mail_port: Annotated[
        int, typer.Option(min=1, max=65535, help="the mail catcher's SMTP port; if it is in use, a free one is taken")
    ] = DEMO_MAIL_PORT,
) -> None:
    """Set up a demo database with a year of sample activity, print a key and URLs, and serve it."""
    from punchcard.demo import setup

    if serve_api:
        _refuse_busy(host, port)
        if not ports.is_free("127.0.0.1", mail_port):
            taken, mail_port = mail_port, ports.free_port("127.0.0.1")
            typer.echo(f"Mail port {taken} is in use; the demo's mail catcher listens on {mail_port} instead.")
    url = f"sqlite:///{database}"
    os.environ["PUNCHCARD_DATABASE_URL"] = url
    result = setup.build(url, database, echo=typer.echo)
    base = f"http://{host}:{port}"
    typer.echo("")
    typer.echo(f"Demo program '{result.slug}': {result.members} members, {result.events} events.")
    typer.echo(f"API docs:      {base}/docs")
    member_url = f"{base}/api/v1/members/{result.sample_member}"
    typer.echo(f"Try:           curl -H 'Authorization: Bearer {result.admin_key}' {member_url}")
    typer.echo(f"Member portal: {base}/portal/{result.slug}")
    typer.echo(f"Admin console: {base}/admin  (sign in as {result.staff_email}, password {result.staff_password})")
    if serve_api:
        from punchcard.mail import catcher

        # The portal's sign-in mail goes to an in-memory catcher whose page lists it with its link.
        catcher.start(port=mail_port)
        os.environ.update(
            PUNCHCARD_SMTP_HOST="127.0.0.1",
            PUNCHCARD_SMTP_PORT=str(mail_port),
            PUNCHCARD_DEMO_MAIL_CATCHER="true",
            PUNCHCARD_WEBHOOKS_ALLOW_PRIVATE="true",  # webhooks to receivers on this machine
            PUNCHCARD_DEMO_WEBHOOK_SECRET=setup.subscribe_receiver(url, result.slug, f"{base}/demo/webhooks"),
            PUNCHCARD_PUBLIC_URL=base,
        )
        typer.echo(f"Mail catcher:  {base}/demo/mail  (ask for a sign-in link as anna@example.com, open it here)")
        typer.echo(f"               (SMTP on 127.0.0.1:{mail_port})")
        typer.echo(f"Webhooks:      {base}/demo/webhooks  (every event of the program, signatures checked)")
    typer.echo("Admin API key:")
    typer.echo(result.admin_key)
    if serve_api:
        _serve(get_engine(url), host, port, workers=1, jobs_every=300)


@ledger_app.command("verify")
def verify_ledger(
    program: Annotated[str | None, typer.Option(help="only this program's ledger (its slug)")] = None,
) -> None:
    """Check that every transfer sums to zero per asset and every lot and member account (its stored totals) equals
    its entries; exit 1 if not."""
    try:
        with unit_of_work(get_engine(_url())) as session:
            program_id = programs.program_id_for(session, program) if program is not None else None
            report = verify(session, program_id)
    except PunchcardError as error:
        _fail(error)
    for problem in report.problems:
        typer.secho(f"{problem.check}: {problem.detail}", fg=typer.colors.RED, err=True)
    verdict = (
        "every transfer balances, every lot and every account equals its entries"
        if report.is_balanced
        else "NOT BALANCED"
    )
    typer.echo(f"{report.transfers} transfers, {report.lots} lots: {verdict}")
    if not report.is_balanced:
        raise typer.Exit(code=1)
