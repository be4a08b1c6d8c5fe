"""Stage f — human review of a mined lexicon (arXiv 2509.03646, Appendix A: a human study of the mined SGs).

``export_review`` writes a CSV, one row per gram: ``gram, cluster, cluster_df, df, llm_label, human_label,
examples`` (``examples``: up to k contexts from the corpus, the gram in [brackets], joined by `` || ``). Reviewers
fill ``human_label`` with strategic/procedural (also accepted: s/p, accept/reject, yes/no, y/n, 1/0, true/false;
blank = not reviewed). A cell that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return) is written with a leading ``'``, as is a cell already starting with ``'``; the import removes
exactly that one quote, so every cell reads back as written.

``import_review`` reads the edited CSV back, stores ``human_label`` in the grams' metadata, optionally drops the
grams reviewers rejected, and reports the *accept rate* (share of reviewed grams labelled strategic) and LLM–human
agreement (raw agreement and Cohen's κ, :func:`sklearn.metrics.cohen_kappa_score`) over grams with both labels.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from hicra.io import DataError, Outputs, read_csv
from hicra.lexicon import Lexicon, make_lexicon, normalize_gram
from hicra.mining.config import MiningError

COLUMNS = ("gram", "cluster", "cluster_df", "df", "llm_label", "human_label", "examples")
EXAMPLE_SEPARATOR = " || "
_YES = {"strategic", "s", "accept", "accepted", "yes", "y", "1", "true"}
_NO = {"procedural", "p", "reject", "rejected", "no", "n", "0", "false"}
_SPACES = re.compile(r"\s+")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")


def escape_cell(value: Any) -> Any:
    """A CSV cell no spreadsheet runs as a formula: text starting with ``= + - @``, tab, CR or ``'`` gets a ``'``."""
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def unescape_cell(value: str) -> str:
    """The text :func:`escape_cell` was given."""
    return value[1:] if value.startswith("'") and value[1:].startswith(_FORMULA_START) else value


class ReviewError(MiningError):
    """A review CSV that cannot be imported; the message names file, line and column."""


def example_contexts(lexicon: Lexicon, texts: list[str], k: int = 3, width: int = 60,
                     progress: bool = True) -> dict[str, list[str]]:
    """Up to ``k`` contexts per gram (first occurrences in the first texts containing it), one per text."""
    from hicra.tagging.matcher import GramMatcher

    out: dict[str, list[str]] = {g: [] for g in lexicon.grams}
    if k <= 0 or not lexicon.grams:
        return out
    matcher = GramMatcher(lexicon)
    missing = set(lexicon.grams)
    for text in tqdm(texts, desc="f. contexts", unit="doc", delay=1.0, disable=not progress):
        seen: set[str] = set()
        for occ in matcher.find(text):
            if occ.gram in missing and occ.gram not in seen:
                seen.add(occ.gram)
                ctx = (text[max(0, occ.start - width):occ.start] + "[" + text[occ.start:occ.end] + "]" +
                       text[occ.end:occ.end + width])
                out[occ.gram].append(_SPACES.sub(" ", ctx).strip())
                if len(out[occ.gram]) >= k:
                    missing.discard(occ.gram)
        if not missing:
            break
    return out


def refuse_existing_review(path: str | Path, flag: str) -> None:
    """A review CSV is never overwritten: it may hold reviewers' labels that were not imported yet."""
    if Path(path).exists():
        raise ReviewError(f"{flag} {path} exists and may hold reviewers' labels; it is never overwritten (remove "
                          "it or choose another path)")


