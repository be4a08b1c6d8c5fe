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
- With ``length_grouped_micro_batches`` (default) the buffered slices are re-split by completion length and cut to
  their longest completion (:mod:`hicra.trl.batching`): rows keep all their keys, and the settings for which that
  would change the update (per-micro-batch normalisation, several optimizer steps per generation batch) keep TRL's
  split with a warning.
- ``grpo`` and ``entropy_reg`` leave the parent's 1-D advantages untouched; ``entropy_reg`` uses TRL's own
  ``entropy_coef`` term (see :mod:`hicra.trl.config`).

Side outputs (main process only): ``rollouts.jsonl`` (schema in :mod:`hicra.records`), ``metrics.jsonl`` (keys in
:mod:`hicra.trl.metrics`), both appended with fsync.

Token statistics without an extra forward: the sampling policy's per-token log-probs and entropies of the rollout
log come from passes TRL does anyway. When TRL runs its old-policy pass (``num_iterations > 1``, generation not
aligned with optimizer steps, vLLM importance sampling) they are that pass's output (its fused LM head computes the
entropy in any case); otherwise they come from the loss pass, whose policy is still the sampling policy, slice by
slice: each row carries its index (:data:`hicra.trl.rollout_log.ROW_KEY`) through TRL's shuffle and split, and a
generation batch's records and metrics are written once all its rows have been seen. Only ``hicra_entropy`` without
an old-policy pass keeps one no-grad forward of the generation batch, because its gate needs entropies before the
loss. Rollout ``group_id`` is ``"{generation batch}-{group}"``, the batch index counted over the whole run from the
trainer state, so it is unique per prompt group and the same after ``--resume``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch
from accelerate.utils import gather_object
from trl import GRPOTrainer

from hicra.core import entropy_gated_mask, hicra_advantages, long_correct_sequences
from hicra.generation import fast_generate
from hicra.lexicon import load_lexicon
from hicra.records import ROLLOUT_SCHEMA, append_jsonl
from hicra.rewards import AnswerReward
from hicra.tagging.tagger import PlanningTagger
from hicra.trl.batching import completion_lengths, exactness_problems, regroup_by_length
from hicra.trl.metrics import batch_grams, outcome_metrics, sg_metrics, token_metrics, token_sums
from hicra.trl.rollout_log import ROW_KEY, PendingBatch


