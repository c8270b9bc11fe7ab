"""What pinyin and initials stand for in this catalog, and how much of it each reading covers.

Initials are ambiguous by nature: `gq` spells 枸杞, 灌区 and 国企 alike. A learner typing
`gq` in Ningxia most likely means the word that covers most of the catalog and of what
learners complete, so each title word is counted: the courses whose title has it, and the
completions (popularity) of those courses. An expansion's weight is its share of the
catalog's courses plus its share of all completions (our reading: the issue names both
signals and no formula; equal parts keep either from drowning the other).

Typo tolerance: a pinyin word of five letters or more also stands for the catalog's pinyin
words one edit away (a letter dropped, added or changed: `gouqu` -> `gouqi`), found through
the deletions of each word (the symmetric-delete method), so a query costs a few lookups.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from search import text

MIN_TYPO_LETTERS = 5  # pinyin this long tolerates one typo (the issue: five letters or more)


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


class Expansions:
    """Title words by their pinyin and initials, with the courses and completions of each."""

    def __init__(self) -> None:
        self.courses: dict[str, int] = defaultdict(int)  # word -> courses whose title has it
        self.completions: dict[str, int] = defaultdict(int)  # word -> completions of those
        self.spelling: dict[str, tuple[str, str]] = {}  # word -> (pinyin, initials)
        self._by_key: dict[str, set[str]] = defaultdict(set)  # pinyin or initials -> words
        self._near: dict[str, set[str]] = defaultdict(set)  # deletion -> pinyin words
        self.total_courses = 0
        self.total_completions = 0

    @staticmethod
    def words_of(title: str) -> dict[str, tuple[str, str]]:
        """The distinct words of a title with their pinyin and initials."""
        return {word: (p, i) for word, p, i in text.spelled_words(title)}

    def _learn(self, word: str, spelled: tuple[str, str]) -> None:
        if word in self.spelling:
            return
        self.spelling[word] = spelled
        pinyin, initials = spelled
        self._by_key[pinyin].add(word)
        self._by_key[initials].add(word)
        if len(pinyin) >= MIN_TYPO_LETTERS:
            for key in (pinyin, *_deletions(pinyin)):
                self._near[key].add(pinyin)

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
        words = [w for w in self._by_key.get(key, ()) if self.courses.get(w, 0) > 0]
        return sorted(words, key=lambda w: (-self.weight(w), w))

    def near(self, key: str) -> list[str]:
        """Catalog pinyin words one edit from `key` (never `key` itself), most covering first;
        none when `key` is shorter than five letters."""
        if len(key) < MIN_TYPO_LETTERS:
            return []
        found: set[str] = set()
        for probe in (key, *_deletions(key)):
            found |= self._near.get(probe, set())
        found.discard(key)
        candidates = [p for p in found if _one_edit(p, key) and self.ranked(p)]
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


def _one_edit(a: str, b: str) -> bool:
    """Whether `a` and `b` are one insertion, deletion or substitution apart."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))
