"""The files of a study: ``study.json``, ``study.csv``, ``runs.csv``, ``curves.csv``, ``contrasts.csv``,
``paired.csv``, ``phases.csv``, ``study.md`` (Table-1 layout, mean ± interval half-width over seeds, Δ rows with
p-values, then the contrasts and phases of :mod:`hicra.study.sections`) and ``report/index.html`` (built with
:mod:`hicra.analysis.report`'s page helpers and :func:`hicra.analysis.plots.band_overlay`: seed bands, not one line
per run; ``report/runs/RUN/`` holds each run's ``hicra analyze`` files).
"""

from __future__ import annotations

import html
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from hicra import io
from hicra.analysis.pipeline import write_csv, write_json
from hicra.study import sections
from hicra.study.aggregate import CURVES, DYNAMICS, run_metrics
from hicra.study.config import StudyConfig


def metric_title(name: str) -> str:
    """Column header of a metric: held-out Pass@k, a benchmark's Table-1 title, or the average."""
    from hicra.eval.benchmarks import get_benchmark

    set_name, _, what = name.partition("/")
    if set_name == "heldout":
        return f"Held-out {what.replace('pass', 'Pass')}"
    if set_name == "benchmarks":
        return "Avg."
    return get_benchmark(set_name).title


def _pm(mean: float, half: float, digits: int = 1, signed: bool = False) -> str:
    if mean != mean:
        return "–"
    value = f"{mean:+.{digits}f}" if signed else f"{mean:.{digits}f}"
    return value if half != half else f"{value} ± {half:.{digits}f}"


def _p(p: float) -> str:
    return "–" if p != p else f"{p:.3f}"


def table_rows(agg: dict[str, Any]) -> list[list[str]]:
    """Header, one row per method, one Δ row per baseline (cells as text)."""
    names = agg["metrics"]
    rows = [["Method", *[metric_title(n) for n in names]]]
    for m in agg["methods"]:
        rows.append([m, *[_pm(agg["summary"][m][n]["mean"], agg["summary"][m][n]["half_width"]) for n in names]])
    for b, diff in agg["differences"].items():
        rows.append([f"Δ ({agg['treatment']} − {b})",
                     *[f"{_pm(diff[n]['mean'], diff[n]['half_width'], signed=True)} (p = {_p(diff[n]['p_value'])})"
                       for n in names]])
    return rows


