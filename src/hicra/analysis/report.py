"""``hicra report``: one self-contained HTML page comparing runs, plus CSV/JSON of every number it shows.

Layout of ``DIR``::

    index.html             the page: figures embedded as base64 PNG, CSS inline, no external resources
    report.json            every run's metrics, ablation band, error types, fork summary and notes
    fork_tokens.csv        per run: overlap of planning and fork tokens with chance levels (§4.5)
    error_types.csv        per run and step: judged error groups (§4.3.1), when any run was judged
    figures/*.png          the figures of the page
    runs/<run>/...         the files of ``hicra analyze`` for each run (metrics.csv, sg_counts.csv, ...)

A run is labelled by its method (``RUN_DIR/config.yaml`` field ``method``, else the directory name); runs sharing a
method are told apart by their directory names.
"""

from __future__ import annotations

import base64
import html
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from hicra.analysis import plots
from hicra.analysis.dynamics import COLUMNS
from hicra.analysis.pipeline import RunAnalysis, write_analysis, write_csv, write_json
from hicra.io import Outputs
from hicra.tagging.html import STYLE as TRACE_STYLE
from hicra.tagging.html import render_trace

PAGE_STYLE = """body{max-width:min(76em,94vw);padding:0 1em}h2{border-bottom:2px solid #eee;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;font-size:13px;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .6em;
text-align:left}th{background:#f5f5f5}img{max-width:100%;display:block;margin:.5em 0}.note{color:#a04000}
.meta{color:#666;font-size:12px}figure{margin:1em 0}figcaption{color:#555;font-size:13px}
.scroll{overflow-x:auto}"""


def run_labels(results: Sequence[RunAnalysis]) -> list[str]:
    """Method names, disambiguated by run name when several runs share a method."""
    methods = [r.info.method for r in results]
    return [m if methods.count(m) == 1 else f"{m} ({r.info.name})" for m, r in zip(methods, results)]


