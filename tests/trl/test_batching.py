"""Length-grouped micro-batches: the same rows, narrower micro-batches, and the same gradient as TRL's split."""

from __future__ import annotations

import pytest
import torch
from trl.trainer.utils import split_tensor_dict

from hicra.trl.batching import exactness_problems, regroup_by_length
from hicra.trl.config import HICRAConfig
from hicra.trl.rollout_log import ROW_KEY
from hicra.trl.run import build_trainer


def _batch(lengths: list[int], width: int = 6) -> dict:
    rows = len(lengths)
    mask = (torch.arange(width).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)).long()
    return {"prompt_ids": torch.arange(rows * 3).reshape(rows, 3), "completion_ids": torch.arange(rows * width)
            .reshape(rows, width) * mask, "completion_mask": mask, "advantages": torch.randn(rows, width) * mask,
            "sequence_advantages": torch.arange(rows, dtype=torch.float), "num_items_in_batch": mask.sum(),
            "prompt_text": [f"p{i}" for i in range(rows)], "ref_per_token_logps": None}


def test_regroup_keeps_every_row_and_cuts_only_padding():
    lengths = [6, 1, 3, 2, 6, 2, 1, 4]
    batch = _batch(lengths)
    chunks = regroup_by_length(split_tensor_dict(batch, 2))
    assert [c["completion_ids"].shape[1] for c in chunks] == [2, 6]  # the short half needs 2 columns
    rows = [int(r) for c in chunks for r in c["sequence_advantages"]]
    assert sorted(rows) == list(range(8)) and [lengths[r] for r in rows] == sorted(lengths)
    for chunk in chunks:
        width = chunk["completion_ids"].shape[1]
        for i, row in enumerate(chunk["sequence_advantages"].long().tolist()):
            assert chunk["prompt_text"][i] == f"p{row}"
            assert torch.equal(chunk["prompt_ids"][i], batch["prompt_ids"][row])
            for key in ("completion_ids", "completion_mask", "advantages"):
                assert torch.equal(chunk[key][i], batch[key][row, :width])
                assert not batch["completion_mask"][row, width:].any()  # only padding was cut
        assert chunk["num_items_in_batch"] is batch["num_items_in_batch"] and chunk["ref_per_token_logps"] is None


def test_rows_whose_mask_was_zeroed_keep_their_full_width():
    batch = _batch([1, 1, 1, 1])
    batch["completion_mask"][3] = 0  # mask_truncated_completions: a truncated row keeps its tokens
    widths = [c["completion_ids"].shape[1] for c in regroup_by_length(split_tensor_dict(batch, 2))]
    assert widths == [1, 6]


@pytest.mark.parametrize("settings, problem", [
    (("bnpo", 2, 2, 1.0), "loss_type 'bnpo'"), (("dapo", 4, 2, 1.0), "steps_per_generation (4)"),
    (("dapo", 2, 2, 0.8), "top_entropy_quantile"), (("dapo", 2, 2, 1.0), None)])
def test_exactness_problems_name_the_setting(settings, problem):
    problems = exactness_problems(*settings)
    assert (problem in problems[0]) if problem else problems == []


def _gradient(trainer, chunks) -> torch.Tensor:
    trainer.model.zero_grad()
    for chunk in chunks:
        trainer.compute_loss(trainer.model, chunk).backward()
    return torch.cat([p.grad.flatten() for p in trainer.model.parameters() if p.grad is not None])


@pytest.mark.parametrize("method", ["hicra", "grpo"])
def test_regrouped_micro_batches_give_the_gradient_of_trls_split(tiny_values, method):
    trainer = build_trainer(HICRAConfig(**dict(tiny_values, method=method, gradient_accumulation_steps=2,
                                               steps_per_generation=2, log_token_stats=False)))
    trainer.model.train()
    trainer.current_gradient_accumulation_steps = 2
    torch.manual_seed(0)
    batch = trainer._generate_and_score_completions(next(iter(trainer.get_train_dataloader())))
    batch.pop(ROW_KEY, None)
    rows, width = batch["completion_ids"].shape
    lengths = torch.tensor([1 + (3 * i) % (width // 2) for i in range(rows // 2)] + [width] * (rows - rows // 2))
    batch["completion_mask"] = (torch.arange(width).unsqueeze(0) < lengths.unsqueeze(1)).long()
    batch["num_items_in_batch"] = batch["completion_mask"].sum()
    advantages = torch.linspace(-1.5, 1.5, rows)  # nonzero, different per row, so every row moves the gradient
    batch["advantages"] = advantages.unsqueeze(1) * (1 + 0.2 * batch["planning_mask"]) if method == "hicra" \
        else advantages
    trl_chunks = split_tensor_dict(batch, 2)
    ours = regroup_by_length(trl_chunks)
    assert sum(c["completion_ids"].shape[1] for c in ours) < 2 * width  # some padding really was cut
    reference, regrouped = _gradient(trainer, trl_chunks), _gradient(trainer, ours)
    assert reference.abs().max() > 0
    torch.testing.assert_close(regrouped, reference, rtol=1e-4, atol=1e-6)


def test_settings_that_would_change_the_update_keep_trls_split_and_say_so(tiny_values):
    with pytest.warns(UserWarning, match="length_grouped_micro_batches is off.*bnpo"):
        trainer = build_trainer(HICRAConfig(**dict(tiny_values, loss_type="bnpo")))
    assert not trainer._regroup
    assert build_trainer(HICRAConfig(**tiny_values))._regroup
