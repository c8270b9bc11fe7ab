"""Chinese text analysis for search: normalisation, n-grams, segmentation, pinyin.

Every substring of a title must find its course, so titles are indexed as character
unigrams and bigrams (a query of n >= 2 characters is a phrase of its n-1 bigrams, which
matches exactly the titles containing it). Words from jieba (rjieba) with a domain
dictionary help ranking; full pinyin and initials let `gouqi` and `gq` find 枸杞.
Traditional characters are folded to simplified ones (會計 finds 会计), full-width forms
to half-width, and letters to lower case, the same way for documents and queries.
The tables (domain words, synonyms, pinyin syllables) are data files in `search/data/`.
"""

from __future__ import annotations

import tomllib
import unicodedata
from collections.abc import Iterable
from functools import cache, lru_cache
from pathlib import Path

import opencc
import pypinyin
import rjieba

DATA = Path(__file__).resolve().parent / "data"

# Separates runs (text split at white space) so that no n-gram or phrase spans two runs.
# A private-use character: queries never contain it (`normalize` drops them).
RUN_BREAK = "\ue000"


def _vocabulary() -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """The domain words and the synonyms of `data/vocabulary.toml`."""
    with (DATA / "vocabulary.toml").open("rb") as file:
        table = tomllib.load(file)
    synonyms = {word: tuple(others) for word, others in table["synonyms"].items()}
    return tuple(table["domain_words"]), synonyms


