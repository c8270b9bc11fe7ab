"""The `nxce` command: serve, fixtures, catalog statistics, clients."""

from __future__ import annotations

import asyncio
import sys
import unicodedata
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

import fixtures
from catalog import bases
from catalog import service as catalog_service
from catalog.schemas import CatalogStats, CourseCreate
from nxce import configuration, logs, remote, store_cli
from nxce.core import clients, db
from nxce.core.errors import Unprocessable
from nxce.keys_cli import keys_app
from nxce.settings import ConfigError, Settings, get_settings
from nxce.store_cli import store_app

app = typer.Typer(help="nxce: course catalog and learning record store.", no_args_is_help=True)
fixtures_app = typer.Typer(help="The catalog fixture (4344 courses, 8255 hours).")
catalog_app = typer.Typer(help="The course catalog.")
clients_app = typer.Typer(help="API clients (HTTP Basic, hashed secrets, scopes).")
search_app = typer.Typer(help="The search index of published courses.")
credits_app = typer.Typer(help="The credit-hour ledger (学时).")
programme_app = typer.Typer(help="The knowledge-update programme (§二), from a running service.")
app.add_typer(fixtures_app, name="fixtures")
app.add_typer(catalog_app, name="catalog")
app.add_typer(clients_app, name="clients")
app.add_typer(search_app, name="search")
app.add_typer(credits_app, name="credits")
app.add_typer(programme_app, name="programme")
app.add_typer(store_app, name="store")
app.add_typer(keys_app, name="keys")


def _run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coroutine)


@asynccontextmanager
async def _store(opened: Any = None) -> AsyncIterator[None]:
    """The configured store (or `opened`, its client connected before) with the documents
    bound (the embedded one holds the fixtures)."""
    from nxce.app import open_store

    settings = get_settings()
    opened = opened if opened is not None else _open(settings)
    # an embedded store is seeded like the service seeds it (unless NXCE_SEED_FIXTURES=false)
    seed = settings.embedded and settings.seed_fixtures
    client, _ = await open_store(settings, seed=seed, client=opened)
    try:
        yield
    finally:
        db.close(client)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[
        bool,
        typer.Option(
            help="Load the demonstration programme of 2022 (演示数据) into a fresh embedded "
            "data directory at its first start (never into MongoDB)."
        ),
    ] = True,
) -> None:
    """Start the API (the embedded store in NXCE_DATA_DIR unless NXCE_MONGODB_URL is set)."""
    import uvicorn

    from nxce.app import create_app
    from nxce.core import secret

    try:  # a setting that cannot be used stops here, one line each, before the server
        settings = configuration.settings()
        configuration.check(settings)
    except configuration.ConfigErrors as wrong:
        for problem in wrong.problems:
            typer.echo(f"nxce: {problem}", err=True)
        raise typer.Exit(2) from None
    try:
        secret.check(settings)  # a wrong keyring stops here, with its message, before the server
    except secret.KeyMissing as wrong:
        typer.echo(f"nxce: {wrong}", err=True)
        raise typer.Exit(2) from None
    logs.configure(settings)  # text, or JSON lines (NXCE_LOG_FORMAT); each names its request
    client = _open(settings)
    try:
        uvicorn.run(
            create_app(
                settings, store=client, demo_programme=demo, close_store=True, settle_heap=True
            ),
            host=host,
            port=port,
            log_config=None,
            log_level=settings.log_level,
            proxy_headers=True,
            forwarded_allow_ips=settings.forwarded_allow_ips,
        )
    finally:
        db.close(client)


def _open(settings: Settings) -> Any:
    """The configured store's client; a data directory that cannot be used (held by
    another process, damaged) stops the command with a message saying why, a MongoDB URL
    the driver refuses with one naming it (exit status 2, as any setting)."""
    try:
        return db.connect(settings)
    except db.StoreError as error:
        typer.echo(f"nxce: {error}", err=True)
        raise typer.Exit(1) from None
    except ConfigError as error:
        typer.echo(f"nxce: {error}", err=True)
        raise typer.Exit(2) from None


