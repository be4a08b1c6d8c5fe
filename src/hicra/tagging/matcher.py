"""Character-level Strategic-Gram occurrences (arXiv 2509.03646, §2.1: planning tokens lie inside SG occurrences).

Matching semantics (the contract the tagger and its tests rely on):

* case-insensitive: each character is compared lower-cased (:func:`hicra.lexicon.fold_case`; a character whose lower
  case is longer, such as "İ", is compared as it is); ’ ‘ ʼ and ' are the same character;
* any run of whitespace (``str.isspace``: spaces, tabs, newlines, NBSP, ...) in the text matches one space in a gram;
* a gram matches only on word boundaries: if its first (last) character is a word character (alphanumeric or
  ``_``), the text character before (after) the occurrence must not be one — "so" never matches inside "also".
  Boundaries are judged on the compared characters, so ʼ (a letter to Unicode) counts as an apostrophe there too;
* overlapping and nested occurrences are all reported (the tagger takes their union).

One Aho–Corasick automaton (pyahocorasick) finds every gram in one pass over a normalised copy of the text whose
characters map back to the original offsets; normalisation and the boundary checks are vectorised with numpy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import ahocorasick
import numpy as np

from hicra.lexicon import APOSTROPHES, Lexicon, fold_case

_SPACE = ord(" ")
_APOSTROPHE_VARIANTS = tuple(chr(c) for c in APOSTROPHES)
BATCH_SEPARATOR = "\x00"  # joins the texts of a batch; no gram may contain it
WHITESPACE_CHAR = re.compile(r"\s")  # the same characters as str.isspace


def is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


@lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray]:
    """``(whitespace, word)`` lookup tables over the BMP (no whitespace lies above U+3000)."""
    chars = [chr(c) for c in range(0x10000)]
    space = np.fromiter((c.isspace() for c in chars), dtype=bool, count=len(chars))
    word = np.fromiter((is_word_char(c) for c in chars), dtype=bool, count=len(chars))
    return space, word


def _is_word(codes: np.ndarray) -> np.ndarray:
    """Vectorised :func:`is_word_char` over UTF-32 code points."""
    word = _tables()[1][np.minimum(codes, 0xFFFF)]
    astral = codes > 0xFFFF
    if astral.any():
        word[astral] = [is_word_char(chr(c)) for c in codes[astral].tolist()]
    return word


def _folded_codes(text: str) -> tuple[np.ndarray, np.ndarray]:
    """UTF-32 code points of the case-folded text with apostrophes unified and whitespace turned into spaces, and the
    original text's whitespace mask."""
    low = fold_case(text)
    for apostrophe in _APOSTROPHE_VARIANTS:
        if apostrophe in low:
            low = low.replace(apostrophe, "'")
    codes = np.frombuffer(low.encode("utf-32-le"), dtype=np.uint32)
    space = _tables()[0][np.minimum(codes, 0xFFFF)]
    return np.where(space, np.uint32(_SPACE), codes), space


def normalize_text(text: str) -> tuple[str, np.ndarray]:
    """Normalised text for matching and ``index``: position in it → position in ``text``.

    Lower-cases, unifies apostrophes, turns every whitespace character into a space and collapses space runs.
    """
    codes, space = _folded_codes(text)
    keep = ~(space & np.concatenate(([False], space[:-1])))
    return codes[keep].tobytes().decode("utf-32-le"), np.flatnonzero(keep)


@dataclass(frozen=True)
class Occurrence:
    """One gram occurrence: ``text[start:end]`` (original character offsets) matches ``gram``."""

    start: int
    end: int
    gram: str


class Matches(NamedTuple):
    """All occurrences in one text as arrays (ordered by end), plus the text's whitespace mask."""

    starts: np.ndarray  # [K] int64 original character offsets
    ends: np.ndarray  # [K] int64 (exclusive)
    grams: np.ndarray  # [K] int64 index into GramMatcher.grams
    whitespace: np.ndarray  # [len(text)] bool, str.isspace of each character


class GramMatcher:
    """Finds all Strategic-Gram occurrences in texts (see module docstring for the semantics)."""

    def __init__(self, lexicon: Lexicon):
        if not lexicon.grams:
            raise ValueError(f"lexicon {lexicon.name!r} has no grams")
        self.lexicon = lexicon
        self.grams: tuple[str, ...] = tuple(lexicon.grams)
        self._automaton = ahocorasick.Automaton()
        for i, gram in enumerate(self.grams):
            if BATCH_SEPARATOR in gram or gram != gram.strip() or not gram:
                raise ValueError(f"gram {gram!r} is not normalised (see hicra.lexicon.normalize_gram)")
            self._automaton.add_word(gram, i)
        self._automaton.make_automaton()
        self._length = np.array([len(g) for g in self.grams], dtype=np.int64)
        self._word_first = np.array([is_word_char(g[0]) for g in self.grams], dtype=bool)
        self._word_last = np.array([is_word_char(g[-1]) for g in self.grams], dtype=bool)

    def match(self, text: str) -> Matches:
        """All occurrences in ``text`` as arrays (one automaton pass; boundaries checked vectorised)."""
        codes, space = _folded_codes(text)
        keep = ~(space & np.concatenate(([False], space[:-1])))
        norm_codes = codes[keep]
        hits = list(self._automaton.iter(norm_codes.tobytes().decode("utf-32-le")))
        if not hits:
            empty = np.zeros(0, dtype=np.int64)
            return Matches(empty, empty, empty, space)
        last, gram = np.array(hits, dtype=np.int64).T
        first = last - self._length[gram] + 1
        # word boundaries: NUL-padded so the text's edges count as non-word characters
        padded = np.concatenate(([0], norm_codes, [0]))
        ok = ~(self._word_first[gram] & _is_word(padded[first])) & ~(self._word_last[gram] & _is_word(padded[last + 2]))
        index = np.flatnonzero(keep)
        return Matches(index[first[ok]], index[last[ok]] + 1, gram[ok], space)

    def find(self, text: str) -> list[Occurrence]:
        """All occurrences in ``text``, ordered by end position, as original-text character offsets."""
        m = self.match(text)
        grams = self.grams
        return [Occurrence(a, b, grams[g]) for a, b, g in zip(m.starts.tolist(), m.ends.tolist(), m.grams.tolist())]
