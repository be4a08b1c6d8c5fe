"""``hicra eval``: generate, cache, grade and tabulate Pass@1 on the benchmarks of arXiv 2509.03646 (Table 1).

Protocol (§4.1): the chat-templated problem plus "Please reason step by step, and put your final answer within
\\boxed{}."; temperature 0.6, top-p 0.95; ``--samples auto`` draws 32 samples per problem for AIME24/25, 4 for AMC23
and 1 elsewhere; Pass@1 = mean per-problem accuracy (± standard error over problems).

Output directory::

    settings.json                 generation settings; a rerun with different ones is refused (use a new --output)
    generations/BENCH.jsonl       one completion per line, keyed by (problem_id, sample); appended per batch, so a
                                  rerun resumes after a crash and never duplicates a key
    graded/BENCH.jsonl            answer, reference and verdict of every completion (rewritten on each run)
    results.json / .csv / .md     per-benchmark Pass@1 ± s.e., samples, problems, no-answer and truncation rates

Deviations from the paper: the maximum response length defaults to 4096 new tokens (set ``--max-tokens``); with
``--limit N`` only the first N problems of each benchmark are evaluated.
"""

from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Literal

from hicra.config import SEED, check_fields, option
from hicra.eval.benchmarks import BENCHMARKS, PAPER_BENCHMARKS, Problem, check_benchmarks, get_benchmark, load_problems
from hicra.eval.prompts import DEFAULT_INSTRUCTION
from hicra.io import DataError, append_jsonl, check_writable, iter_jsonl, lock_dir, read_json, repair_tail, \
    write_json, write_jsonl
from hicra.records import RecordError

GENERATION_FIELDS = ("model", "temperature", "top_p", "max_tokens", "instruction", "chat_template", "system_prompt",
                     "source")


@dataclass
class EvalConfig:
    """Options of ``hicra eval`` (defaults → ``--config FILE`` → flags)."""

    model: str = option("smollm2", "model: smollm2 (offline default), a Hugging Face id or a local checkpoint")
    benchmarks: list[str] = option(list(PAPER_BENCHMARKS),
                                   f"comma-separated benchmarks; valid: {', '.join(BENCHMARKS)}", unique=True,
                                   check=check_benchmarks)
    samples: int | str = option("auto", "samples per problem: auto (paper protocol, see --auto-samples) or a number N",
                               ge=1)
    auto_samples: list[str] = option([f"{b.name}={b.paper_samples}" for b in BENCHMARKS.values()
                                      if b.paper_samples > 1],
                                     "NAME=N samples per problem under --samples auto; unlisted benchmarks use 1 "
                                     "(paper: 32 for AIME24/25, 4 for AMC23)")
    temperature: float = option(0.6, "sampling temperature (paper: 0.6); 0 = greedy", ge=0)
    top_p: float = option(0.95, "nucleus sampling top-p (paper: 0.95)", gt=0, le=1)
    max_tokens: int = option(4096, "maximum new tokens per completion", ge=1)
    limit: int | None = option(None, "evaluate only the first N problems of each benchmark", ge=1)
    output: str | None = option(None, "output directory (generation cache, graded samples, results.*)")
    backend: Literal["transformers", "vllm"] = option("transformers", "generation backend: transformers or vllm")
    batch_size: int = option(16, "prompts per generate() call (transformers backend)", ge=1)
    dtype: str = option("auto", "model dtype (auto = float32 on the transformers backend)",
                        choices=("auto", "float32", "bfloat16", "float16"))
    tensor_parallel_size: int = option(1, "GPUs per model (vllm backend)", ge=1)
    torch_threads: int = option(0, "torch CPU threads for the transformers backend (0 = torch's default); 1 is "
                                   "much faster than oversubscribing a busy machine", ge=0)
    fast_generation: bool = option(True, "transformers backend: sample with hicra's decode loop (the same distribution "
                                         "as generate, faster on CPU; docs/generation.md)")
    source: Literal["local", "hub"] = option("local", "benchmark data: local (shipped JSONL) or hub (datasets)")
    instruction: str = option(DEFAULT_INSTRUCTION, "instruction appended to every problem (§4.1)")
    chat_template: bool = option(True, "wrap prompts in the model's chat template")
    system_prompt: str | None = option(None, "optional system message")
    seed: int = option(0, "sampling seed", **SEED)
    grade_timeout: float = option(5.0, "seconds allowed to grade one answer (slower answers count as wrong)", gt=0,
                                  le=3600)
    grade_workers: int = option(2, "grading worker processes", ge=1, le=64)


