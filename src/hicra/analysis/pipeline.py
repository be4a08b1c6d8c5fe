"""``hicra analyze`` end to end: read a run, compute per-step metrics, write them as CSV and JSON.

Outputs in ``DIR`` (every number of the analysis; nan is an empty CSV cell and ``null`` in JSON):

===========================  ============================================================================
``metrics.csv`` / ``.json``  one row per step bucket, columns of :data:`hicra.analysis.dynamics.COLUMNS`
``sg_counts.csv``            step, gram, count: the SG distribution behind the semantic entropy (§2.2.2)
``ablation.csv``             seed, step, lexicon-dependent columns per ablated lexicon (``--lexicon-ablation``)
``ablation_band.csv``        step, metric, mean, std, min, max over the seeds
``error_types.csv``          step, judged, planning_strategy, others, unparsed, inconsistent,
                             planning_strategy_frac, per cause counts (§4.3.1), when the run has a judgment cache
===========================  ============================================================================

Empty results are documented, not errors: a file without records gives header-only files, and missing
logprobs/entropies or a lexicon that matches nothing give empty columns plus a note (``RunAnalysis.notes``).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from hicra import io
from hicra.analysis.dynamics import LEXICON_COLUMNS, DynamicsAnalyzer, columns
from hicra.analysis.inputs import RunInfo, resolve_run
from hicra.analysis.judge import error_counts
from hicra.analysis.options import AnalysisConfig
from hicra.io import Outputs
from hicra.lexicon import BUILTIN_LEXICONS
from hicra.records import iter_rollouts
from hicra.tagging.tagger import TaggedText


@dataclass
class RunAnalysis:
    """Everything the report shows about one run."""

    info: RunInfo
    config: AnalysisConfig
    rows: list[dict[str, Any]]
    ablation: list[dict[str, Any]] = field(default_factory=list)
    band: list[dict[str, Any]] = field(default_factory=list)
    sg_counts: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    samples: list[tuple[TaggedText, dict[str, Any]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    lexicon: str = ""


@lru_cache(maxsize=4)
def load_tagger(lexicon: str, tokenizer: str):
    """A PlanningTagger for a lexicon name/path and a tokenizer name/path (cached across runs)."""
    from hicra.lexicon import load_lexicon
    from hicra.models import load_tokenizer
    from hicra.tagging.tagger import PlanningTagger

    return PlanningTagger(load_lexicon(lexicon), load_tokenizer(tokenizer))


def tokenizer_for(info: RunInfo, config: AnalysisConfig) -> str:
    """``--tokenizer`` if given, else the run's ``config.yaml`` model, else smollm2."""
    return config.tokenizer or info.model or "smollm2"