@fixtures_app.command("load")
def fixtures_load(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="A catalog to load instead of the fixture: JSON Lines, one course a line "
            "(the body of POST /courses, as in fixtures/courses.jsonl). The fixture's "
            "fictional bases are then not loaded.",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ] = None,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Load the demonstration programme of 2022 (演示数据: demonstration learners, "
            "projects, enrolments, results) as well; into MongoDB only when asked so.",
        ),
    ] = False,
) -> None:
    """Upsert courses (by code) into the store: those of PATH, or the fixture courses and
    bases (by name)."""
    settings = get_settings()
    if demo:
        if path is not None:
            typer.echo("--demo loads the fixture catalog; it takes no PATH", err=True)
            raise typer.Exit(2)
        _run(_load_demo(settings))
        return
    if path is not None:
        try:
            courses = fixtures.read_catalog(path)
        except (fixtures.CatalogFileError, UnicodeDecodeError) as error:
            typer.echo(f"nxce: {error}", err=True)
            raise typer.Exit(2) from None
        _run(_load_catalog(settings, courses))
        return
    if settings.embedded:
        typer.echo(
            "NXCE_MONGODB_URL is not set: the embedded store lives inside `nxce serve`, which "
            "loads the fixtures itself at start. Set NXCE_MONGODB_URL to load into MongoDB.",
            err=True,
        )
        raise typer.Exit(2)

    async def load() -> None:
        async with _store():
            report = await catalog_service.load(
                courses=fixtures.read_courses(), activity_base=settings.activity_base
            )
            seeds = fixtures.read_bases()
            created_bases = await bases.load(seeds=seeds)
        typer.echo(
            f"courses: {report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged; bases: {created_bases} created"
        )

    _run(load())


async def _load_catalog(settings: Settings, courses: list[CourseCreate]) -> None:
    """Upsert `courses` into the configured store (the embedded one when no service holds
    its directory)."""
    async with _store():
        report = await catalog_service.load(
            courses=courses, activity_base=settings.activity_base, by="nxce fixtures load"
        )
    typer.echo(
        f"courses: {report.created} created, {report.updated} updated, {report.unchanged} unchanged"
    )
    if report.created or report.updated:
        typer.echo(
            "search: a running service finds these courses after `nxce search reindex` "
            "(or POST /search/reindex), else from its next start"
        )


async def _load_demo(settings: Settings) -> None:
    """The fixture catalog and bases, then the demonstration programme (nothing when it
    is loaded already); the embedded store when no service holds its directory."""
    from fixtures import demo as demo_fixtures
    from nxce import wiring

    async with _store():
        report = await catalog_service.load(
            courses=fixtures.read_courses(), activity_base=settings.activity_base
        )
        await bases.load(seeds=fixtures.read_bases())
        loaded = await demo_fixtures.load(
            credits=wiring.credits(settings), programme_=wiring.programme(settings)
        )
    typer.echo(
        f"courses: {report.created} created; demonstration programme (演示数据): "
        f"{loaded.learners} learners, {loaded.projects} projects, {loaded.enrolments} "
        f"enrolments, {loaded.results} results" + ("" if loaded.projects else " (loaded already)")
    )


