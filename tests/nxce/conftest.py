"""The tiny durable store of tests/nxce/tiny_store.py: built once per module, copied for
each test, and served by `nxce serve`'s app on a local port."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from nxce.app import create_app
from tests.nxce import tiny_store
from tests.nxce.test_cli_transcripts import free_port


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    data = tmp_path_factory.mktemp("built") / "data"
    return data, tiny_store.build(data)


@pytest.fixture
def data(built: tuple[Path, dict[str, Any]], tmp_path: Path) -> Path:
    """A copy of the tiny store for this test."""
    return tiny_store.copy(built[0], tmp_path / "data")


@pytest.fixture
def running(data: Path) -> Iterator[str]:
    """`nxce serve`'s app on `data` on a local port, in a thread of this process."""
    port = free_port()
    config = uvicorn.Config(
        create_app(tiny_store.durable(data)), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the service did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
