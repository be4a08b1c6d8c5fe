"""Training problems for ``hicra train --dataset SPEC`` and the prompts built from them (arXiv 2509.03646, §4.1).

A *problem* is one row ``{prompt, prompt_id, answer, task, gym_entry}``: ``prompt`` is a conversation (one user
message; the trainer applies the model's chat template), ``answer`` the reference, ``gym_entry`` the JSON of a
reasoning-gym entry or testbed problem (empty for other sources) so the task's own scorer can grade it. Four kinds of
``SPEC``:

* ``gym:TASK[,TASK...]`` — reasoning-gym tasks generated offline and interleaved round-robin. ``dataset_size``
  problems in all, seeded by ``dataset_seed``; ``gym_difficulty`` sets every attribute of a task's curriculum to that
  level (0 = easiest); ``gym_options`` (``{task: {config_field: value}}``) overrides single config fields last.
* a local ``.jsonl`` / ``.json`` / ``.parquet`` file with a problem field (``problem``, ``question``, ``Problem``) and
  a reference (``answer``/``final_answer``/``Answer``; a GSM8K ``... #### N`` answer becomes ``N``; with only a
  ``solution`` field, its last ``\\boxed{}``). ``problem_field``/``answer_field`` name other columns.
* ``testbed:LEVEL[:same-phrase]`` — the strategy testbed's generated problems (:mod:`hicra.testbed.task`),
  ``dataset_size`` of them (default 1000), seeded by ``dataset_seed``; graded by :mod:`hicra.testbed.reward`.
* anything else is a Hugging Face dataset id for ``datasets.load_dataset(id, dataset_config, split=dataset_split)``
  (needs the hub or its local cache), read with the same field rules.

Prompt (named option ``prompt_template``): the problem followed by an instruction to reason step by step and put
the final answer in ``\\boxed{}``, the answer format the paper's grader reads (§4.1).
"""

from __future__ import annotations

import json
import math
import re
import warnings
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Iterable

from hicra.io import iter_jsonl, parse_json, read_text

DEFAULT_DATASET = "gym:basic_arithmetic,chain_sum,products"
DEFAULT_TEMPLATE = "{problem}\nSolve it step by step. End with: The answer is \\boxed{N}, where N is your result."
PROBLEM_FIELDS = ("problem", "question", "Problem", "prompt")
ANSWER_FIELDS = ("answer", "final_answer", "Answer", "solution")


@dataclass
class Problems:
    """The rows of a training set plus the reasoning-gym datasets whose scorers grade them (by task name)."""

    rows: list[dict[str, Any]]
    gym: dict[str, Any] = field(default_factory=dict)
    reward_class: Any = None  # the reward these problems need (None: hicra.rewards.AnswerReward)

    def __len__(self) -> int:
        return len(self.rows)


def make_prompt(problem: str, template: str = DEFAULT_TEMPLATE, system_prompt: str = "") -> list[dict[str, str]]:
    """The conversation for one problem: an optional system message and one user message (``{problem}`` filled)."""
    if "{problem}" not in template:
        raise ValueError("prompt_template must contain {problem}")
    messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
    return messages + [{"role": "user", "content": template.replace("{problem}", problem.strip())}]


