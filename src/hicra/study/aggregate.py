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


def primary_values(results: Sequence[dict[str, Any]], study: StudyConfig) -> dict[str, dict[int, float]]:
    """method → seed → the primary metric (``--primary-metric``, checked by :class:`StudyConfig`)."""
    return {m: {s: run_metrics(r, study.pass_k).get(study.primary_metric, math.nan) for s, r in runs.items()}
            for m, runs in _by_method_seed(results).items()}


def contrasts(results: Sequence[dict[str, Any]], study: StudyConfig) -> dict[str, Any]:
    """Every contrast A − B of the primary metric: per-seed paired table, difference test, TOST against
    ``--margin``, both p-values Holm-adjusted over the contrasts, and the verdict at ``--alpha``."""
    values = primary_values(results, study)
    rows = []
    for a, b in study.contrast_pairs:
        if a not in values or b not in values:
            continue
        seeds = sorted(set(values[a]) & set(values[b]))
        va, vb = [values[a][s] for s in seeds], [values[b][s] for s in seeds]
        diff = stats.paired_difference(va, vb, study.confidence, study.exact_max_seeds, study.bootstrap,
                                       study.eval_seed)
        eq = stats.tost(diff.diffs, study.margin, study.alpha).as_dict() if study.margin > 0 else None
        rows.append({"a": a, "b": b, "difference": diff.as_dict(), "equivalence": eq,
                     "table": [{"seed": s, "a": x, "b": y, "delta": x - y} for s, x, y in zip(seeds, va, vb)]})
    p_diff = stats.holm([r["difference"]["p_value"] for r in rows])
    p_eq = stats.holm([r["equivalence"]["p_value"] if r["equivalence"] else math.nan for r in rows])
    for r, pd, pe in zip(rows, p_diff, p_eq):
        r["p_difference_holm"], r["p_equivalence_holm"] = pd, pe
        r["verdict"] = stats.verdict(r["difference"]["mean"], pd, pe, study.alpha)
    return {"metric": study.primary_metric, "margin": study.margin, "alpha": study.alpha, "contrasts": rows}


def metric_series(results: Sequence[dict[str, Any]], keys: Sequence[str]) -> dict[str, dict[str, dict[int, float]]]:
    """run name → key → step → value of ``keys`` in every run's ``metrics.jsonl`` (a key a row lacks: nan)."""
    out = {}
    for r in results:
        path = Path(r["run_dir"]) / "metrics.jsonl"
        rows = [row for row in read_jsonl(path) if "step" in row] if path.is_file() else []
        out[r["name"]] = {k: {int(row["step"]): _value(row.get(k)) for row in rows} for k in keys}
    return out


def _logged(series: dict[int, float]) -> bool:
    return any(v == v for v in series.values())


def phases(results: Sequence[dict[str, Any]], study: StudyConfig) -> dict[str, Any]:
    """Per method, the half-gain steps of the two ``--phase-curves`` per seed and their paired test (H4: the first
    curve, execution accuracy, reaches half its gain before the second, strategy accuracy); ``note`` instead when
    no run logs both keys."""
    first, second = study.phase_curves
    series = metric_series(results, study.phase_curves)
    settings = {"first": first, "second": second, "k": study.phase_k, "window": study.phase_window}
    if not any(_logged(s[first]) and _logged(s[second]) for s in series.values()):
        return {**settings, "methods": {}, "note": f"no run logs both {first} and {second} in metrics.jsonl: "
                                                  "phase analysis skipped"}
    out = {}
    for method, runs in _by_method_seed(results).items():
        halves = [{seed: stats.half_gain_step(list(series[r["name"]][key]), list(series[r["name"]][key].values()),
                                              study.phase_k, study.phase_window) for seed, r in runs.items()}
                  for key in (first, second)]
        out[method] = stats.phase_difference(*halves, study.confidence, study.exact_max_seeds, study.bootstrap,
                                             study.eval_seed)
    return {**settings, "methods": out, "note": ""}


PERPLEXITY = ("hicra/nll_planning", "hicra/nll_execution")


def paired_curves(results: Sequence[dict[str, Any]], study: StudyConfig) -> dict[str, dict[str, Any]]:
    """Panel → curve label → seed band: per method the two ``--phase-curves`` (execution vs strategy accuracy),
    planning vs execution perplexity (exp of the per-token NLL, paper §2.2.1) and the semantic entropy of SGs
    (§2.2.2) across methods. Keys that no run logs are left out."""
    first, second = study.phase_curves
    keys = [first, second, *PERPLEXITY, "hicra/semantic_entropy"]
    series = metric_series(results, keys)
    grid = _by_method_seed(results)

    def bands(method: str, key: str, exp: bool = False) -> dict[str, Any]:
        runs = grid[method]
        return _seed_bands({s: {t: math.exp(v) if exp else v for t, v in series[r["name"]][key].items()}
                            for s, r in runs.items()})

    panels: dict[str, dict[str, Any]] = {}
    for method in grid:
        logged = {k: any(_logged(series[r["name"]][k]) for r in grid[method].values()) for k in keys}
        if logged[first] or logged[second]:
            panels[f"{method}: {first.rsplit('/', 1)[-1]} vs {second.rsplit('/', 1)[-1]}"] = {
                k.rsplit("/", 1)[-1]: bands(method, k) for k in (first, second) if logged[k]}
        if logged[PERPLEXITY[0]] or logged[PERPLEXITY[1]]:
            panels[f"{method}: perplexity, planning vs execution"] = {
                k.rsplit("_", 1)[-1]: bands(method, k, exp=True) for k in PERPLEXITY if logged[k]}
    entropy = {m: bands(m, "hicra/semantic_entropy") for m in grid
               if any(_logged(series[r["name"]]["hicra/semantic_entropy"]) for r in grid[m].values())}
    if entropy:
        panels["Semantic entropy of SGs"] = entropy
    return panels


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
    series = metric_series(results, list(CURVES))
    return {key: {method: _seed_bands({seed: series[r["name"]][key] for seed, r in runs.items()})
                  for method, runs in _by_method_seed(results).items()} for key in CURVES}


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
