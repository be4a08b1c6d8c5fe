"""``hicra testbed warmstart``: tokenizer, tiny policy and SFT on generated traces, then gates.

Steps: generate ``traces`` solution traces (:mod:`hicra.testbed.traces`, problems of seed ``seed + 1000`` so they
differ from the RL problems of seed 0), train the tokenizer on their prompts and completions, build the Llama policy
(:mod:`hicra.testbed.policy`), fine-tune it on the completions with TRL's ``SFTTrainer`` (completion-only loss),
sample it on fresh problems and check the gates (:mod:`hicra.testbed.gates`).

The output directory is written only when every gate passes: training happens in ``OUTPUT.partial`` and is moved
into place at the end, with ``warmstart.json`` (settings, gates, timings). A rerun with a finished ``OUTPUT`` reuses
it; a failed gate stops with the numbers and leaves ``OUTPUT.partial`` for inspection.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from hicra.config import SEED, option
from hicra.testbed.gates import chat_prompt, gates_document, measure, sample
from hicra.testbed.policy import PolicyShape, build_model, parameter_count, train_tokenizer
from hicra.testbed.task import parse_spec, problems
from hicra.testbed.traces import DEFAULT_PRIOR, TraceStyle, check_prior, trace

MARKER = "warmstart.json"
CORPUS_SEED_OFFSET = 1000
GATE_SEED_OFFSET = 2000
SFT_BATCH_SIZE = 64


@dataclass
class WarmStartConfig:
    """Options of ``hicra testbed warmstart`` (one field per flag; the trace style as its three fields)."""

    output: str | None = option(None, "checkpoint directory; none = $HICRA_HOME/models/testbed, which --model "
                                      "testbed names")
    dataset: str = option("testbed:1", "problems: testbed:LEVEL[:same-phrase] (levels 1, 2, 3)", check=parse_spec)
    traces: int = option(16000, "generated SFT traces", ge=1)
    epochs: float = option(2.0, "SFT epochs", gt=0)
    learning_rate: float = option(4e-3, "SFT learning rate", gt=0)
    prior: list[float] = option(list(DEFAULT_PRIOR), "first-strategy probabilities of add,subtract,multiply,double "
                                "(ignoring the type)", ge=0, le=1, check=check_prior)
    error_rate: float = option(TraceStyle.error_rate, "ε: wrong-equation rate", ge=0, le=1)
    backtrack_rate: float = option(TraceStyle.backtrack_rate, "probability of backtracking after a failed first "
                                   "check", ge=0, le=1)
    gate_samples: int = option(256, "problems sampled for the gates", ge=1)
    seed: int = option(0, "seed of the traces, the initial weights, SFT and the gate samples", **SEED)
    torch_threads: int = option(0, "torch CPU threads (0 = torch's default)", ge=0)

    @property
    def style(self) -> TraceStyle:
        return TraceStyle(tuple(self.prior), self.error_rate, self.backtrack_rate)


def is_warm_start(path: Path) -> bool:
    """Whether ``path`` holds a finished warm start (its gates passed)."""
    return (path / MARKER).is_file() and (path / "config.json").is_file()


def check_warm_start(path: Path) -> None:
    """One clear error unless ``path`` is a finished warm start."""
    if not path.is_dir():
        raise ValueError(f"{path}: no warm start there; run: hicra testbed warmstart --output {path}")
    if not is_warm_start(path):
        raise ValueError(f"{path}: not a warm-start directory (no {MARKER} with config.json); "
                         "run hicra testbed warmstart --output on a new directory")


def sft(model, tokenizer, rows: list[dict[str, str]], config: WarmStartConfig, work: Path, max_length: int) -> None:
    """Fine-tune ``model`` on prompt/completion ``rows`` with TRL's ``SFTTrainer`` (loss on completions only)."""
    import datasets
    from transformers.utils import logging as hf_logging
    from trl import SFTConfig, SFTTrainer

    datasets.disable_progress_bars()  # the run prints its own lines; errors stay one line
    hf_logging.disable_progress_bar()

    args = SFTConfig(output_dir=str(work / "sft"), num_train_epochs=config.epochs, learning_rate=config.learning_rate,
                     per_device_train_batch_size=SFT_BATCH_SIZE, lr_scheduler_type="cosine", warmup_steps=10,
                     logging_steps=50, save_strategy="no", report_to="none", use_cpu=True, seed=config.seed,
                     completion_only_loss=True, max_length=max_length, dataloader_num_workers=0,
                     disable_tqdm=True, weight_decay=0.0)
    trainer = SFTTrainer(model=model, args=args, train_dataset=datasets.Dataset.from_list(rows),
                         processing_class=tokenizer)
    trainer.train()
    shutil.rmtree(work / "sft", ignore_errors=True)


def warm_start(config: WarmStartConfig, shape: PolicyShape = PolicyShape(), log=print) -> dict:
    """Build (or reuse) the warm start of ``config`` in ``config.output`` (set) with a policy of ``shape``; returns its
    ``warmstart.json`` document."""
    import torch

    output = Path(config.output)
    if is_warm_start(output):
        log(f"{output}: finished warm start found, reused")
        return json.loads((output / MARKER).read_text(encoding="utf-8"))
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise ValueError(f"{output}: exists and is not a warm-start directory (no {MARKER}); choose a new --output")
    spec = parse_spec(config.dataset)
    if config.torch_threads > 0:
        torch.set_num_threads(config.torch_threads)
    started = time.perf_counter()
    rng = random.Random(config.seed)
    corpus = problems(spec, config.traces, config.seed + CORPUS_SEED_OFFSET)
    traces = [trace(p, config.style, rng) for p in corpus]
    tokenizer = train_tokenizer([p.text for p in corpus] + [t.text for t in traces], shape.vocab_size)
    model = build_model(tokenizer, shape, config.seed)
    log(f"policy: LlamaForCausalLM, {parameter_count(model) / 1e6:.2f} M parameters, vocabulary {len(tokenizer)}")
    rows = [{"prompt": chat_prompt(tokenizer, p.text), "completion": t.text} for p, t in zip(corpus, traces)]
    work = output.with_name(output.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    sft(model, tokenizer, rows, config, work, shape.max_positions)
    trained = time.perf_counter() - started
    gate_problems = problems(spec, config.gate_samples, config.seed + GATE_SEED_OFFSET)
    completions = sample(model, tokenizer, gate_problems, seed=config.seed)
    gates = measure(gate_problems, completions, config.style)
    for g in gates:
        log(f"gate {'ok  ' if g.passed else 'FAIL'} {g}")
    doc = {"dataset": str(spec), "traces": config.traces, "epochs": config.epochs,
           "learning_rate": config.learning_rate, "seed": config.seed, "style": asdict(config.style),
           "shape": asdict(shape), "parameters": parameter_count(model), "vocabulary": len(tokenizer),
           "sft_seconds": round(trained, 1), "total_seconds": round(time.perf_counter() - started, 1),
           "gates": gates_document(gates)}
    model.save_pretrained(work)
    tokenizer.padding_side = "left"
    tokenizer.save_pretrained(work)
    failed = [g for g in gates if not g.passed]
    if failed:
        (work / "gates.json").write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
        raise RuntimeError(f"warm-start gate failed: {'; '.join(map(str, failed))} (model kept in {work})")
    (work / MARKER).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    if output.exists():
        output.rmdir()  # empty, checked above
    work.rename(output)
    return doc