@fixtures_app.command("check")
def fixtures_check() -> None:
    """Check the committed fixture against the generator and the notice's totals."""
    from fixtures import check

    problems = check.problems()
    for problem in problems:
        typer.echo(f"FAIL {problem}", err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo(
        f"ok: {fixtures.EXPECTED_COURSES} courses, {fixtures.EXPECTED_HOURS:g} hours, "
        "every series present, files match the generator"
    )


@fixtures_app.command("generate")
def fixtures_generate() -> None:
    """Rewrite the committed fixture files from the vocabulary (maintainers)."""
    from fixtures import generate

    generate.write()
    typer.echo(f"wrote {fixtures.COURSES_FILE} and {fixtures.BASES_FILE}")


def print_stats(stats: CatalogStats) -> None:
    typer.echo(f"{'':<12}{'courses':>8}{'hours':>9}")
    typer.echo(f"{'all':<12}{stats.courses:>8}{stats.hours:>9g}")
    for name, tally in stats.by_category.items():
        typer.echo(f"{name:<12}{tally.courses:>8}{tally.hours:>9g}")
    for name, tally in stats.by_series.items():
        padding = 12 - len(name)  # Chinese characters are two columns wide
        typer.echo(f"{name}{' ' * max(padding, 1)}{tally.courses:>8}{tally.hours:>9g}")
    if stats.retired.courses:
        typer.echo(f"{'retired':<12}{stats.retired.courses:>8}{stats.retired.hours:>9g}")


@catalog_app.command("stats")
def catalog_stats() -> None:
    """Courses and hours by category and series (published; retired apart)."""

    async def stats() -> CatalogStats:
        async with _store():
            return await catalog_service.stats()

    print_stats(_run(stats()))


def _base_known_by_service(url: str, base_id: str) -> bool | None:
    """Whether the running service at `url` knows the base (its public `GET /bases/{id}`);
    None when no service answers there."""
    import httpx

    try:
        answer = httpx.get(f"{url.rstrip('/')}/bases/{base_id}", timeout=10.0)
    except httpx.HTTPError:
        return None
    if answer.status_code in (200, 404):
        return answer.status_code == 200
    return None


def _base_known(settings: Settings, base_id: str, url: str) -> bool:
    """Whether the store holds the base `base_id`: MongoDB is asked directly; the embedded
    store through the service holding it (at `url`), or opened here when none runs."""
    from nxce.core.errors import NotFound

    if settings.embedded:
        known = _base_known_by_service(url, base_id)
        if known is not None:
            return known
        if settings.embedded_in_memory:
            typer.echo(
                f"no service answers at {url} (NXCE_URL) to check base {base_id!r}, and the "
                "store in memory lives only inside it: start it, or pass --url",
                err=True,
            )
            raise typer.Exit(2)

    async def look_up() -> bool:
        async with _store():
            try:
                await bases.get(base_id=base_id)
            except NotFound:
                return False
            return True

    found: bool = _run(look_up())
    return found


def _check_base_scope(
    settings: Settings, scope: list[clients.Scope], base: str | None, url: str, learner: str | None
) -> None:
    """A client of scope `base` names its base (`--base`), one the store holds, and holds
    no other scope nor `--learner` (`clients.check_binding`); `--base` goes with that
    scope only."""
    if clients.Scope.base in scope and base is None:
        typer.echo("--scope base needs --base ID: the base the client acts for", err=True)
        raise typer.Exit(2)
    if base is None:
        return
    if clients.Scope.base not in scope:
        typer.echo("--base goes with --scope base only", err=True)
        raise typer.Exit(2)
    try:
        clients.check_binding(scopes=scope, learner_id=learner, base_id=base)
    except Unprocessable as refused:
        typer.echo(f"nxce: {refused.detail} (--scope base goes alone, without --learner)", err=True)
        raise typer.Exit(2) from None
    if not _base_known(settings, base, url):
        typer.echo(f"no base with id {base!r} (GET /bases lists them)", err=True)
        raise typer.Exit(2)


@clients_app.command("create")
def clients_create(
    name: Annotated[str, typer.Option(help="Who the client is for.")],
    scope: Annotated[list[clients.Scope], typer.Option(help="A scope; repeat for more.")],
    key: Annotated[str | None, typer.Option(help="The Basic user name (default: random).")] = None,
    learner: Annotated[
        str | None, typer.Option(help="Bind the client to this learner (the app acting as them).")
    ] = None,
    base: Annotated[
        str | None,
        typer.Option(help="With --scope base: the id of the base the client acts for."),
    ] = None,
    url: Annotated[
        str,
        typer.Option(
            "--url", envvar="NXCE_URL", help="The running service (embedded: checks --base)."
        ),
    ] = remote.DEFAULT_URL,
) -> None:
    """Create a client and print its key and secret once (only a hash is stored). A key
    that exists gets the new secret, scopes and name (and is enabled again)."""
    from nxce.core import passwords

    settings = get_settings()
    client_key = clients.check_key(key) if key else clients.new_key()
    _check_base_scope(settings, scope, base, url, learner)
    secret = clients.new_secret()
    record = clients.ClientRecord(
        key=client_key,
        name=name,
        scopes=scope,
        secret_hash=passwords.hash_secret(secret),
        learner_id=learner,
        base_id=base,
    )
    where = _create_client(settings, record)
    typer.echo(f"client created in {where}; the secret is shown only now:", err=True)
    typer.echo(f"key:    {client_key}")
    typer.echo(f"secret: {secret}")
    typer.echo(f"scopes: {', '.join(s.value for s in scope)}")
    if learner:
        typer.echo(f"acts as learner: {learner}")
    if base:
        typer.echo(f"acts for base: {base}")


def _create_client(settings: Settings, record: clients.ClientRecord) -> str:
    """Write `record` to the store (directly when no process holds it), or hand it over
    to the service that holds the embedded store; answers where it went."""
    from nxce.core.client_handover import HandoverFile

    handovers = HandoverFile(settings.data_dir)
    if settings.embedded_in_memory:
        handovers.append(record)
        return f"{handovers.path} (the embedded service picks it up at once)"
    try:
        store = db.connect(settings)
    except db.StoreInUse as held:
        handovers.append(record)
        return (
            f"{handovers.path}, handed over to process {held.holder}, which holds the store "
            "(it applies it at once, and once)"
        )
    except db.StoreError as error:
        typer.echo(f"nxce: {error}", err=True)
        raise typer.Exit(1) from None

    async def create() -> None:
        from nxce.app import open_store

        try:
            await open_store(settings, seed=False, client=store)
            if settings.embedded:
                await handovers.apply(prune=True)  # what an earlier hand-over left pending
            await clients.upsert(record=record)
        finally:
            db.close(store)

    _run(create())
    return "MongoDB" if not settings.embedded else f"the embedded store in {settings.data_dir}"


AdminClientOption = Annotated[
    str, typer.Option("--client", envvar="NXCE_CLIENT", help="An admin client's key.")
]
AdminSecretOption = Annotated[
    str,
    typer.Option(
        "--secret", envvar="NXCE_CLIENT_SECRET", prompt=True, hide_input=True,
        help="Its secret (prompted for when not given).",
    ),
]  # fmt: skip
ServiceUrlOption = Annotated[
    str, typer.Option("--url", envvar="NXCE_URL", help="The running nxce service.")
]


def _client_call(url: str, client: str, secret: str, call: Any) -> Any:
    """`call(service)` on the running service as the admin `client`; exit 1 when refused."""
    service = remote.Remote(url, client, secret)
    try:
        return call(service)
    except remote.RemoteError as error:
        typer.echo(f"nxce: {error}", err=True)
        raise typer.Exit(1) from None
    finally:
        service.close()


@clients_app.command("list")
def clients_list(
    client: AdminClientOption,
    secret: AdminSecretOption,
    url: ServiceUrlOption = remote.DEFAULT_URL,
    name: Annotated[str | None, typer.Option(help="Part of the name.")] = None,
    scope: Annotated[clients.Scope | None, typer.Option(help="Holding this scope.")] = None,
    disabled: Annotated[
        bool | None, typer.Option("--disabled/--enabled", help="Disabled ones, or enabled.")
    ] = None,
) -> None:
    """The client accounts of a running service (GET /clients, with an admin client): key,
    name, scopes, bound learner or base, state, last used; one a line, tab-separated."""
    params: dict[str, Any] = {"name": name, "scope": scope.value if scope else None}
    if disabled is not None:
        params["disabled"] = "true" if disabled else "false"
    found = _client_call(
        url, client, secret, lambda s: s.clients({k: v for k, v in params.items() if v})
    )
    for c in found:
        bound = f"learner:{c['learner_id']}" if c["learner_id"] else ""
        bound = f"base:{c['base_id']}" if c["base_id"] else bound
        state = "disabled" if c["disabled"] else "enabled"
        fields = (c["key"], c["name"], ",".join(c["scopes"]), bound or "-", state)
        typer.echo("\t".join((*fields, c["last_used_at"] or "never")))


@clients_app.command("new-secret")
def clients_new_secret(
    key: Annotated[str, typer.Argument(help="The client's key.")],
    client: AdminClientOption,
    secret: AdminSecretOption,
    url: ServiceUrlOption = remote.DEFAULT_URL,
) -> None:
    """Give a client of a running service a new secret (POST /clients/{key}/secret) and
    print it once; the old one stops working at once."""
    answer = _client_call(url, client, secret, lambda s: s.client_action(key, "secret"))
    typer.echo(f"new secret of {answer['key']}; it is shown only now:", err=True)
    typer.echo(f"key:    {answer['key']}")
    typer.echo(f"secret: {answer['secret']}")


@clients_app.command("disable")
def clients_disable(
    key: Annotated[str, typer.Argument(help="The client's key.")],
    client: AdminClientOption,
    secret: AdminSecretOption,
    url: ServiceUrlOption = remote.DEFAULT_URL,
) -> None:
    """Disable a client of a running service (POST /clients/{key}/disable): refused at once
    on every route. Refused for the last enabled admin and for the admin's own client."""
    answer = _client_call(url, client, secret, lambda s: s.client_action(key, "disable"))
    typer.echo(f"{answer['key']}: disabled")


@clients_app.command("enable")
def clients_enable(
    key: Annotated[str, typer.Argument(help="The client's key.")],
    client: AdminClientOption,
    secret: AdminSecretOption,
    url: ServiceUrlOption = remote.DEFAULT_URL,
) -> None:
    """Enable a disabled client of a running service again (POST /clients/{key}/enable),
    with the secret it had."""
    answer = _client_call(url, client, secret, lambda s: s.client_action(key, "enable"))
    typer.echo(f"{answer['key']}: enabled")


@search_app.command("reindex")
def search_reindex() -> None:
    """Rebuild the search index from the catalog (Meilisearch, or the embedded index when
    no service holds it; a running service rebuilds through POST /search/reindex)."""
    from nxce import search_wiring
    from search.indexer import Indexer

    settings = get_settings()

    async def reindex() -> str:
        async with _store():
            backend = search_wiring.make_backend(settings)
            try:
                await backend.open()
            except ValueError as error:
                typer.echo(
                    f"the search index is in use ({error}); a running service rebuilds it "
                    "with POST /search/reindex, or stop it first",
                    err=True,
                )
                raise typer.Exit(2) from None
            try:
                return await Indexer(backend, search_wiring.published_documents).sync(force=True)
            finally:
                await backend.close()

    typer.echo(f"{settings.meili_url or 'embedded'}: {_run(reindex())}")


@credits_app.command("rebuild")
def credits_rebuild(
    learner: Annotated[str | None, typer.Option(help="Only this learner's ledger.")] = None,
    url: store_cli.UrlOption = remote.DEFAULT_URL,
    client: store_cli.AdminOption = None,
    secret: store_cli.AdminSecretOption = None,
) -> None:
    """Recompute the ledger from stored statements, manual entries and reviews; it must
    come out the same as the ledger it replaces (the difference is printed). Recomputes
    left unfinished by a process that stopped (a base decision, §三) are finished first.
    On the embedded store: directly when no process holds NXCE_DATA_DIR, else through the
    running service (POST /admin/credits/rebuild, with an admin client)."""
    from nxce import store_ops, wiring

    settings = get_settings()
    if settings.embedded_in_memory:
        typer.echo(
            "NXCE_EMBEDDED_IN_MEMORY is set: that store lives inside `nxce serve` and holds "
            "no ledger for this command to rebuild.",
            err=True,
        )
        raise typer.Exit(2)
    try:
        store = db.connect(settings)
    except db.StoreInUse as held:
        done, how = _rebuild_through_service(learner, held.holder, url, client, secret)
    except db.StoreError as error:
        typer.echo(f"nxce: {error}", err=True)
        raise typer.Exit(1) from None
    else:

        async def rebuild() -> store_ops.Rebuilt:
            async with _store(store):
                credits = wiring.credits(settings)
                return await store_ops.rebuild_credits(credits=credits, learner_id=learner)

        done, how = _run(rebuild()), "directly: no process held the store"
    typer.echo(f"ledger rebuilt {how}")
    if done.finished:
        typer.echo(f"finished the unfinished recompute of {done.finished} learner(s)")
    typer.echo(
        f"ledger rebuilt: {done.entries} entries; {done.changed} differed from the ledger before"
    )


def _rebuild_through_service(
    learner: str | None, holder: str, url: str, key: str | None, secret: str | None
) -> tuple[Any, str]:
    from nxce import store_ops

    asked = store_cli.service(url, key, secret, holder, "the rebuild")
    try:
        answer = asked.rebuild_credits(learner_id=learner)
    except remote.RemoteError as error:
        typer.echo(f"ledger not rebuilt: {error}", err=True)
        raise typer.Exit(1) from None
    finally:
        asked.close()
    done = store_ops.Rebuilt(answer["finished"], answer["entries"], answer["changed"])
    return done, f"through the service (process {holder})"


# --- transcripts (through a running service) -------------------------------------------

UrlOption = Annotated[
    str, typer.Option("--url", envvar="NXCE_URL", help="The running nxce service.")
]
ClientOption = Annotated[
    str, typer.Option("--client", envvar="NXCE_CLIENT", help="Client key (an auditor's).")
]
SecretOption = Annotated[
    str,
    typer.Option(
        "--secret", envvar="NXCE_CLIENT_SECRET", prompt=True, hide_input=True,
        help="Client secret (prompted for when not given).",
    ),
]  # fmt: skip
FromOption = Annotated[int | None, typer.Option("--from", help="First year.")]
ToOption = Annotated[int | None, typer.Option("--to", help="Last year.")]
LevelOption = Annotated[
    str | None, typer.Option(help="Audit an application: intermediate, deputy_senior, senior.")
]
YearOption = Annotated[int | None, typer.Option(help="The application year audited.")]
FormatOption = Annotated[str, typer.Option("--format", help="pdf, xlsx, csv or json.")]


def _transcript_params(
    first: int | None, last: int | None, level: str | None, year: int | None, fmt: str
) -> dict[str, Any]:
    params = {"from": first, "to": last, "level": level, "year": year, "format": fmt}
    return {k: v for k, v in params.items() if v is not None}


@app.command()
def transcript(
    learner: Annotated[str, typer.Argument(help="The learner's id.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write.")],
    client: ClientOption,
    secret: SecretOption,
    url: UrlOption = remote.DEFAULT_URL,
    first: FromOption = None,
    last: ToOption = None,
    level: LevelOption = None,
    year: YearOption = None,
    fmt: FormatOption = "pdf",
) -> None:
    """Save a learner's transcript (学时证明) from a running service."""
    service = remote.Remote(url, client, secret)
    try:
        code = service.transcript(
            learner, _transcript_params(first, last, level, year, fmt), output
        )
    except remote.RemoteError as error:
        typer.echo(f"transcript not saved: {error}", err=True)
        raise typer.Exit(1) from None
    finally:
        service.close()
    typer.echo(f"{output}: verification code {code}")


@app.command()
def export(
    output: Annotated[Path, typer.Option("-o", "--output", help="ZIP file to write.")],
    client: ClientOption,
    secret: SecretOption,
    employer: Annotated[str | None, typer.Option(help="Every learner of this employer.")] = None,
    series: Annotated[str | None, typer.Option(help="Every learner of this series.")] = None,
    learner: Annotated[
        list[str] | None, typer.Option(help="A learner's id; repeat for more.")
    ] = None,
    url: UrlOption = remote.DEFAULT_URL,
    first: FromOption = None,
    last: ToOption = None,
    level: LevelOption = None,
    year: YearOption = None,
    fmt: FormatOption = "pdf",
) -> None:
    """Export many learners' transcripts as one ZIP (with a summary CSV), showing progress."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    body = _transcript_params(first, last, level, year, fmt)
    chosen = {"learner_ids": learner or None, "employer": employer, "series": series}
    body |= {k: v for k, v in chosen.items() if v is not None}
    service = remote.Remote(url, client, secret)
    columns = (BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress("transcripts", *columns) as bar:
            task = bar.add_task("export", total=None)
            job = service.export(body, output, lambda done, total: bar.update(
                task, completed=done, total=total
            ))  # fmt: skip
    except remote.RemoteError as error:
        typer.echo(f"export not saved: {error}", err=True)
        raise typer.Exit(1) from None
    finally:
        service.close()
    typer.echo(f"{output}: {job['progress']['total']} transcripts, {job['file']['bytes']} bytes")


# --- the programme (through a running service) -----------------------------------------

PLAN_COLUMNS = (
    ("kind", "kind"),
    ("clause", "clause"),
    ("planned_periods", "periods"),
    ("planned_people", "people"),
    ("projects", "projects"),
    ("capacity", "places"),
    ("enrolled", "enrolled"),
    ("completed", "completed"),
)


def display_width(text: str) -> int:
    """Columns `text` takes in a terminal: wide and full-width characters (CJK: 二, （)
    take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(cell: str, width: int) -> str:
    return cell + " " * (width - display_width(cell))


def plan_table(plan: dict[str, Any]) -> str:
    """The plan as a text table: plan figures ("-" where the plan has none), then actuals."""
    rows = [[label for _, label in PLAN_COLUMNS]]
    for kind in plan["kinds"]:
        rows.append(["-" if kind[key] is None else str(kind[key]) for key, _ in PLAN_COLUMNS])
    widths = [max(display_width(row[n]) for row in rows) for n in range(len(PLAN_COLUMNS))]
    lines = [f"{plan['year']} {plan.get('document') or '(no plan installed for this year)'}"]
    for row in rows:
        lines.append("  ".join(_pad(cell, width) for cell, width in zip(row, widths, strict=True)))
    return "\n".join(line.rstrip() for line in lines)


@programme_app.command("plan")
def programme_plan(
    year: Annotated[int, typer.Option(help="The plan year, e.g. 2022.")],
    client: ClientOption,
    secret: SecretOption,
    url: UrlOption = remote.DEFAULT_URL,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or xlsx.")] = "table",
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="File to write (xlsx needs one).")
    ] = None,
) -> None:
    """Print the programme's plan beside its actuals (admins and auditors)."""
    if fmt not in ("table", "csv", "xlsx"):
        typer.echo(f"--format must be table, csv or xlsx, got {fmt!r}", err=True)
        raise typer.Exit(2)
    if fmt == "xlsx" and output is None:
        typer.echo("--format xlsx writes a file: give -o FILE", err=True)
        raise typer.Exit(2)
    service = remote.Remote(url, client, secret)
    try:
        response = service.programme_plan(year, "json" if fmt == "table" else fmt)
    except remote.RemoteError as error:
        typer.echo(f"plan not read: {error}", err=True)
        raise typer.Exit(1) from None
    finally:
        service.close()
    if output is not None:
        output.write_bytes(response.content)
        typer.echo(f"{output}: the {year} plan ({'json' if fmt == 'table' else fmt})")
    elif fmt == "csv":
        typer.echo(response.content.decode("utf-8-sig"), nl=False)
    else:
        typer.echo(plan_table(response.json()))


def main() -> None:  # pragma: no cover - console entry for `python -m nxce`
    sys.exit(app())
