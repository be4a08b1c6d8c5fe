"""``hicra mine`` end to end through the real CLI: pipeline, YAML config, LLM stage, review round trip, ablation."""

import csv
import json

import pytest

from hicra.cli import main
from hicra.lexicon import load_lexicon
from hicra.mining.pipeline import sidecar_path

from mining_llm_server import fake_label


def mine(*args):
    return main(["mine", *map(str, args), "--no-progress"])


def test_mine_math500_offline_with_minilm(math500_path, tmp_path, capsys):
    out = tmp_path / "math500.json"
    assert mine("--rollouts", math500_path, "--output", out, "--review-csv", tmp_path / "review.csv") == 0
    printed = capsys.readouterr().out
    assert "stage counts" in printed and "grams in lexicon" in printed
    lex = load_lexicon(out)
    assert lex.name == "mined" and 20 <= len(lex) <= 600
    assert all(3 <= len(g.split()) <= 5 for g in lex.grams)
    meta = lex.metadata[lex.grams[0]]
    assert meta["source"] == "mined" and meta["cluster"] == 0 and 0 < meta["df"] <= meta["cluster_df"] <= 1
    # the signature holds for every kept concept (group-first order), not necessarily for each member
    assert all(lex.metadata[g]["cluster_df"] * 500 >= 5 and lex.metadata[g]["cluster_mean_count"] <= 1.5
               for g in lex.grams)
    assert "test.jsonl" in lex.source and "500 successful solutions" in lex.source
    side = json.loads(sidecar_path(out).read_text())
    counts = {c["what"]: c["count"] for c in side["counts"]}
    assert counts["solutions mined"] == 500 and counts["grams in lexicon"] == len(lex)
    assert side["config"]["embedder"] == "minilm"
    with (tmp_path / "review.csv").open(encoding="utf-8") as f:
        assert [r["gram"] for r in csv.DictReader(f)] == list(lex.grams)


def test_bare_mine_run_action_and_yaml_config_agree(math500_path, tmp_path):
    (tmp_path / "mine.yaml").write_text("embedder: tfidf\nmin_df: 0.02\nname: yaml-run\n", encoding="utf-8")
    assert mine("--rollouts", math500_path, "--output", tmp_path / "a.json", "--embedder", "tfidf",
                "--min-df", "0.02", "--name", "yaml-run") == 0
    assert main(["mine", "run", "--config", str(tmp_path / "mine.yaml"), "--rollouts", str(math500_path),
                 "--output", str(tmp_path / "b.json"), "--no-progress"]) == 0
    a, b = load_lexicon(tmp_path / "a.json"), load_lexicon(tmp_path / "b.json")
    assert a.grams == b.grams and a.name == b.name == "yaml-run"
    assert all(a.metadata[g]["cluster_df"] >= 0.02 for g in a.grams)
    assert mine("--rollouts", math500_path, "--output", tmp_path / "c.json", "--embedder", "tfidf",
                "--min-df", "0.02", "--signature-order", "ngram") == 0
    c = load_lexicon(tmp_path / "c.json")
    assert all(c.metadata[g]["df_count"] >= 10 for g in c.grams)  # the old order tests each n-gram


def test_merge_paper_is_explicit(math500_path, tmp_path):
    assert mine("--rollouts", math500_path, "--output", tmp_path / "m.json", "--embedder", "tfidf",
                "--merge-paper") == 0
    lex, paper = load_lexicon(tmp_path / "m.json"), load_lexicon("paper")
    assert set(paper.grams) <= set(lex.grams)
    assert lex.metadata["but wait"] == {"source": "paper"}
    assert "merged with the paper" in lex.source
    mined_only = [g for g in lex.grams if lex.metadata[g]["source"] == "mined"]
    assert mined_only and lex.grams[:len(mined_only)] == tuple(mined_only)


