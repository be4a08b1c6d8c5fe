"""Strategic-Gram lexicons (arXiv 2509.03646, §2.1 and Appendix A).

A lexicon is a list of Strategic Grams (SGs): short phrases that steer reasoning. Two file formats load:

* **JSON** (``*.json``), schema version 1::

      {"format": "hicra-lexicon", "version": 1, "name": "paper", "source": "...",
       "grams": ["but wait", {"gram": "let's try", "cluster": 3, "df": 0.12, "label": "strategic", ...}]}

  ``grams`` is required; each item is a string or an object with a ``gram`` string and any metadata.
  ``format``/``version`` may be absent (plain ``{"grams": [...]}``, as the paper's list); if present they must match.
* **Text** (any other suffix): one gram per line; blank lines and lines starting with ``#`` are ignored.

Every gram must contain a letter or digit (:func:`gram_problem`); a bad gram is an error naming the file and its line
(text) or index (``grams[i]``, JSON). Grams are normalised (:func:`normalize_gram`): lower case (character by
character, as the tagger compares text), ’ → ', whitespace runs → one space, stripped.
The built-in lexicon ``paper`` is the paper's Appendix A list.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from hicra.io import DataError, Outputs, parse_json, read_text, write_json

LEXICON_FORMAT = "hicra-lexicon"
LEXICON_VERSION = 1
BUILTIN_LEXICONS = ("paper",)
APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
_WHITESPACE = re.compile(r"\s+")
_WORD_CHAR = re.compile(r"[^\W_]")


class LexiconError(DataError):
    """A lexicon file that cannot be used; the message names the file and the problem."""


def fold_case(text: str) -> str:
    """Lower-case ``text`` character by character, keeping its length: a character whose lower case is longer (such
    as "İ") stays as it is, and Σ always becomes σ (``str.lower`` picks ς by context)."""
    low = text.lower()
    if len(low) == len(text) and "\u03a3" not in text:
        return low
    return "".join(low1 if len(low1 := c.lower()) == 1 else c for c in text)


def normalize_gram(gram: str) -> str:
    """Canonical form of a gram: lower case (:func:`fold_case`), ’ → ', whitespace runs → one space, stripped."""
    return _WHITESPACE.sub(" ", fold_case(gram.translate(APOSTROPHES))).strip()


@dataclass(frozen=True)
class Lexicon:
    """A named, ordered, de-duplicated set of Strategic Grams with optional per-gram metadata."""

    name: str
    grams: tuple[str, ...]
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: str = ""

    def __len__(self) -> int:
        return len(self.grams)

    def to_json(self) -> dict[str, Any]:
        """The versioned JSON document for this lexicon (see module docstring)."""
        grams = [{"gram": g, **self.metadata[g]} if self.metadata.get(g) else g for g in self.grams]
        return {"format": LEXICON_FORMAT, "version": LEXICON_VERSION, "name": self.name, "source": self.source,
                "grams": grams}

    def save(self, path: str | Path, out: Outputs | None = None, name: str = "--output") -> Path:
        """Write the lexicon JSON to ``path``: as part of the command's outputs ``out``, or atomically alone."""
        if out is not None:
            return out.write_json(path, self.to_json(), name)
        return write_json(path, self.to_json(), name=name)


def make_lexicon(name: str, grams: list[str], metadata: dict[str, dict[str, Any]] | None = None,
                 source: str = "") -> Lexicon:
    """Normalise and de-duplicate ``grams`` (first occurrence wins) into a :class:`Lexicon`."""
    seen: dict[str, None] = {}
    meta: dict[str, dict[str, Any]] = {}
    for raw in grams:
        g = normalize_gram(raw)
        if g and g not in seen:
            seen[g] = None
            if metadata and metadata.get(raw):
                meta[g] = dict(metadata[raw])
    return Lexicon(name=name, grams=tuple(seen), metadata=meta, source=source)


def gram_problem(gram: str) -> str:
    """Why ``gram`` cannot be a Strategic Gram ("" if it can): it must contain a word character, since a gram of
    punctuation alone (".", "--") would tag every such mark as a planning token."""
    norm = normalize_gram(gram)
    if not norm:
        return "empty gram"
    if not _WORD_CHAR.search(norm):
        return f"gram {gram!r} has no letter or digit (a gram must contain a word)"
    return ""


def _fail(path: Path, problem: str) -> LexiconError:
    return LexiconError(f"{path}: {problem}")


def _parse_json(path: Path, text: str) -> Lexicon:
    try:
        doc = parse_json(text, path)
    except DataError as e:
        raise LexiconError(str(e)) from None
    if not isinstance(doc, dict) or "grams" not in doc:
        raise _fail(path, "expected a JSON object with a 'grams' list")
    if doc.get("format", LEXICON_FORMAT) != LEXICON_FORMAT:
        raise _fail(path, f"field 'format' is {doc['format']!r}, expected {LEXICON_FORMAT!r}")
    version = doc.get("version", LEXICON_VERSION)
    if type(version) is not int or version != LEXICON_VERSION:  # true == 1 in Python: compare the type too
        raise _fail(path, f"field 'version' is {json.dumps(version)}; this hicra reads version {LEXICON_VERSION}")
    for key in ("name", "source"):
        if not isinstance(doc.get(key, ""), str):
            raise _fail(path, f"field {key!r} must be a string, got {json.dumps(doc[key])}")
    items = doc["grams"]
    if not isinstance(items, list):
        raise _fail(path, "field 'grams' must be a list")
    grams: list[str] = []
    metadata: dict[str, dict[str, Any]] = {}
    for i, item in enumerate(items):
        if isinstance(item, dict):
            gram = item.get("gram")
            if not isinstance(gram, str):
                raise _fail(path, f"grams[{i}]: object without a 'gram' string")
            metadata[gram] = {k: v for k, v in item.items() if k != "gram"}
        elif isinstance(item, str):
            gram = item
        else:
            raise _fail(path, f"grams[{i}]: expected a string or an object, got {type(item).__name__}")
        problem = gram_problem(gram)
        if problem:
            raise _fail(path, f"grams[{i}]: {problem}")
        grams.append(gram)
    return make_lexicon(str(doc.get("name", path.stem)), grams, metadata, str(doc.get("source", path)))


def _parse_text(path: Path, text: str) -> Lexicon:
    grams = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        problem = gram_problem(line)
        if problem:
            raise LexiconError(f"{path}:{lineno}: {problem}")
        grams.append(line)
    return make_lexicon(path.stem, grams, source=str(path))


def load_lexicon(name_or_path: str | Path) -> Lexicon:
    """Load a built-in lexicon by name (``paper``) or a lexicon file (JSON or text; see module docstring)."""
    if str(name_or_path) in BUILTIN_LEXICONS:
        ref = resources.files("hicra") / "data" / "lexicons" / f"{name_or_path}.json"
        lex = _parse_json(Path(str(ref)), ref.read_text(encoding="utf-8"))
        return Lexicon(name=str(name_or_path), grams=lex.grams, metadata=lex.metadata, source=lex.source)
    path = Path(name_or_path)
    if not path.is_file():
        raise LexiconError(f"{path}: no such lexicon file (built-in lexicons: {', '.join(BUILTIN_LEXICONS)})")
    try:
        text = read_text(path)
    except DataError as e:
        raise LexiconError(str(e)) from None
    lex = _parse_json(path, text) if path.suffix.lower() == ".json" else _parse_text(path, text)
    if not lex.grams:
        raise _fail(path, "the lexicon has no grams")
    return lex