def markdown(agg: dict[str, Any], study: StudyConfig, seeds: Sequence[int]) -> str:
    """``study.md``: the Table-1-style comparison and how to read it."""
    rows = table_rows(agg)
    lines = ["| " + " | ".join(rows[0]) + " |", "|---" * len(rows[0]) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    level = f"{100 * agg['confidence']:.0f}%"
    notes = [f"Scores in percent; mean over {len(seeds)} seed{'s' * (len(seeds) != 1)} ({', '.join(map(str, seeds))}) "
             "± half-width of the "
             f"{level} Student-t interval over seeds. Held-out: {study.heldout_samples} samples on each held-out "
             "problem of the training distribution, graded by the training reward's scorer.",
             f"Δ rows: paired by seed (same seed, same problems), mean ± {level} t-interval of the per-seed "
             "differences; p: two-sided exact sign-flip permutation test over seeds (bootstrap beyond "
             f"{study.exact_max_seeds} seeds)."]
    for b, diff in agg["differences"].items():
        boot = diff.get("heldout/pass@1", {}).get("problem_bootstrap")
        if boot:
            notes.append(f"Problem-level paired bootstrap of held-out Pass@1, {agg['treatment']} − {b} (pooling seeds, "
                         f"{study.bootstrap} resamples of {boot['problems']} problems; uncertainty of the finite "
                         f"held-out set, not of training): {boot['mean']:+.1f} [{boot['low']:+.1f}, "
                         f"{boot['high']:+.1f}], p = {_p(boot['p_value'])}.")
    return "\n".join(lines) + "\n\n" + "\n\n".join(notes) + "\n"


def csv_rows(agg: dict[str, Any]) -> list[dict[str, Any]]:
    """``study.csv``: one row per method and metric, then one per Δ and metric (both views)."""
    out = []
    for m in agg["methods"]:
        for n in agg["metrics"]:
            s = agg["summary"][m][n]
            out.append({"row": m, "kind": "method", "metric": n, "mean": s["mean"], "low": s["low"],
                        "high": s["high"], "half_width": s["half_width"], "n_seeds": s["n"],
                        "values": ";".join(f"{v:.4g}" for v in s["values"])})
    for b, diff in agg["differences"].items():
        for n in agg["metrics"]:
            d = diff[n]
            out.append({"row": f"{agg['treatment']} - {b}", "kind": "paired difference (seeds)", "metric": n,
                        "mean": d["mean"], "low": d["low"], "high": d["high"], "half_width": d["half_width"],
                        "n_seeds": d["n"], "p_value": d["p_value"], "test": d["test"],
                        "values": ";".join(f"{v:.4g}" for v in d["diffs"])})
            boot = d.get("problem_bootstrap")
            if boot:
                out.append({"row": f"{agg['treatment']} - {b}", "kind": "paired bootstrap (problems)", "metric": n,
                            "mean": boot["mean"], "low": boot["low"], "high": boot["high"],
                            "half_width": (boot["high"] - boot["low"]) / 2, "n_seeds": boot["seeds"],
                            "p_value": boot["p_value"], "test": f"bootstrap over {boot['problems']} problems"})
    return out


def curve_rows(curves: dict[str, dict[str, Any]], source: str) -> list[dict[str, Any]]:
    return [{"source": source, "metric": key, "method": method, "step": step, "mean": c["mean"][i],
             "min": c["min"][i], "max": c["max"][i], "seeds": c["seeds"]}
            for key, by_method in curves.items() for method, c in by_method.items()
            for i, step in enumerate(c["step"])]


def _panels(curves: dict[str, dict[str, Any]], titles: dict[str, str]) -> list:
    return [(titles[k], [(f"{m} ({c['seeds']} seeds)", c) for m, c in curves[k].items()]) for k in titles
            if k in curves and any(v == v for c in curves[k].values() for v in c["mean"])]


def html_page(agg: dict[str, Any], results: Sequence[dict[str, Any]], study: StudyConfig, seeds: Sequence[int],
              curves: dict[str, Any], dynamics: dict[str, Any], out: Path, command: str, extra: str = "",
              pairs: dict[str, dict[str, Any]] | None = None) -> Path:
    """``out/index.html`` (figures also under ``out/figures/``)."""
    from hicra.analysis import plots
    from hicra.analysis.report import PAGE_STYLE, html_table, img_tag

    (out / "figures").mkdir(parents=True, exist_ok=True)

    def figure(name: str, png: bytes, caption: str) -> str:
        io.write_bytes(out / "figures" / f"{name}.png", png)
        return f"<figure>{img_tag(png, caption)}<figcaption>{html.escape(caption)}</figcaption></figure>"

    rows = table_rows(agg)
    table = [dict(zip(rows[0], r)) for r in rows[1:]]
    per_run = [{"run": r["name"], "method": r["method"], "seed": r["seed"], "steps": r["done"]["steps"],
                **{metric_title(k): v for k, v in run_metrics(r, study.pass_k).items()}} for r in results]
    a = agg["treatment"]
    title = f"hicra study: {' vs '.join(agg['methods'])}"
    parts = [f"<h1>{html.escape(title)}</h1>",
             f"<p class='meta'>Generated {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC} · arXiv 2509.03646 · "
             f"{len(results)} runs ({len(agg['methods'])} methods × {len(seeds)} seeds) · numbers: "
             f"<code>study.json</code>, <code>study.csv</code>, <code>runs.csv</code>, <code>curves.csv</code></p>",
             f"<p class='meta'><code>{html.escape(command)}</code></p>",
             f"<h2>Does {html.escape(a)} beat {html.escape(', '.join(agg['baselines']) or 'the baselines')}?</h2>",
             html_table(table, rows[0]),
             "<p>" + "</p><p>".join(html.escape(n) for n in markdown(agg, study, seeds).split("\n\n")[1:]) + "</p>",
             extra, "<h2>Runs</h2>", html_table(per_run, list(per_run[0]) if per_run else [])]
    if pairs:
        panels = [(title, [(label, c) for label, c in bands.items()]) for title, bands in pairs.items()]
        parts += ["<h2>Planning vs execution</h2>", figure("planning_vs_execution", plots.band_overlay(panels),
                  "Per-step metrics.jsonl curves side by side (perplexity = exp of the mean token NLL): mean over "
                  "seeds, shaded min–max over seeds.")]
    panels = _panels(curves, CURVES)
    if panels:
        parts += ["<h2>Training curves</h2>", figure("training_curves", plots.band_overlay(panels),
                  "Per-step training metrics (metrics.jsonl): mean over seeds, shaded min–max over seeds.")]
    panels = _panels(dynamics, DYNAMICS)
    if panels:
        parts += ["<h2>Learning dynamics (Figure 2)</h2>", figure("dynamics", plots.band_overlay(panels),
                  "hicra analyze of every run's rollouts by token class: mean over seeds, shaded min–max over "
                  "seeds. Per-run files: runs/RUN/metrics.csv.")]
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{PAGE_STYLE}</style></head><body>{''.join(parts)}</body></html>")
    index = out / "index.html"
    io.write_text(index, page)
    return index


def write_study(out: Path, agg: dict[str, Any], results: Sequence[dict[str, Any]], study: StudyConfig,
                curves: dict[str, Any], dynamics: dict[str, Any], command: str, analysis: dict[str, Any],
                ph: dict[str, Any], pairs: dict[str, dict[str, Any]]) -> list[Path]:
    """Write every file of the study directory listed in the module docstring; their paths (``analysis``,
    ``ph``, ``pairs``: :func:`hicra.study.aggregate.contrasts`, ``phases`` and ``paired_curves``)."""
    level = f"{100 * study.confidence:.0f}%"
    seeds = sorted({int(r["seed"]) for r in results})
    runs = [{"run": r["name"], "method": r["method"], "seed": r["seed"], "metric": k, "value": v}
            for r in results for k, v in run_metrics(r, study.pass_k).items()]
    light = [{k: v for k, v in r.items() if k != "heldout"} | {"heldout": {k: v for k, v in r["heldout"].items()
                                                                         if k != "per_problem"}} for r in results]
    files = [write_json(out / "study.json", {"command": command, **agg, "runs": light, "training_curves": curves,
                                             "dynamics": dynamics, "contrasts": analysis, "phases": ph,
                                             "planning_vs_execution": pairs}),
             write_csv(out / "study.csv", csv_rows(agg), ("row", "kind", "metric", "mean", "low", "high",
                                                          "half_width", "n_seeds", "p_value", "test", "values")),
             write_csv(out / "runs.csv", runs, ("run", "method", "seed", "metric", "value")),
             write_csv(out / "curves.csv", curve_rows(curves, "metrics.jsonl") + curve_rows(dynamics, "analyze")),
             *[write_csv(out / name, rows) for name, rows in sections.csv_tables(analysis, ph).items()]]
    io.write_text(out / "study.md", markdown(agg, study, seeds) + "\n" + sections.markdown(analysis, ph, level))
    files.append(out / "study.md")
    files.append(html_page(agg, results, study, seeds, curves, dynamics, out / "report", command,
                           sections.html_sections(analysis, ph, level), pairs))
    return files