# ----------------------------------------------------------------------------------------------- reasoning-gym
def gym_dataset(task: str, size: int, seed: int, difficulty: int | None = None, options: dict | None = None):
    """One reasoning-gym ``ProceduralDataset``: curriculum level ``difficulty`` (if the task has one), then options."""
    import reasoning_gym  # noqa: F401  (registers the tasks)
    from reasoning_gym.factory import CURRICULA, DATASETS

    if task not in DATASETS:
        raise ValueError(f"unknown reasoning-gym task {task!r}; e.g. basic_arithmetic, chain_sum, products, gcd "
                         f"({len(DATASETS)} tasks in reasoning_gym.factory.DATASETS)")
    dataset_cls, config_cls = DATASETS[task]
    if difficulty is not None and task in CURRICULA:
        curriculum = CURRICULA[task]()
        curriculum.set_global_level(difficulty)
        config = curriculum.generate_configuration({"seed": seed, "size": size})
    else:
        config = config_cls(seed=seed, size=size)
    if options:
        valid = {f.name for f in fields(config_cls)}
        unknown = sorted(set(options) - valid)
        if unknown:
            raise ValueError(f"gym_options[{task!r}]: unknown field {unknown[0]!r}; valid: {', '.join(sorted(valid))}")
        config = replace(config, **{k: tuple(v) if isinstance(v, list) else v for k, v in options.items()})
    if hasattr(config, "validate"):
        try:
            config.validate()
        except AssertionError as e:
            raise ValueError(f"reasoning-gym {task}: invalid configuration: {e}") from None
    return dataset_cls(config=config)


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def load_gym(tasks: list[str], size: int, seed: int, difficulty: int | None, options: dict, template: str,
             system_prompt: str = "") -> Problems:
    """``size`` problems interleaved over ``tasks`` (task k gets seed ``seed + k``)."""
    if not tasks:
        raise ValueError("gym: needs at least one task name, e.g. gym:basic_arithmetic,chain_sum")
    unused = sorted(set(options) - set(tasks))
    if unused:  # the default options name tasks of the default mix; a custom mix simply does not use them
        warnings.warn(f"gym_options for {', '.join(unused)} ignored: not in the dataset spec", stacklevel=2)
    per_task = math.ceil(size / len(tasks))
    datasets = {t: gym_dataset(t, per_task, seed + k, difficulty, options.get(t)) for k, t in enumerate(tasks)}
    rows = []
    for i in range(per_task):
        for task in tasks:
            if len(rows) == size:
                break
            entry = _json_safe(datasets[task][i])
            rows.append({"prompt": make_prompt(entry["question"], template, system_prompt), "prompt_id": f"{task}/{i}",
                         "answer": str(entry["answer"]), "task": task, "gym_entry": json.dumps(entry)})
    return Problems(rows, datasets)


# ------------------------------------------------------------------------------------------ files and the hub
def reference_of(row: dict[str, Any], answer_field: str = "") -> str:
    """The reference answer of a row (see module docstring for the field rules)."""
    from hicra.eval.benchmarks import gsm8k_answer
    from hicra.eval.grading import extract_boxed

    names = (answer_field,) if answer_field else ANSWER_FIELDS
    for name in names:
        value = row.get(name)
        if value in (None, ""):
            continue
        if isinstance(value, (list, tuple)):  # OlympiadBench-style lists of answers
            value = ", ".join(str(v) for v in value)
        text = str(value).strip()
        if "####" in text:
            return gsm8k_answer(text)
        if name == "solution":
            boxed = extract_boxed(text, fallbacks=False)
            if boxed is None:
                continue
            return boxed
        if text.endswith(".0") and text[:-2].lstrip("+-").isdigit():
            return text[:-2]
        return text
    raise ValueError(f"row has no reference answer (looked for {', '.join(names)})")


def problem_of(row: dict[str, Any], problem_field: str = "") -> str:
    for name in (problem_field,) if problem_field else PROBLEM_FIELDS:
        if isinstance(row.get(name), str) and row[name].strip():
            return row[name]
    names = (problem_field,) if problem_field else PROBLEM_FIELDS
    raise ValueError(f"row has no problem text (looked for {', '.join(names)})")


