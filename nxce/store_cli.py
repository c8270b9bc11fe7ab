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
from nxce.settings import Settings, get_settings

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
    url: Annotated[
        str, typer.Option("--url", envvar="NXCE_URL", help="The service holding the store.")
    ] = remote.DEFAULT_URL,
    client: Annotated[
        str | None,
        typer.Option("--client", envvar="NXCE_CLIENT", help="An admin client's key."),
    ] = None,
    secret: Annotated[
        str | None,
        typer.Option("--secret", envvar="NXCE_CLIENT_SECRET", help="Its secret (prompted)."),
    ] = None,
) -> None:
    """A consistent copy of the embedded store (with secret.key and clients.json) in PATH,
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


def _through_service(
    path: Path, holder: str, url: str, key: str | None, secret: str | None, without_key: bool
) -> embedded_backup.Backup:
    if key is None:
        raise _fail(
            f"process {holder} holds the data directory: the backup goes through it; give "
            "an admin client (--client or NXCE_CLIENT, --secret or NXCE_CLIENT_SECRET)"
        )
    secret = secret if secret is not None else typer.prompt("secret", hide_input=True)
    service = remote.Remote(url, key, secret)
    try:
        answer = service.backup(without_secret_key=without_key)
    except remote.RemoteError as error:
        raise _fail(f"backup not made: {error}") from None
    finally:
        service.close()
    made = Path(answer["path"])
    if not made.is_dir():  # the service runs elsewhere: its backup stays there
        typer.echo(f"the service's backup is {made} on its host (not found here)", err=True)
        return embedded_backup.Backup(made, answer["bytes"], answer["documents"],
                                      answer["secret_key"])  # fmt: skip
    if path.exists():
        path.rmdir()  # empty: checked before the service was asked
    shutil.move(made, path)
    return embedded_backup.Backup(
        path.resolve(), answer["bytes"], answer["documents"], answer["secret_key"]
    )


def _connect(settings: Settings, what: str) -> Any:
    try:
        return db.connect(settings)
    except StoreInUse as held:
        raise _fail(
            f"{held}. To {what} while it runs: `nxce store backup B` (a consistent copy), "
            f"then `NXCE_DATA_DIR=B nxce store {what} …`"
        ) from None
    except StoreError as error:
        raise _fail(str(error)) from None


@store_app.command("dump")
def store_dump(path: PathArgument, without_secret_key: WithoutKeyOption = False) -> None:
    """Write the store (MongoDB when NXCE_MONGODB_URL is set, else the embedded store, which
    no process may hold) to PATH as an archive: manifest.json, one Extended JSON file per
    collection, secret.key (README: 'The archive format')."""
    settings = get_settings()
    _on_disk(settings, "dump")
    try:
        archive.check_target(path)
    except archive.ArchiveError as error:
        raise _fail(str(error)) from None
    client = _connect(settings, "dump")

    async def run() -> archive.Manifest:
        try:
            return await archive.dump(
                db.database(client, settings), settings, path, without_secret_key=without_secret_key
            )
        finally:
            db.close(client)

    try:
        manifest = asyncio.run(run())
    except archive.ArchiveError as error:
        raise _fail(str(error)) from None
    total = sum(c.documents for c in manifest.collections)
    typer.echo(f"{path}: {total} documents in {len(manifest.collections)} collections")
    key = "included" if manifest.key_file else "not included (NXCE_SECRET_KEY: keep it)"
    typer.echo(f"secret key: {key}")


@store_app.command("load")
def store_load(
    path: Annotated[Path, typer.Argument(help="An archive written by `nxce store dump`.")],
) -> None:
    """Load an archive into an empty store (MongoDB when NXCE_MONGODB_URL is set, else the
    embedded store in NXCE_DATA_DIR), after checking all of it; then create the indexes."""
    settings = get_settings()
    _on_disk(settings, "load")
    try:
        manifest = archive.read(path)
        key = archive.key_plan(manifest, path, settings)
    except archive.ArchiveError as error:
        raise _fail(f"nothing loaded: {error}") from None
    client = _connect(settings, "load")

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
