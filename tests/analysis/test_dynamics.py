import json
import math

import numpy as np
import pytest

from hicra.analysis.dynamics import LEXICON_COLUMNS, DynamicsAnalyzer, ablated_grams, columns
from hicra.analysis.metrics import class_mean, class_perplexity, fork_overlap, top_fraction_mask
from hicra.analysis.options import AnalysisConfig
from hicra.analysis.pipeline import analyze_run, load_tagger, write_analysis

TEXTS = [  # (step, prompt_id, text, reward)
    (0, "p", "Let me add 2 and 3. Wait, it is 5.", 1.0),
    (0, "p", "So 2 + 3 = 6.", 0.0),
    (1, "q", "Let me see: 4 + 4 = 8.", 1.0),
    (1, "q", "Wait, 8 is right.", 1.0),
]


@pytest.fixture()
def tiny_lexicon(tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_text("# three grams\nwait\nlet me\nso\n", encoding="utf-8")
    return str(path)


@pytest.fixture()
def tiny_run(tmp_path, tiny_lexicon, smollm2_tokenizer):
    """Four rollouts with made-up logprobs/entropies; half carry completion_ids, half only text + scores."""
    tagger = load_tagger(tiny_lexicon, "smollm2")
    rng = np.random.default_rng(0)
    recs = []
    for i, (step, pid, text, reward) in enumerate(TEXTS):
        ids = smollm2_tokenizer(text, add_special_tokens=False)["input_ids"]
        rec = {"step": step, "prompt_id": pid, "completion": text, "reward": reward}
        if i % 2 == 0:
            rec.update(completion_ids=ids, logprobs=(-rng.uniform(0.1, 3, len(ids))).round(4).tolist(),
                       entropies=rng.uniform(0, 3, len(ids)).round(4).tolist())
        recs.append(rec)
    path = tmp_path / "rollouts.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    return path, recs, tagger


def test_rows_match_hand_and_reference_values(tiny_run, tiny_lexicon):
    path, recs, tagger = tiny_run
    cfg = AnalysisConfig(lexicon=tiny_lexicon, tokenizer="smollm2", pass_k=[1, 2])
    rows = analyze_run(path, cfg).rows
    assert [r["step"] for r in rows] == [0, 1] and list(rows[0]) == columns([1, 2])
    # hand values: accuracy, Pass@k over the single group of each step, SG distributions
    assert rows[0]["accuracy"] == 0.5 and rows[1]["accuracy"] == 1.0
    assert rows[0]["pass_at_1"] == 0.5 and rows[0]["pass_at_2"] == 1.0
    assert rows[0]["semantic_entropy"] == pytest.approx(math.log(3))  # let me, wait, so: once each
    assert rows[1]["semantic_entropy"] == pytest.approx(math.log(2))
    assert rows[0]["sg_occurrences"] == 3 and rows[1]["sg_distinct"] == 2
    assert rows[0]["conditional_entropy"] == 0.0  # each SG is followed by one n-gram
    # token-class columns against the pure functions on the tagger's masks (only records 0 and 2 are scored)
    for row, rec in zip(rows, (recs[0], recs[2])):
        tagged = tagger.tag_ids([rec["completion_ids"]])[0]
        plan, lp, ent = tagged.planning, np.array(rec["logprobs"]), np.array(rec["entropies"])
        assert row["ppl_planning"] == pytest.approx(class_perplexity(lp, plan))
        assert row["ppl_execution"] == pytest.approx(class_perplexity(lp, ~plan))
        assert row["entropy_planning"] == pytest.approx(class_mean(ent, plan))
        fork = top_fraction_mask(ent, np.array([len(ent)]), 0.3)
        a, b = fork_overlap(plan, fork)
        assert row["planning_high_entropy_frac"] == pytest.approx(a)
        assert row["high_entropy_planning_frac"] == pytest.approx(b)
    all_tagged = tagger.tag_texts([t for _, _, t, _ in TEXTS])
    n0 = sum(len(t.token_ids) for t in all_tagged[:2])
    assert rows[0]["n_tokens"] == n0 and rows[0]["mean_length"] == n0 / 2
    assert rows[0]["planning_ratio"] == pytest.approx(sum(t.planning.sum() for t in all_tagged[:2]) / n0)
    assert rows[0]["rel_ppl_planning"] == 1.0
    assert rows[1]["rel_ppl_execution"] == pytest.approx(rows[1]["ppl_execution"] / rows[0]["ppl_execution"])


def test_buckets_and_batch_size_do_not_change_pooled_values(tiny_run, tiny_lexicon):
    path, _, _ = tiny_run
    one = analyze_run(path, AnalysisConfig(lexicon=tiny_lexicon, tokenizer="smollm2", batch_size=1)).rows
    many = analyze_run(path, AnalysisConfig(lexicon=tiny_lexicon, tokenizer="smollm2")).rows
    for a, b in zip(one, many):
        assert a.keys() == b.keys() and all(a[k] == pytest.approx(b[k], nan_ok=True) for k in a)
    merged = analyze_run(path, AnalysisConfig(lexicon=tiny_lexicon, tokenizer="smollm2", bucket=2)).rows
    assert len(merged) == 1 and merged[0]["n_completions"] == 4 and merged[0]["accuracy"] == 0.75
    p = np.array([2, 2, 1]) / 5  # let me ×2, wait ×2, so ×1
    assert merged[0]["semantic_entropy"] == pytest.approx(float(-(p * np.log(p)).sum()))


def test_ablation_equals_analysis_with_the_kept_grams(tiny_run, tmp_path):
    path, _, _ = tiny_run
    two = tmp_path / "two.txt"
    two.write_text("wait\nlet me\n", encoding="utf-8")
    res = analyze_run(path, AnalysisConfig(lexicon=str(two), tokenizer="smollm2", lexicon_ablation=0.5, seeds=2))
    assert len(res.ablation) == 2 * len(res.rows)
    for seed in range(2):
        kept = ablated_grams(("wait", "let me"), 0.5, seed)
        assert len(kept) == 1
        single = tmp_path / f"kept{seed}.txt"
        single.write_text("\n".join(kept) + "\n", encoding="utf-8")
        ref = analyze_run(path, AnalysisConfig(lexicon=str(single), tokenizer="smollm2")).rows
        got = [r for r in res.ablation if r["seed"] == seed]
        for g, r in zip(got, ref):
            for c in LEXICON_COLUMNS:
                assert g[c] == pytest.approx(r[c], nan_ok=True), (seed, c)
    for b in res.band:
        if b["mean"] == b["mean"]:
            assert b["min"] <= b["mean"] + 1e-12 and b["mean"] <= b["max"] + 1e-12


def test_ablation_without_dropped_grams_reproduces_the_full_lexicon(synthetic_runs, paper_tagger):
    cfg = AnalysisConfig(lexicon="paper", tokenizer="smollm2", lexicon_ablation=0.001, seeds=1)  # drops 0 grams
    res = analyze_run(synthetic_runs[0], cfg)
    assert res.rows and len(res.ablation) == len(res.rows)
    for row, abl in zip(res.rows, res.ablation):
        for c in LEXICON_COLUMNS:
            assert abl[c] == pytest.approx(row[c], nan_ok=True), c


def test_ablated_grams_drops_exact_fraction():
    grams = tuple(f"g{i}" for i in range(10))
    kept = ablated_grams(grams, 0.3, 4)
    assert len(kept) == 7 and kept == ablated_grams(grams, 0.3, 4) and kept != ablated_grams(grams, 0.3, 5)


def test_text_only_rollouts_have_documented_empty_columns(tmp_path, tiny_lexicon):
    path = tmp_path / "texts.jsonl"
    path.write_text("".join(json.dumps({"step": s, "prompt_id": p, "completion": t, "reward": r}) + "\n"
                            for s, p, t, r in TEXTS), encoding="utf-8")
    res = analyze_run(path, AnalysisConfig(lexicon=tiny_lexicon, tokenizer="smollm2"))
    assert all(math.isnan(r["ppl_planning"]) and math.isnan(r["entropy_execution"]) for r in res.rows)
    assert res.rows[0]["semantic_entropy"] == pytest.approx(math.log(3))
    assert any("hicra score" in n for n in res.notes)


def test_lexicon_that_matches_nothing(tmp_path, tiny_run):
    path, _, _ = tiny_run
    lex = tmp_path / "none.txt"
    lex.write_text("zebra crossing\n", encoding="utf-8")
    res = analyze_run(path, AnalysisConfig(lexicon=str(lex), tokenizer="smollm2"))
    assert all(r["planning_ratio"] == 0 and math.isnan(r["semantic_entropy"]) and math.isnan(r["ppl_planning"])
               for r in res.rows)
    assert any("matched no token" in n for n in res.notes)


def test_empty_file_gives_header_only_outputs(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n", encoding="utf-8")
    res = analyze_run(path, AnalysisConfig(tokenizer="smollm2"))
    assert res.rows == [] and "no rollout records" in res.notes[0]
    files = write_analysis(res, tmp_path / "out")
    assert (tmp_path / "out" / "metrics.csv").read_text().startswith("step,n_completions")
    assert json.loads((tmp_path / "out" / "metrics.json").read_text())["metrics"] == []
    assert len(files) == 3


def test_analyzer_skips_empty_batches_and_empty_completions(paper_tagger):
    an = DynamicsAnalyzer(AnalysisConfig(), paper_tagger)
    an.add([])
    an.add([(1, {"step": 3, "prompt_id": "a", "completion": "", "reward": 0.0, "completion_ids": [],
                 "logprobs": [], "entropies": []})])
    (row,) = an.rows()
    assert row["step"] == 3 and row["n_tokens"] == 0 and math.isnan(row["planning_ratio"])


def test_analyze_cli_writes_bucketed_csv(synthetic_runs, tmp_path, capsys):
    import csv

    from hicra.cli import main

    out = tmp_path / "out"
    assert main(["analyze", str(synthetic_runs[0]), "--output", str(out), "--bucket", "2", "--pass-k", "1,2"]) == 0
    assert "analyzed 80 records in 3 step buckets" in capsys.readouterr().out
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert [r["step"] for r in rows] == ["0", "2", "4"] and [r["n_completions"] for r in rows] == ["32", "32", "16"]
    assert "pass_at_2" in rows[0] and "pass_at_4" not in rows[0]
    doc = json.loads((out / "metrics.json").read_text())
    assert doc["method"] == "hicra" and doc["columns"]["semantic_entropy"]["section"] == "§2.2.2"
