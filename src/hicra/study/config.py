"""Options of ``hicra study`` (one dataclass field each; every ``hicra train`` flag is accepted besides these).

The training settings of a study are ``hicra train``'s own (``--preset``, ``--config FILE.yaml``, field flags); the
fields below choose the grid (methods × seeds), how runs are launched, and how final models are evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hicra.config import SEED, option
from hicra.core import check_method
from hicra.data.problems import check_spec
from hicra.eval.benchmarks import check_benchmarks


@dataclass
class StudyConfig:
    """A study: ``methods`` × ``seeds`` runs of ``hicra train`` that differ only in method and seed."""

    methods: list[str] = option(["hicra", "grpo"], "comma-separated training methods (see hicra train --method); "
                                                   "the first is compared with each of the others (Δ rows)")
    seeds: list[int] = option([0, 1, 2], "comma-separated training seeds (TrainingArguments.seed); runs of the same "
                                         "seed share everything else, so differences are paired by seed",
                        unique=True, **SEED)
    output: str = option("", "study directory: study.yaml, runs/METHOD-sSEED/, study.json/.csv/.md, report/")
    launcher: Literal["local", "ray"] = option("local", "local: on this machine, one after another in this process "
                                                        "(or --jobs at once); ray: one Ray task per run "
                                                        "(pip install 'hicra[ray]')")
    ray_address: str = option("", "Ray cluster address for --launcher ray ('' = start or join a local Ray)")
    ray_num_cpus: float = option(1.0, "CPUs declared by each run's Ray task", ge=0)
    ray_num_gpus: float = option(0.0, "GPUs declared by each run's Ray task", ge=0)
    print_commands: bool = option(False, "print one shell-quoted `hicra train` command per run (e.g. for Slurm) "
                                         "and run nothing")
    heldout_size: int = option(64, "held-out problems of the training distribution (a disjoint reasoning-gym seed, "
                                   "or the file rows after the training ones)", ge=1)
    heldout_samples: int = option(4, "samples per held-out problem (Pass@k for k up to this)", ge=1)
    heldout_seed_offset: int = option(1_000_003, "held-out reasoning-gym problems use dataset_seed + this offset; "
                                                 "problems that also occur in the training set are skipped", ge=1)
    heldout_dataset: str = option("", "held-out problems from this dataset spec instead (a file or hub id read "
                                      "like --dataset, e.g. a test split file); '' = the training distribution",
                                  check=check_spec)
    heldout_split: str = option("", "split of a hub --heldout-dataset ('' = the training dataset_split)")
    heldout_temperature: float = option(0.6, "sampling temperature of the held-out evaluation (paper §4.1: 0.6)",
                                        ge=0)
    heldout_top_p: float = option(0.95, "top-p of the held-out evaluation (paper §4.1: 0.95)", gt=0, le=1)
    heldout_max_tokens: int = option(0, "new tokens per held-out completion (0 = the training "
                                        "max_completion_length)", ge=0)
    eval_seed: int = option(0, "sampling seed of every evaluation (the same for all runs)", **SEED)
    eval_batch_size: int = option(16, "prompts per generate() call in evaluations", ge=1)
    eval_backend: Literal["transformers", "vllm"] = option("transformers", "generation backend of evaluations")
    eval_benchmarks: list[str] = option([], "also evaluate each final model on these shipped benchmarks (hicra eval "
                                            "protocol), e.g. math500,gsm8k; empty = none", unique=True,
                                        check=check_benchmarks)
    eval_limit: int = option(0, "first N problems of each --eval-benchmarks benchmark (0 = all)", ge=0)
    eval_max_tokens: int = option(1024, "new tokens per benchmark completion", ge=1)
    pass_k: list[int] = option([], "k of the held-out Pass@k (each <= --heldout-samples); empty = 1, 2, 4, ... up "
                                   "to --heldout-samples", unique=True)
    confidence: float = option(0.95, "confidence level of every interval", gt=0, lt=1)
    bootstrap: int = option(10_000, "bootstrap resamples (problem-level Δ; seed-level p-value beyond "
                                    "--exact-max-seeds)", ge=100)
    exact_max_seeds: int = option(12, "up to this many seeds the seed-level p-value is the exact sign-flip "
                                      "permutation test (2^seeds sign patterns), beyond it a bootstrap", ge=1)
    analyze: bool = option(True, "compute `hicra analyze` learning dynamics of every run for the report")
    eval_threads: int = option(0, "torch CPU threads of evaluations (0 = the training torch_threads)", ge=0)
    jobs: int = option(1, "runs at once with --launcher local; above 1 each run is a child process with "
                          "cores/jobs threads (torch, OMP, MKL) and its output in OUTPUT/logs/RUN.log", ge=1)
    contrasts: list[str] = option([], "comma-separated A:B contrasts of the primary metric with equivalence test "
                                      "and Holm correction, e.g. hicra:grpo,hicra:hicra_random; empty = the first "
                                      "method against each other one")
    primary_metric: str = option("heldout/pass@1", "the metric of the contrasts (a study.csv metric name)")
    margin: float = option(0.0, "smallest effect of interest δ in points of the primary metric: the TOST "
                                "equivalence test of each contrast against ±δ (0 = no equivalence test)", ge=0)
    alpha: float = option(0.05, "level of the contrast verdicts (Holm-adjusted over the contrasts)", gt=0, lt=0.5)
    phase_curves: list[str] = option(["testbed/execution_accuracy", "testbed/strategy_accuracy"],
                                     "two metrics.jsonl keys: per seed, the half-gain step of the first minus that "
                                     "of the second (phase analysis; skipped with a note when absent)")
    phase_k: int = option(5, "phase analysis: initial and final values are the means of the first and last k "
                             "logged steps", ge=1)
    phase_window: int = option(1, "phase analysis: trailing mean over this many logged steps before finding the "
                                  "half-gain crossing (1 = raw values)", ge=1)

    def __post_init__(self) -> None:
        if not self.methods:
            raise ValueError("--methods: give at least one method")
        for method in self.methods:  # checked here, not hours later when that method's first run starts
            try:
                check_method(method)
            except ValueError as e:
                raise ValueError(f"--methods: {e}") from None
        if len(set(self.methods)) != len(self.methods):
            raise ValueError(f"--methods: a method is listed twice ({','.join(self.methods)})")
        if not self.seeds:
            raise ValueError("--seeds: give at least one seed")
        if not self.pass_k:
            self.pass_k = [2 ** i for i in range(self.heldout_samples.bit_length()) if 2 ** i <= self.heldout_samples]
        bad = [k for k in self.pass_k if not 1 <= k <= self.heldout_samples]
        if bad:
            raise ValueError(f"--pass-k: k={bad[0]} is not in 1..--heldout-samples ({self.heldout_samples})")
        self._check_analysis()

    def _check_analysis(self) -> None:
        for contrast in self.contrasts:
            a, sep, b = contrast.partition(":")
            if not sep or a not in self.methods or b not in self.methods or a == b:
                raise ValueError(f"--contrasts: {contrast!r} is not A:B with two different --methods "
                                 f"({','.join(self.methods)})")
        metrics = [f"heldout/pass@{k}" for k in self.pass_k] + [f"{b}/pass@1" for b in self.eval_benchmarks]
        metrics += ["benchmarks/avg"] * (len(self.eval_benchmarks) > 1)
        if self.primary_metric not in metrics:
            raise ValueError(f"--primary-metric: {self.primary_metric!r} is not a metric of this study "
                             f"({', '.join(metrics)})")
        if len(self.phase_curves) != 2:
            raise ValueError(f"--phase-curves: give two metrics.jsonl keys, got {len(self.phase_curves)}")
        if self.jobs > 1 and self.launcher != "local":
            raise ValueError("--jobs applies to --launcher local (Ray schedules its tasks by --ray-num-cpus)")

    @property
    def treatment(self) -> str:
        """The method compared with every other one (the first listed, e.g. hicra)."""
        return self.methods[0]

    @property
    def baselines(self) -> list[str]:
        return self.methods[1:]

    @property
    def contrast_pairs(self) -> list[tuple[str, str]]:
        """(A, B) of every contrast A − B: ``--contrasts``, else the first method against each other one."""
        if self.contrasts:
            return [tuple(c.split(":", 1)) for c in self.contrasts]  # type: ignore[misc]
        return [(self.treatment, b) for b in self.baselines]


# Settings that change results: a rerun into the same study directory must keep them (methods and seeds may grow).
RESULT_FIELDS = ("heldout_size", "heldout_samples", "heldout_seed_offset", "heldout_dataset", "heldout_split",
                 "heldout_temperature", "heldout_top_p", "heldout_max_tokens", "eval_seed", "eval_benchmarks",
                 "eval_limit", "eval_max_tokens")
