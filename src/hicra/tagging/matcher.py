"""Character-level Strategic-Gram occurrences (arXiv 2509.03646, §2.1: planning tokens lie inside SG occurrences).

Matching semantics (the contract the tagger and its tests rely on):

* case-insensitive; ’ ‘ ʼ and ' are the same character;
* any run of whitespace (spaces, tabs, newlines) in the text matches one space in a gram;
* a gram matches only on word boundaries: if its first (last) character is a word character (alphanumeric or
  ``_``), the text character before (after) the occurrence must not be one — "so" never matches inside "also";
* overlapping and nested occurrences are all reported (the tagger takes their union).

One Aho–Corasick automaton (pyahocorasick) finds every gram in one pass over a normalised copy of the text whose
characters map back to the original offsets.
"""

from __future__ import annotations

from dataclasses import dataclass

import re

import ahocorasick
import numpy as np

from hicra.lexicon import APOSTROPHES, Lexicon

_SPACE = ord(" ")
WHITESPACE_CHAR = re.compile(r"\s")


def is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _lower_same_length(text: str) -> str:
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)  # keep offsets for chars like "İ"


def normalize_text(text: str) -> tuple[str, np.ndarray]:
    """Normalised text for matching and ``index``: position in it → position in ``text``.

    Lower-cases, unifies apostrophes, turns every whitespace character into a space and collapses space runs.
    """
    low = WHITESPACE_CHAR.sub(" ", _lower_same_length(text).translate(APOSTROPHES))
    codes = np.frombuffer(low.encode("utf-32-le"), dtype=np.uint32)
    space = codes == _SPACE
    keep = ~(space & np.concatenate(([False], space[:-1])))
    index = np.flatnonzero(keep)
    return codes[keep].tobytes().decode("utf-32-le"), index


@dataclass(frozen=True)
class Occurrence:
    """One gram occurrence: ``text[start:end]`` (original character offsets) matches ``gram``."""

    start: int
    end: int
    gram: str


class GramMatcher:
    """Finds all Strategic-Gram occurrences in texts (see module docstring for the semantics)."""

    def __init__(self, lexicon: Lexicon):
        if not lexicon.grams:
            raise ValueError(f"lexicon {lexicon.name!r} has no grams")
        self.lexicon = lexicon
        self._automaton = ahocorasick.Automaton()
        for gram in lexicon.grams:
            self._automaton.add_word(gram, (len(gram), gram, is_word_char(gram[0]), is_word_char(gram[-1])))
        self._automaton.make_automaton()

    def find(self, text: str) -> list[Occurrence]:
        """All occurrences in ``text``, ordered by end position, as original-text character offsets."""
        norm, index = normalize_text(text)
        n = len(norm)
        found = []
        for last, (length, gram, word_start, word_end) in self._automaton.iter(norm):
            first = last - length + 1
            if word_start and first > 0 and is_word_char(norm[first - 1]):
                continue
            if word_end and last + 1 < n and is_word_char(norm[last + 1]):
                continue
            found.append(Occurrence(int(index[first]), int(index[last]) + 1, gram))
        return found
