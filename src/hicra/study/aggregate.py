"""Aggregation over seeds: per-method intervals, paired differences against the first method, and seed bands of the
learning curves (``metrics.jsonl``) and Fig.-2 dynamics (``hicra analyze``, arXiv 2509.03646 §2.2).

Scores are percentages. Each metric of a method is summarised by the mean over seeds with its Student-t interval
(:func:`hicra.study.stats.t_interval`); each baseline B is compared with the first method A by the seed-level
paired difference A − B (same seed, same held-out problems; sign-flip or bootstrap p-value) and, for held-out
Pass@1, by the problem-level paired bootstrap pooling seeds (:mod:`hicra.study.stats` explains the two views).
Curves are drawn as the mean over seeds with a min–max band.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from hicra.records import read_jsonl
from hicra.study import stats
from hicra.study.config import StudyConfig

# training curves from RUN_DIR/metrics.jsonl: key → panel title
CURVES = {"hicra/accuracy": "Training accuracy", "hicra/reward": "Training reward",
          "hicra/groups_with_variance": "Groups with reward variance", "hicra/length": "Completion length (tokens)",
          "hicra/planning_ratio": "Planning-token ratio", "hicra/entropy_planning": "Token entropy, planning",
          "hicra/entropy_execution": "Token entropy, execution", "hicra/semantic_entropy": "Semantic entropy of SGs"}
# Fig.-2 dynamics from `hicra analyze` rows: column → panel title
DYNAMICS = {"rel_ppl_planning": "Rel. perplexity, planning (§2.2.1)",
            "rel_ppl_execution": "Rel. perplexity, execution (§2.2.1)",
            "entropy_planning": "Token entropy, planning (§2.2.1)", "entropy_execution": "Token entropy, execution",
            "semantic_entropy": "Semantic entropy of SGs (§2.2.2)",
            "conditional_entropy": "H(next words | SG) (§2.2.2)",
            "planning_ratio": "Planning-token ratio", "mean_length": "Mean length (tokens)"}


def run_metrics(result: dict[str, Any], pass_k: Sequence[int]) -> dict[str, float]:
    """The scalar scores of one run: held-out Pass@k and benchmark Pass@1 (with their average)."""
    out = {f"heldout/pass@{k}": float(result["heldout"]["pass@k"][str(k)]) for k in pass_k}
    out.setdefault("heldout/pass@1", float(result["heldout"]["pass@1"]))
    benches = result.get("benchmarks") or {}
    for name, row in benches.items():
        out[f"{name}/pass@1"] = float(row["pass@1"])
    if len(benches) > 1:
        out["benchmarks/avg"] = sum(float(r["pass@1"]) for r in benches.values()) / len(benches)
    return out


def metric_names(results: Sequence[dict[str, Any]], pass_k: Sequence[int]) -> list[str]:
    names: list[str] = []
    for r in results:
        names.extend(k for k in run_metrics(r, pass_k) if k not in names)
    return names


def _by_method_seed(results: Sequence[dict[str, Any]]) -> dict[str, dict[int, dict[str, Any]]]:
    out: dict[str, dict[int, dict[str, Any]]] = {}
    for r in results:
        out.setdefault(r["method"], {})[int(r["seed"])] = r
    return out


def per_problem_matrix(runs: dict[int, dict[str, Any]], seeds: Sequence[int], problems: Sequence[str]) -> np.ndarray:
    """[seeds, problems] held-out accuracies (fraction of correct samples) of one method."""
    return np.array([[runs[s]["heldout"]["per_problem"].get(p, math.nan) for p in problems] for s in seeds])


def summarize(results: Sequence[dict[str, Any]], study: StudyConfig) -> dict[str, Any]:
    """Per-method intervals and paired differences (see module docstring); JSON-ready."""
    grid = _by_method_seed(results)
    names = metric_names(results, study.pass_k)
    methods = [m for m in study.methods if m in grid]
    summary = {}
    for m in methods:
        seeds = sorted(grid[m])
        values = {n: [run_metrics(grid[m][s], study.pass_k).get(n, math.nan) for s in seeds] for n in names}
        summary[m] = {n: {**stats.t_interval(v, study.confidence).as_dict(), "seeds": seeds, "values": v}
                      for n, v in values.items()}
    differences = {}
    a = study.treatment
    for b in [m for m in study.baselines if m in grid and a in grid]:
        seeds = sorted(set(grid[a]) & set(grid[b]))
        entry = {}
        for n in names:
            va = [run_metrics(grid[a][s], study.pass_k).get(n, math.nan) for s in seeds]
            vb = [run_metrics(grid[b][s], study.pass_k).get(n, math.nan) for s in seeds]
            entry[n] = {**stats.paired_difference(va, vb, study.confidence, study.exact_max_seeds, study.bootstrap,
                                                  study.eval_seed).as_dict(), "seeds": seeds}
        problems = sorted(set.intersection(*[set(grid[m][s]["heldout"]["per_problem"]) for m in (a, b)
                                             for s in seeds])) if seeds else []
        if problems:
            boot = stats.problem_bootstrap(100 * per_problem_matrix(grid[a], seeds, problems),
                                           100 * per_problem_matrix(grid[b], seeds, problems), study.confidence,
                                           study.bootstrap, study.eval_seed)
            entry["heldout/pass@1"]["problem_bootstrap"] = boot
        differences[b] = entry
    return {"treatment": a, "baselines": [b for b in study.baselines if b in grid], "methods": methods,
            "confidence": study.confidence, "metrics": names, "summary": summary, "differences": differences}


def _seed_bands(series_by_seed: dict[int, dict[int, float]]) -> dict[str, list[float]]:
    steps = sorted({s for series in series_by_seed.values() for s in series})
    matrix = [[series.get(s, math.nan) for s in steps] for series in series_by_seed.values()]
    mean, low, high = stats.band(matrix) if matrix else ([], [], [])
    return {"step": steps, "mean": list(map(float, mean)), "min": list(map(float, low)), "max": list(map(float, high)),
            "seeds": len(series_by_seed)}


def _value(v: Any) -> float:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else math.nan


def training_curves(results: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """metric → method → {step, mean, min, max, seeds} from every run's ``metrics.jsonl``."""
    out: dict[str, dict[str, Any]] = {}
    for key in CURVES:
        for method, runs in _by_method_seed(results).items():
            series = {}
            for seed, r in runs.items():
                path = Path(r["run_dir"]) / "metrics.jsonl"
                rows = list(read_jsonl(path)) if path.is_file() else []
                series[seed] = {int(row["step"]): _value(row.get(key)) for row in rows if "step" in row}
            out.setdefault(key, {})[method] = _seed_bands(series)
    return out


