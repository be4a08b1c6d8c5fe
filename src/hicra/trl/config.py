"""``HICRAConfig``: TRL's ``GRPOConfig`` plus the options of hierarchy-aware credit assignment (arXiv 2509.03646, §3).

One dataclass field per option, with its help text; ``--config FILE.yaml`` keys and ``hicra train --flags`` map 1:1
onto these fields (and onto every inherited ``GRPOConfig`` / ``TrainingArguments`` field). Defaults are sized for
the offline CPU demo (SmolLM2-135M, easy reasoning-gym arithmetic); ``configs/qwen3_4b_hicra.yaml`` is the paper-scale
GPU recipe.

Methods (``method``), all trained with the PPO clipped loss and clip-higher (``epsilon_high`` = 0.28, §4.1):

- ``grpo``: the GRPO/DAPO baseline, one advantage Â per sequence.
- ``hicra``: Â + α|Â| on planning tokens (Strategic-Gram occurrences of ``lexicon``), Â elsewhere (§3, α = 0.2).
- ``hicra_entropy``: the same bonus on entropy-gated tokens (see :mod:`hicra.core.masks`).
- ``entropy_reg``: GRPO plus a token-entropy bonus, L = L_clip − c·H̄ (the baseline of §4.1/§4.3.2). TRL 1.16's own
  loss already has this term (``entropy_coef``: mean token entropy over the loss tokens, scaled for gradient
  accumulation, the same quantity as :func:`hicra.core.entropy_bonus`), so the method only sets ``entropy_coef =
  entropy_reg_coef``; no loss code is overridden.

Deviations from the paper, each a named option: ``hicra_entropy`` (token selection by entropy, not SGs);
``planning_source`` ``oracle`` (testbed only: ground-truth planning spans, not SGs);
``format_reward`` and ``unboxed_reward`` (reward shaping for weak models, see :mod:`hicra.rewards`);
``entropy_gate_long_correct``; ``scale_rewards`` (TRL's ``"group"``: Â = (R − mean)/(std + 1e-4); the paper's §3
writes Â = R − mean, which is ``scale_rewards="none"``); ``loss_type`` (TRL's ``"dapo"`` token-level normalisation);
``lora_r`` (the CPU default trains rank-16 LoRA adapters on the frozen model; the paper and the GPU recipe train all
weights: ``lora_r`` 0); defaults of ``learning_rate``, ``num_generations``, ``max_completion_length``,
``temperature`` and ``max_steps`` sized for a 2-core CPU instead of the paper's GPU runs (§4.1).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

from trl import GRPOConfig

from hicra.config import SEED, check_fields, check_url, option
from hicra.core import CREDIT_METHODS, check_method
from hicra.data.problems import DEFAULT_DATASET, DEFAULT_TEMPLATE
from hicra.models import DEFAULT_MODEL

_PARENT = {f.name: f for f in dataclasses.fields(GRPOConfig)}
LOSS_TYPES = ("grpo", "dr_grpo", "dapo", "bnpo", "cispo", "sapo", "luspo", "vespo")  # GRPOTrainer's (TRL 1.16)




def _trl(name: str, default: Any, why: str = "", **meta: Any) -> Any:
    """An inherited TRL field redeclared: with ``why``, a new default (marked ``hicra_default`` in its metadata, so
    it is listed among hicra's settings); ``meta`` adds bounds or ``choices``. Its help stays TRL's own."""
    text = _PARENT[name].metadata.get("help", "")
    marks = {"hicra_default": why} if why else {}
    inherited = {k: v for k, v in _PARENT[name].metadata.items() if k != "help"}
    return option(default, f"{text} [hicra default: {why}]" if why else text, **{**inherited, **marks, **meta})


@dataclass
class HICRAConfig(GRPOConfig):
    # ranges of inherited TRL fields (hicra's own fields declare theirs with ge/gt/le/lt); enforced by hicra.config
    FIELD_BOUNDS: ClassVar[dict[str, dict[str, float]]] = {
        "epsilon": {"ge": 0}, "beta": {"ge": 0}, "top_p": {"gt": 0, "le": 1},
        "top_k": {"ge": 0}, "min_p": {"ge": 0, "le": 1}, "repetition_penalty": {"gt": 0},
        "num_iterations": {"ge": 1}, "steps_per_generation": {"ge": 1}, "generation_batch_size": {"ge": 1},
        "warmup_steps": {"ge": 0}, "weight_decay": {"ge": 0},
        "max_grad_norm": {"ge": 0}, "adam_beta1": {"ge": 0, "lt": 1}, "adam_beta2": {"ge": 0, "lt": 1},
        "adam_epsilon": {"ge": 0}, "num_train_epochs": {"gt": 0}, "entropy_coef": {"ge": 0},
        "seed": SEED, "data_seed": SEED,
        "vllm_gpu_memory_utilization": {"gt": 0, "le": 1}, "vllm_tensor_parallel_size": {"ge": 1},
    }

    # ------------------------------------------------------------------------------------- credit assignment (§3)
    method: str = option("hicra", "credit assignment: " + "; ".join(f"'{k}' = {m.description}"
                                                               for k, m in CREDIT_METHODS.items()),
                       choices=tuple(CREDIT_METHODS))
    hicra_alpha: float = option(0.2, "α ∈ [0, 1) of HICRA: planning-token advantage Â + α|Â| (paper: 0.2; 0 = GRPO; "
                                    "α ≥ 1 would turn negative planning advantages positive)", ge=0, lt=1)
    lexicon: str = option("paper", "Strategic-Gram lexicon for planning tokens: 'paper' (Appendix A) or a lexicon file "
                                 "(JSON or text, see `hicra tag`/`hicra mine`)")
    planning_source: str = option("lexicon", "where planning tokens come from: 'lexicon' (Strategic Grams of "
                                             "`lexicon`, §2.1) or 'oracle' (the testbed's ground-truth planning "
                                             "spans; needs a testbed:... dataset, see hicra.testbed.oracle)",
                                  choices=("lexicon", "oracle"))
    entropy_top_q: float = option(0.3, "hicra_entropy: fraction of each eligible completion's tokens (highest entropy "
                                     "first) that get the α|Â| bonus", gt=0, le=1)
    entropy_gate_long_correct: bool = option(True, "hicra_entropy: only correct completions longer than their group's "
                                                 "mean length are eligible (deviation, as the verl code)")
    entropy_reg_coef: float = option(1e-3, "entropy_reg: coefficient c of the entropy bonus L = L_clip − c·H̄ "
                                         "(sets TRL's entropy_coef)", ge=0)
    # ------------------------------------------------------------------------------------------ model and data
    model: str = option(DEFAULT_MODEL, "policy: 'smollm2' (SmolLM2-135M-Instruct, offline), a hub id or a local path")
    model_dtype: str = option("float32", "weights dtype", choices=("float32", "bfloat16", "float16"))
    dataset: str = option(DEFAULT_DATASET, "training problems: 'gym:TASK,TASK' (reasoning-gym, offline), a .jsonl/"
                                         ".parquet file with problem/answer fields, or a hub dataset id")
    dataset_size: int = option(512, "number of problems (gym: generated; files/hub: first N rows, 0 = all)", ge=0)
    dataset_seed: int = option(0, "seed of generated reasoning-gym problems (task k uses seed + k)", **SEED)
    dataset_split: str = option("train", "split of a hub dataset")
    dataset_config: str = option("", "configuration name of a hub dataset (e.g. 'main' for openai/gsm8k)")
    problem_field: str = option("", "column with the problem text ('' = the first of problem, question, Problem, "
                                    "prompt)")
    answer_field: str = option("", "column with the reference ('' = the first of answer, final_answer, Answer, "
                                   "solution)")
    gym_difficulty: int = option(0, "reasoning-gym curriculum level for every attribute of every task (0 = easiest; "
                                  "-1 = the task's plain default config)", ge=-1)
    gym_options: dict[str, dict] = option({"basic_arithmetic": {"operators": ["+", "-", "*"], "allow_negation": False,
                                                   "allow_parentheses": False}},
                             "per-task reasoning-gym config overrides, {task: {field: value}} (YAML mapping or JSON)")
    prompt_template: str = option(DEFAULT_TEMPLATE, "user message; {problem} is replaced by the problem text")
    system_prompt: str = option("", "system message ('' = the chat template's default)")
    # -------------------------------------------------------------------------------------------------- reward
    correct_reward: float = option(1.0, "reward for a correct final answer (the grader's score s ∈ [0, 1] times "
                                        "this)", ge=0)
    format_reward: float = option(0.1, "reward for a closed \\boxed{...} answer (shaping; paper: 0)", ge=0)
    unboxed_reward: float = option(0.5, "partial credit when the graded answer is wrong/missing but the last number in "
                                      "the completion equals the reference (shaping; paper: 0)", ge=0)
    grading_timeout: float = option(5.0, "seconds per answer for math-verify grading (slower answers are wrong)", gt=0,
                                    le=3600)
    # ------------------------------------------------------------------------------------------------- logging
    log_token_stats: bool = option(True, "sampling-policy token log-probs and entropies in rollouts.jsonl and the "
                                       "planning/execution metrics, taken from TRL's own forward passes (no extra "
                                       "pass; hicra_entropy without an old-policy pass does one for its gate)")
    torch_threads: int = option(0, "torch CPU threads (0 = torch's default, one per core: 1.4x faster than 1 thread "
                                 "on an idle 2-core machine, bench/train_speed.py). On a machine other jobs share, "
                                 "1 avoids threads spin-waiting on each other", ge=0)
    length_grouped_micro_batches: bool = option(True, "split each generation batch into micro-batches of similar "
                                                    "completion length and drop their all-padding columns (about a "
                                                    "fifth fewer loss-pass positions on the CPU default; same "
                                                    "gradient up to float rounding). Kept off, with a warning, when "
                                                    "it would change the update (hicra.trl.batching)")
    fast_generation: bool = option(True, "sample completions with hicra's decode loop (hicra.generation: the same "
                                         "temperature/top-k/top-p distribution as transformers' generate, with a "
                                         "cheaper exact token draw; docs/generation.md). Settings it does not "
                                         "support, vLLM and continuous batching keep TRL's generation")
    # ------------------------------------------------------------------------------------------- LoRA (peft)
    lora_r: int = option(0, "LoRA rank of trained adapters on the frozen base (peft; 0 = full fine-tuning, the "
                          "default). LoRA skips the base's weight gradients and optimizer state (less memory); on "
                          "the 2-core CPU default it is not faster (bench/train_speed.py); use a learning rate "
                          "near 1e-4 with it", ge=0)
    lora_alpha: float = option(32.0, "LoRA scaling numerator (adapter output × lora_alpha / lora_r)", gt=0)
    lora_dropout: float = option(0.0, "dropout on the LoRA input (0: no noise in the policy ratio)", ge=0, lt=1)
    lora_target_modules: str = option("all-linear", "modules that get adapters: 'all-linear' (every linear layer "
                                                  "but the LM head) or comma-separated module names")

    # ------------------------------------------------------------------------- TRL fields with hicra defaults
    learning_rate: float = _trl("learning_rate", 5e-6, "5e-6 so a 135M model moves within a CPU budget (full "
                                "fine-tuning; with LoRA use about 1e-4); paper: 1e-6", ge=0)
    epsilon_high: float = _trl("epsilon_high", 0.28, "clip-higher as in the paper (§4.1)", ge=0)
    num_generations: int = _trl("num_generations", 8, "8 samples per prompt", ge=2)
    per_device_train_batch_size: int = _trl("per_device_train_batch_size", 8, "8 completions per forward/backward",
                                           ge=1)
    gradient_accumulation_steps: int = _trl("gradient_accumulation_steps", 2, "2 micro-batches: one generation batch "
                                            "of 2 prompts × 8 samples per optimizer step, half the activation memory",
                                            ge=1)
    max_completion_length: int = _trl("max_completion_length", 96, "96 tokens on CPU; paper: 8k", ge=1)
    temperature: float = _trl("temperature", 0.7, "0.7: SmolLM2 at 1.0 rarely finishes an answer", gt=0)
    max_steps: int = _trl("max_steps", 16, "16 optimizer steps", ge=1)
    lr_scheduler_type: str = _trl("lr_scheduler_type", "constant", "constant learning rate")
    logging_steps: float = _trl("logging_steps", 1, "a metrics row every optimizer step", gt=0)
    save_steps: float = _trl("save_steps", 4, "a resumable checkpoint every 4 steps", gt=0)
    save_total_limit: int = _trl("save_total_limit", 2, "keep the last 2 checkpoints", ge=1)
    report_to: str | list[str] | None = _trl("report_to", "tensorboard", "TensorBoard event files in the run directory")
    disable_dropout: bool = _trl("disable_dropout", True, "no dropout noise in the policy ratio")
    output_dir: str | None = _trl("output_dir", None, "runs/METHOD-TIMESTAMP when unset")
    gradient_checkpointing: bool = _trl("gradient_checkpointing", False,
                                        "off: a small model fits, and it costs ~20%% more compute")
    bf16: bool | None = _trl("bf16", None, "unset = on when a bf16-capable GPU is present, else off")
    loss_type: str = _trl("loss_type", "dapo", choices=LOSS_TYPES)  # checked before the model loads
    vllm_server_base_url: str | None = _trl("vllm_server_base_url", None, check=check_url)

    def __post_init__(self) -> None:
        check_method(self.method)
        check_fields(self)  # every float finite, every bounded field in range (also when built in Python)
        if self.model_dtype not in ("float32", "bfloat16", "float16"):
            raise ValueError(f"model_dtype must be float32, bfloat16 or float16, got {self.model_dtype!r}")
        if self.bf16 is None:
            import torch

            self.bf16 = bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
        if self.method == "entropy_reg":
            self.entropy_coef = self.entropy_reg_coef  # TRL's own term: loss − entropy_coef · mean token entropy
        super().__post_init__()
        per_generation = self.steps_per_generation * self.num_iterations
        if self.save_strategy == "steps" and per_generation % self.gradient_accumulation_steps == 0:
            cycle = per_generation // self.gradient_accumulation_steps  # optimizer steps per generation batch
            if cycle > 1 and int(self.save_steps) % cycle:
                raise ValueError(f"save_steps ({self.save_steps}) must be a multiple of the {cycle} optimizer steps "
                                 "that "
                                 "share one generation batch, so a resumed run regenerates at the same step")

    def peft_config(self):
        """The ``peft.LoraConfig`` of ``lora_*`` (``None`` for full fine-tuning, ``lora_r`` 0)."""
        if self.lora_r == 0:
            return None
        from peft import LoraConfig

        targets = self.lora_target_modules
        return LoraConfig(r=self.lora_r, lora_alpha=self.lora_alpha, lora_dropout=self.lora_dropout,
                          target_modules=targets if targets == "all-linear" else [t.strip() for t in targets.split(",")],
                          task_type="CAUSAL_LM")


HICRA_FIELDS = tuple(f.name for f in dataclasses.fields(HICRAConfig) if f.name not in _PARENT)
OVERRIDDEN_FIELDS = tuple(f.name for f in dataclasses.fields(HICRAConfig) if "hicra_default" in f.metadata)