def samples_for(config: EvalConfig, benchmark: str) -> int:
    """Samples per problem for ``benchmark`` under ``config.samples`` (auto → ``auto_samples`` or 1)."""
    if str(config.samples) != "auto":
        if isinstance(config.samples, bool) or not (isinstance(config.samples, int) or str(config.samples).isdigit()):
            raise ValueError(f"--samples must be 'auto' or a positive integer, got {config.samples!r}")
        n = int(config.samples)
        if n < 1:
            raise ValueError(f"--samples must be positive, got {n}")
        return n
    table: dict[str, int] = {}
    for item in config.auto_samples:
        name, sep, value = item.partition("=")
        if not sep or not value.strip().isdigit() or int(value) < 1:
            raise ValueError(f"--auto-samples entry {item!r} is not NAME=N")
        table[get_benchmark(name).name] = int(value)
    return table.get(benchmark, 1)


def validate(config: EvalConfig) -> None:
    """One-line errors for settings no run could use."""
    check_fields(config)  # finite numbers within each field's bounds (also for configs built in Python)
    checks = [(bool(config.output), "--output DIR is required"),
              (bool(config.benchmarks), "no benchmark given (--benchmarks)")]
    for ok, message in checks:
        if not ok:
            raise ValueError(message)


def read_cache(path: Path) -> dict[tuple[str, int], dict[str, Any]]:
    """Cached generations by (problem_id, sample); the first record of a key wins.

    A torn last line (a crash while appending) is removed with a note and a complete last line without its newline
    gets one (:func:`hicra.io.repair_tail`); any other unreadable line raises :class:`RecordError` naming the file
    and line.
    """
    if not path.is_file():
        return {}
    repair_tail(path)
    records: dict[tuple[str, int], dict[str, Any]] = {}
    try:
        for lineno, rec in iter_jsonl(path):
            if not isinstance(rec.get("completion"), str) or not isinstance(rec.get("sample"), int) \
                    or rec.get("problem_id") is None:
                raise RecordError(f"{path}:{lineno}: needs a problem_id, an integer sample and a completion string")
            records.setdefault((str(rec["problem_id"]), rec["sample"]), rec)
    except DataError as e:
        where, _, problem = str(e).partition(": ")
        raise RecordError(f"{where}: unreadable cached generation ({problem}); fix or delete that line to resume") \
            from None
    return records


def check_settings(out: Path, config: EvalConfig) -> dict[str, Any]:
    """The generation settings of ``config``; raises if ``out/settings.json`` records different ones (read only:
    :func:`write_settings` records them once generation has started)."""
    path = out / "settings.json"
    current = {k: getattr(config, k) for k in GENERATION_FIELDS}
    if path.is_file():
        saved = read_json(path)
        diff = [k for k in GENERATION_FIELDS if k in saved and saved[k] != current[k]]
        if diff:
            k = diff[0]
            raise ValueError(f"{out} holds generations made with {k}={saved[k]!r}, this run asks {k}={current[k]!r}; "
                             f"use another --output")
    return current


def write_settings(out: Path, current: dict[str, Any]) -> None:
    path = out / "settings.json"
    if not path.is_file():
        write_json(path, current, indent=2)


def lock_output(out: Path) -> contextlib.AbstractContextManager[None]:
    """Hold the lock on ``out`` (:func:`hicra.io.lock_dir`) while the run lasts, so two evaluations never generate
    into one folder; a folder this run created and left empty is removed on failure."""
    return lock_dir(out, "hicra eval")


def grade_records(problems: list[Problem], cache: dict[tuple[str, int], dict[str, Any]], samples: int,
                  timeout: float, workers: int) -> list[dict[str, Any]]:
    """Verdicts for the first ``samples`` cached completions of each problem (units stripped for OlympiadBench)."""
    from hicra.eval.grading import extract_boxed, grade_many

    rows, pairs = [], []
    for p in problems:
        for k in range(samples):
            rec = cache.get((p.id, k))
            if rec is None:
                continue
            answer = extract_boxed(rec["completion"])
            unit = p.meta.get("unit")
            if answer and unit and answer.endswith(unit.strip("$")):
                answer = answer[:-len(unit.strip("$"))].strip() or answer
            rows.append({"problem_id": p.id, "sample": k, "answer": answer, "reference": p.reference,
                         "n_tokens": rec.get("n_tokens", 0), "finished": rec.get("finished", True)})
            pairs.append((answer or "", p.reference))
    for row, ok in zip(rows, grade_many(pairs, timeout=timeout, workers=workers, extract=False)):
        row["correct"] = bool(ok and row["answer"])
    return rows