def dynamics_curves(analyses: dict[str, Any], results: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """column → method → seed band from ``hicra analyze`` rows (``analyses``: run name → RunAnalysis)."""
    out: dict[str, dict[str, Any]] = {}
    for key in DYNAMICS:
        for method, runs in _by_method_seed(results).items():
            series = {seed: {int(row["step"]): _value(row.get(key)) for row in analyses[r["name"]].rows}
                      for seed, r in runs.items() if r["name"] in analyses}
            if series:
                out.setdefault(key, {})[method] = _seed_bands(series)
    return out


def analyze_runs(results: Sequence[dict[str, Any]], out_dir: Path) -> dict[str, Any]:
    """`hicra analyze` of every run (files under ``out_dir/RUN``), with the run's lexicon and tokenizer."""
    from hicra.analysis.options import AnalysisConfig
    from hicra.analysis.pipeline import analyze_run, write_analysis
    from hicra.records import read_run_config

    analyses = {}
    for r in results:
        values = read_run_config(r["run_dir"])
        group = int(values.get("num_generations", 8))
        pass_k = [k for k in (1, 4, 8) if k <= group]
        config = AnalysisConfig(lexicon=str(values.get("lexicon", "paper")), pass_k=pass_k)
        analyses[r["name"]] = analyze_run(r["run_dir"], config)
        write_analysis(analyses[r["name"]], out_dir / r["name"])
    return analyses
