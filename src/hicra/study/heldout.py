"""Held-out evaluation of a trained model on problems of its own training distribution (not seen in training).

Held-out problems (:func:`heldout_problems`), from the run's resolved training settings:

* ``gym:TASKS`` — the same tasks, curriculum level and options, generated with seed ``dataset_seed +
  heldout_seed_offset`` (a disjoint generator seed); a problem whose text also occurs among the training problems is
  skipped, so the set never overlaps training.
* a file or hub dataset — the ``heldout_size`` rows that follow the ``dataset_size`` training rows (the training
  set must not be the whole file), or ``--heldout-dataset`` (e.g. a test split); overlapping texts are skipped too.

Completions come from :func:`hicra.eval.runner.evaluate_problems` (the ``hicra eval`` generation cache and
backends) with the training prompt (the conversation of ``prompt_template``, in the model's chat template, no extra
instruction). They are graded by the training reward's scorer (:class:`hicra.rewards.AnswerReward`: the task's
reasoning-gym scorer or math-verify on the last ``\\boxed{}``); ``correct`` is its strict verdict, so held-out
accuracy means exactly what ``hicra/accuracy`` means during training.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hicra.study.config import StudyConfig

GRADED_NAME = "heldout"


def _load(values: dict[str, Any], spec: str, size: int, seed: int, split: str):
    from hicra.data import load_problems

    difficulty = values.get("gym_difficulty", 0)
    return load_problems(spec, size=size, seed=seed, difficulty=None if difficulty < 0 else difficulty,
                         gym_options=values.get("gym_options"), template=values["prompt_template"],
                         system_prompt=values.get("system_prompt", ""), split=split,
                         config=values.get("dataset_config") or None, problem_field=values.get("problem_field", ""),
                         answer_field=values.get("answer_field", ""))


def _text(row: dict[str, Any]) -> str:
    return row["prompt"][-1]["content"]


def heldout_problems(values: dict[str, Any], study: StudyConfig):
    """The held-out :class:`hicra.data.problems.Problems` for resolved training config ``values`` (see module doc)."""
    spec, size, seed = values["dataset"], int(values["dataset_size"]), int(values["dataset_seed"])
    split = values.get("dataset_split", "train")
    training = _load(values, spec, size, seed, split)
    seen = {_text(r) for r in training.rows}
    n = study.heldout_size
    if study.heldout_dataset:
        pool = _load(values, study.heldout_dataset, 0, seed, study.heldout_split or split)
    elif spec.strip().startswith("gym:"):
        pool = _load(values, spec, 4 * n + len(seen), seed + study.heldout_seed_offset, split)
    else:
        if size <= 0:
            raise ValueError(f"dataset {spec}: training uses every row (dataset_size 0), so no row is left for "
                             "held-out problems; set --dataset-size or --heldout-dataset")
        pool = _load(values, spec, size + n, seed, study.heldout_split or split)
        pool.rows = pool.rows[size:]
    pool.rows = [r for r in pool.rows if _text(r) not in seen][:n]
    if not pool.rows:
        raise ValueError(f"no held-out problem left for dataset {study.heldout_dataset or spec} "
                         "(every candidate is a training problem)")
    return pool


def to_eval_problems(problems) -> list:
    """The rows as :class:`hicra.eval.benchmarks.Problem` (prompt = the user message of the training prompt)."""
    from hicra.eval.benchmarks import Problem

    return [Problem(GRADED_NAME, str(r["prompt_id"]), _text(r), str(r["answer"]),
                    {"task": r["task"], "gym_entry": r["gym_entry"]}) for r in problems.rows]


def reward_grader(problems, values: dict[str, Any]):
    """A grader for :func:`hicra.eval.runner.evaluate_problems` that scores with the training reward."""
    from hicra.rewards import AnswerReward

    reward = AnswerReward(problems.gym, values.get("correct_reward", 1.0), values.get("format_reward", 0.1),
                          values.get("unboxed_reward", 0.5), values.get("grading_timeout", 5.0))

    def grade(items, cache, samples):
        from hicra.eval.grading import extract_boxed

        keyed = [(p, k, cache[(p.id, k)]) for p in items for k in range(samples) if (p.id, k) in cache]
        scores = reward.score([c["completion"] for _, _, c in keyed], [p.reference for p, _, _ in keyed],
                              [p.meta["task"] for p, _, _ in keyed], [p.meta["gym_entry"] for p, _, _ in keyed])
        return [{"problem_id": p.id, "sample": k, "answer": extract_boxed(c["completion"]), "reference": p.reference,
                 "correct": s.correct, "score": s.score, "reward": s.reward, "n_tokens": c.get("n_tokens", 0),
                 "finished": c.get("finished", True)} for (p, k, c), s in zip(keyed, scores)]

    return grade


def eval_config(run_dir: Path, values: dict[str, Any], study: StudyConfig, output: Path, **changes: Any):
    """The :class:`hicra.eval.runner.EvalConfig` of a study evaluation of the final model in ``run_dir``."""
    from hicra.eval.runner import EvalConfig

    threads = study.eval_threads or int(values.get("torch_threads", 0))
    base = dict(model=str(run_dir), output=str(output), temperature=study.heldout_temperature,
                top_p=study.heldout_top_p, max_tokens=study.heldout_max_tokens or int(values["max_completion_length"]),
                backend=study.eval_backend, batch_size=study.eval_batch_size, torch_threads=threads,
                seed=study.eval_seed, instruction="", system_prompt=values.get("system_prompt") or None)
    base.update(changes)
    return EvalConfig(**base)


def evaluate_heldout(run_dir: Path, values: dict[str, Any], study: StudyConfig) -> dict[str, Any]:
    """Generate, grade and summarise the held-out evaluation of one run (``RUN_DIR/heldout/``, resumable)."""
    from hicra.analysis.metrics import pass_at_k
    from hicra.eval.runner import check_settings, evaluate_problems
    from hicra.io import write_json
    from hicra.records import read_jsonl

    problems = heldout_problems(values, study)
    config = eval_config(run_dir, values, study, run_dir / "heldout")
    settings = check_settings(run_dir / "heldout", config)
    score, _, generated, seconds = evaluate_problems(
        GRADED_NAME, to_eval_problems(problems), study.heldout_samples, config,
        grade=reward_grader(problems, values), title="Held-out", settings=settings)
    graded = list(read_jsonl(run_dir / "heldout" / "graded" / f"{GRADED_NAME}.jsonl"))
    by_problem: dict[str, list[bool]] = {}
    for g in graded:
        by_problem.setdefault(g["problem_id"], []).append(bool(g["correct"]))
    per_problem = {pid: sum(v) / len(v) for pid, v in by_problem.items()}
    pass_k = {str(k): 100 * sum(pass_at_k(len(v), sum(v), k) for v in by_problem.values()) / len(by_problem)
              for k in study.pass_k}
    doc = {"pass@1": score.pass_at_1, "stderr": score.stderr, "pass@k": pass_k, "problems": score.problems,
           "samples": study.heldout_samples, "per_problem": per_problem, "no_answer_rate": score.no_answer_rate,
           "truncated_rate": score.truncated_rate, "mean_tokens": score.mean_tokens, "generated": generated,
           "seconds": round(seconds, 1)}
    write_json(run_dir / "heldout" / "results.json", doc, name="held-out results")
    return doc


def evaluate_benchmarks(run_dir: Path, values: dict[str, Any], study: StudyConfig) -> dict[str, Any]:
    """``hicra eval`` of the final model on ``--eval-benchmarks`` (``RUN_DIR/eval/``); its results document."""
    from hicra.eval.prompts import DEFAULT_INSTRUCTION
    from hicra.eval.runner import run

    config = eval_config(run_dir, values, study, run_dir / "eval", benchmarks=list(study.eval_benchmarks),
                         limit=study.eval_limit or None, max_tokens=study.eval_max_tokens,
                         instruction=DEFAULT_INSTRUCTION, system_prompt=None, samples="auto")
    return run(config)
