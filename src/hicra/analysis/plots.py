"""Matplotlib figures of the report, returned as PNG bytes (arXiv 2509.03646, Figures 2, 5 and 8 in spirit).

* :func:`dynamics_grid` — one run, Fig.-2 style: accuracy/Pass@k, length, relative perplexity and token entropy
  of planning vs. execution tokens, semantic entropy, conditional entropy, planning ratio, fork overlap; shaded
  bands show the lexicon-ablation spread (min–max over seeds) when computed.
* :func:`overlay` — several runs on the same axes (e.g. hicra vs. grpo vs. entropy_reg).
* :func:`band_overlay` — several methods on the same axes, each a mean curve with a shaded band (e.g. over seeds).
* :func:`fork_bars` — overlap of planning tokens and high-entropy fork tokens per run, with chance levels (§4.5).
* :func:`error_curves` — share of "Planning & Strategy" errors among judged failures per step (§4.3.1).
"""

from __future__ import annotations

import functools
import io
import math
from typing import Any, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

PLANNING_COLOR, EXECUTION_COLOR = "#e69500", "#1f6fb4"
RUN_COLORS = ["#c0392b", "#2471a3", "#229954", "#7d3c98", "#d68910", "#17a589", "#5d6d7e"]
DPI = 90


def plain_text(figure_fn):
    """Draw the figure with mathtext off: run labels are text, so a "$" in one is a dollar sign, not LaTeX."""
    @functools.wraps(figure_fn)
    def wrapper(*args, **kwargs):
        with plt.rc_context({"text.parse_math": False, "text.usetex": False}):
            return figure_fn(*args, **kwargs)

    return wrapper


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)  # layouts come from tight_layout (bbox_inches="tight" draws twice)
    plt.close(fig)
    return buf.getvalue()


def _series(rows: Sequence[dict[str, Any]], key: str) -> tuple[list[float], list[float]]:
    return [r["step"] for r in rows], [math.nan if r.get(key) is None else float(r[key]) for r in rows]


def _band(ax, band: Sequence[dict[str, Any]], metric: str, color: str) -> None:
    pts = [b for b in band if b["metric"] == metric and b["min"] == b["min"]]
    if pts:
        ax.fill_between([b["step"] for b in pts], [b["min"] for b in pts], [b["max"] for b in pts], color=color,
                        alpha=0.2, linewidth=0)


def _finish(ax, title: str, ylabel: str = "") -> None:
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("step", fontsize=8)
    if ylabel:
        ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, frameon=False)


@plain_text
def dynamics_grid(rows: Sequence[dict[str, Any]], band: Sequence[dict[str, Any]] = (), title: str = "",
                  pass_k: Sequence[int] = (), band_note: str = "shaded: lexicon ablation, min–max over seeds") -> bytes:
    """2×4 panels of one run's per-step metrics (see module docstring); ``band_note`` explains the bands."""
    fig, axes = plt.subplots(2, 4, figsize=(15, 6.4))
    kw = {"marker": "o", "markersize": 3, "linewidth": 1.5}
    ax = axes[0, 0]
    ax.plot(*_series(rows, "accuracy"), color="black", label="accuracy", **kw)
    for k in pass_k:
        steps, values = _series(rows, f"pass_at_{k}")
        if k > 1 and any(v == v for v in values):  # skip k larger than every group
            ax.plot(steps, values, linestyle="--", label=f"Pass@{k}", **kw)
    _finish(ax, "Accuracy / Pass@k")
    axes[0, 1].plot(*_series(rows, "mean_length"), color="black", **kw)
    _finish(axes[0, 1], "Mean length", "tokens")
    for ax, (metric, name) in zip(axes[0, 2:], (("rel_ppl", "Relative perplexity (§2.2.1)"),
                                                 ("entropy", "Token entropy (§2.2.1)"))):
        _band(ax, band, f"{metric}_planning", PLANNING_COLOR)
        ax.plot(*_series(rows, f"{metric}_planning"), color=PLANNING_COLOR, label="planning", **kw)
        ax.plot(*_series(rows, f"{metric}_execution"), color=EXECUTION_COLOR, label="execution", **kw)
        _finish(ax, name, "nats" if metric == "entropy" else "× first step")
    for ax, (metric, name) in zip(axes[1, :3], (("semantic_entropy", "Semantic entropy of SGs (§2.2.2)"),
                                                 ("conditional_entropy", "H(next words | SG) (§2.2.2)"),
                                                 ("planning_ratio", "Planning-token ratio"))):
        _band(ax, band, metric, PLANNING_COLOR)
        ax.plot(*_series(rows, metric), color=PLANNING_COLOR, **kw)
        _finish(ax, name, "" if metric == "planning_ratio" else "nats")
    ax = axes[1, 3]
    _band(ax, band, "planning_high_entropy_frac", PLANNING_COLOR)
    ax.plot(*_series(rows, "planning_high_entropy_frac"), color=PLANNING_COLOR, label="planning → high-entropy", **kw)
    ax.plot(*_series(rows, "high_entropy_planning_frac"), color="#7d3c98", label="high-entropy → planning", **kw)
    _finish(ax, "Fork-token overlap (§4.5)", "fraction")
    if title or band:
        fig.suptitle(title + (f"  ({band_note})" if band else ""), fontsize=11)
    fig.tight_layout()
    return _png(fig)


