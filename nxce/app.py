"""The app factory and its lifespan: connect the store, load the catalog, wire the routes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.staticfiles import StaticFiles

import fixtures
from accounts.api import admin_router as accounts_admin_router
from accounts.api import router as accounts_router
from accounts.models import DOCUMENTS as ACCOUNT_DOCUMENTS
from accounts.roster_api import ROSTER_BODY_BYTES, ROSTER_PATH
from accounts.roster_api import router as roster_router
from catalog import bases, rectification
from catalog import service as catalog_service
from catalog.api import IMPORT_BODY_BYTES, IMPORT_PATH
from catalog.api import router as catalog_router
from catalog.events import CatalogEvents
from catalog.models import DOCUMENTS as CATALOG_DOCUMENTS
from catalog.models import Course
from catalog.programme_api import router as programme_router
from catalog.programme_models import DOCUMENTS as PROGRAMME_DOCUMENTS
from catalog.series import SERIES_NAMES
from credits import projection as credit_projection
from credits import recompute as credit_recompute
from credits.api import audit_router
from credits.api import router as credits_router
from credits.conclusion_api import router as conclusions_router
from credits.context import Credits
from credits.evidence import DOCUMENTS as EVIDENCE_DOCUMENTS
from credits.evidence import MAX_DOCUMENT_BYTES, UPLOAD_PATH
from credits.evidence_api import router as evidence_router
from credits.migrations import MIGRATIONS as CREDIT_MIGRATIONS
from credits.models import DOCUMENTS as CREDIT_DOCUMENTS
from credits.recommendation_api import router as recommendations_router
from fixtures import demo as demo_fixtures
from lrs.api import router as lrs_router
from lrs.documents.api import router as documents_router
from lrs.documents.models import DOCUMENTS as DOCUMENT_DOCUMENTS
from lrs.http import XapiMiddleware
from lrs.statements import joining
from lrs.statements.models import DOCUMENTS as LRS_DOCUMENTS
from nxce import __version__, search_wiring, wiring
from nxce.admin import router as admin_router
from nxce.admin_log_api import router as admin_log_router
from nxce.clients_api import router as clients_api_router
from nxce.core import admin_log, clients, db, devices, heap, leases, migrations, problems
from nxce.core.app_tokens import AppTokens
from nxce.core.auth import Verifier
from nxce.core.client_handover import ClientHandover, HandoverFile
from nxce.core.head import HeadAsGet
from nxce.core.hosts import TrustedHosts
from nxce.core.limits import BodyLimit
from nxce.core.params import Utf8Query
from nxce.core.request_id import RequestId
from nxce.core.secret import keyring
from nxce.core.security_headers import SecurityHeaders
from nxce.core.throttle import ThrottleWindow
from nxce.keys_admin import router as keys_admin_router
from nxce.metrics import Metrics, RequestMetrics, RouteProbe, TimedSearch
from nxce.metrics import router as metrics_router
from nxce.settings import Settings, get_settings
from nxce.system import router as system_router
from search.api import router as search_router
from search.indexer import Indexer
from transcripts.api import exports_router
from transcripts.api import learners as transcript_router
from transcripts.api import verification as verification_router
from transcripts.exports import Runner
from transcripts.models import DOCUMENTS as TRANSCRIPT_DOCUMENTS
from web import access as web_access
from web.admin_accounts import router as admin_accounts_pages_router
from web.admin_bases import router as admin_bases_pages_router
from web.admin_clients import router as admin_clients_pages_router
from web.admin_courses import IMPORT_FORM_PATH as ADMIN_IMPORT_PATH
from web.admin_courses import router as admin_courses_pages_router
from web.admin_learners import router as admin_learners_pages_router
from web.admin_log import router as admin_log_pages_router
from web.admin_overview import router as admin_overview_pages_router
from web.auditor import router as auditor_router
from web.base_pages import router as base_pages_router
from web.evidence import UPLOAD_FORM_BYTES, UPLOAD_FORM_PATH
from web.evidence import router as auditor_evidence_router
from web.pages import router as web_router
from web.programme import router as programme_pages_router
from web.render import STATIC as WEB_STATIC
from web.session import DOCUMENTS as WEB_DOCUMENTS
from web.session import Sessions

log = logging.getLogger("nxce")

DOCUMENTS = (
    *CATALOG_DOCUMENTS,
    *PROGRAMME_DOCUMENTS,
    *LRS_DOCUMENTS,
    *DOCUMENT_DOCUMENTS,
    *CREDIT_DOCUMENTS,
    *EVIDENCE_DOCUMENTS,
    *TRANSCRIPT_DOCUMENTS,
    *WEB_DOCUMENTS,
    *ACCOUNT_DOCUMENTS,
    devices.Device,
    admin_log.AdminAction,
    clients.Client,
    ClientHandover,
    leases.Lease,
    ThrottleWindow,
)

# Every start-up migration of every domain, in the order they run (nxce/core/migrations.py):
# a step is appended, never removed or renamed, so that each name a store records stays
# known (a store recording a name not here was written by a newer version: refused).
MIGRATIONS: tuple[migrations.Migration, ...] = (*CREDIT_MIGRATIONS,)

ALREADY_COMPRESSED = (
    "application/pdf",
    "image/jpeg",
    "image/png",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)

IN_MEMORY_WARNING = (
    "EMBEDDED STORE IN MEMORY (NXCE_EMBEDDED_IN_MEMORY): all data is LOST when the "
    "service stops. Unset it to keep the data in NXCE_DATA_DIR."
)


def log_store(settings: Settings) -> None:
    """Say where the data is kept."""
    if not settings.embedded:
        return
    if settings.embedded_in_memory:
        log.warning(IN_MEMORY_WARNING)
        return
    log.info(
        "embedded store: data kept in %s (SQLite; each write is committed to disk before it "
        "is acknowledged); this process holds the directory, one service at a time. "
        "Back it up while it runs with `nxce store backup PATH` (README: 'Backup and "
        "restore')",
        (settings.data_dir / "store.sqlite3").resolve(),
    )


def log_public_address(settings: Settings) -> None:
    """Say where transcripts' verification links point, and which hosts are answered."""
    answered = ", ".join(str(host) for host in settings.hosts)
    if settings.public_url:
        log.info(
            "transcripts' verification links and QR codes point to %s/verify/…; "
            "requests are answered for the hosts %s",
            settings.public_url,
            answered,
        )
        return
    level = logging.INFO if settings.embedded else logging.WARNING
    log.log(
        level,
        "NXCE_PUBLIC_URL is not set: transcripts' verification links and QR codes name the "
        "host each request came to, one of %s (NXCE_ALLOWED_HOSTS); set NXCE_PUBLIC_URL to "
        "the address learners and employers use",
        answered,
    )