def test_llm_annotation_stage_through_the_cli(math500_path, tmp_path, llm_server, capsys):
    args = ["--rollouts", math500_path, "--output", tmp_path / "l.json", "--embedder", "tfidf",
            "--llm-base-url", llm_server.url, "--llm-model", "m", "--llm-batch-size", "8", "--drop-procedural"]
    assert mine(*args) == 0
    lex = load_lexicon(tmp_path / "l.json")
    assert lex.grams and all(lex.metadata[g]["llm_label"] == "strategic" == fake_label(g) for g in lex.grams)
    cache = tmp_path / "l.annotations.jsonl"
    n_asked = len(llm_server.asked)
    assert n_asked == len(cache.read_text().splitlines()) > len(lex)  # procedural grams were dropped
    assert mine(*args) == 0 and len(llm_server.asked) == n_asked  # rerun: every label from the cache
    assert "from cache" in capsys.readouterr().out


def test_review_round_trip_and_ablation(math500_path, tmp_path, capsys):
    assert mine("--rollouts", math500_path, "--output", tmp_path / "m.json", "--embedder", "tfidf") == 0
    assert main(["mine", "review-export", str(tmp_path / "m.json"), "--rollouts", str(math500_path),
                 "--output", str(tmp_path / "r.csv")]) == 0
    with (tmp_path / "r.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert all(r["examples"] for r in rows)
    for i, row in enumerate(rows):
        row["human_label"] = "procedural" if i % 4 == 0 else "strategic"
    with (tmp_path / "r.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert main(["mine", "review-import", str(tmp_path / "m.json"), str(tmp_path / "r.csv"),
                 "--output", str(tmp_path / "reviewed.json")]) == 0
    assert "accepted (strategic)" in capsys.readouterr().out
    reviewed = load_lexicon(tmp_path / "reviewed.json")
    assert len(reviewed) == len(rows) - len(rows[::4])

    assert main(["mine", "ablate", str(tmp_path / "reviewed.json"), "--drop", "0.3", "--seeds", "5",
                 "--output", str(tmp_path / "abl")]) == 0
    manifest = json.loads((tmp_path / "abl" / "ablation.json").read_text())
    variants = [load_lexicon(tmp_path / "abl" / v["file"]) for v in manifest["variants"]]
    assert len(variants) == 5
    k = round(0.3 * len(reviewed))
    assert all(len(v) == len(reviewed) - k for v in variants)
    assert len({v.grams for v in variants}) == 5  # different random subsets per seed
    assert all(set(v.grams) | set(m["dropped"]) == set(reviewed.grams)
               for v, m in zip(variants, manifest["variants"]))
    assert variants[0].metadata == {g: reviewed.metadata[g] for g in variants[0].grams}


def test_ablation_is_deterministic_and_checks_its_options(tmp_path, capsys):
    for d in ("x", "y"):
        assert main(["mine", "ablate", "paper", "--seeds", "2", "--output", str(tmp_path / d)]) == 0
    assert (tmp_path / "x" / "paper.drop30.seed1.json").read_text() == \
        (tmp_path / "y" / "paper.drop30.seed1.json").read_text()
    assert len(load_lexicon(tmp_path / "x" / "paper.drop30.seed0.json")) == 249 - 75
    capsys.readouterr()
    assert main(["mine", "ablate", "paper", "--drop", "1.0", "--output", str(tmp_path / "z")]) == 1
    assert capsys.readouterr().err.strip() == "hicra mine: error: --drop must be in [0, 1), got 1.0"


@pytest.mark.parametrize("argv, message", [
    (["mine", "--rollouts", "x.jsonl"], "--output is required"),
    (["mine", "--output", "x.json"], "--rollouts is required"),
    (["mine", "--rollouts", "/no/such/dir", "--output", "x.json"], "/no/such/dir: no such file"),
])
def test_usage_errors_are_one_line(argv, message, capsys):
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("hicra mine: error:") and message in err and len(err.splitlines()) == 1