def _unique_dirs(results: Sequence[RunAnalysis]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for r in results:
        n = seen.get(r.info.name, 0)
        seen[r.info.name] = n + 1
        out.append(r.info.name if n == 0 else f"{r.info.name}-{n + 1}")
    return out


def img_tag(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "–"
    return f"{v:.4g}" if isinstance(v, float) else html.escape(str(v))


def html_table(rows: Sequence[dict[str, Any]], fields: Sequence[str]) -> str:
    head = "".join(f"<th>{html.escape(f)}</th>" for f in fields)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(r.get(f))}</td>" for f in fields) + "</tr>" for r in rows)
    return f"<div class='scroll'><table><tr>{head}</tr>{body}</table></div>"


def _traces(result: RunAnalysis, n: int = 2) -> str:
    """The first and last step buckets' sample completions, planning tokens highlighted (Figure 1)."""
    picks = result.samples if len(result.samples) <= n else [result.samples[0], result.samples[-1]]
    out = []
    for tagged, meta in picks:
        status = {True: "correct", False: "incorrect"}.get(meta.get("correct"), f"reward {meta.get('reward')}")
        out.append(f"<p class='meta'>step {meta.get('step')} · prompt {html.escape(str(meta.get('prompt_id')))} · "
                   f"{status} · {int(tagged.planning.sum())}/{len(tagged.planning)} planning tokens</p>"
                   + render_trace(tagged))
    return "".join(out) or "<p class='note'>No completion with a Strategic Gram to show.</p>"


def build_report(results: Sequence[RunAnalysis], out_dir: str | Path, title: str = "hicra learning dynamics",
                 inputs: Sequence[tuple[str, str | Path]] = ()) -> Path:
    """Write the report directory (see module docstring), all files or none; returns the path of ``index.html``.
    ``inputs`` are further files the command read (e.g. ``--config``), which no output may replace."""
    with Outputs(inputs) as files:
        return _build_report(results, Path(out_dir), title, files)


def _build_report(results: Sequence[RunAnalysis], out: Path, title: str, files: Outputs) -> Path:
    labels, dirs = run_labels(results), _unique_dirs(results)
    for r, d in zip(results, dirs):
        write_analysis(r, out / "runs" / d, files)

    def figure(name: str, png: bytes, caption: str) -> str:
        files.write_bytes(out / "figures" / f"{name}.png", png)
        return f"<figure>{img_tag(png, caption)}<figcaption>{html.escape(caption)}</figcaption></figure>"

    top_q = results[0].config.top_q if results else 0.3
    curves = [(lab, r.rows) for lab, r in zip(labels, results)]
    fork = plots.fork_summary(curves, top_q)
    judged = [(lab, r.errors) for lab, r in zip(labels, results) if r.errors]
    errors_flat = [{"run": lab, **e} for lab, rows in judged for e in rows]
    write_csv(out / "fork_tokens.csv", fork, out=files)
    if errors_flat:
        write_csv(out / "error_types.csv", errors_flat, out=files)

    parts = [f"<h1>{html.escape(title)}</h1>",
             f"<p class='meta'>Generated {datetime.now(timezone.utc):%Y-%m-%d %H:%M UTC} · arXiv 2509.03646 · "
             f"numbers: <code>report.json</code>, <code>runs/*/metrics.csv</code></p>", "<h2>Runs</h2>"]
    summary = [{"run": lab, "directory": r.info.name, "method": r.info.method, "records": sum(x["n_completions"]
                for x in r.rows), "steps": len(r.rows), "lexicon": r.lexicon, "bucket": r.config.bucket,
                "notes": "; ".join(r.notes)} for lab, r in zip(labels, results)]
    parts.append(html_table(summary, ("run", "directory", "method", "records", "steps", "lexicon", "bucket", "notes")))
    if any(r.rows for r in results):
        parts += ["<h2>Comparing runs</h2>", figure("overlay", plots.overlay(curves),
                  "Per-step metrics of every run on shared axes (relative perplexity is normalised by each run's "
                  "first step).")]
        parts += ["<h2>Planning tokens and high-entropy fork tokens (§4.5)</h2>",
                  figure("fork_tokens", plots.fork_bars(fork), f"Bars: mean over steps of the overlap between "
                         f"planning tokens and each completion's top-{top_q:.0%} entropy tokens; black ticks: the "
                         "overlap expected by chance."),
                  html_table(fork, list(fork[0]))]
    if judged:
        parts += ["<h2>Error types of failed rollouts (§4.3.1)</h2>",
                  figure("error_types", plots.error_curves(judged), "LLM-judged main cause of failure of sampled "
                         "failed rollouts, grouped into Planning & Strategy vs. Others.")]
    for lab, r, d in zip(labels, results, dirs):
        parts.append(f"<h2>Run: {html.escape(lab)}</h2>")
        parts += [f"<p class='note'>{html.escape(n)}</p>" for n in r.notes]
        if not r.rows:
            continue
        band_label = (f"shaded: {r.config.lexicon_ablation:.0%} of SGs dropped at random, min–max over "
                      f"{r.config.seeds} seeds")
        parts.append(figure(f"dynamics_{d}", plots.dynamics_grid(r.rows, r.band, lab, r.config.pass_k, band_label),
                            f"{lab}: learning dynamics by token class (Figure 2 of the paper). Planning tokens are "
                            f"those inside a Strategic Gram of the {r.lexicon!r} lexicon."))
        first, last = r.rows[0], r.rows[-1]
        keys = ("step", "accuracy", "mean_length", "planning_ratio", "rel_ppl_planning", "rel_ppl_execution",
                "entropy_planning", "entropy_execution", "semantic_entropy", "conditional_entropy")
        parts.append(html_table([first, last] if last is not first else [first], keys))
        parts += ["<h3>Sample traces (planning tokens highlighted)</h3>", _traces(r)]
    parts.append("<h2>Metric definitions</h2>")
    parts.append(html_table([{"column": k, "meaning": m, "section": s} for k, (m, s) in COLUMNS.items()],
                        ("column", "meaning", "section")))
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{TRACE_STYLE}\n{PAGE_STYLE}</style></head><body>{''.join(parts)}</body></html>")
    index = files.write_text(out / "index.html", page)
    from hicra.analysis.pipeline import run_summary

    write_json(out / "report.json", {"title": title, "runs": [{"label": lab, "directory": d, **run_summary(r)}
                                                              for lab, r, d in zip(labels, results, dirs)],
                                     "fork_tokens": fork, "error_types": errors_flat}, files)
    return index