OVERLAY_METRICS = (("accuracy", "Accuracy"), ("mean_length", "Mean length (tokens)"),
                   ("rel_ppl_planning", "Rel. perplexity, planning"), ("rel_ppl_execution", "Rel. perplexity, execution"),
                   ("entropy_planning", "Token entropy, planning"), ("entropy_execution", "Token entropy, execution"),
                   ("semantic_entropy", "Semantic entropy (SGs)"), ("conditional_entropy", "H(next words | SG)"))


@plain_text
def overlay(runs: Sequence[tuple[str, Sequence[dict[str, Any]]]]) -> bytes:
    """Runs compared on the same axes, one panel per metric of :data:`OVERLAY_METRICS`."""
    fig, axes = plt.subplots(2, 4, figsize=(15, 6.4))
    for ax, (metric, name) in zip(axes.flat, OVERLAY_METRICS):
        for i, (label, rows) in enumerate(runs):
            ax.plot(*_series(rows, metric), color=RUN_COLORS[i % len(RUN_COLORS)], marker="o", markersize=3,
                    linewidth=1.5, label=label)
        _finish(ax, name)
    fig.tight_layout()
    return _png(fig)


def band_overlay(panels: Sequence[tuple[str, Sequence[tuple[str, dict[str, Sequence[float]]]]]],
                 columns: int = 4) -> bytes:
    """One panel per (title, [(label, {step, mean, min, max})]): each label's mean curve and its shaded band."""
    rows = max(1, math.ceil(len(panels) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(15, 3.2 * rows), squeeze=False)
    for ax, (title, curves) in zip(axes.flat, panels):
        for i, (label, c) in enumerate(curves):
            color = RUN_COLORS[i % len(RUN_COLORS)]
            ax.fill_between(c["step"], c["min"], c["max"], color=color, alpha=0.2, linewidth=0)
            ax.plot(c["step"], c["mean"], color=color, marker="o", markersize=3, linewidth=1.5, label=label)
        _finish(ax, title)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    fig.tight_layout()
    return _png(fig)


def _mean(rows: Sequence[dict[str, Any]], key: str) -> float:
    vals = [float(r[key]) for r in rows if r.get(key) is not None and r[key] == r[key]]
    return sum(vals) / len(vals) if vals else math.nan


def fork_summary(runs: Sequence[tuple[str, Sequence[dict[str, Any]]]], top_q: float) -> list[dict[str, Any]]:
    """Per run, step-averaged overlap fractions and their chance levels (q and the planning ratio)."""
    return [{"run": label, "planning_high_entropy_frac": _mean(rows, "planning_high_entropy_frac"),
             "chance_planning_high_entropy": top_q,
             "high_entropy_planning_frac": _mean(rows, "high_entropy_planning_frac"),
             "chance_high_entropy_planning": _mean(rows, "planning_ratio")} for label, rows in runs]


@plain_text
def fork_bars(summary: Sequence[dict[str, Any]]) -> bytes:
    """Grouped bars of :func:`fork_summary`; ticks mark the chance level of each bar."""
    fig, ax = plt.subplots(figsize=(max(6.0, 1.8 * len(summary) + 3), 4.0))
    width = 0.38
    for j, (key, chance, name, color) in enumerate((
            ("planning_high_entropy_frac", "chance_planning_high_entropy", "planning tokens that are high-entropy",
             PLANNING_COLOR),
            ("high_entropy_planning_frac", "chance_high_entropy_planning", "high-entropy tokens that are planning",
             "#7d3c98"))):
        xs = [i + (j - 0.5) * width for i in range(len(summary))]
        ax.bar(xs, [s[key] for s in summary], width * 0.95, color=color, label=name)
        ax.scatter(xs, [s[chance] for s in summary], marker="_", s=900, color="black", zorder=3,
                   label="chance level" if j == 0 else None)
    ax.set_xticks(range(len(summary)), [s["run"] for s in summary], fontsize=8)
    ax.set_ylim(0, 1.3)
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.set_ylabel("fraction (mean over steps)", fontsize=8)
    ax.set_title("Planning tokens vs. top-entropy fork tokens (§4.5)", fontsize=10)
    ax.legend(fontsize=7, frameon=False, loc="upper left", ncol=2)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return _png(fig)


@plain_text
def error_curves(runs: Sequence[tuple[str, Sequence[dict[str, Any]]]]) -> bytes:
    """Share of Planning & Strategy errors (left) and judged counts per group (right), per run and step."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.6))
    for i, (label, rows) in enumerate(runs):
        color = RUN_COLORS[i % len(RUN_COLORS)]
        left.plot(*_series(rows, "planning_strategy_frac"), color=color, marker="o", markersize=3, label=label)
        right.plot(*_series(rows, "planning_strategy"), color=color, marker="o", markersize=3,
                   label=f"{label}: Planning & Strategy")
        right.plot(*_series(rows, "others"), color=color, marker="s", markersize=3, linestyle="--",
                   label=f"{label}: Others")
    left.set_ylim(-0.02, 1.02)
    _finish(left, "Planning & Strategy share of judged errors (§4.3.1)", "fraction")
    _finish(right, "Judged failed rollouts by error group", "count")
    fig.tight_layout()
    return _png(fig)