async def seed_catalog(settings: Settings) -> bool:
    """Load the fixture catalog and bases into an empty catalog; answers whether it did
    (the store was fresh)."""
    if await Course.find_one({}) is not None:
        log.info("catalog already holds courses; fixtures not loaded")
        return False
    report = await catalog_service.load(
        courses=fixtures.read_courses(), activity_base=settings.activity_base
    )
    seeds = fixtures.read_bases()
    created_bases = await bases.load(seeds=seeds)
    log.info("loaded the fixture catalog: %d courses, %d bases", report.created, created_bases)
    return True


async def open_store(
    settings: Settings,
    *,
    seed: bool,
    client: Any = None,
    demo: Callable[[], Awaitable[object]] | None = None,
) -> tuple[Any, Any]:
    """Connect the configured store (or use `client`, a store opened before), bind the
    documents, create their indexes, and (when `seed`) load the fixture catalog into an
    empty one, then `demo` (the demonstration programme) into that fresh store; answers
    (client, database)."""
    client = client if client is not None else db.connect(settings)
    database = db.database(client, settings)
    await db.prepare(client, settings)
    try:  # before any index or seed: a store written by a newer version is left as it is
        await migrations.check_known(database, MIGRATIONS)
    except migrations.NewerStore as newer:
        log.error("nxce cannot start on this store: %s", newer)
        raise
    # The embedded store gets its indexes after seeding: mongomock checks unique indexes
    # in quadratic time. MongoDB gets them first, so concurrent starts cannot duplicate.
    await db.init_documents(database, DOCUMENTS, skip_indexes=settings.embedded)
    if seed and await seed_catalog(settings) and demo is not None:
        await demo()
    if settings.embedded:
        await db.init_documents(database, DOCUMENTS)
    ran = await migrations.run(database, MIGRATIONS)
    if ran:
        log.info("store migrated: %s", ", ".join(ran))
    return client, database


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    given = app.state.store
    # Configuration first: a bad policy file or PDF font stops the start before the store
    # is opened.
    metrics: Metrics = app.state.metrics
    app.state.keyring = keyring(settings)  # a bad keyring stops the start here
    app.state.credits = wiring.credits(settings, on_registered=metrics.credit_registered)
    app.state.transcripts = wiring.transcripts(settings)
    app.state.programme = wiring.programme(settings)
    log_public_address(settings)
    client, database = await open_store(
        settings, seed=settings.seed_fixtures, client=given, demo=demo_loader(app, settings)
    )
    if settings.bootstrap_admin:
        user, password = settings.bootstrap_admin.split(":", 1)
        await clients.ensure_admin(user=user, password=password)
        log.info("admin client %r is ready", user)
    if settings.embedded:
        # clients.json: hand-overs from `nxce clients create`, applied once. A durable store
        # removes them once applied; one in memory forgets them, so it applies them again.
        handovers = HandoverFile(settings.data_dir)
        durable = not settings.embedded_in_memory
        await handovers.apply(prune=durable)
        app.state.verifier = Verifier(handovers, prune=durable)
        log_store(settings)
    else:
        app.state.verifier = Verifier()
    app.state.app_tokens = AppTokens(app.state.keyring)
    app.state.accounts = wiring.accounts(settings, app.state.credits, app.state.verifier)
    app.state.database = database
    app.state.lrs = wiring.lrs_hooks(settings, app.state.credits, counted=metrics.statements_stored)
    app.state.sessions = Sessions(app.state.keyring)
    app.state.exports = Runner(transcripts=app.state.transcripts, credits=app.state.credits)
    await catch_up_credits(app.state.credits)
    await start_search(app, settings)
    # Other processes may write a MongoDB ledger: count it afresh every 10 minutes.
    app.state.popularity = search_wiring.PopularityPush(
        app.state.search, app.state.credits, recount_every=None if settings.embedded else 600.0
    )
    wiring.catalog_hooks(app.state.catalog_events, app.state.credits)
    await check_rectification(app.state.catalog_events)
    await app.state.exports.start()
    keeping_up = [
        asyncio.create_task(credit_projection.keep_up(credits=app.state.credits)),
        asyncio.create_task(credit_recompute.keep_marks(credits=app.state.credits)),
        asyncio.create_task(rectification.keep_checking(events=app.state.catalog_events)),
        asyncio.create_task(app.state.popularity.run(app.state.indexer)),
    ]
    if app.state.settle_heap:
        log.info("heap settled: %d objects frozen", heap.settle())
    try:
        yield
    finally:
        await joining.settle()  # statements being written as a group (lrs/statements/joining.py)
        for task in keeping_up:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await app.state.exports.stop()
        await app.state.indexer.stop()
        await app.state.search.close()
        if given is None or app.state.close_store:
            db.close(client)


