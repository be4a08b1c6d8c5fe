"""Pass@1 estimates and the result files of ``hicra eval``: ``results.json``, ``results.csv``, ``results.md``.

Pass@1 (arXiv 2509.03646, Table 1, §4.1) is the mean over problems of each problem's fraction of correct samples
(n samples at temperature 0.6; the paper uses n = 32 for AIME24/25 and 4 for AMC23), reported in percent. The
± is the standard error of that mean across problems (sample standard deviation of the per-problem accuracies
/ √problems; 0 with a single problem). The "Avg." column is added by hicra (Table 1 has
none): the unweighted mean of the benchmark columns, with the standard error √(Σ se²)/k of a mean of independent
estimates.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from hicra.eval.benchmarks import BENCHMARKS, PAPER_BENCHMARKS, get_benchmark
from hicra.io import DataError, Outputs, read_json

CSV_FIELDS = ("benchmark", "title", "pass@1", "stderr", "samples", "problems", "generations", "no_answer_rate",
              "truncated_rate", "mean_tokens")


@dataclass(frozen=True)
class Score:
    """One benchmark's summary (percentages for ``pass@1`` and ``stderr``)."""

    benchmark: str
    title: str
    pass_at_1: float
    stderr: float
    samples: int
    problems: int
    generations: int
    no_answer_rate: float
    truncated_rate: float
    mean_tokens: float

    def row(self) -> dict[str, Any]:
        d = asdict(self)
        d["pass@1"] = d.pop("pass_at_1")
        return {k: d[k] for k in CSV_FIELDS}


def pass_at_1(correct_by_problem: Mapping[str, Sequence[bool]]) -> tuple[float, float]:
    """Pass@1 in percent and its standard error across problems, from each problem's sample verdicts."""
    accs = [sum(v) / len(v) for v in correct_by_problem.values() if len(v)]
    if not accs:
        return 0.0, 0.0
    mean = sum(accs) / len(accs)
    if len(accs) < 2:
        return 100 * mean, 0.0
    var = sum((a - mean) ** 2 for a in accs) / (len(accs) - 1)
    return 100 * mean, 100 * math.sqrt(var / len(accs))


def score(benchmark: str, graded: Sequence[Mapping[str, Any]], samples: int, title: str | None = None) -> Score:
    """The :class:`Score` of graded records (``problem_id``, ``correct``, ``answer``, ``n_tokens``, ``finished``).

    ``title`` names a problem set that is not a registered benchmark (e.g. held-out training problems).
    """
    by_problem: dict[str, list[bool]] = {}
    for g in graded:
        by_problem.setdefault(str(g["problem_id"]), []).append(bool(g["correct"]))
    mean, se = pass_at_1(by_problem)
    n = max(len(graded), 1)
    return Score(benchmark, title or get_benchmark(benchmark).title, round(mean, 2), round(se, 2), samples, len(by_problem),
                 len(graded), round(sum(g.get("answer") is None for g in graded) / n, 4),
                 round(sum(not g.get("finished", True) for g in graded) / n, 4),
                 round(sum(int(g.get("n_tokens", 0)) for g in graded) / n, 1))


def average(scores: Sequence[Score]) -> tuple[float, float]:
    """Unweighted mean of the benchmarks' Pass@1 and its standard error (independent benchmarks)."""
    if not scores:
        return 0.0, 0.0
    k = len(scores)
    return (round(sum(s.pass_at_1 for s in scores) / k, 2),
            round(math.sqrt(sum(s.stderr ** 2 for s in scores)) / k, 2))


def ordered(names: Sequence[str]) -> list[str]:
    """Benchmark names in Table 1's column order, others after them in the given order."""
    paper = [b for b in PAPER_BENCHMARKS if b in names]
    return paper + [b for b in names if b not in paper]


def _cell(mean: float, se: float) -> str:
    return f"{mean:.1f} ± {se:.1f}"


