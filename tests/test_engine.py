"""The engine-neutral layer: tagging that tolerates undecodable ids, the step generator, the resume rule."""

from __future__ import annotations

import json

import torch

from hicra.engine.credit import step_generator, tag_rows
from hicra.engine.runlog import metrics_row, truncate_run_logs
from hicra.lexicon import load_lexicon
from hicra.tagging.tagger import PlanningTagger


def test_ids_beyond_the_tokenizer_are_execution_tokens_and_split_the_text(smollm2_tokenizer):
    tagger = PlanningTagger(load_lexicon("paper"), smollm2_tokenizer)
    ids = smollm2_tokenizer("So 7. But wait, let me check.", add_special_tokens=False)["input_ids"]
    bad = len(smollm2_tokenizer) + 7
    plain = tag_rows(tagger, [ids])
    assert plain.planning[0].tolist() == tagger.tag_ids([ids])[0].planning.tolist() and plain.grams[0]
    split = tag_rows(tagger, [ids[:3] + [bad] + ids[3:], [bad]])
    assert split.planning[0].tolist() == tagger.tag_ids([ids[:3]])[0].planning.tolist() + [False] + \
        tagger.tag_ids([ids[3:]])[0].planning.tolist()
    assert split.planning[1].tolist() == [False] and split.grams[1] == []
    assert split.mask(12).shape == (2, 12)


def test_step_generator_depends_only_on_seed_batch_and_process():
    def draw(*key):
        return torch.rand(4, generator=step_generator(*key))

    assert torch.equal(draw(7, 3), draw(7, 3, 0))
    assert not torch.equal(draw(7, 3), draw(7, 4)) and not torch.equal(draw(7, 3), draw(8, 3))
    assert not torch.equal(draw(7, 3, 0), draw(7, 3, 1))


def test_resume_keeps_rollouts_before_and_metrics_up_to_the_checkpoint(tmp_path):
    (tmp_path / "rollouts.jsonl").write_text("".join(json.dumps({"step": s}) + "\n" for s in (0, 0, 1, 2, 2))
                                             + '{"step": 3, "compl', encoding="utf-8")
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(metrics_row(s, {"x": float("nan")})) + "\n"
                                                    for s in (1, 2, 3)), encoding="utf-8")
    assert truncate_run_logs(tmp_path, 2) == (2, 1)  # the torn line is cut first, not counted
    assert [json.loads(x)["step"] for x in (tmp_path / "rollouts.jsonl").read_text().splitlines()] == [0, 0, 1]
    rows = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert rows == [{"step": 1, "x": None}, {"step": 2, "x": None}]
    assert truncate_run_logs(tmp_path / "missing", 2) == (0, 0)
