"""A brute-force, character-level reference for the planning-token tagger (paper §2.1) and random test texts.

The reference restates the matching contract of ``hicra.tagging.matcher`` as directly as possible, without the
automaton or any normalised copy of the text: for every gram and every start position, walk the text character by
character (a space in the gram consumes one or more whitespace characters), then check the word boundaries.
"""

from __future__ import annotations

import random
from typing import Sequence

import numpy as np
from hypothesis import strategies as st

APOSTROPHE_VARIANTS = "\u2019\u2018\u02bc"


def fold(ch: str) -> str:
    """One text character as the contract compares it: lower case (when one character), ' for ’ ‘ ʼ, space for
    any whitespace."""
    low = ch.lower()
    ch = low if len(low) == 1 else ch
    if ch in APOSTROPHE_VARIANTS:
        return "'"
    return " " if ch.isspace() else ch


def is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def reference_occurrences(text: str, grams: Sequence[str]) -> set[tuple[int, int, str]]:
    """Every ``(start, end, gram)`` such that ``text[start:end]`` matches ``gram`` on word boundaries."""
    folded = [fold(c) for c in text]
    n = len(text)
    starts_with: dict[str, list[int]] = {}
    for i, c in enumerate(folded):
        starts_with.setdefault(c, []).append(i)
    found = set()
    for gram in grams:
        for i in starts_with.get(gram[0], ()):
            j = i
            for gc in gram:
                if j >= n or folded[j] != gc:
                    break
                j += 1
                if gc == " ":
                    while j < n and folded[j] == " ":
                        j += 1
            else:
                if is_word(gram[0]) and i > 0 and is_word(folded[i - 1]):
                    continue
                if is_word(gram[-1]) and j < n and is_word(folded[j]):
                    continue
                found.add((i, j, gram))
    return found


def reference_coverage(text: str, occurrences: set[tuple[int, int, str]]) -> np.ndarray:
    """[len(text)] bool: the character lies inside some occurrence."""
    covered = np.zeros(len(text), dtype=bool)
    for a, b, _ in occurrences:
        covered[a:b] = True
    return covered


def reference_labels(text: str, offsets: np.ndarray, covered: np.ndarray, blank: Sequence[bool] = ()) -> np.ndarray:
    """[T] bool: a token is planning iff one of its non-whitespace characters is covered. Tokens flagged in
    ``blank`` (their own surface is whitespace, e.g. SentencePiece's prepended ▁, whatever its offsets say) have no
    non-whitespace characters."""
    blank = list(blank) or [False] * len(offsets)
    return np.array([not blank[k] and any(covered[c] and not text[c].isspace() for c in range(a, min(b, len(text))))
                     for k, (a, b) in enumerate(offsets.tolist())], dtype=bool)


# ------------------------------------------------------------------------------------------------- random texts
WHITESPACE = [" ", " ", " ", "  ", "\n", "\n\n", " \n ", "\t", "\r\n", "\u00a0", "\u2003", " \u3000"]
FILLER = ["also", "sober", "butter", "waiting", "wait_", "_so", "so2", "2so", "notes", "denoted", "thus.", "x",
          "the", "we", "can", "find", "step", "$x^2 + 3$", "\\frac{1}{2}", "=", "42", "3.5", "(", ")", "-", "--", "#",
          "###", "?", ",", ".", "!", ":", "naïve", "Straße", "İstanbul", "ΣΑΣ", "日本語", "😀", "🧮", "e\u0301", "ﬁne",
          "ǅ", "\u212a", "BUT", "Hmm", "don’t", "it's", "let’s", "lets", "let", "s", "'", "’", "‘", "ʼ", "\x00"]
JOINERS = ["", " ", " ", " ", "  ", "\n", ". ", ", ", "\n\n", "’", "'", "-", "_"]
GRAM_TAILS = ["", "", "", "s", "ing", "_", "2", "’s", "?", ","]
GRAM_HEADS = ["", "", "", "a", "un", "_", "1"]


def disguise(gram: str, draw_choice) -> str:
    """A gram as it may appear in text: other whitespace, apostrophes and capitalisation."""
    out = []
    for ch in gram:
        if ch == " ":
            out.append(draw_choice(WHITESPACE))
        elif ch == "'":
            out.append(draw_choice(["'", "\u2019", "\u2019", "\u2018", "\u02bc"]))
        else:
            out.append(ch)
    text = "".join(out)
    case = draw_choice(["lower", "lower", "capital", "upper", "title"])
    if case == "capital":
        return text[:1].upper() + text[1:]
    return text.upper() if case == "upper" else text.title() if case == "title" else text


@st.composite
def gram_texts(draw, grams: Sequence[str], max_segments: int = 12) -> str:
    """Texts built from grams (disguised, glued to sub-words, truncated) and filler, capitalised after '. '."""
    choice = lambda options: draw(st.sampled_from(options))  # noqa: E731
    n = draw(st.integers(0, max_segments))
    parts: list[str] = []
    for _ in range(n):
        kind = draw(st.sampled_from(["gram", "gram", "filler", "truncated", "random"]))
        if kind == "gram":
            seg = choice(GRAM_HEADS) + disguise(choice(list(grams)), choice) + choice(GRAM_TAILS)
        elif kind == "truncated":
            gram = choice(list(grams))
            seg = disguise(gram[: draw(st.integers(1, len(gram)))], choice)
        elif kind == "random":
            seg = draw(st.text(alphabet="butwaisonlet’' \n.,?ÉéΣ😀_", max_size=12))
        else:
            seg = choice(FILLER)
        joiner = choice(JOINERS) if parts else ""
        if joiner == ". ":
            seg = seg[:1].upper() + seg[1:]
        parts.append(joiner + seg)
    return "".join(parts)


def seeded_texts(grams: Sequence[str], count: int, seed: int = 0, max_segments: int = 16) -> list[str]:
    """Like :func:`gram_texts` but from a seeded ``random.Random``, for measuring recall and precision."""
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        parts: list[str] = []
        for _ in range(rng.randint(1, max_segments)):
            kind = rng.choice(["gram", "gram", "filler", "truncated"])
            if kind == "gram":
                seg = rng.choice(GRAM_HEADS) + disguise(rng.choice(list(grams)), rng.choice) + rng.choice(GRAM_TAILS)
            elif kind == "truncated":
                gram = rng.choice(list(grams))
                seg = disguise(gram[: rng.randint(1, len(gram))], rng.choice)
            else:
                seg = rng.choice(FILLER)
            joiner = rng.choice(JOINERS) if parts else ""
            if joiner == ". ":
                seg = seg[:1].upper() + seg[1:]
            parts.append(joiner + seg)
        texts.append("".join(parts))
    return texts
