"""The embedded engine keeps popularity and its table of title words across a restart, and
rebuilds the table from the index when it is missing."""

from __future__ import annotations

from pathlib import Path

from search.backend import SearchQuery
from search.embedded import EmbeddedBackend
from tests.search.test_contract import crafted


async def order(backend: EmbeddedBackend, q: str) -> list[str]:
    return [h.document["code"] for h in (await backend.search(SearchQuery(q=q))).hits]


async def test_popularity_and_expansions_survive_a_restart(tmp_path: Path) -> None:
    backend = EmbeddedBackend(tmp_path)
    await backend.open()
    await backend.replace_all(
        [crafted("A1", "灌区节水改造"), crafted("A2", "灌区信息化"), crafted("B1", "枸杞制干")],
        "tables",
    )
    await backend.set_popularity({"B1": 50})
    assert (await order(backend, "gq"))[0] == "B1"
    await backend.close()

    again = EmbeddedBackend(tmp_path)
    await again.open()
    assert (await order(again, "gq"))[0] == "B1"
    await again.close()

    assert again.directory is not None
    (again.directory / "expansions.json").unlink()
    rebuilt = EmbeddedBackend(tmp_path)
    await rebuilt.open()
    assert (await order(rebuilt, "gq"))[0] == "B1"
    assert (rebuilt.directory / "expansions.json").exists()  # type: ignore[operator]
    await rebuilt.close()