def _syllables() -> frozenset[str]:
    """The syllables of `data/pinyin.txt`, one a line; `#` starts a comment line."""
    lines = (DATA / "pinyin.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


# Words jieba's dictionary misses or splits in this catalog's field (series names and
# subjects are added from the catalog itself by `add_words`), and words a learner may
# type for one another (both backends apply the same table).
DOMAIN_WORDS, SYNONYMS = _vocabulary()

# Mandarin syllables as pypinyin writes them without tones (ü as v); interjection-only
# syllables (m, n, ng, hm, hng) are left out so they do not split real queries.
SYLLABLES = _syllables()
_SYLLABLE_PREFIXES = frozenset(s[:i] for s in SYLLABLES for i in range(1, len(s) + 1))
_MAX_SYLLABLE = max(len(s) for s in SYLLABLES)


@cache
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@cache
def _segmenter() -> rjieba.Jieba:
    jieba = rjieba.Jieba()
    for word in DOMAIN_WORDS:
        jieba.add_word(word, None, None)
    return jieba


def add_words(words: Iterable[str]) -> None:
    """Teach the segmenter words of the catalog (series, subjects, tags)."""
    jieba = _segmenter()
    for word in words:
        if len(word) >= 2 and not jieba.has_word(word):
            jieba.add_word(word, None, None)


@lru_cache(maxsize=65_536)
def _fold(char: str) -> str:
    """One character as search sees it: NFKC, simplified, lower case; '' to drop it."""
    if unicodedata.category(char) in ("Co", "Cc", "Cf", "Cs"):
        return ""
    folded = unicodedata.normalize("NFKC", char)
    folded = _converter().convert(folded) if not folded.isascii() else folded
    return folded.lower()


def normalize(text: str) -> str:
    """`text` as documents are indexed and queries are matched."""
    return "".join(_fold(c) for c in text)


def normalize_with_offsets(text: str) -> tuple[str, list[int]]:
    """`normalize(text)` and, for each of its characters, the index of its source in `text`."""
    chars: list[str] = []
    offsets: list[int] = []
    for i, char in enumerate(text):
        for folded in _fold(char):
            chars.append(folded)
            offsets.append(i)
    return "".join(chars), offsets


def runs(text: str) -> list[str]:
    """The white-space separated runs of normalized `text`."""
    return normalize(text).split()


def grams(text: str, n: int, *, normalized_runs: list[str] | None = None) -> str:
    """Character n-grams of `text` as white-space separated tokens, runs kept apart."""
    tokens: list[str] = []
    for run in runs(text) if normalized_runs is None else normalized_runs:
        if tokens:
            tokens.append(RUN_BREAK)
        if len(run) < n:
            continue
        tokens.extend(run[i : i + n] for i in range(len(run) - n + 1))
    return " ".join(tokens)


def query_grams(term: str) -> list[str]:
    """The phrase a normalized, single-run query term must match: its bigrams."""
    return [term[i : i + 2] for i in range(len(term) - 1)]


def words(text: str) -> str:
    """Words of `text` (jieba search mode), white-space separated."""
    return " ".join(w for run in runs(text) for w in _segmenter().cut_for_search(run) if w.strip())


def is_han(char: str) -> bool:
    """A Chinese character (CJK unified ideographs and extension A)."""
    return _is_han(char)


def _is_han(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"


def pinyin(text: str) -> tuple[list[str], list[int]]:
    """Syllables of the Chinese characters and letters/digits of `text`, with the index in
    normalized `text` of the character each came from. Readings are phrase-aware (会计 is
    kuai ji)."""
    normalized = normalize(text)
    syllables: list[str] = []
    sources: list[int] = []
    i = 0
    while i < len(normalized):
        if _is_han(normalized[i]):
            j = i
            while j < len(normalized) and _is_han(normalized[j]):
                j += 1
            readings = _han_pinyin(normalized[i:j])
            if len(readings) == j - i:
                syllables += readings
                sources += range(i, j)
            i = j
        else:
            if normalized[i].isalnum() and normalized[i].isascii():
                syllables.append(normalized[i])
                sources.append(i)
            i += 1
    return syllables, sources


@lru_cache(maxsize=65_536)
def _han_pinyin(run: str) -> tuple[str, ...]:
    return tuple(pypinyin.lazy_pinyin(run, v_to_u=False))


def initials(syllables: list[str]) -> list[str]:
    """The first letter of each syllable (zh, ch, sh count as z, c, s, as IMEs do)."""
    return [s[0] for s in syllables]


def split_pinyin(letters: str) -> tuple[list[str], str] | None:
    """`letters` as whole syllables plus an optional unfinished last one, fewest syllables
    first; None when it is no pinyin (`gouqi` -> (['gou', 'qi'], ''); `gouq` -> (['gou'], 'q'))."""
    n = len(letters)
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for i in range(n):
        current = best[i]
        if current is None:
            continue
        for j in range(i + 1, min(n, i + _MAX_SYLLABLE) + 1):
            piece = letters[i:j]
            if piece in SYLLABLES:
                candidate = [*current, piece]
                if best[j] is None or len(candidate) < len(best[j] or []):
                    best[j] = candidate
    whole = best[n]
    if whole is not None:
        return whole, ""
    for cut in range(n - 1, -1, -1):
        head = best[cut]
        if head is not None and letters[cut:] in _SYLLABLE_PREFIXES:
            return head, letters[cut:]
    return None


def word_pinyin(
    text_: str, spelled: tuple[list[str], list[int]] | None = None
) -> list[tuple[str, str]]:
    """(pinyin, initials) of each jieba word of `text_` that has Chinese characters
    (枸杞 -> ('gouqi', 'gq')), so that whole words rank above chance letter runs.
    `spelled` is `pinyin(text_)` when the caller has it already."""
    return [(p, i) for _, p, i in spelled_words(text_, spelled)]


def spelled_words(
    text_: str, spelled: tuple[list[str], list[int]] | None = None
) -> list[tuple[str, str, str]]:
    """(word, pinyin, initials) of each jieba word of `text_` that has Chinese characters:
    (枸杞, gouqi, gq)."""
    normalized = normalize(text_)
    syllables, sources = spelled if spelled is not None else pinyin(text_)
    by_source = dict(zip(sources, syllables, strict=True))
    found: list[tuple[str, str, str]] = []
    start = 0
    for run in normalized.split(" "):
        for word, begin, end in _segmenter().tokenize(run, mode="search"):
            letters = [by_source[i] for i in range(start + begin, start + end) if i in by_source]
            if any(_is_han(c) for c in word) and letters:
                found.append((word, "".join(letters), "".join(s[0] for s in letters)))
        start += len(run) + 1
    return found