def demo_loader(app: FastAPI, settings: Settings) -> Callable[[], Awaitable[object]] | None:
    """The demonstration programme's loading (演示数据, fixtures/demo.py), for a fresh
    embedded store when the app was made with `demo_programme` (`nxce serve` does so
    unless --no-demo); never for MongoDB."""
    if not (settings.embedded and app.state.demo_programme):
        return None

    async def load() -> object:
        return await demo_fixtures.load(credits=app.state.credits, programme_=app.state.programme)

    return load


async def catch_up_credits(credits: Credits) -> None:
    """What the ledger owes from before the last stop: statements stored but not credited,
    ledgers marked for a recompute (a base decision, §三) that was not finished, and
    entries awaiting a policy that an installed policy now covers. A failure is logged and
    the service starts; the keep-up loops try again."""
    steps = (
        ("credited %d statement(s) stored before the last stop", credit_projection.catch_up),
        ("recomputed %d ledger(s) marked before the last stop", credit_recompute.finish_marks),
        (
            "counted the entries awaiting a policy of %d learner(s)",
            credit_recompute.recount_awaiting,
        ),
    )
    for message, step in steps:
        try:
            done = await step(credits=credits)
        except Exception:
            log.exception("catching up the credit ledger failed (%s)", message)
            continue
        if done:
            log.info(message, done)


async def check_rectification(events: CatalogEvents) -> None:
    """§三: at start, the daily check catches up: every criticised base whose rectification
    deadline passed while no process ran (however many days) is revoked, dated its
    deadline, and the ledgers follow (the hooks are wired before). A failure is logged and
    the service starts; the daily loop tries again."""
    try:
        revoked = await rectification.revoke_overdue(events=events)
    except Exception:
        log.exception("the start-up check of rectification deadlines (§三) failed")
        return
    if revoked:
        log.warning("revoked %d base(s) past their rectification deadline (§三)", revoked)


async def start_search(app: FastAPI, settings: Settings) -> None:
    """Open the search backend, start bringing its index up to date (in the background),
    and subscribe it to catalog writes."""
    backend: Any = TimedSearch(search_wiring.make_backend(settings), app.state.metrics)
    await backend.open()
    subjects = await db.collection(Course).distinct("subject")
    search_wiring.teach_vocabulary(subjects)
    indexer = Indexer(backend, search_wiring.published_documents)
    await indexer.start()
    events = CatalogEvents()
    search_wiring.subscribe(events, indexer)
    app.state.search, app.state.indexer, app.state.catalog_events = backend, indexer, events
    app.state.search_series = SERIES_NAMES
    app.state.search_learner_series = search_wiring.learner_series