def markdown_table(rows: Sequence[tuple[str, Mapping[str, Mapping[str, Any]]]], footer: bool = True,
                   delta: bool = False) -> str:
    """Table 1 layout: one row per model (label, {benchmark: result dict}); columns = benchmarks then "Avg.".

    Only benchmarks present in every row are shown. With ``delta`` a last row "Δ (first − second)" is added.
    """
    common = [b for b in ordered(list(rows[0][1])) if all(b in r for _, r in rows)]
    titles = [get_benchmark(b).title for b in common]
    lines = ["| Model | " + " | ".join(titles) + " | Avg. |", "|---" * (len(common) + 2) + "|"]
    means: list[list[tuple[float, float]]] = []
    for label, results in rows:
        cells = [(float(results[b]["pass@1"]), float(results[b]["stderr"])) for b in common]
        k = max(len(cells), 1)
        avg = (sum(m for m, _ in cells) / k, math.sqrt(sum(s ** 2 for _, s in cells)) / k)
        means.append(cells + [avg])
        lines.append(f"| {label} | " + " | ".join(_cell(m, s) for m, s in cells + [avg]) + " |")
    if delta and len(rows) >= 2:
        diffs = [(a[0] - b[0], math.hypot(a[1], b[1])) for a, b in zip(means[0], means[1])]
        lines.append(f"| Δ ({rows[0][0]} − {rows[1][0]}) | "
                     + " | ".join(f"{d:+.1f} ± {s:.1f}" for d, s in diffs) + " |")
    if footer:
        first = rows[0][1]
        lines.append("| samples × problems | " + " | ".join(f"{first[b]['samples']} × {first[b]['problems']}"
                                                           for b in common) + " | |")
    return "\n".join(lines) + "\n"


def write_results(out: Path, model: str, settings: Mapping[str, Any], scores: Sequence[Score],
                  extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Write ``results.json``, ``results.csv`` and ``results.md`` into ``out``; returns the JSON document."""
    scores = sorted(scores, key=lambda s: ordered([x.benchmark for x in scores]).index(s.benchmark))
    mean, se = average(scores)
    doc = {"model": model, "settings": dict(settings), "benchmarks": {s.benchmark: s.row() for s in scores},
           "average": {"pass@1": mean, "stderr": se}, **(extra or {})}
    title = (f"Pass@1 (%) of `{model}`, mean ± standard error over problems (arXiv 2509.03646, Table 1 protocol: "
             f"temperature {settings.get('temperature')}, top-p {settings.get('top_p')}, "
             f"max {settings.get('max_tokens')} new tokens)\n\n")
    with Outputs() as files:  # the three tables together or not at all
        files.write_json(out / "results.json", doc, "results.json", indent=2)
        with files.open(out / "results.csv", "results.csv", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=CSV_FIELDS)
            writer.writeheader()
            for s in scores:
                writer.writerow(s.row())
        files.write_text(out / "results.md", title + markdown_table([(model, doc["benchmarks"])]), "results.md")
    return doc


def load_results(run_dir: str | Path) -> dict[str, Any]:
    """The ``results.json`` of an eval output directory (one-line errors when missing or broken)."""
    path = Path(run_dir) / "results.json"
    if not path.is_file():
        raise ValueError(f"{path}: no such file (run `hicra eval --output {run_dir}` first)")
    doc = read_json(path)
    if not isinstance(doc.get("benchmarks"), dict):
        raise DataError(f"{path}: not a results file of hicra eval (no 'benchmarks' mapping)")
    for name, row in doc["benchmarks"].items():
        if name not in BENCHMARKS:
            raise DataError(f"{path}: benchmarks: unknown benchmark {name!r}")
        for key in ("pass@1", "stderr", "samples", "problems"):
            value = row.get(key) if isinstance(row, dict) else None
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise DataError(f"{path}: benchmarks.{name}: field {key!r} must be a non-negative number, got "
                                f"{json.dumps(value)}")
    return doc


def compare(dir_a: str | Path, dir_b: str | Path, labels: Sequence[str] | None = None) -> str:
    """Markdown table of two runs and their Δ row (A − B), e.g. HICRA − GRPO, on their common benchmarks."""
    a, b = load_results(dir_a), load_results(dir_b)
    if labels is None:
        labels = [str(a.get("model")), str(b.get("model"))]
        if labels[0] == labels[1]:
            labels = [Path(dir_a).name, Path(dir_b).name]
    common = set(a["benchmarks"]) & set(b["benchmarks"])
    if not common:
        raise ValueError(f"{dir_a} and {dir_b} share no benchmark")
    for run_dir, doc in ((dir_a, a), (dir_b, b)):
        for name in sorted(common):
            _check_score(Path(run_dir) / "results.json", name, doc["benchmarks"][name])
    labels = [str(label).replace("|", "\\|") for label in labels]  # a label is one Markdown table cell
    return markdown_table([(labels[0], a["benchmarks"]), (labels[1], b["benchmarks"])], footer=False, delta=True)


def _check_score(path: Path, benchmark: str, row: Any) -> None:
    """A compared benchmark row has a finite pass@1 in [0, 100] and a finite stderr >= 0 (so no Δ is NaN)."""
    for key, high in (("pass@1", 100.0), ("stderr", math.inf)):
        value = row.get(key) if isinstance(row, dict) else None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= high \
                or not math.isfinite(value):
            raise ValueError(f"{path}: benchmarks.{benchmark}.{key} is {json.dumps(value)}, not a number in "
                             f"[0, {high:g}]")