def ablation_band(ablation: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """step, metric, mean, std, min, max over the seeds of each lexicon-dependent metric (nan-aware)."""
    by_step: dict[int, list[dict[str, Any]]] = {}
    for r in ablation:
        by_step.setdefault(int(r["step"]), []).append(r)
    out = []
    for step in sorted(by_step):
        for metric in LEXICON_COLUMNS:
            v = np.asarray([r[metric] for r in by_step[step]], dtype=np.float64)
            v = v[~np.isnan(v)]
            stats = (v.mean(), v.std(), v.min(), v.max()) if len(v) else (math.nan,) * 4
            out.append({"step": step, "metric": metric, **dict(zip(("mean", "std", "min", "max"), map(float, stats)))})
    return out


def analyze_run(path: str | Path | RunInfo, config: AnalysisConfig, progress: bool = False) -> RunAnalysis:
    """Stream a run's rollouts through :class:`DynamicsAnalyzer` and collect its results."""
    info = path if isinstance(path, RunInfo) else resolve_run(path, config.field)
    tagger = load_tagger(config.lexicon, tokenizer_for(info, config))
    analyzer = DynamicsAnalyzer(config, tagger)
    from tqdm import tqdm

    bar = tqdm(desc=f"analyzing {info.name}", unit="rec", disable=not progress)
    batch: list[tuple[int, dict[str, Any]]] = []
    has_logprobs = has_entropies = False
    for item in iter_rollouts(info.rollouts):
        batch.append(item)
        has_logprobs |= item[1].get("logprobs") is not None
        has_entropies |= item[1].get("entropies") is not None
        if len(batch) >= config.batch_size:
            analyzer.add(batch, str(info.rollouts))
            bar.update(len(batch))
            batch = []
    analyzer.add(batch, str(info.rollouts))
    bar.update(len(batch))
    bar.close()

    rows = analyzer.rows()
    notes = []
    if not rows:
        notes.append(f"{info.rollouts}: no rollout records; all outputs are empty")
    else:
        if not has_logprobs:
            notes.append("no logprobs in the rollouts: perplexity columns are empty (run `hicra score` first)")
        if not has_entropies:
            notes.append("no entropies in the rollouts: entropy and fork-token columns are empty "
                         "(run `hicra score` first)")
        if all(r["planning_ratio"] == 0 for r in rows):
            notes.append(f"lexicon {tagger.lexicon.name!r} matched no token: planning-token and SG columns are empty")
        for k in config.pass_k:
            if all(r[f"pass_at_{k}"] is None or r[f"pass_at_{k}"] != r[f"pass_at_{k}"] for r in rows):  # None/NaN
                notes.append(f"--pass-k {k} exceeds the size of every prompt group: column pass_at_{k} is empty")
    ablation = analyzer.ablation_rows()
    samples = [(t, meta) for _, (_, t, meta) in sorted(analyzer.samples.items())]
    return RunAnalysis(info=info, config=config, rows=rows, ablation=ablation, band=ablation_band(ablation),
                       sg_counts=analyzer.sg_counts(), errors=error_counts(info.judgments, config.bucket),
                       samples=samples, notes=notes, lexicon=tagger.lexicon.name)


def clean(value: Any) -> Any:
    """JSON-safe value: nan/inf → None, numpy scalars → Python numbers."""
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def write_csv(path: Path, rows: Sequence[dict[str, Any]], fields: Sequence[str] | None = None,
              out: Outputs | None = None) -> Path:
    """Rows as CSV (nan → empty cell); ``fields`` fixes the header, else the union of keys in order. Written as
    part of the command's outputs ``out`` (:class:`hicra.io.Outputs`), or atomically alone."""
    if out is None:
        with Outputs() as alone:
            return write_csv(path, rows, fields, alone)
    if fields is None:
        fields = list(dict.fromkeys(k for r in rows for k in r))
    with out.open(path, newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(fields), extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: "" if (v := clean(r.get(k))) is None else v for k in fields})
    return path


def write_json(path: Path, doc: Any, out: Outputs | None = None) -> Path:
    def walk(x: Any) -> Any:
        if isinstance(x, dict):
            return {str(k): walk(v) for k, v in x.items()}
        if isinstance(x, (list, tuple)):
            return [walk(v) for v in x]
        return clean(x)

    if out is None:
        return io.write_json(path, walk(doc))
    return out.write_json(path, walk(doc))


def run_summary(result: RunAnalysis) -> dict[str, Any]:
    """The JSON document of one run: provenance, column docs, notes and every metric row."""
    from hicra.analysis.dynamics import COLUMNS

    return {"run": result.info.name, "method": result.info.method, "rollouts": str(result.info.rollouts),
            "lexicon": result.lexicon, "config": result.config.__dict__, "notes": result.notes,
            "columns": {k: {"meaning": m, "section": s} for k, (m, s) in COLUMNS.items()},
            "metrics": result.rows, "ablation_band": result.band, "error_types": result.errors}


def input_files(result: RunAnalysis) -> list[tuple[str, Path]]:
    """The files an analysis read (rollouts, the run's config and judgment cache, a lexicon file), by role."""
    info = result.info
    files = [("rollouts", info.rollouts), ("judgments", info.judgments)]
    if info.run_dir is not None:
        files.append(("config", info.run_dir / "config.yaml"))
    if result.lexicon not in BUILTIN_LEXICONS and Path(result.lexicon).is_file():
        files.append(("--lexicon", Path(result.lexicon)))
    return files


def write_analysis(result: RunAnalysis, out_dir: str | Path, out: Outputs | None = None) -> list[Path]:
    """Write the files listed in the module docstring (as part of ``out``, else all or nothing); their paths."""
    if out is None:
        with Outputs(input_files(result)) as alone:
            return write_analysis(result, out_dir, alone)
    out.inputs += input_files(result)
    d = Path(out_dir)
    cfg = result.config
    files = [write_csv(d / "metrics.csv", result.rows, columns(cfg.pass_k), out),
             write_json(d / "metrics.json", run_summary(result), out),
             write_csv(d / "sg_counts.csv", result.sg_counts, ("step", "gram", "count"), out)]
    if cfg.lexicon_ablation > 0:
        files.append(write_csv(d / "ablation.csv", result.ablation, ("seed", "step", "n_grams", *LEXICON_COLUMNS),
                               out))
        files.append(write_csv(d / "ablation_band.csv", result.band, ("step", "metric", "mean", "std", "min", "max"),
                               out))
    if result.errors:
        files.append(write_csv(d / "error_types.csv", result.errors, out=out))
    return files
