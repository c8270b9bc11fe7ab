"""Query terms and title highlighting, shared by both backends.

A title is highlighted where a query term occurs in it as text, or where its characters'
pinyin or initials spell the term; the result is HTML-escaped with `<em>` around matches.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence

from search import text

MAX_TERMS = 8
_SCRIPT_RUNS = re.compile(r"[a-z0-9]+|[^a-z0-9]+")


def terms(q: str) -> list[str]:
    """The distinct normalized terms of `q` (at most MAX_TERMS): white space, punctuation
    and symbols separate terms, so `"滩羊"` searches 滩羊 and `title:x` searches title, x;
    so does a change between letters (or digits) and characters: `宁夏gouqi` is 宁夏, gouqi."""
    normalized = "".join(
        " " if unicodedata.category(c)[0] in "PSZ" else c for c in text.normalize(q)
    )
    seen: list[str] = []
    for run in normalized.split():
        for term in _SCRIPT_RUNS.findall(run):
            if term not in seen:
                seen.append(term)
    return seen[:MAX_TERMS]


def highlight_terms(q: str) -> list[str]:
    """The terms of `q` and their synonyms: what a title is highlighted for."""
    found = terms(q)
    return found + [s for t in found for s in text.SYNONYMS.get(t, ()) if s not in found]


def is_letters(term: str) -> bool:
    """A term that may be pinyin or initials: ASCII letters only."""
    return term.isascii() and term.isalpha()


def _mark_sequence(
    marked: list[bool],
    units: Sequence[str],
    sources: Sequence[int],
    offsets: Sequence[int],
    wanted: Sequence[str],
    prefix: str,
) -> None:
    """Mark the source characters of every run of `units` equal to `wanted` (+ `prefix`)."""
    length = len(wanted) + (1 if prefix else 0)
    for start in range(len(units) - length + 1):
        window = units[start : start + length]
        if list(window[: len(wanted)]) != list(wanted):
            continue
        if prefix and not window[-1].startswith(prefix):
            continue
        for k in range(start, start + length):
            marked[offsets[sources[k]]] = True


def highlight(title: str, query_terms: Sequence[str]) -> str:
    """`title` as escaped HTML with `<em>…</em>` around what the query terms matched."""
    normalized, offsets = text.normalize_with_offsets(title)
    marked = [False] * len(title)
    syllables: list[str] | None = None
    sources: list[int] = []
    for term in query_terms:
        start = normalized.find(term)
        while start != -1:
            for k in range(start, start + len(term)):
                marked[offsets[k]] = True
            start = normalized.find(term, start + 1)
        if not is_letters(term):
            continue
        if syllables is None:
            syllables, sources = text.pinyin(title)
        split = text.split_pinyin(term)
        if split is not None:
            _mark_sequence(marked, syllables, sources, offsets, split[0], split[1])
        _mark_sequence(marked, text.initials(syllables), sources, offsets, list(term), "")
    return _render(title, marked)


def _render(title: str, marked: list[bool]) -> str:
    parts: list[str] = []
    i = 0
    while i < len(title):
        j = i
        while j < len(title) and marked[j] == marked[i]:
            j += 1
        chunk = html.escape(title[i:j], quote=False)
        parts.append(f"<em>{chunk}</em>" if marked[i] else chunk)
        i = j
    return "".join(parts)
