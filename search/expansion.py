"""What pinyin and initials stand for in this catalog, and how much of it each reading covers.

Initials are ambiguous by nature: `gq` spells 枸杞, 灌区 and 国企 alike. A learner typing
`gq` in Ningxia most likely means the word that covers most of the catalog and of what
learners complete, so each title word is counted: the courses whose title has it, and the
completions (popularity) of those courses. A "word" here is every run of two to four
Chinese characters of a title (without particles such as 的, 与), and every longer jieba
word: segmentation alone misses words a learner spells (大数据 is cut 大 / 数据), and
counting runs lets coverage decide. An
expansion's weight is its share of the catalog's courses plus its share of all completions
(our reading: the issue names both signals and no formula; equal parts keep either from
drowning the other).

Typo tolerance: a pinyin word of five letters or more also stands for the catalog's pinyin
words one edit away (a letter dropped, added or changed: `gouqu` -> `gouqi`), found by
looking up every edit of the query (some 300 for six letters) in the table.
"""

from __future__ import annotations

import json
import string
from collections import defaultdict
from functools import lru_cache
from typing import Any

from search import text

MIN_TYPO_LETTERS = 5  # pinyin this long tolerates one typo (the issue: five letters or more)
RUN_CHARS = (2, 4)  # runs of characters counted as words
# Particles and conjunctions: a run holding one is no word a learner spells (的设计 is not).
NOT_IN_WORDS = frozenset("的与和及之在对于了等或并从向把被其")


def _edits(word: str) -> set[str]:
    """Every string one letter dropped, added or changed from `word`."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    dropped = {a + b[1:] for a, b in splits if b}
    changed = {a + c + b[1:] for a, b in splits if b for c in string.ascii_lowercase}
    added = {a + c + b for a, b in splits for c in string.ascii_lowercase}
    return (dropped | changed | added) - {word}


@lru_cache(maxsize=8192)
def _words_of(title: str) -> dict[str, tuple[str, str]]:
    spelled = text.pinyin(title)
    normalized = text.normalize(title)
    by_source = dict(zip(spelled[1], spelled[0], strict=True))
    words = {w: (p, i) for w, p, i in text.spelled_words(title, spelled) if len(w) > 4}
    low, high = RUN_CHARS
    spelled_at = [
        by_source.get(k, "") if text.is_han(c) and c not in NOT_IN_WORDS else ""
        for k, c in enumerate(normalized)
    ]
    for start in range(len(normalized)):
        pinyin, initials = "", ""
        for end in range(start, min(start + high, len(normalized))):
            syllable = spelled_at[end]
            if not syllable.isalpha():
                break
            pinyin += syllable
            initials += syllable[0]
            if end + 1 - start >= low:
                words[normalized[start : end + 1]] = (pinyin, initials)
    return words


class Expansions:
    """Title words by their pinyin and initials, with the courses and completions of each."""

    def __init__(self) -> None:
        self.courses: dict[str, int] = defaultdict(int)  # word -> courses whose title has it
        self.completions: dict[str, int] = defaultdict(int)  # word -> completions of those
        self.spelling: dict[str, tuple[str, str]] = {}  # word -> (pinyin, initials)
        self._by_key: dict[str, set[str]] = defaultdict(set)  # pinyin or initials -> words
        self.total_courses = 0
        self.total_completions = 0

    @staticmethod
    def words_of(title: str) -> dict[str, tuple[str, str]]:
        """The distinct words of a title (runs of 2 to 4 characters, longer jieba words)
        with their pinyin and initials (a shared value: never change it)."""
        return _words_of(title)

    def _learn(self, word: str, spelled: tuple[str, str]) -> None:
        if word in self.spelling:
            return
        self.spelling[word] = spelled
        pinyin, initials = spelled
        self._by_key[pinyin].add(word)
        self._by_key[initials].add(word)

    def add(self, title: str, popularity: int, sign: int = 1) -> None:
        """Count a course's title (sign -1: forget it)."""
        self.total_courses += sign
        self.total_completions += sign * popularity
        for word, spelled in self.words_of(title).items():
            self._learn(word, spelled)
            self.courses[word] += sign
            self.completions[word] += sign * popularity

    def change_popularity(self, title: str, delta: int) -> None:
        """A course's completions changed by `delta`."""
        self.total_completions += delta
        for word in self.words_of(title):
            self.completions[word] += delta

    def weight(self, word: str) -> float:
        """The share of the catalog's courses plus the share of its completions."""
        share = self.courses.get(word, 0) / max(self.total_courses, 1)
        if self.total_completions > 0:
            share += self.completions.get(word, 0) / self.total_completions
        return share

    def ranked(self, key: str) -> list[str]:
        """Words spelled `key` (pinyin or initials) in the catalog, most covering first."""
        # A copy (atomic under the GIL): writes add words from another thread meanwhile.
        spelled = list(self._by_key.get(key, ()))
        words = [w for w in spelled if self.courses.get(w, 0) > 0]
        return sorted(words, key=lambda w: (-self.weight(w), w))

    def near(self, key: str) -> list[str]:
        """Catalog pinyin words one edit from `key` (never `key` itself), most covering first;
        none when `key` is shorter than five letters."""
        if len(key) < MIN_TYPO_LETTERS:
            return []
        candidates = [p for p in _edits(key) if p in self._by_key and self.ranked(p)]
        return sorted(candidates, key=lambda p: (-max(self.weight(w) for w in self.ranked(p)), p))

    # persistence: a small file beside the index (words, not courses)

    def dump(self) -> str:
        return json.dumps(
            {
                "courses": {w: n for w, n in self.courses.items() if n},
                "completions": {w: n for w, n in self.completions.items() if n},
                "spelling": self.spelling,
                "total_courses": self.total_courses,
                "total_completions": self.total_completions,
            },
            ensure_ascii=False,
        )

    @classmethod
    def load(cls, raw: str) -> Expansions:
        table: dict[str, Any] = json.loads(raw)
        expansions = cls()
        for word, spelled in table["spelling"].items():
            expansions._learn(word, (spelled[0], spelled[1]))
        expansions.courses.update(table["courses"])
        expansions.completions.update(table["completions"])
        expansions.total_courses = int(table["total_courses"])
        expansions.total_completions = int(table["total_completions"])
        return expansions
