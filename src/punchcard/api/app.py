"""Assembles the FastAPI application from the feature routers."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from punchcard import __version__
from punchcard.admin.routes import router as admin
from punchcard.api import errors
from punchcard.api.health import router as health
from punchcard.api.limits import BodyLimit, KeyFirst
from punchcard.api.metrics import router as metrics
from punchcard.api.observed import Observed
from punchcard.cause.endpoints import router as causes
from punchcard.challenge.endpoints import router as challenges
from punchcard.coalition.endpoints import router as coalitions
from punchcard.consumers import consumers
from punchcard.coupon.endpoints import router as coupons
from punchcard.event.accepted import AcceptCommit
from punchcard.event.endpoints import router as events
from punchcard.event.group_commit import GroupCommit
from punchcard.event.worker import Worker
from punchcard.kit import invalidation, logs
from punchcard.kit.db import get_engine, session_factory
from punchcard.kit.http import reject_nul, require_json
from punchcard.kit.settings import Settings, get_settings
from punchcard.ledger.endpoints import router as ledger
from punchcard.mail.catcher import router as mail_catcher
from punchcard.mailing.routes import router as unsubscribe
from punchcard.mailing.sender import MailSender
from punchcard.member.endpoints import router as members
from punchcard.membership.endpoints import integrations_router as payment_providers
from punchcard.membership.endpoints import router as memberships
from punchcard.offer.endpoints import router as offers
from punchcard.outbox.dispatcher import Dispatcher
from punchcard.passes.endpoints import logos as pass_logos
from punchcard.passes.endpoints import router as pass_web_service
from punchcard.passes.sender import PassUpdates
from punchcard.portal import rendering as portal_assets
from punchcard.portal import service as portal_service
from punchcard.portal.routes import router as portal
from punchcard.privacy.endpoints import router as privacy
from punchcard.program.endpoints import router as program
from punchcard.referral.endpoints import router as referrals
from punchcard.reward.endpoints import router as rewards
from punchcard.shops.endpoints import router as shops
from punchcard.survey.endpoints import router as surveys
from punchcard.wallet.endpoints import router as wallets
from punchcard.webhook.demo_receiver import router as demo_receiver
from punchcard.webhook.endpoints import router as webhooks_api
from punchcard.webhook.sender import Sender

STATIC = Path(__file__).resolve().parent / "static"
ICONS = {"favicon.ico": "image/vnd.microsoft.icon", "favicon.svg": "image/svg+xml"}
"""Punchcard's icon, for every page (the portal's and the console's link the SVG; other clients ask for the ICO)."""
DOCS_ASSETS_URL = "/api-docs-assets"

DESCRIPTION = """
Punchcard's REST API. Authenticate with `Authorization: Bearer <key>`; a key belongs to one program.
Errors are always `{"error": {"code", "message", "details"}}`. Money is a decimal string.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    logs.stamp_request_ids()  # every log line written for a request carries its id (``api.observed``)
    engine = get_engine(settings.database_url, settings.database_pool_size)
    sessions = session_factory(engine)
    group_commit = GroupCommit(sessions, settings.group_commit_max, settings.group_commit_writers)
    clock = settings.clock()
    dispatcher = Dispatcher(sessions, consumers(settings), clock)
    webhooks = Sender(sessions, clock, allow_private=settings.webhooks_allow_private)
    mail = MailSender(sessions, clock, settings)
    passes = PassUpdates(sessions, clock)
    listener = invalidation.Listener(engine.url) if engine.dialect.name == "postgresql" else None
    worker = Worker(sessions, clock, settings.intake_poll_seconds) if settings.intake_poll_seconds > 0 else None
    accept_commit = AcceptCommit(
        sessions, settings.group_commit_max, settings.group_commit_writers, worker.wake if worker else _nothing
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if listener is not None:
            listener.start()  # cached keys and programs hear of other processes' changes
        if settings.outbox_poll_seconds > 0:
            dispatcher.start(settings.outbox_poll_seconds)
        if settings.webhook_poll_seconds > 0:
            webhooks.start(settings.webhook_poll_seconds)
        if settings.mail_poll_seconds > 0:
            mail.start(settings.mail_poll_seconds)
            passes.start(settings.mail_poll_seconds)  # wallet passes are member messages too: the same schedule
        if worker is not None:
            worker.start()  # accepted events (``Prefer: respond-async``, the batch endpoint) are processed here too
        yield
        await run_in_threadpool(group_commit.close)  # answer the events already queued before the process ends
        await run_in_threadpool(accept_commit.close)
        if worker is not None:
            await run_in_threadpool(worker.stop)
        await run_in_threadpool(dispatcher.stop)
        await run_in_threadpool(webhooks.stop)
        await run_in_threadpool(mail.stop)
        await run_in_threadpool(passes.stop)
        if listener is not None:
            await run_in_threadpool(listener.stop)

    app = FastAPIOffline(  # /docs: Swagger UI from the installed package, no CDN (decisions, issue 10 entry 3)
        redoc_url=None,
        static_url=DOCS_ASSETS_URL,
        favicon_url="/favicon.ico",
        swagger_ui_parameters={"validatorUrl": None},  # its badge would ask validator.swagger.io
        title="Punchcard",
        version=__version__,
        description=DESCRIPTION,
        dependencies=[Depends(reject_nul)],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.dispatcher = dispatcher
    app.state.webhooks = webhooks
    app.state.mail = mail
    app.state.passes = passes
    app.state.sessions = sessions
    app.state.invalidation = listener
    app.state.group_commit = group_commit
    app.state.accept_commit = accept_commit
    app.state.sign_in_links = portal_service.request_link  # the console's way to the portal's links (admin.members)
    errors.install(app)
    app.add_middleware(KeyFirst, sessions=sessions)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)  # size costs nothing: before anything but Observed
    app.add_middleware(Observed)  # added last, so it runs first: every answer gets an id and is counted
    features = (
        members,
        ledger,
        events,
        rewards,
        coupons,
        program,
        webhooks_api,
        surveys,
        referrals,
        challenges,
        offers,
        memberships,
        wallets,
        causes,
        coalitions,
        privacy,
    )
    for router in features:
        app.include_router(router, dependencies=[Depends(require_json)])
    app.include_router(health)  # no key, no JSON check: probes and scrapers send neither
    app.include_router(metrics)
    app.include_router(payment_providers)  # signed by the provider, verified on the raw body whatever its type
    app.include_router(shops)  # the same: a shop platform's signed deliveries (and WooCommerce's unsigned form ping)
    app.include_router(admin)
    app.include_router(portal)
    app.include_router(unsubscribe)
    app.include_router(pass_web_service)  # Apple's PassKit web service: the pass's token, no key
    app.include_router(pass_logos)
    app.mount(portal_assets.STATIC_URL, StaticFiles(directory=portal_assets.STATIC), name="portal-assets")
    if settings.demo_mail_catcher:
        app.include_router(mail_catcher)
    if settings.demo_webhook_secret:
        app.include_router(demo_receiver)

    for name, media_type in ICONS.items():
        app.add_api_route(f"/{name}", _icon(name, media_type), methods=["GET"], include_in_schema=False)

    return app


def _icon(name: str, media_type: str) -> Callable[[], FileResponse]:
    def icon() -> FileResponse:
        return FileResponse(STATIC / name, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})

    return icon


def _nothing() -> None:
    """No worker in this process to wake: ``punchcard worker`` processes find accepted events by polling."""
