"""The runs of a study: one ``hicra train`` per (method, seed), identical otherwise, recorded in ``study.yaml``.

Training settings come from ``hicra train``'s own parser (``--preset``, ``--config FILE.yaml``, field flags), so a
study run is exactly ``hicra train TRAIN_FLAGS --method M --seed S --output-dir DIR/runs/M-sS``. ``study.yaml``
records the resolved training config (without method, seed and output_dir) and the evaluation settings; a rerun
into the same directory with other settings is refused (methods and seeds may be added).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hicra.io import read_yaml, write_yaml
from hicra.study.config import RESULT_FIELDS, StudyConfig

STUDY_FORMAT = "hicra-study"
RESERVED_FLAGS = {"--method": "--methods", "--seed": "--seeds", "--output-dir": "--output", "--resume": "--output"}
PER_RUN_FIELDS = ("method", "seed", "output_dir")
DONE = "done.json"


@dataclass(frozen=True)
class RunSpec:
    """One run of the grid and the ``hicra train`` arguments that make it."""

    method: str
    seed: int
    run_dir: str  # absolute
    train_argv: tuple[str, ...]  # the study's training flags, shared by every run

    @property
    def name(self) -> str:
        return f"{self.method}-s{self.seed}"

    def fresh_argv(self) -> list[str]:
        return [*self.train_argv, "--method", self.method, "--seed", str(self.seed), "--output-dir", self.run_dir]

    def argv(self) -> list[str]:
        """Arguments of ``hicra train`` now: a run directory that holds a run is resumed (nothing is redone)."""
        if (Path(self.run_dir) / "config.yaml").is_file():
            return ["--resume", self.run_dir]
        return self.fresh_argv()

    @property
    def done(self) -> bool:
        return (Path(self.run_dir) / DONE).is_file()


def check_train_argv(argv: list[str]) -> None:
    """Refuse training flags that the study sets per run."""
    for token in argv:
        flag = token.split("=", 1)[0]
        if flag in RESERVED_FLAGS:
            raise ValueError(f"{flag} is set per run by hicra study; use {RESERVED_FLAGS[flag]}")


def resolve_training(argv: list[str], output: Path) -> dict[str, Any]:
    """The shared training config of a study: its config.yaml document without the per-run fields (checked)."""
    from hicra.trl.cli import parse
    from hicra.trl.config import HICRAConfig
    from hicra.trl.run import config_document

    _, values = parse([*argv, "--output-dir", str(output / "runs")])
    config = HICRAConfig(**values)
    doc = config_document(config, values)
    for name in PER_RUN_FIELDS:
        doc.pop(name, None)
    if config.save_strategy.value == "no":
        raise ValueError("save_strategy 'no' leaves no checkpoint to resume or evaluate; a study needs checkpoints")
    if config.save_strategy.value == "steps" and config.max_steps % int(config.save_steps):
        raise ValueError(f"max_steps ({config.max_steps}) must be a multiple of save_steps ({int(config.save_steps)}) "
                         "in a study, so that a finished run's last checkpoint is its final model")
    return doc


def record_study(output: Path, study: StudyConfig, argv: list[str], training: dict[str, Any]) -> dict[str, Any]:
    """Write ``study.yaml`` (refusing a directory made with other settings); the document written."""
    path = output / "study.yaml"
    evaluation = {k: getattr(study, k) for k in RESULT_FIELDS}
    methods, seeds = list(study.methods), list(study.seeds)
    if path.is_file():
        old = read_yaml(path, empty={})
        if old.get("format") != STUDY_FORMAT:
            raise ValueError(f"{path}: not a hicra study record (format {STUDY_FORMAT!r})")
        for section, new in (("training", training), ("evaluation", evaluation)):
            saved = old.get(section, {})
            for key in sorted(set(saved) & set(new), key=str):  # a field unknown to either version is not compared
                if saved[key] != new[key]:
                    raise ValueError(f"{output} holds a study made with {section} setting {key}={saved[key]!r}, "
                                     f"this one asks {key}={new[key]!r}; use another --output")
        methods = list(dict.fromkeys([*old.get("methods", []), *methods]))
        seeds = list(dict.fromkeys([*old.get("seeds", []), *seeds]))
    doc = {"format": STUDY_FORMAT, "version": 1, "methods": methods, "seeds": seeds, "train_argv": list(argv),
           "training": training, "evaluation": evaluation}
    write_yaml(path, doc, name="study.yaml")
    return doc


def plan_runs(output: Path, study: StudyConfig, argv: list[str]) -> list[RunSpec]:
    """The runs of this invocation, method-major (all seeds of the first method first)."""
    root = output.resolve() / "runs"
    return [RunSpec(m, s, str(root / f"{m}-s{s}"), tuple(argv)) for m in study.methods for s in study.seeds]
