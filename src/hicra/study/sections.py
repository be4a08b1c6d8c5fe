"""The contrast and phase sections of a study's ``study.md`` and ``report/index.html``, and their CSV rows
(``contrasts.csv``, ``paired.csv``, ``phases.csv``): tables as (header, rows of text) rendered both ways.

The numbers come from :func:`hicra.study.aggregate.contrasts` and :func:`hicra.study.aggregate.phases`; how to read
them: docs/study-statistics.md.
"""

from __future__ import annotations

import html
from typing import Any

Table = tuple[list[str], list[list[str]]]


def _num(x: Any, digits: int = 1, signed: bool = False) -> str:
    if x is None or x != x:
        return "–"
    return f"{x:+.{digits}f}" if signed else f"{x:.{digits}f}"


def _p(p: float) -> str:
    return "–" if p != p else f"{p:.3f}"


def contrast_table(analysis: dict[str, Any]) -> Table:
    """One row per contrast: Δ with its interval, difference and TOST p-values (raw and Holm), the verdict."""
    header = ["Contrast", "Δ", "interval", "p", "p (Holm)", "TOST p", "TOST p (Holm)", "Verdict"]
    rows = []
    for c in analysis["contrasts"]:
        d, eq = c["difference"], c["equivalence"] or {}
        rows.append([f"{c['a']} − {c['b']}", _num(d["mean"], signed=True),
                     f"[{_num(d['low'], signed=True)}, {_num(d['high'], signed=True)}]", _p(d["p_value"]),
                     _p(c["p_difference_holm"]), _p(eq.get("p_value", float("nan"))),
                     _p(c["p_equivalence_holm"]), c["verdict"]])
    return header, rows


def paired_table(contrast: dict[str, Any]) -> Table:
    """Seed, A, B, Δ of one contrast."""
    header = ["Seed", contrast["a"], contrast["b"], "Δ"]
    return header, [[str(r["seed"]), _num(r["a"]), _num(r["b"]), _num(r["delta"], signed=True)]
                    for r in contrast["table"]]


def phase_summary_table(ph: dict[str, Any]) -> Table:
    """One row per method: seeds, undefined half-gain steps, mean Δ of the steps with its interval and p."""
    header = ["Method", "Seeds", "Undefined (first / second / either)", "first before second", "mean Δ steps",
              "interval", "p"]
    rows = []
    for method, m in ph["methods"].items():
        d, u = m["difference"], m["undefined"]
        rows.append([method, str(m["seeds"]), f"{u['first']} / {u['second']} / {u['either']}",
                     f"{m['first_before_second']} of {m['seeds'] - u['either']}", _num(d["mean"], signed=True),
                     f"[{_num(d['low'], signed=True)}, {_num(d['high'], signed=True)}]", _p(d["p_value"])])
    return header, rows


def _step(step: int | None, reason: str) -> str:
    return str(step) if step is not None else f"undefined ({reason})"


def phase_seed_table(ph: dict[str, Any]) -> Table:
    """Per method and seed: the two half-gain steps (or why undefined), their gains, and Δ."""
    header = ["Method", "Seed", f"half-gain step, {ph['first']}", "gain", f"half-gain step, {ph['second']}", "gain",
              "Δ"]
    rows = [[method, str(r["seed"]), _step(r["first"], r["first_reason"]), _num(r["first_gain"], 3),
             _step(r["second"], r["second_reason"]), _num(r["second_gain"], 3), _num(r["delta"], 0, signed=True)]
            for method, m in ph["methods"].items() for r in m["rows"]]
    return header, rows


def contrast_notes(analysis: dict[str, Any], level: str) -> list[str]:
    margin = analysis["margin"]
    eq = (f"TOST: two one-sided t-tests of |Δ| ≥ δ = {margin:g} points (the smallest effect of interest)"
          if margin > 0 else "no equivalence test (--margin 0)")
    return [f"Contrasts of {analysis['metric']} (percent), paired by seed: Δ = mean of per-seed differences with its "
            f"{level} t-interval; p: two-sided seed-level test (exact sign-flip); {eq}. Holm adjusts each kind of "
            f"p-value over the {len(analysis['contrasts'])} contrasts. Verdict at α = {analysis['alpha']:g}: "
            "superior/inferior when the adjusted difference p < α, else equivalent when the adjusted TOST p < α, "
            "else inconclusive."]


