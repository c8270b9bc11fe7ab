"""The service process's heap, settled once it has started.

CPython's cyclic garbage collector walks every tracked object at each full collection.
A started service holds a few hundred thousand of them that live as long as the process
(the catalog, the app and its routes, the modules): on 2 cores a full collection took
about 140 ms, one request in a few hundred waited for it, and the collections cost 7–10 %
of the statement ingestion's CPU (`bench/store.py`). Frozen once the service has started
(`gc.freeze`: moved to a generation that is never collected), they are no longer walked;
what is allocated afterwards is collected as before, with a younger generation 0 large
enough that a batch of statements does not trigger several collections.

Only `nxce serve` does this (`create_app(..., settle_heap=True)`): tests make many apps in
one process, and freezing their objects would keep them for the whole run.
"""

from __future__ import annotations

import gc

# Allocations (less deallocations) between two collections of generation 0; CPython's
# default is 700. Generations 1 and 2 as CPython's defaults (10, 10).
YOUNGEST = 10_000


def settle() -> int:
    """Collect once, then freeze what is left (the started service); answers how many
    objects were frozen."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNGEST, 10, 10)
    return gc.get_freeze_count()