def _file_rows(path: Path) -> Iterable[tuple[str, Any]]:
    """``(position, row)`` of a data file; positions count from 1 as editors do ("line N" of JSONL, else "row N")."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except Exception as e:  # pyarrow's errors do not name the file
            raise ValueError(f"{path}: not a readable parquet file ({str(e).splitlines()[0] if str(e) else e})")
        yield from ((f"row {i}", row) for i, row in enumerate(table.to_pylist(), 1))
        return
    if suffix == ".json":
        text = read_text(path)
        if text.lstrip().startswith("["):
            rows = parse_json(text, path)
            yield from ((f"row {i}", row) for i, row in enumerate(rows, 1))
            return
    yield from ((f"line {lineno}", row) for lineno, row in iter_jsonl(path))


def _hub_rows(dataset_id: str, config: str | None, split: str) -> Iterable[tuple[str, Any]]:
    from datasets import load_dataset

    try:
        rows = load_dataset(dataset_id, config or None, split=split)
    except Exception as e:  # offline or unknown ids: one line that names the dataset
        raise RuntimeError(f"cannot load dataset {dataset_id!r} (split {split!r}) from the Hugging Face hub: "
                           f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}") from None
    return ((f"row {i}", row) for i, row in enumerate(rows, 1))  # type: ignore[arg-type]


def load_rows(rows: Iterable[tuple[str, Any]], source: str, size: int, template: str, system_prompt: str = "",
              problem_field: str = "", answer_field: str = "") -> Problems:
    """Problems from ``(position, row)`` pairs (the first ``size`` if ``size`` > 0); errors name source and position."""
    name = Path(source).parent.name if Path(source).stem in ("test", "train") else Path(source).stem
    out = []
    for index, (position, row) in enumerate(rows):
        if 0 < size <= len(out):
            break
        if not isinstance(row, dict):
            raise ValueError(f"{source}: {position}: expected an object with problem/answer fields, got "
                             f"{type(row).__name__}")
        row = dict(row)
        try:
            problem, answer = problem_of(row, problem_field), reference_of(row, answer_field)
        except ValueError as e:
            raise ValueError(f"{source}: {position}: {e}") from None
        pid = row.get("id", row.get("unique_id", index))
        out.append({"prompt": make_prompt(problem, template, system_prompt), "prompt_id": f"{name}/{pid}",
                    "answer": answer, "task": name, "gym_entry": ""})
    if not out:
        raise ValueError(f"{source}: no problems")
    return Problems(out)


def load_problems(spec: str, size: int = 0, seed: int = 0, difficulty: int | None = 0, gym_options: dict | None = None,
                  template: str = DEFAULT_TEMPLATE, system_prompt: str = "", split: str = "train",
                  config: str | None = None, problem_field: str = "", answer_field: str = "") -> Problems:
    """The training problems named by ``spec`` (see module docstring); ``size`` ≤ 0 keeps every row of a file."""
    spec = spec.strip()
    if spec.startswith("testbed:"):
        from hicra.testbed.reward import load_testbed

        return load_testbed(spec, size if size > 0 else 1000, seed, template, system_prompt)
    if spec.startswith("gym:"):
        tasks = [t.strip() for t in spec[4:].split(",") if t.strip()]
        return load_gym(tasks, size if size > 0 else 1000, seed, difficulty, gym_options or {}, template, system_prompt)
    path = Path(spec).expanduser()
    if path.suffix.lower() in (".jsonl", ".json", ".parquet") or path.exists():
        if not path.is_file():
            raise ValueError(f"{path}: no such dataset file")
        return load_rows(_file_rows(path), str(path), size, template, system_prompt, problem_field, answer_field)
    return load_rows(_hub_rows(spec, config, split), spec, size, template, system_prompt, problem_field, answer_field)


def check_spec(spec: str) -> None:
    """Refuse a dataset spec that cannot load before any model does: unknown reasoning-gym tasks, a missing file,
    or text that is no hub id. (Whether a hub dataset exists is only known when it downloads.)"""
    spec = spec.strip()
    if not spec:
        return
    if spec.startswith("gym:"):
        import reasoning_gym  # noqa: F401  (registers the tasks)
        from reasoning_gym.factory import DATASETS

        tasks = [t.strip() for t in spec[4:].split(",") if t.strip()]
        unknown = [t for t in tasks if t not in DATASETS]
        if unknown or not tasks:
            raise ValueError(f"names no reasoning-gym task{f' {unknown[0]!r}' if unknown else ''} (e.g. "
                             "gym:basic_arithmetic,chain_sum)")
        return
    path = Path(spec).expanduser()
    if path.suffix.lower() in (".jsonl", ".json", ".parquet") or path.exists():
        if not path.is_file():
            raise ValueError(f"{path}: no such dataset file")
        return
    if not re.fullmatch(r"[\w.-]+(/[\w.-]+)?", spec):
        raise ValueError(f"{spec!r} is neither gym:TASK, a .jsonl/.json/.parquet file nor a hub dataset id")


def to_hf_dataset(problems: Problems):
    """The rows as a ``datasets.Dataset`` for the trainer."""
    from datasets import Dataset

    return Dataset.from_list(problems.rows)