def phase_notes(ph: dict[str, Any]) -> list[str]:
    if ph["note"]:
        return [ph["note"] + "."]
    return [f"Half-gain step of a curve (metrics.jsonl, per seed): initial and final = means of its first and last "
            f"{ph['k']} logged steps, gain = final − initial; the first step at which its trailing mean over "
            f"{ph['window']} logged step(s) is ≥ initial + gain/2. Undefined when gain ≤ 0, the curve has fewer than "
            f"{2 * ph['k']} logged steps, or the threshold is never reached; such seeds are counted and left out of "
            f"the test. Δ = step({ph['first']}) − step({ph['second']}); p: two-sided exact sign-flip test over seeds."]


def _md(table: Table) -> str:
    header, rows = table
    return "\n".join(["| " + " | ".join(header) + " |", "|---" * len(header) + "|",
                      *["| " + " | ".join(r) + " |" for r in rows]])


def markdown(analysis: dict[str, Any], ph: dict[str, Any], level: str) -> str:
    """The contrast and phase sections of ``study.md``."""
    parts = ["## Contrasts", _md(contrast_table(analysis)), *contrast_notes(analysis, level)]
    for c in analysis["contrasts"]:
        parts += [f"Per seed, {analysis['metric']}: {c['a']} − {c['b']}", _md(paired_table(c))]
    parts += ["## Phases", *phase_notes(ph)]
    if ph["methods"]:
        parts += [_md(phase_summary_table(ph)), _md(phase_seed_table(ph))]
    return "\n\n".join(parts) + "\n"


def _html(table: Table) -> str:
    from hicra.analysis.report import html_table

    header, rows = table
    return html_table([dict(zip(header, r)) for r in rows], header)


def html_sections(analysis: dict[str, Any], ph: dict[str, Any], level: str) -> str:
    """The same sections for ``report/index.html``."""
    para = "".join(f"<p>{html.escape(n)}</p>" for n in contrast_notes(analysis, level))
    parts = ["<h2>Contrasts</h2>", _html(contrast_table(analysis)), para]
    for c in analysis["contrasts"]:
        parts += [f"<h3>Per seed: {html.escape(c['a'])} − {html.escape(c['b'])}</h3>", _html(paired_table(c))]
    parts += ["<h2>Phases</h2>", *(f"<p>{html.escape(n)}</p>" for n in phase_notes(ph))]
    if ph["methods"]:
        parts += [_html(phase_summary_table(ph)), _html(phase_seed_table(ph))]
    return "".join(parts)


def csv_tables(analysis: dict[str, Any], ph: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """``contrasts.csv``, ``paired.csv`` and ``phases.csv`` rows."""
    contrasts = [{"a": c["a"], "b": c["b"], "metric": analysis["metric"], "mean": c["difference"]["mean"],
                  "low": c["difference"]["low"], "high": c["difference"]["high"], "n_seeds": c["difference"]["n"],
                  "p_value": c["difference"]["p_value"], "p_holm": c["p_difference_holm"],
                  "margin": analysis["margin"], "tost_p": (c["equivalence"] or {}).get("p_value"),
                  "tost_p_holm": c["p_equivalence_holm"], "alpha": analysis["alpha"], "verdict": c["verdict"]}
                 for c in analysis["contrasts"]]
    paired = [{"contrast": f"{c['a']} - {c['b']}", "metric": analysis["metric"], **r}
              for c in analysis["contrasts"] for r in c["table"]]
    phases = [{"method": method, "first_key": ph["first"], "second_key": ph["second"], **r}
              for method, m in ph["methods"].items() for r in m["rows"]]
    return {"contrasts.csv": contrasts, "paired.csv": paired, "phases.csv": phases}
