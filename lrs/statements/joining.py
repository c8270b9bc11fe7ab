"""Writes that arrive together share one (the embedded store).

Each POST of a statement costs the store a fixed part whatever its size: taking `stored`
values, the reads that compare ids and find voiding statements, the activity directory,
the crediting, the medium's commit. Requests that reach the store within a few turns of
the event loop (a client sending statements one by one, several at once) are written as
one batch: the first opens a group and schedules its write, which waits `TURNS` turns;
those arriving before it starts join. Each request still answers for its own statements
only, once they are committed.

Only requests that cannot affect one another join: the same writer, xAPI version and
listeners (`key`), distinct statement ids, no StatementRef (so no voiding), no
attachments (`statements.store` decides). A group refused (a 4xx: a statement stored
before with other content, one too large as stored) wrote nothing; each of its requests is
then written alone, and answers its own refusal. Any other failure is every request's.

The group is written by a task of its own (a request that goes away leaves its statements
to the group, as one gone during its own write would); its log lines carry the id of the
request that opened it.

Only where one process holds the store: on MongoDB each request keeps its own
transaction (and replicas share no event loop).
"""

from __future__ import annotations

import asyncio
import functools
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from nxce.core.errors import NxceError

# A request of more statements is written alone; a group stops taking requests at
# GROUP_MAX statements (our reading: xAPI sets no figure; a sync of a phone sends a few).
JOIN_MAX = 50
GROUP_MAX = 200
# Turns of the event loop a group waits before its write (each reads the sockets ready):
# a client's requests, sent as its answers come, arrive spread over a few turns. Measured
# with 8 in flight (bench/store.py): groups of 1-2 without, of 6-7 with two.
TURNS = 2

Write = Callable[[list[dict[str, Any]], list[str]], Awaitable[Any]]


@dataclass(eq=False)
class _Request:
    statements: list[dict[str, Any]]
    ids: list[str]
    answer: asyncio.Future[bool]


@dataclass(eq=False)
class _Group:
    key: tuple[Any, ...]
    write: Write  # the first request's: the same for every request of the same key
    requests: list[_Request] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)

    def takes(self, key: tuple[Any, ...], ids: list[str]) -> bool:
        return (
            self.key == key and len(self.ids) + len(ids) <= GROUP_MAX and self.ids.isdisjoint(ids)
        )


# The groups not yet writing, per event loop: one per key at most.
_open: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, list[_Group]] = (
    weakref.WeakKeyDictionary()
)
_writing: set[asyncio.Task[None]] = set()  # the groups' writes (the loop keeps weak refs)


async def join(
    key: tuple[Any, ...], statements: list[dict[str, Any]], ids: list[str], write: Write
) -> bool:
    """Have `statements` (their lower-case `ids`) written with the requests that arrive
    with them, by `write(statements, ids)` of the group; answers True once committed,
    False when the group was refused and they are to be written alone."""
    loop = asyncio.get_running_loop()
    groups = _open.setdefault(loop, [])
    group = next((g for g in groups if g.takes(key, ids)), None)
    if group is None:
        group = _Group(key, write)
        groups.append(group)
        task = loop.create_task(_write_group(group))  # runs at the next turn of the loop
        _writing.add(task)
        task.add_done_callback(functools.partial(_ended, group, loop))
    request = _Request(statements, ids, loop.create_future())
    group.requests.append(request)
    group.ids.update(ids)
    return await asyncio.shield(request.answer)  # a request gone leaves them to the group


async def _write_group(group: _Group) -> None:
    loop = asyncio.get_running_loop()
    requests = group.requests
    try:
        for _ in range(TURNS):  # requests whose bytes arrive meanwhile join
            await asyncio.sleep(0)
        _close(group, loop)  # later requests form the next group
        await group.write(
            [s for r in requests for s in r.statements], [i for r in requests for i in r.ids]
        )
    except NxceError as refused:
        alone = len(requests) > 1 and refused.status < 500
        _answer(requests, None if alone else refused, False)
    except Exception as failed:  # every request answers it
        _answer(requests, failed, False)
    else:
        _answer(requests, None, True)


def _ended(group: _Group, loop: asyncio.AbstractEventLoop, task: asyncio.Task[None]) -> None:
    """The group's task is done, whatever ended it (cancelled before it even ran, at a
    stop): it is closed, and a request it left unanswered is cancelled, never left
    waiting."""
    _writing.discard(task)
    _close(group, loop)
    for request in group.requests:
        if not request.answer.done():
            request.answer.cancel()


def _close(group: _Group, loop: asyncio.AbstractEventLoop) -> None:
    groups = _open.get(loop, [])
    if group in groups:
        groups.remove(group)


async def settle() -> None:
    """Wait for the groups being written (a service stopping, before it closes the store:
    a group whose requests went away is still written)."""
    loop = asyncio.get_running_loop()
    here = [task for task in _writing if task.get_loop() is loop]
    if here:
        await asyncio.gather(*here, return_exceptions=True)


def _answer(requests: list[_Request], error: BaseException | None, written: bool) -> None:
    for request in requests:
        if request.answer.done():
            continue
        if error is None:
            request.answer.set_result(written)
        else:
            request.answer.set_exception(error)
            request.answer.exception()  # retrieved: a request gone leaves no warning
