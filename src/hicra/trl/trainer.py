"""``HICRATrainer``: TRL's ``GRPOTrainer`` with hierarchy-aware credit assignment (arXiv 2509.03646, §3).

A thin adapter over the engine-neutral :mod:`hicra.engine`. The only override that changes training is
:meth:`HICRATrainer._generate_and_score_completions`: after TRL has generated, scored and computed the GRPO advantages
Â [B] of the local batch, it tags the exact completion ids (planning mask [B, T], :func:`hicra.engine.credit.tag_rows`)
and replaces ``advantages`` by the [B, T] credit of the registered method (:mod:`hicra.core.registry`; Â + α|Â| on
planning tokens for ``hicra``). TRL's ``_compute_loss`` accepts [B, T] advantages
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
- The random controls draw from :func:`hicra.engine.credit.step_generator` of ``args.seed``, the generation-batch
  index and the process, so ``--resume`` draws the same tokens.
- ``grpo`` and ``entropy_reg`` leave the parent's 1-D advantages untouched; ``entropy_reg`` uses TRL's own
  ``entropy_coef`` term (see :mod:`hicra.trl.config`).

Side outputs (main process only): ``rollouts.jsonl`` (schema in :mod:`hicra.records`), ``metrics.jsonl`` (keys in
:mod:`hicra.engine.metrics`, including every reward function's ``step_metrics`` hook), both appended with fsync.

Token statistics without an extra forward: the sampling policy's per-token log-probs and entropies of the rollout
log come from passes TRL does anyway. When TRL runs its old-policy pass (``num_iterations > 1``, generation not
aligned with optimizer steps, vLLM importance sampling) they are that pass's output (its fused LM head computes the
entropy in any case); otherwise they come from the loss pass, whose policy is still the sampling policy, slice by
slice: each row carries its index (:data:`hicra.trl.rollout_log.ROW_KEY`) through TRL's shuffle and split, and a
generation batch's records and metrics are written once all its rows have been seen
(:class:`~hicra.trl.rollout_log.RolloutLog` holds that state). Only ``hicra_entropy`` without
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

from hicra.core import CreditInputs, get_credit_method, long_correct_sequences
from hicra.engine.credit import step_generator, tag_rows
from hicra.engine.metrics import step_metrics
from hicra.engine.runlog import metrics_row
from hicra.generation import fast_generate
from hicra.lexicon import load_lexicon
from hicra.records import append_jsonl
from hicra.rewards import AnswerReward
from hicra.tagging.tagger import PlanningTagger
from hicra.trl.batching import completion_lengths, exactness_problems, regroup_by_length
from hicra.trl.rollout_log import ROW_KEY, PendingBatch, RolloutLog, pending_batch


class HICRATrainer(GRPOTrainer):
    """``GRPOTrainer`` whose advantages follow ``args.method`` (an :class:`~hicra.trl.config.HICRAConfig`)."""

    def __init__(self, *args: Any, tagger: PlanningTagger | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.tagger = tagger or PlanningTagger(load_lexicon(self.args.lexicon), self.processing_class)
        self.method = get_credit_method(self.args.method)
        self.run_dir = Path(self.args.output_dir)
        self.rollout_log = RolloutLog()
        self._gathered_rewards: torch.Tensor | None = None
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
        with self.rollout_log.generation(old_pass=training and self._old_pass_runs()):
            output = super()._generate_and_score_completions(inputs)
        stats = self.rollout_log.take()
        ids, mask = output["completion_ids"], output["completion_mask"]
        lengths = self._lengths(ids, mask)
        real = torch.arange(ids.shape[1], device=ids.device).unsqueeze(0) < lengths.unsqueeze(1)  # [B, T]
        tagged = tag_rows(self.tagger, [row[:n] for row, n in zip(ids.tolist(), lengths.tolist())])
        planning = tagged.mask(ids.shape[1], ids.device)

        if stats is None and self.method.needs_entropy:
            stats = self._token_stats(output)  # the gate needs entropies before the loss: one extra forward
        correct, rewards = self._outcomes(len(inputs), ids.device)
        group_ids = self._group_ids(len(inputs))
        seq_adv = output["advantages"]  # [B] GRPO Â of the local slice (rewards gathered over processes)
        output["advantages"], credit = self.method.apply(seq_adv, self._credit_inputs(
            planning, real, stats, correct, lengths, group_ids), self.args.hicra_alpha)
        output["sequence_advantages"] = seq_adv
        output["planning_mask"] = planning

        if training:
            self._flush(self.rollout_log.open(self._pending_batch(
                inputs, output, real, planning, credit, stats, correct, rewards, group_ids, tagged.grams)))
            if self.rollout_log.complete or not self.args.log_token_stats:
                self._flush(self.rollout_log.pop())
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

    def _credit_inputs(self, planning, real, stats, correct, lengths, group_ids) -> CreditInputs:
        """What the registered method reads; the entropy gate's group statistics span all processes."""
        eligible = None
        if self.method.needs_entropy and self.args.entropy_gate_long_correct:
            # the group mean length may span processes: decide on the gathered batch, keep the local slice
            g_correct, g_len = self.accelerator.gather(correct), self.accelerator.gather(lengths)
            g_group = self.accelerator.gather(group_ids)
            eligible = long_correct_sequences(g_correct, g_len, g_group)[self._process_slice(len(correct))]
        generator = step_generator(self.args.seed, self._generation_index(), self.accelerator.process_index)
        return CreditInputs(planning & real, real, None if stats is None else stats[1], eligible,
                            self.args.entropy_top_q, generator)

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
        """TRL's forward; the rollout log keeps a detached copy of the old-policy pass's and the loss pass's statistics.

        TRL's fused LM head computes the entropy on every forward of the policy anyway, so asking for it on the
        old-policy pass costs nothing extra.
        """
        logps, entropies, aux = super()._get_per_token_logps_and_entropies(
            model, *args, compute_entropy=compute_entropy or self.rollout_log.armed, **kwargs)
        self.rollout_log.observe(logps, entropies)
        return logps, entropies if compute_entropy else None, aux

    def _compute_loss(self, model, inputs):
        rows = inputs.get(ROW_KEY)
        if not (self.model.training and self.rollout_log.fills(rows)):
            return super()._compute_loss(model, inputs)
        # the loss pass runs the sampling policy (no optimizer step since generation, or TRL would have run the
        # old-policy pass): its log-probs and entropies are the rollout log's
        with self.rollout_log.loss_pass(rows):
            loss = super()._compute_loss(model, inputs)
        if self.rollout_log.complete:
            self._flush(self.rollout_log.pop())
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
    def _pending_batch(self, inputs, output, real, planning, credit, stats, correct, rewards, group_ids,
                       grams) -> PendingBatch:
        return pending_batch(self.processing_class, self.state.global_step, self._generation_index(), inputs, output,
                             real, planning, credit, stats if self.args.log_token_stats else None, correct, rewards,
                             group_ids, grams)

    def _flush(self, pending: PendingBatch | None) -> None:
        """Metrics of a generation batch into this step's log and its records into ``rollouts.jsonl``."""
        if pending is None:
            return
        sums = self.accelerator.reduce(pending.token_sums(), reduction="sum")
        records = gather_object(pending.finished_records())
        metrics = step_metrics(records, sums, gather_object(pending.grams), pending.logps is not None,
                               self.reward_funcs)
        for key, value in metrics.items():
            self._metrics["train"][key].append(value)
        if self.accelerator.is_main_process:
            append_jsonl(self.run_dir / "rollouts.jsonl", records)

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        super().log(logs, start_time)  # adds the averaged metrics of this logging window to ``logs``
        if self.accelerator.is_main_process and self.model.training and "train_runtime" not in logs:
            append_jsonl(self.run_dir / "metrics.jsonl", [metrics_row(self.state.global_step, logs)])
