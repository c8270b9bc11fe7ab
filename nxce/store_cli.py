"""`nxce store`: backups of the embedded store, and archives (dump, load) of any store."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Annotated, Any

import typer

from nxce import archive, remote
from nxce.core import db, embedded_backup
from nxce.core.embedded_medium import StoreError, StoreInUse
from nxce.settings import ConfigError, Settings, get_settings

store_app = typer.Typer(help="The store: backups (embedded), archives to move between stores.")

PathArgument = Annotated[Path, typer.Argument(help="A new directory (or an empty one).")]
WithoutKeyOption = Annotated[
    bool,
    typer.Option(
        "--without-secret-key",
        help="Go on although the secret key is NXCE_SECRET_KEY alone (not in the data "
        "directory): you keep the key with the copy.",
    ),
]


UrlOption = Annotated[
    str, typer.Option("--url", envvar="NXCE_URL", help="The service holding the store.")
]
AdminOption = Annotated[
    str | None,
    typer.Option("--client", envvar="NXCE_CLIENT", help="An admin client's key."),
]
AdminSecretOption = Annotated[
    str | None,
    typer.Option("--secret", envvar="NXCE_CLIENT_SECRET", help="Its secret (prompted)."),
]
# A full copy or a rebuild of a large store takes a while: the service answers at the end.
SERVICE_TIMEOUT_SECONDS = 3600.0


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"nxce: {message}", err=True)
    return typer.Exit(code)


def _on_disk(settings: Settings, what: str) -> None:
    if settings.embedded_in_memory:
        raise _fail(
            "NXCE_EMBEDDED_IN_MEMORY is set: that store lives inside `nxce serve` and keeps "
            f"nothing for `nxce store {what}`",
            2,
        )


@store_app.command("backup")
def store_backup(
    path: PathArgument,
    without_secret_key: WithoutKeyOption = False,
    url: UrlOption = remote.DEFAULT_URL,
    client: AdminOption = None,
    secret: AdminSecretOption = None,
) -> None:
    """A consistent copy of the embedded store (with secret.key) in PATH,
    a data directory of its own: directly when no process holds NXCE_DATA_DIR, else through
    the running service (POST /admin/store/backup, with an admin client), which may go on
    writing meanwhile."""
    settings = get_settings()
    if not settings.embedded:
        raise _fail("NXCE_MONGODB_URL is set: back MongoDB up with mongodump, or use "
                    "`nxce store dump`", 2)  # fmt: skip
    _on_disk(settings, "backup")
    try:
        made = embedded_backup.make_unheld(settings, path, without_secret_key=without_secret_key)
        how = "directly: no process held the data directory"
    except StoreInUse as held:
        made = _through_service(path, held.holder, url, client, secret, without_secret_key)
        how = f"through the service (process {held.holder})"
    except StoreError as error:
        raise _fail(str(error)) from None
    typer.echo(f"backup made {how}")
    typer.echo(f"{made.path}: {made.documents} documents, {made.bytes} bytes")
    typer.echo(f"secret key: {made.secret_key}")


def service(url: str, key: str | None, secret: str | None, holder: str, what: str) -> Any:
    """The running service that holds the data directory, to ask for `what`; stops the
    command when no admin client was given."""
    if key is None:
        raise _fail(
            f"process {holder} holds the data directory: {what} goes through it; give an "
            "admin client (--client or NXCE_CLIENT, --secret or NXCE_CLIENT_SECRET)"
        )
    secret = secret if secret is not None else typer.prompt("secret", hide_input=True)
    return remote.Remote(url, key, secret, timeout=SERVICE_TIMEOUT_SECONDS)


def _moved(made: Path, path: Path) -> Path | None:
    """The service's copy `made` moved to `path` (new or empty, checked before it was
    asked); None when `made` is not on this host (a service of another machine)."""
    if not made.is_dir():
        typer.echo(f"the service's copy is {made} on its host (not found here)", err=True)
        return None
    if path.exists():
        path.rmdir()
    shutil.move(made, path)
    return path.resolve()


def _through_service(
    path: Path, holder: str, url: str, key: str | None, secret: str | None, without_key: bool
) -> embedded_backup.Backup:
    asked = service(url, key, secret, holder, "the backup")
    try:
        answer = asked.backup(without_secret_key=without_key)
    except remote.RemoteError as error:
        raise _fail(f"backup not made: {error}") from None
    finally:
        asked.close()
    where = _moved(Path(answer["path"]), path) or Path(answer["path"])
    return embedded_backup.Backup(where, answer["bytes"], answer["documents"], answer["secret_key"])


def _connect(settings: Settings) -> Any:
    try:
        return db.connect(settings)
    except StoreInUse as held:
        raise _fail(
            f"{held}. A load goes into an empty store no service runs on: stop it, or name "
            "a new NXCE_DATA_DIR"
        ) from None
    except StoreError as error:
        raise _fail(str(error)) from None
    except ConfigError as error:  # a MongoDB URL the driver refuses
        raise _fail(str(error), 2) from None


@store_app.command("dump")
def store_dump(
    path: PathArgument,
    without_secret_key: WithoutKeyOption = False,
    url: UrlOption = remote.DEFAULT_URL,
    client: AdminOption = None,
    secret: AdminSecretOption = None,
) -> None:
    """Write the store to PATH as an archive: manifest.json, one Extended JSON file per
    collection, secret.key (README: 'The archive format'). MongoDB when NXCE_MONGODB_URL is
    set; else the embedded store, directly when no process holds NXCE_DATA_DIR, or through
    the running service (POST /admin/store/dump, with an admin client), which writes one
    snapshot while it goes on writing."""
    settings = get_settings()
    _on_disk(settings, "dump")
    try:
        archive.check_target(path)
    except archive.ArchiveError as error:
        raise _fail(str(error)) from None
    try:
        store = db.connect(settings)
    except StoreInUse as held:
        _dump_through_service(path, held.holder, url, client, secret, without_secret_key)
        return
    except StoreError as error:
        raise _fail(str(error)) from None
    except ConfigError as error:  # a MongoDB URL the driver refuses
        raise _fail(str(error), 2) from None

    async def run() -> archive.Manifest:
        try:
            return await archive.dump(
                db.database(store, settings), settings, path, without_secret_key=without_secret_key
            )
        finally:
            db.close(store)

    try:
        manifest = asyncio.run(run())
    except archive.ArchiveError as error:
        raise _fail(str(error)) from None
    total = sum(c.documents for c in manifest.collections)
    typer.echo(f"{path}: {total} documents in {len(manifest.collections)} collections")
    key = "included" if manifest.key_file else "not included (NXCE_SECRET_KEY: keep it)"
    typer.echo(f"secret key: {key}")


def _dump_through_service(
    path: Path, holder: str, url: str, key: str | None, secret: str | None, without_key: bool
) -> None:
    asked = service(url, key, secret, holder, "the dump")
    try:
        answer = asked.dump(without_secret_key=without_key)
    except remote.RemoteError as error:
        raise _fail(f"dump not written: {error}") from None
    finally:
        asked.close()
    where = _moved(Path(answer["path"]), path) or answer["path"]
    typer.echo(f"dump written through the service (process {holder}): one snapshot")
    typer.echo(f"{where}: {answer['documents']} documents in {answer['collections']} collections")
    typer.echo(f"secret key: {answer['secret_key']}")


@store_app.command("load")
def store_load(
    path: Annotated[Path, typer.Argument(help="An archive written by `nxce store dump`.")],
    replace_secret_key: Annotated[
        bool,
        typer.Option(
            "--replace-secret-key",
            help="The data directory's secret.key differs from the archive's: keep it aside "
            "as secret.key.replaced-<time> and install the archive's (the store must be "
            "empty, as for any load).",
        ),
    ] = False,
) -> None:
    """Load an archive into an empty store (MongoDB when NXCE_MONGODB_URL is set, else the
    embedded store in NXCE_DATA_DIR), after checking all of it; restores the archive's
    secret.key into the data directory (refusing a different key there unless told); on
    MongoDB the indexes are created first, on the embedded store after."""
    settings = get_settings()
    _on_disk(settings, "load")
    try:
        manifest = archive.read(path)
        key = archive.key_plan(manifest, path, settings, replace=replace_secret_key)
    except archive.ArchiveError as error:
        raise _fail(f"nothing loaded: {error}") from None
    except OSError as error:  # a file of it unreadable (permissions, a device error)
        raise _fail(f"nothing loaded: {path} cannot be read: {error}") from None
    client = _connect(settings)

    async def run() -> None:
        nonlocal client
        try:
            client = await archive.load(client, settings, manifest, path, key=key)
        finally:
            db.close(client)

    try:
        asyncio.run(run())
    except archive.ArchiveError as error:
        raise _fail(f"nothing loaded: {error}") from None
    total = sum(c.documents for c in manifest.collections)
    where = settings.data_dir if settings.embedded else f"MongoDB database {settings.database}"
    typer.echo(f"{where}: {total} documents loaded in {len(manifest.collections)} collections")
    typer.echo(
        f"archive of {manifest.created_at}, written by nxce {manifest.service_version} "
        f"from {manifest.source}"
    )
    if key is not None:
        typer.echo(f"secret key: the archive's, installed in {settings.data_dir / key.name}")
