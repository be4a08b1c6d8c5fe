"""Contrasts, phase analysis and planning-vs-execution bands of a study, on hand-written run files (held-out scores
and metrics.jsonl curves chosen so that every number below is computed by hand), rendered into the study files."""

from __future__ import annotations

import json
import math

import pytest

from hicra.study import aggregate, sections
from hicra.study.config import StudyConfig
from hicra.study.report import write_study

HELDOUT = {"hicra": [50, 60, 70], "grpo": [40, 45, 52], "entropy_reg": [49, 61, 69]}
EXEC = {0: [0, 0, .2, .4, .6, .8, .8, .8], 1: [0, 0, .4, .4, .8, .8, .8, .8], 2: [.5, .5, .4, .4, .3, .3, .2, .2]}
STRAT = {0: [0, 0, 0, .1, .2, .3, .4, .4], 1: [.1] * 6 + [.5, .5], 2: [0, 0, 0, .1, .2, .3, .4, .4]}


@pytest.fixture
def results(tmp_path):
    out = []
    for method, scores in HELDOUT.items():
        for seed, score in enumerate(scores):
            run = tmp_path / "runs" / f"{method}-s{seed}"
            run.mkdir(parents=True)
            rows = []
            for i in range(8):
                row = {"step": i + 1, "hicra/nll_planning": math.log(2.0), "hicra/nll_execution": math.log(4.0),
                       "hicra/semantic_entropy": 1.5}
                if method == "hicra":  # the other methods do not log the phase curves
                    row |= {"testbed/execution_accuracy": EXEC[seed][i], "testbed/strategy_accuracy": STRAT[seed][i]}
                rows.append(row)
            (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
            out.append({"name": run.name, "method": method, "seed": seed, "run_dir": str(run), "done": {"steps": 8},
                        "heldout": {"pass@1": score, "pass@k": {"1": score}, "per_problem": {}}})
    return out


def study(tmp_path, **changes) -> StudyConfig:
    return StudyConfig(**{"methods": list(HELDOUT), "seeds": [0, 1, 2], "output": str(tmp_path), "pass_k": [1],
                          "heldout_samples": 1, "contrasts": ["hicra:grpo", "hicra:entropy_reg"], "margin": 5.0,
                          "phase_k": 2, **changes})


def test_contrasts_holm_and_verdicts(results, tmp_path):
    out = aggregate.contrasts(results, study(tmp_path))
    vs_grpo, vs_ent = out["contrasts"]
    assert [r["delta"] for r in vs_grpo["table"]] == [10, 15, 18] and vs_grpo["table"][2] == {
        "seed": 2, "a": 70, "b": 52, "delta": 18}
    # Δ = (10, 15, 18): sign-flip p = 2/8; TOST δ = 5: t⁺ = (14.333 − 5)/2.3333 = 4 → p⁺ = 1/2 + 4/(2√18) = 0.971405
    assert vs_grpo["difference"]["p_value"] == 0.25
    assert vs_grpo["equivalence"]["p_value"] == pytest.approx(0.971405, abs=1e-6)
    # Δ = (1, −1, 1): sign-flip p = 1; se = 2/3, t⁺ = −7 → p⁺ = 1/2 − 7/(2√51) = 0.009902; t⁻ = 8 → p⁻ = 0.007634
    assert vs_ent["difference"]["p_value"] == 1.0
    assert vs_ent["equivalence"]["p_upper"] == pytest.approx(0.009902, abs=1e-6)
    assert vs_ent["equivalence"]["p_lower"] == pytest.approx(0.007634, abs=1e-6)
    # Holm over the two contrasts: difference (0.25, 1) → (0.5, 1); TOST (0.971405, 0.009902) → (0.971405, 0.019804)
    assert (vs_grpo["p_difference_holm"], vs_ent["p_difference_holm"]) == (0.5, 1.0)
    assert vs_ent["p_equivalence_holm"] == pytest.approx(0.019804, abs=1e-6)
    assert vs_grpo["p_equivalence_holm"] == pytest.approx(0.971405, abs=1e-6)
    assert (vs_grpo["verdict"], vs_ent["verdict"]) == ("inconclusive", "equivalent")
    assert aggregate.contrasts(results, study(tmp_path, margin=0.0))["contrasts"][1]["verdict"] == "inconclusive"


def test_phase_analysis_per_seed(results, tmp_path):
    ph = aggregate.phases(results, study(tmp_path))
    hicra = ph["methods"]["hicra"]
    # seed 0: execution ≥ 0.4 at step 4, strategy ≥ 0.2 at step 5; seed 1: 3 and 7 (≥ 0.3); seed 2: execution falls
    assert [(r["first"], r["second"]) for r in hicra["rows"]] == [(4, 5), (3, 7), (None, 5)]
    assert hicra["rows"][2]["first_reason"] == "no gain" and math.isnan(hicra["rows"][2]["delta"])
    assert hicra["undefined"] == {"first": 1, "second": 0, "either": 1} and hicra["first_before_second"] == 2
    assert hicra["difference"]["mean"] == -2.5 and hicra["difference"]["p_value"] == 0.5  # Δ = (−1, −4)
    grpo = ph["methods"]["grpo"]  # no phase curves logged: every seed undefined, counted
    assert grpo["undefined"]["either"] == 3 and {r["first_reason"] for r in grpo["rows"]} == {"too short"}
    skipped = aggregate.phases(results, study(tmp_path, phase_curves=["a/x", "a/y"]))
    assert skipped["methods"] == {} and "phase analysis skipped" in skipped["note"]
    assert "phase analysis skipped" in sections.markdown(aggregate.contrasts(results, study(tmp_path)), skipped,
                                                         "95%")


def test_planning_vs_execution_bands(results, tmp_path):
    pairs = aggregate.paired_curves(results, study(tmp_path))
    ppl = pairs["hicra: perplexity, planning vs execution"]
    assert ppl["planning"]["mean"] == pytest.approx([2.0] * 8) and ppl["execution"]["max"] == pytest.approx([4.0] * 8)
    accuracy = pairs["hicra: execution_accuracy vs strategy_accuracy"]
    assert accuracy["execution_accuracy"]["min"][3] == pytest.approx(0.4)  # step 4: seeds 0.4, 0.4, 0.4
    assert accuracy["strategy_accuracy"]["mean"][6] == pytest.approx(1.3 / 3)  # step 7: 0.4, 0.5, 0.4
    assert "grpo: execution_accuracy vs strategy_accuracy" not in pairs
    assert sorted(pairs["Semantic entropy of SGs"]) == sorted(HELDOUT)


def test_study_files_render_the_new_sections(results, tmp_path):
    config = study(tmp_path)
    agg = aggregate.summarize(results, config)
    write_study(tmp_path, agg, results, config, aggregate.training_curves(results), {}, "hicra study ...",
                aggregate.contrasts(results, config), aggregate.phases(results, config),
                aggregate.paired_curves(results, config))
    md = (tmp_path / "study.md").read_text()
    assert "## Contrasts" in md  # Δ = (1, −1, 1): 1/3 ± t_{0.975, 2}·(2/3) = 1/3 ± 2.868
    assert "| hicra − entropy_reg | +0.3 | [-2.5, +3.2] | 1.000 | 1.000 | 0.010 | 0.020 | equivalent |" in md
    assert "| Seed | hicra | grpo | Δ |" in md and "| 2 | 70.0 | 52.0 | +18.0 |" in md
    assert "| hicra | 2 | undefined (no gain) | -0.300 | 5 | 0.400 | – |" in md
    assert "| hicra | 3 | 1 / 0 / 1 | 2 of 2 | -2.5 |" in md
    page = (tmp_path / "report" / "index.html").read_text()
    assert "<h2>Contrasts</h2>" in page and "<h2>Phases</h2>" in page and "Planning vs execution" in page
    assert (tmp_path / "report" / "figures" / "planning_vs_execution.png").stat().st_size > 1000
    paired = (tmp_path / "paired.csv").read_text().splitlines()
    assert paired[0] == "contrast,metric,seed,a,b,delta" and len(paired) == 1 + 6
    contrasts = (tmp_path / "contrasts.csv").read_text().splitlines()
    assert len(contrasts) == 3 and contrasts[2].endswith(",equivalent")
    assert len((tmp_path / "phases.csv").read_text().splitlines()) == 1 + 9
    doc = json.loads((tmp_path / "study.json").read_text())
    assert doc["contrasts"]["contrasts"][1]["verdict"] == "equivalent" and doc["phases"]["k"] == 2
