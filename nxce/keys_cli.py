"""`nxce keys`: the keyring of the secret key (docs/operations.md, "Rotating
NXCE_SECRET_KEY").

- `new` prints a new random key and its id (for NXCE_SECRET_KEY on every replica);
- `rotate` puts a new key in front of the ring kept in `$NXCE_DATA_DIR/secret.key` (the
  embedded default; the variables are the operator's to change);
- `status` counts the stored id numbers and phones under each key id;
- `reencrypt` moves them all to the current key.

`status` and `reencrypt` run directly on the store, or through the running service
(`/admin/keys`, `/admin/keys/reencrypt`, with an admin client) when it holds the data
directory.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import typer

from credits import rekey
from nxce import remote, store_cli
from nxce.core import db
from nxce.core.secret import (
    KEY_FILE_NAME,
    KeyMissing,
    Keyring,
    key_id,
    keyring,
    new_secret,
    read_ring_file,
    write_ring_file,
)
from nxce.settings import Settings, get_settings

keys_app = typer.Typer(help="The secret keys: rotation and re-encryption of stored numbers.")

BatchOption = Annotated[
    int, typer.Option(min=10, max=5000, help="Learners read and written per batch.")
]


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"nxce: {message}", err=True)
    return typer.Exit(code)


def _ring(settings: Settings) -> Keyring:
    try:
        return keyring(settings)
    except KeyMissing as missing:
        raise _fail(str(missing)) from None


def _where(settings: Settings) -> str:
    if settings.secret_key is not None:
        return "NXCE_SECRET_KEY and NXCE_SECRET_KEYS_PREVIOUS"
    return str(settings.data_dir / KEY_FILE_NAME)


@keys_app.command("new")
def keys_new() -> None:
    """Print a new random secret key and its id: set it as NXCE_SECRET_KEY on every
    replica, with the old key moved to NXCE_SECRET_KEYS_PREVIOUS."""
    secret = new_secret()
    typer.echo(secret)
    typer.echo(f"key id: {key_id(secret.encode())}", err=True)


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Make a new current key in the ring kept in the data directory (secret.key); the
    keys before stay as previous keys. Restart the service, then `nxce keys reencrypt`."""
    settings = get_settings()
    if settings.secret_key is not None:
        raise _fail(
            "NXCE_SECRET_KEY is set: the keys are the variables', not the data directory's. "
            "Rotate there: `nxce keys new` makes a key; set it as NXCE_SECRET_KEY and the "
            "old one in NXCE_SECRET_KEYS_PREVIOUS on every replica, restart, then "
            "`nxce keys reencrypt`",
            2,
        )
    if settings.embedded_in_memory:
        raise _fail("NXCE_EMBEDDED_IN_MEMORY is set: that store keeps nothing to rotate", 2)
    path = settings.data_dir / KEY_FILE_NAME
    if not path.exists():
        raise _fail(f"{path} does not exist: there is no keyring here to rotate", 2)
    try:
        before = read_ring_file(path)
    except KeyMissing as missing:
        raise _fail(str(missing)) from None
    after = Keyring.of(new_secret().encode(), *before.secrets)
    write_ring_file(path, after)
    typer.echo(f"{path}: current key {after.current_id}; previous {', '.join(before.ids)}")
    typer.echo("restart the service to write under the new key, then run `nxce keys reencrypt`")


@asynccontextmanager
async def _store(opened: Any) -> AsyncIterator[None]:
    from nxce.app import open_store

    client, _ = await open_store(get_settings(), seed=False, client=opened)
    try:
        yield
    finally:
        db.close(client)


def _connect(settings: Settings) -> tuple[Any, str | None]:
    """The store's client, or (None, the holder's pid) when a service holds it."""
    if settings.embedded_in_memory:
        raise _fail(
            "NXCE_EMBEDDED_IN_MEMORY is set: that store lives inside `nxce serve`; ask it "
            "through the admin API (/admin/keys)",
            2,
        )
    try:
        return db.connect(settings), None
    except db.StoreInUse as held:
        return None, held.holder
    except db.StoreError as error:
        raise _fail(str(error)) from None