def export_review(lexicon: Lexicon, path: str | Path, texts: list[str] | None = None, k: int = 3,
                  progress: bool = True, out: Outputs | None = None) -> Path:
    """Write the review CSV for ``lexicon`` (contexts from ``texts`` when given), as part of the command's outputs
    ``out`` or atomically alone."""
    path = Path(path)
    refuse_existing_review(path, "--output")
    if out is None:
        with Outputs() as alone:
            return export_review(lexicon, path, texts, k, progress, alone)
    contexts = example_contexts(lexicon, texts or [], k, progress=progress)
    with out.open(path, "--output", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for gram in lexicon.grams:
            meta = lexicon.metadata.get(gram, {})
            writer.writerow([escape_cell(c) for c in (
                gram, meta.get("cluster", ""), meta.get("cluster_df", ""), meta.get("df", ""),
                meta.get("llm_label", ""), meta.get("human_label", ""), EXAMPLE_SEPARATOR.join(contexts.get(gram, [])))])
    return path


def parse_label(value: str, where: str) -> str | None:
    """A human label cell → strategic | procedural | None (blank)."""
    v = value.strip().lower()
    if not v:
        return None
    if v in _YES:
        return "strategic"
    if v in _NO:
        return "procedural"
    raise ReviewError(f"{where}: human_label {value!r} is not strategic/procedural (or s/p, accept/reject, y/n)")


@dataclass
class ReviewReport:
    """Outcome of a review: counts, accept rate and LLM–human agreement."""

    grams: int
    reviewed: int
    accepted: int
    both_labelled: int
    agreement: float | None
    kappa: float | None
    dropped: int

    @property
    def accept_rate(self) -> float | None:
        return self.accepted / self.reviewed if self.reviewed else None

    def rows(self) -> list[tuple[str, str]]:
        def pct(x: float | None) -> str:
            return "n/a" if x is None else f"{x:.1%}"

        return [("grams", str(self.grams)), ("reviewed", str(self.reviewed)),
                ("accepted (strategic)", f"{self.accepted} ({pct(self.accept_rate)})"),
                ("with LLM and human label", str(self.both_labelled)),
                ("LLM–human agreement", pct(self.agreement)),
                ("Cohen's κ", "n/a" if self.kappa is None else f"{self.kappa:.3f}"),
                ("dropped (rejected)", str(self.dropped))]


def _read_labels(path: Path, lexicon: Lexicon) -> dict[str, dict[str, Any]]:
    """The labels of a review CSV by gram; a gram listed twice is an error (which label would count?)."""
    try:
        _, table = read_csv(path, required=("gram", "human_label"))
    except DataError as e:
        raise ReviewError(str(e)) from None
    rows: dict[str, dict[str, Any]] = {}
    first: dict[str, int] = {}
    known = set(lexicon.grams)
    for lineno, row in table:
        where = f"{path}:{lineno}"
        row = {k: unescape_cell(v) if isinstance(v, str) else v for k, v in row.items()}
        gram = normalize_gram(row["gram"])
        if gram not in known:
            raise ReviewError(f"{where}: gram {row['gram']!r} is not in lexicon {lexicon.name!r}")
        if gram in first:
            raise ReviewError(f"{where}: gram {row['gram']!r} is listed twice (also on line {first[gram]})")
        first[gram] = lineno
        llm = (row.get("llm_label") or "").strip().lower() or None
        rows[gram] = {"human": parse_label(row["human_label"], where),
                      "llm": llm if llm in ("strategic", "procedural") else None}
    return rows


def import_review(lexicon: Lexicon, path: str | Path, drop_rejected: bool = True) -> tuple[Lexicon, ReviewReport]:
    """Apply the human labels of a review CSV to ``lexicon``; see the module docstring."""
    path = Path(path)
    rows = _read_labels(path, lexicon)
    metadata = {g: dict(lexicon.metadata.get(g, {})) for g in lexicon.grams}
    pairs: list[tuple[str, str]] = []
    for gram, row in rows.items():
        if row["human"] is not None:
            metadata[gram]["human_label"] = row["human"]
            llm = metadata[gram].get("llm_label") or row["llm"]
            if llm in ("strategic", "procedural"):
                pairs.append((llm, row["human"]))
    human = [m.get("human_label") for m in metadata.values() if m.get("human_label")]
    keep = [g for g in lexicon.grams if not (drop_rejected and metadata[g].get("human_label") == "procedural")]
    if not keep:
        raise ReviewError(f"{path}: reviewers rejected every gram; nothing left to save")
    agreement = kappa = None
    if pairs:
        agreement = sum(a == b for a, b in pairs) / len(pairs)
        if len({lab for pair in pairs for lab in pair}) > 1:
            from sklearn.metrics import cohen_kappa_score

            kappa = float(cohen_kappa_score([a for a, _ in pairs], [b for _, b in pairs]))
    report = ReviewReport(grams=len(lexicon), reviewed=len(human), accepted=sum(h == "strategic" for h in human),
                          both_labelled=len(pairs), agreement=agreement, kappa=kappa,
                          dropped=len(lexicon) - len(keep))
    reviewed = make_lexicon(lexicon.name, keep, {g: metadata[g] for g in keep if metadata[g]},
                            source=f"{lexicon.source}; human review {path.name}".lstrip("; "))
    return reviewed, report