Grader = Callable[[list[Problem], dict[tuple[str, int], dict[str, Any]], int], list[dict[str, Any]]]


def evaluate_problems(name: str, problems: list[Problem], samples: int, config: EvalConfig, backend: Any = None,
                      grade: Grader | None = None, title: str | None = None,
                      settings: dict[str, Any] | None = None) -> tuple[Any, Any, int, float]:
    """Generate (cached under ``config.output``), grade and score ``samples`` completions of each problem.

    ``problems`` may be any in-memory list (a benchmark, or held-out training problems); ``grade`` replaces the
    benchmark grader (:func:`grade_records`) with another scorer of the same signature; ``title`` names a set that is
    not a registered benchmark; ``settings`` (from :func:`check_settings`) are written to ``settings.json`` once the
    first completions exist, so a run that fails to start leaves no trace. Returns (score, backend, new generations,
    seconds); the backend is created on first need and returned for reuse.
    """
    from tqdm import tqdm

    from hicra.eval.backends import Request, Sampling, make_backend
    from hicra.eval.prompts import build_prompt
    from hicra.eval.report import score
    from hicra.models import load_tokenizer

    out = Path(str(config.output))
    sampling = Sampling(config.temperature, config.top_p, config.max_tokens, config.seed)
    cache_path = out / "generations" / f"{name}.jsonl"
    cache = read_cache(cache_path)
    todo = [(p, k) for p in problems for k in range(samples) if (p.id, k) not in cache]
    started = time.perf_counter()
    if todo:
        if backend is None:
            backend = make_backend(config.backend, config.model, config.dtype, config.batch_size, config.seed,
                                   config.tensor_parallel_size, config.torch_threads, config.fast_generation)
        tokenizer = getattr(backend, "tokenizer", None) or load_tokenizer(config.model)
        prompts = {p.id: build_prompt(tokenizer, p.prompt, config.instruction, config.chat_template,
                                      config.system_prompt) for p, _ in todo}
        requests = [Request((p.id, k), prompts[p.id]) for p, k in todo]
        with tqdm(total=len(requests), desc=f"{name}: generating", unit="sample", file=sys.stderr) as bar:
            for chunk in backend.generate(requests, sampling):
                fresh = [c for c in chunk if c.key not in cache]
                if settings is not None:
                    write_settings(out, settings)  # generation works: from now on the folder holds its output
                recs = [{"benchmark": name, "problem_id": c.key[0], "sample": c.key[1], "completion": c.text,
                         "n_tokens": c.n_tokens, "finished": c.finished} for c in fresh]
                append_jsonl(cache_path, recs)
                cache.update({(r["problem_id"], r["sample"]): r for r in recs})
                bar.update(len(chunk))
    seconds = time.perf_counter() - started
    if grade is None:
        graded = grade_records(problems, cache, samples, config.grade_timeout, config.grade_workers)
    else:
        graded = grade(problems, cache, samples)
    write_jsonl(out / "graded" / f"{name}.jsonl", graded)
    return score(name, graded, samples, title), backend, len(todo), seconds


def run(config: EvalConfig, backend: Any = None) -> dict[str, Any]:
    """Evaluate ``config.model``; ``backend`` (anything with ``generate``) overrides the configured one.

    Everything that can be checked is checked before the output folder is touched; ``settings.json`` is written
    once the first completions are generated (a run that fails to start leaves no trace); the folder is locked.
    """
    validate(config)
    out = Path(str(config.output))
    names = [get_benchmark(b).name for b in config.benchmarks]  # validates every name before any work
    plan = {name: samples_for(config, name) for name in names}
    current = check_settings(out, config)
    check_writable(out)
    with lock_output(out):
        return _run(config, backend, out, names, plan, current)


def _run(config: EvalConfig, backend: Any, out: Path, names: list[str], plan: dict[str, int],
         current: dict[str, Any]) -> dict[str, Any]:
    from hicra.eval.report import write_results

    scores, timings = [], {}
    for name in names:
        problems = load_problems(name, config.source, config.limit)
        s, backend, generated, seconds = evaluate_problems(name, problems, plan[name], config, backend,
                                                           settings=current)
        scores.append(s)
        timings[name] = {"generated": generated, "seconds": round(seconds, 1)}
        print(f"{name}: Pass@1 {s.pass_at_1:.1f} ± {s.stderr:.1f} ({s.samples} × {s.problems}, "
              f"{generated} new generations in {seconds:.1f} s)", file=sys.stderr)
    write_settings(out, current)
    settings = asdict(config)
    settings.pop("output", None)
    return write_results(out, config.model, settings, scores, {"timings": timings})