def _show_status(answer: dict[str, Any], where: str) -> None:
    typer.echo(f"keyring ({where}): current {answer['current']}")
    typer.echo(f"previous: {', '.join(answer['previous']) or 'none'}")
    typer.echo(f"learners: {answer['learners']}")
    for kind, label in (("id_numbers", "id numbers"), ("phones", "phones")):
        counts = answer[kind]
        shown = ", ".join(f"{k}: {n}" for k, n in sorted(counts.items())) or "none"
        typer.echo(f"{label} by key: {shown}")
    typer.echo(f"not under the current key: {answer['not_current']}")
    if answer["missing"]:
        typer.echo(
            f"records name keys the ring lacks: {', '.join(answer['missing'])}: add them to "
            "the ring as previous keys, or those numbers cannot be read",
            err=True,
        )


@keys_app.command("status")
def keys_status(
    url: store_cli.UrlOption = remote.DEFAULT_URL,
    client: store_cli.AdminOption = None,
    secret: store_cli.AdminSecretOption = None,
) -> None:
    """The keyring's key ids and how many stored id numbers and phones each key holds."""
    from nxce import keys_admin, wiring

    settings = get_settings()
    ring = _ring(settings)
    opened, holder = _connect(settings)
    if holder is not None:
        asked = store_cli.service(url, client, secret, holder, "the status")
        try:
            answer = asked.key_status()
        except remote.RemoteError as error:
            raise _fail(str(error)) from None
        finally:
            asked.close()
    else:

        async def count() -> dict[str, Any]:
            async with _store(opened):
                found = await keys_admin.status(credits=wiring.credits(settings), ring=ring)
                return found.model_dump(mode="json")

        answer = asyncio.run(count())
    _show_status(answer, _where(settings))
    if answer["missing"]:
        raise typer.Exit(1)


@keys_app.command("reencrypt")
def keys_reencrypt(
    batch: BatchOption = rekey.BATCH,
    url: store_cli.UrlOption = remote.DEFAULT_URL,
    client: store_cli.AdminOption = None,
    secret: store_cli.AdminSecretOption = None,
) -> None:
    """Encrypt and digest every learner's id number and phone again under the current
    key, in batches (idempotent: run it again after a stop to finish). Safe while the
    service runs. After it, `nxce keys status` shows nothing under the previous keys:
    they can leave the ring for the data at rest, but codes and tokens signed with them
    (issued transcripts, certificates, sessions) stop verifying when they leave."""
    from nxce import keys_admin, wiring

    settings = get_settings()
    _ring(settings)
    opened, holder = _connect(settings)
    if holder is not None:
        asked = store_cli.service(url, client, secret, holder, "the re-encryption")
        try:
            answer = asked.reencrypt(batch=batch)
        except remote.RemoteError as error:
            raise _fail(f"not re-encrypted: {error}") from None
        finally:
            asked.close()
        how = f"through the service (process {holder})"
    else:

        def progress(done: rekey.Reencrypted) -> None:
            moved = sum(done.moved.values())
            typer.echo(f"  {done.learners} learners read, {moved} values re-keyed", err=True)

        async def run() -> dict[str, Any]:
            async with _store(opened):
                made = await keys_admin.reencrypt(
                    credits=wiring.credits(settings),
                    by="command line (nxce keys reencrypt)",
                    batch=batch,
                    progress=progress,
                )
                return made.model_dump(mode="json")

        try:
            answer = asyncio.run(run())
        except KeyMissing as missing:
            raise _fail(str(missing)) from None
        how = "directly: no process held the store"
    _show_reencrypted(answer, how)


def _show_reencrypted(answer: dict[str, Any], how: str) -> None:
    moved = answer["moved"]
    typer.echo(f"re-encrypted {how}: current key {answer['current_key']}")
    typer.echo(
        f"learners read: {answer['learners']}; re-keyed: {moved['id_number']} id numbers, "
        f"{moved['phone']} phones"
    )
    left = False
    for name, label in (
        ("missing_key", "left, their key is not in the ring"),
        ("duplicates", "left, another learner holds the same number"),
        ("changing", "changed at every attempt, run again"),
    ):
        if answer[name]:
            left = True
            typer.echo(f"{label}: {'; '.join(answer[name])}", err=True)
    if left:
        raise typer.Exit(1)