class HICRATrainer(GRPOTrainer):
    """``GRPOTrainer`` whose advantages follow ``args.method`` (an :class:`~hicra.trl.config.HICRAConfig`)."""

    def __init__(self, *args: Any, tagger: PlanningTagger | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.tagger = tagger or PlanningTagger(load_lexicon(self.args.lexicon), self.processing_class)
        self.run_dir = Path(self.args.output_dir)
        self._gathered_rewards: torch.Tensor | None = None
        self._pending: PendingBatch | None = None
        self._capture: str | None = None  # "old": next call is TRL's old-policy pass; "loss": the loss pass
        self._captured: tuple[torch.Tensor, torch.Tensor] | None = None
        self._regrouped: list[dict[str, Any]] | None = None  # the buffered micro-batches already regrouped
        self._regroup = self.args.length_grouped_micro_batches
        problems = exactness_problems(self.args.loss_type, self.args.steps_per_generation,
                                      self.args.gradient_accumulation_steps, self.args.top_entropy_quantile)
        if self._regroup and problems:
            self._regroup = False
            warnings.warn(f"length_grouped_micro_batches is off for this run: {'; '.join(problems)}", stacklevel=2)

    # ------------------------------------------------------------------------------------------- credit (§3)
    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        rewards_per_func = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        self._gathered_rewards = rewards_per_func  # [B_all, n_funcs], gathered over processes by the parent
        return rewards_per_func

    def _generate_and_score_completions(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        training = self.model.training
        self._captured = None
        self._capture = "old" if training and self._old_pass_runs() else None
        try:
            output = super()._generate_and_score_completions(inputs)
        finally:
            self._capture = None
        ids, mask = output["completion_ids"], output["completion_mask"]
        lengths = self._lengths(ids, mask)
        real = torch.arange(ids.shape[1], device=ids.device).unsqueeze(0) < lengths.unsqueeze(1)  # [B, T]
        tagged = self.tagger.tag_ids([row[:n] for row, n in zip(ids.tolist(), lengths.tolist())])
        planning = torch.zeros_like(real)
        for i, t in enumerate(tagged):
            planning[i, : len(t.planning)] = torch.as_tensor(t.planning, device=ids.device)

        stats = self._captured
        if stats is None and self.args.method == "hicra_entropy":
            stats = self._token_stats(output)  # the gate needs entropies before the loss: one extra forward
        self._captured = None
        correct, rewards = self._outcomes(len(inputs), ids.device)
        group_ids = self._group_ids(len(inputs))
        credit = self._credit_mask(planning, real, stats, correct, lengths, group_ids)

        seq_adv = output["advantages"]  # [B] GRPO Â of the local slice (rewards gathered over processes)
        if credit is not None:
            output["advantages"] = hicra_advantages(seq_adv, credit, self.args.hicra_alpha)  # Â + α|Â|, §3
        output["sequence_advantages"] = seq_adv
        output["planning_mask"] = planning

        if training:
            self._flush()  # a batch left incomplete (never the case in TRL's loop) is written as it is
            self._pending = self._pending_batch(inputs, output, real, planning, credit, stats, correct, rewards,
                                                lengths, group_ids, tagged)
            if self._pending.complete or not self.args.log_token_stats:
                self._flush()
            else:
                output[ROW_KEY] = torch.arange(len(inputs), device=ids.device)
        return output

    def _prepare_inputs(self, generation_batch):
        """TRL's micro-batch, taken from micro-batches of similar completion length (``hicra.trl.batching``)."""
        inputs = super()._prepare_inputs(generation_batch)
        buffered = self._buffered_inputs
        if not (self._regroup and self.model.training and buffered) or buffered is self._regrouped:
            return inputs
        self._buffered_inputs = self._regrouped = regroup_by_length(buffered)  # once per new generation batch
        return self._regrouped[self._step % self.args.steps_per_generation]

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

    # ------------------------------------------------------------------------------------------- generation
    def _generate_single_turn(self, *args, **kwargs):
        """TRL's transformers generation, its ``model.generate`` call served by :mod:`hicra.generation` under
        ``fast_generation`` (TRL's padding, unwrapping and EOS masking stay as they are)."""
        if not self.args.fast_generation or self.use_vllm or self.use_transformers_continuous_batching:
            return super()._generate_single_turn(*args, **kwargs)
        with fast_generate(self.accelerator.unwrap_model(self.model)):
            return super()._generate_single_turn(*args, **kwargs)

    # ----------------------------------------------------------------------- token statistics without a pass
    def _old_pass_runs(self) -> bool:
        """Whether TRL's ``_generate_and_score_completions`` computes old-policy log-probs (its own condition)."""
        generate_every = self.args.steps_per_generation * self.num_iterations
        return (self.args.gradient_accumulation_steps % generate_every != 0
                or bool(self.use_vllm and self.vllm_importance_sampling_correction))

    def _get_per_token_logps_and_entropies(self, model, *args, compute_entropy=False, **kwargs):
        """TRL's forward; keeps a detached copy of the statistics of the old-policy pass and of the loss pass.

        TRL's fused LM head computes the entropy on every forward of the policy anyway, so asking for it on the
        old-policy pass costs nothing extra.
        """
        capture, self._capture = self._capture, None  # only the first call after arming (the old pass comes first)
        logps, entropies, aux = super()._get_per_token_logps_and_entropies(
            model, *args, compute_entropy=compute_entropy or capture is not None, **kwargs)
        if capture is not None:
            self._captured = (logps.detach().float(), entropies.detach().float())
        return logps, entropies if compute_entropy else None, aux

    def _compute_loss(self, model, inputs):
        pending, rows = self._pending, inputs.get(ROW_KEY)
        if pending is None or rows is None or pending.complete or not self.model.training:
            return super()._compute_loss(model, inputs)
        # the loss pass runs the sampling policy (no optimizer step since generation, or TRL would have run the
        # old-policy pass): its log-probs and entropies are the rollout log's
        self._capture, self._captured = "loss", None
        try:
            loss = super()._compute_loss(model, inputs)
        finally:
            self._capture = None
        if self._captured is not None:
            pending.fill(rows, *self._captured)
            self._captured = None
        if pending.complete:
            self._flush()
        return loss

    @torch.no_grad()
    def _token_stats(self, output: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        """Sampling-policy [B, T] token log-probs and entropies (one no-grad forward of the generation batch).

        Only ``hicra_entropy`` needs this, and only when TRL runs no old-policy pass: its gate selects tokens by
        entropy before the loss pass (cost: one forward of the generation batch, ≈ a third of a training step).
        """
        input_ids = torch.cat([output["prompt_ids"], output["completion_ids"]], dim=1)
        attention = torch.cat([output["prompt_mask"], torch.ones_like(output["completion_mask"])], dim=1)
        logps, entropies, _ = self._get_per_token_logps_and_entropies(
            self.model, input_ids, attention, output["completion_ids"].size(1),
            batch_size=self.args.per_device_train_batch_size, compute_entropy=True)
        return logps.float(), entropies.float()

    # -------------------------------------------------------------------------------------------- helpers
    def _process_slice(self, local: int) -> slice:
        start = self.accelerator.process_index * local
        return slice(start, start + local)

    def _lengths(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """[B] real completion lengths (EOS included); rows zeroed by ``mask_truncated_completions`` are full length."""
        return completion_lengths(mask, min(ids.shape[1], self.max_completion_length))

    def _group_ids(self, local: int) -> torch.Tensor:
        """[B] global index of each local sample's prompt group (groups are consecutive in the gathered batch)."""
        start = self.accelerator.process_index * local
        return (torch.arange(start, start + local) // self.num_generations).to(self.accelerator.device)

    def _generation_index(self) -> int:
        """Index of the current generation batch in the whole run, derived from the trainer state (so it survives
        ``--resume``): micro-steps done so far ÷ micro-steps per generation batch."""
        accumulation = self.args.gradient_accumulation_steps
        micro = self.state.global_step * accumulation + self._step % accumulation
        return micro // (self.args.steps_per_generation * self.num_iterations)

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

    # ----------------------------------------------------------------------------------------- side outputs
    def _pending_batch(self, inputs, output, real, planning, credit, stats, correct, rewards, lengths, group_ids,
                       tagged) -> PendingBatch:
        """The batch's rollout records (statistics still missing unless ``stats``) and what its metrics need."""
        step, batch = self.state.global_step, self._generation_index()
        decode = self.processing_class.batch_decode
        prompt_ids, prompt_mask, ids = output["prompt_ids"], output["prompt_mask"], output["completion_ids"]
        n = lengths.tolist()
        completion_ids = [row[:k] for row, k in zip(ids.tolist(), n)]
        prompts = decode([row[m.bool()].tolist() for row, m in zip(prompt_ids, prompt_mask)])
        completions = decode(completion_ids, skip_special_tokens=True)
        planning_rows = planning.int().tolist()
        groups, flags, totals = group_ids.tolist(), correct.tolist(), rewards.tolist()
        records = [{"schema": ROLLOUT_SCHEMA, "step": step, "prompt_id": str(x.get("prompt_id", "")),
                    "group_id": f"{batch}-{groups[i]}", "prompt": prompts[i], "completion": completions[i],
                    "completion_ids": completion_ids[i], "logprobs": [], "entropies": [],
                    "planning": planning_rows[i][: n[i]], "reward": float(totals[i]), "correct": bool(flags[i]),
                    "answer": str(x.get("answer", "")), "task": str(x.get("task", ""))}
                   for i, x in enumerate(inputs)]
        grams = batch_grams(tagged)
        with_stats = stats is not None and self.args.log_token_stats
        return PendingBatch(records, n, real, planning, credit if credit is not None else torch.zeros_like(real),
                            output["advantages"], grams, stats[0] if with_stats else None,
                            stats[1] if with_stats else None)

    def _flush(self) -> None:
        """Metrics of the pending batch into this step's log and its records into ``rollouts.jsonl``."""
        pending, self._pending = self._pending, None
        if pending is None:
            return
        with_stats = pending.logps is not None
        sums = token_sums(pending.real, pending.planning, pending.credit, pending.advantages,
                          pending.entropies if with_stats else None, pending.logps if with_stats else None)
        sums = self.accelerator.reduce(sums, reduction="sum")
        records = gather_object(pending.finished_records(with_stats))
        grams = gather_object(pending.grams)
        metrics = outcome_metrics([r["reward"] for r in records], [r["correct"] for r in records],
                                  [r["group_id"] for r in records], [len(r["completion_ids"]) for r in records])
        metrics.update(token_metrics(sums, with_stats))
        metrics.update(sg_metrics(grams))
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
