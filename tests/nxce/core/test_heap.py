"""The started service's heap is frozen out of the collector's walks (nxce/core/heap.py)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from nxce.core import heap


@pytest.fixture
def thawed() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_settling_freezes_what_lives_and_collects_what_does_not(thawed: None) -> None:
    class Node:
        def __init__(self) -> None:
            self.other: Node | None = None

    kept = {"课程": ["会计", "卫生"]}
    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle nobody holds once deleted
    del a, b
    frozen = heap.settle()
    assert frozen > 0
    assert gc.get_freeze_count() == frozen
    assert gc.get_threshold()[0] == heap.YOUNGEST
    assert not [o for o in gc.get_objects() if isinstance(o, Node)]  # collected first
    assert kept["课程"] == ["会计", "卫生"]
    assert all(o is not kept for o in gc.get_objects())  # frozen: no longer walked
