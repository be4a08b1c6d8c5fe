"""``HICRATrainer``: TRL's ``GRPOTrainer`` with hierarchy-aware credit assignment (arXiv 2509.03646, §3).

A thin adapter. The only override that changes training is :meth:`HICRATrainer._generate_and_score_completions`: after
TRL has generated, scored and computed the GRPO advantages Â [B] of the local batch, it tags the exact completion ids
(planning mask [B, T], :class:`hicra.tagging.PlanningTagger`) and replaces ``advantages`` by the [B, T] tensor of
:func:`hicra.core.hicra_advantages` (Â + α|Â| on planning tokens). TRL's ``_compute_loss`` accepts [B, T] advantages
as they are (it unsqueezes only 1-D ones), so the PPO-clip loss, its normalisation and gradient accumulation are the
parent's, unchanged.

Why this is correct under TRL's batching:

- The advantages are computed once per generation batch, from the parent's Â (never from an already adjusted
  tensor), before TRL shuffles and splits the batch into ``steps_per_generation`` slices and reuses it for
  ``num_iterations`` passes: every key, including ``advantages`` [B, T], ``planning_mask`` [B, T] and
  ``sequence_advantages`` [B], is permuted along dim 0 together, and reuse never recomputes, so nothing compounds.
- With several processes, each one tags its own slice on its own completion ids; Â already comes from rewards
  gathered over all processes, and the entropy gate's group statistics are gathered too.
- ``grpo`` and ``entropy_reg`` leave the parent's 1-D advantages untouched; ``entropy_reg`` uses TRL's own
  ``entropy_coef`` term (see :mod:`hicra.trl.config`).

Side outputs (main process only): ``rollouts.jsonl`` (schema in :mod:`hicra.records`), ``metrics.jsonl`` (keys in
:mod:`hicra.trl.metrics`), both appended with fsync.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from accelerate.utils import gather_object
from trl import GRPOTrainer

from hicra.core import entropy_gated_mask, hicra_advantages, long_correct_sequences
from hicra.lexicon import load_lexicon
from hicra.records import ROLLOUT_SCHEMA, append_jsonl
from hicra.rewards import AnswerReward
from hicra.tagging.tagger import PlanningTagger
from hicra.trl.metrics import outcome_metrics, semantic_entropy, token_metrics, token_sums

_DIGITS = 5  # decimals kept for per-token floats in the rollout log


class HICRATrainer(GRPOTrainer):
    """``GRPOTrainer`` whose advantages follow ``args.method`` (an :class:`~hicra.trl.config.HICRAConfig`)."""

    def __init__(self, *args: Any, tagger: PlanningTagger | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.tagger = tagger or PlanningTagger(load_lexicon(self.args.lexicon), self.processing_class)
        self.run_dir = Path(self.args.output_dir)
        self._gathered_rewards: torch.Tensor | None = None

    # ------------------------------------------------------------------------------------------- credit (§3)
    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        rewards_per_func = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        self._gathered_rewards = rewards_per_func  # [B_all, n_funcs], gathered over processes by the parent
        return rewards_per_func

    def _generate_and_score_completions(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        output = super()._generate_and_score_completions(inputs)
        ids, mask = output["completion_ids"], output["completion_mask"]
        lengths = self._lengths(ids, mask)
        real = torch.arange(ids.shape[1], device=ids.device).unsqueeze(0) < lengths.unsqueeze(1)  # [B, T]
        tagged = self.tagger.tag_ids([row[:n].tolist() for row, n in zip(ids.cpu(), lengths.tolist())])
        planning = torch.zeros_like(real)
        for i, t in enumerate(tagged):
            planning[i, : len(t.planning)] = torch.as_tensor(t.planning, device=ids.device)

        stats = self._token_stats(output) if self.args.needs_token_stats else None
        correct, rewards = self._outcomes(len(inputs), ids.device)
        group_ids = self._group_ids(len(inputs))
        credit = self._credit_mask(planning, real, stats, correct, lengths, group_ids)

        seq_adv = output["advantages"]  # [B] GRPO Â of the local slice (rewards gathered over processes)
        if credit is not None:
            output["advantages"] = hicra_advantages(seq_adv, credit, self.args.hicra_alpha)  # Â + α|Â|, §3
        output["sequence_advantages"] = seq_adv
        output["planning_mask"] = planning

        if self.model.training:
            self._record(inputs, output, real, planning, credit, stats, correct, rewards, lengths, group_ids, tagged)
        return output

    def _credit_mask(self, planning, real, stats, correct, lengths, group_ids) -> torch.Tensor | None:
        """[B, T] bool tokens that get α|Â|, or ``None`` (grpo, entropy_reg: Â everywhere)."""
        method = self.args.method
        if method == "hicra":
            return planning & real
        if method == "hicra_entropy":
            eligible = None
            if self.args.entropy_gate_long_correct:
                # the group mean length may span processes: decide on the gathered batch, keep the local slice
                g_correct, g_len = self.accelerator.gather(correct), self.accelerator.gather(lengths)
                g_group = self.accelerator.gather(group_ids)
                eligible = long_correct_sequences(g_correct, g_len, g_group)[self._process_slice(len(correct))]
            return entropy_gated_mask(stats[1], real, self.args.entropy_top_q, eligible)
        return None

    # -------------------------------------------------------------------------------------------- helpers
    def _process_slice(self, local: int) -> slice:
        start = self.accelerator.process_index * local
        return slice(start, start + local)

    def _lengths(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """[B] real completion lengths (EOS included); rows zeroed by ``mask_truncated_completions`` are full length."""
        n = mask.sum(dim=1)
        return torch.where(n > 0, n, torch.full_like(n, min(ids.shape[1], self.max_completion_length)))

    def _group_ids(self, local: int) -> torch.Tensor:
        """[B] global index of each local sample's prompt group (groups are consecutive in the gathered batch)."""
        start = self.accelerator.process_index * local
        return (torch.arange(start, start + local) // self.num_generations).to(self.accelerator.device)

    def _outcomes(self, local: int, device) -> tuple[torch.Tensor, torch.Tensor]:
        """[B] strict correctness (from :class:`AnswerReward`, else False) and [B] total reward of the local slice."""
        rewards = torch.zeros(local, device=device)
        if self._gathered_rewards is not None:
            weights = self.reward_weights.to(device).unsqueeze(0)
            rewards = (self._gathered_rewards.to(device) * weights).nansum(dim=1)[self._process_slice(local)]
        scorer = next((f for f in self.reward_funcs if isinstance(f, AnswerReward)), None)
        known = scorer is not None and len(scorer.last) == local
        flags = [s.correct for s in scorer.last] if known else [False] * local
        return torch.tensor(flags, device=device), rewards

    @torch.no_grad()
    def _token_stats(self, output: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        """Sampling-policy [B, T] token log-probs and entropies (one no-grad forward of the generation batch)."""
        input_ids = torch.cat([output["prompt_ids"], output["completion_ids"]], dim=1)
        attention = torch.cat([output["prompt_mask"], torch.ones_like(output["completion_mask"])], dim=1)
        logps, entropies, _ = self._get_per_token_logps_and_entropies(
            self.model, input_ids, attention, output["completion_ids"].size(1),
            batch_size=self.args.per_device_train_batch_size, compute_entropy=True)
        return logps.float(), entropies.float()

    # ----------------------------------------------------------------------------------------- side outputs
    def _record(self, inputs, output, real, planning, credit, stats, correct, rewards, lengths, group_ids, tagged):
        step = self.state.global_step
        adv = output["advantages"]
        sums = token_sums(real, planning, credit if credit is not None else torch.zeros_like(real), adv,
                          None if stats is None else stats[1], None if stats is None else stats[0])
        sums = self.accelerator.reduce(sums, reduction="sum")
        records = []
        prompt_ids, prompt_mask, ids = output["prompt_ids"], output["prompt_mask"], output["completion_ids"]
        for i, x in enumerate(inputs):
            n = int(lengths[i])
            rec = {"schema": ROLLOUT_SCHEMA, "step": step, "prompt_id": str(x.get("prompt_id", "")),
                   "group_id": f"{step}-{int(group_ids[i])}",
                   "prompt": self.processing_class.decode(prompt_ids[i][prompt_mask[i].bool()].tolist()),
                   "completion": self.processing_class.decode(ids[i, :n].tolist(), skip_special_tokens=True),
                   "completion_ids": ids[i, :n].tolist(),
                   "logprobs": [] if stats is None else [round(v, _DIGITS) for v in stats[0][i, :n].tolist()],
                   "entropies": [] if stats is None else [round(v, _DIGITS) for v in stats[1][i, :n].tolist()],
                   "planning": planning[i, :n].int().tolist(), "reward": float(rewards[i]), "correct": bool(correct[i]),
                   "answer": str(x.get("answer", "")), "task": str(x.get("task", ""))}
            records.append(rec)
        grams = gather_object([o.gram for t in tagged for o in t.spans])
        records = gather_object(records)
        metrics = outcome_metrics([r["reward"] for r in records], [r["correct"] for r in records],
                                  [r["group_id"] for r in records], [len(r["completion_ids"]) for r in records])
        metrics.update(token_metrics(sums, stats is not None))
        metrics["hicra/semantic_entropy"] = semantic_entropy(grams)
        metrics["hicra/sg_count"] = float(len(grams))
        for key, value in metrics.items():
            self._metrics["train"][key].append(value)
        if self.accelerator.is_main_process:
            append_jsonl(self.run_dir / "rollouts.jsonl", records)

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        super().log(logs, start_time)  # adds the averaged metrics of this logging window to ``logs``
        if self.accelerator.is_main_process and self.model.training and "train_runtime" not in logs:
            row = {"step": self.state.global_step}
            row.update({k: (None if isinstance(v, float) and v != v else v) for k, v in logs.items()})
            append_jsonl(self.run_dir / "metrics.jsonl", [row])