def create_app(
    settings: Settings | None = None,
    *,
    store: Any = None,
    demo_programme: bool = False,
    close_store: bool = False,
    settle_heap: bool = False,
) -> FastAPI:
    """A new nxce application for `settings` (default: from the environment). `store`, a
    store client opened before, is used instead of connecting (and left open unless
    `close_store`): a restart of the service over the same embedded store, as tests and
    simulations need; `nxce serve` opens the store first, to refuse a held data directory
    before the server starts, and has the app close it at shutdown (uvicorn ends the
    process by its signal once the app has shut down, so nothing after it would run).
    `demo_programme`: load the demonstration programme (演示数据) into a fresh embedded
    store at the first start (`nxce serve` asks for it unless --no-demo). `settle_heap`:
    freeze the started service's objects out of the garbage collector's walks
    (`nxce/core/heap.py`; `nxce serve` only)."""
    settings = settings or get_settings()
    app = FastAPI(
        title="nxce",
        version=__version__,
        summary="Course catalog and learning record store for continuing education in Ningxia",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.close_store = close_store
    app.state.settle_heap = settle_heap  # `nxce serve`: see nxce/core/heap.py
    app.state.demo_programme = demo_programme
    app.state.metrics = metrics = Metrics()
    problems.install(app)
    web_access.install(app)  # pages refused: a redirect to sign in, or a page saying why
    # Outermost last: request metrics and the request id (they time, count and name every
    # answer, a refusal included), then security headers on every answer, then the Host
    # check (a request to a host not configured is refused before anything else), then the
    # xAPI rules (so every /xapi answer, a 413 included, names its version), then body
    # limits and gzip request bodies, then HEAD as GET, then response compression (inside
    # HEAD, so a HEAD names the encoding and length a GET gets), then the routes. Responses
    # are gzip-compressed for clients that accept it (the app on a slow network); files
    # compressed already are sent as they are.
    app.add_middleware(RouteProbe)  # innermost: which route answered (metrics' label)
    app.add_middleware(
        GZipMiddleware,
        minimum_size=1024,
        compresslevel=6,
        exclude_content_types=(*DEFAULT_EXCLUDED_CONTENT_TYPES, *ALREADY_COMPRESSED),
    )
    app.add_middleware(HeadAsGet)
    app.add_middleware(Utf8Query)  # a query string that is not UTF-8 text: 400
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        # evidence documents of manual entries: up to 10 MiB on their upload routes alone
        overrides={
            "/xapi/": settings.max_xapi_body_bytes,
            UPLOAD_PATH: MAX_DOCUMENT_BYTES,
            UPLOAD_FORM_PATH: UPLOAD_FORM_BYTES,
            # roster files (accounts/roster_file.py): up to 20 MiB on their route alone
            ROSTER_PATH: ROSTER_BODY_BYTES,
            # course files (catalog/course_import.py): up to 20 MiB, the API's and the page's
            IMPORT_PATH: IMPORT_BODY_BYTES,
            ADMIN_IMPORT_PATH: IMPORT_BODY_BYTES,
        },
    )
    app.add_middleware(XapiMiddleware, max_body_bytes=settings.max_xapi_body_bytes)
    app.add_middleware(TrustedHosts, allowed=settings.hosts)
    documentation = (app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url)
    app.add_middleware(SecurityHeaders, documentation=[p for p in documentation if p])
    app.add_middleware(RequestMetrics, metrics=metrics)
    app.add_middleware(RequestId)  # outermost: every answer and log line names the request
    # The record store's routes first: every statement a learner's app sends is matched
    # against the routes in order, and none of the others is under /xapi.
    app.include_router(lrs_router)
    app.include_router(documents_router)
    app.include_router(web_router)  # /verify/{code} answers browsers with a page
    app.include_router(auditor_router)
    app.include_router(auditor_evidence_router)
    app.include_router(admin_accounts_pages_router)
    app.include_router(admin_bases_pages_router)
    app.include_router(admin_courses_pages_router)
    app.include_router(admin_clients_pages_router)
    app.include_router(admin_learners_pages_router)
    app.include_router(admin_overview_pages_router)
    app.include_router(admin_log_pages_router)
    app.include_router(programme_pages_router)
    app.include_router(base_pages_router)
    app.mount("/static", StaticFiles(directory=str(WEB_STATIC)), name="static")
    app.include_router(system_router)
    app.include_router(metrics_router)
    app.include_router(admin_router)
    app.include_router(clients_api_router)
    app.include_router(admin_log_router)
    app.include_router(keys_admin_router)
    app.include_router(catalog_router)
    app.include_router(programme_router)
    app.include_router(search_router)
    app.include_router(credits_router)
    app.include_router(accounts_router)
    app.include_router(accounts_admin_router)
    app.include_router(roster_router)
    app.include_router(evidence_router)
    app.include_router(conclusions_router)
    app.include_router(recommendations_router)
    app.include_router(audit_router)
    app.include_router(transcript_router)
    app.include_router(verification_router)
    app.include_router(exports_router)
    return app
