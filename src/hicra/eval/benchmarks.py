"""The evaluation sets of arXiv 2509.03646 (Table 1, §4.1) as uniform :class:`Problem` lists.

Each benchmark has one loader that turns its own fields into ``(id, problem, reference)``:

=============  ====================  ===========================================================================
name           problem field         reference
=============  ====================  ===========================================================================
aime24/25      ``problem``           ``answer``
amc23          ``problem``           ``answer`` ("27.0" → "27")
math500        ``problem``           ``answer`` (LaTeX)
minerva        ``problem``           the last ``\\boxed{}`` of ``solution`` (or an ``answer`` field on the hub)
olympiad       ``question``          ``final_answer`` (a list, or its Python-literal string); several answers are
                                     joined with ", "; ``unit`` is kept in ``meta`` and stripped before grading
gsm8k          ``question``          the number after ``#### `` in ``answer`` (thousands separators removed)
=============  ====================  ===========================================================================

``source="local"`` reads the JSONL copies shipped in ``hicra/data/benchmarks`` (offline; provenance and licences in
its README); ``source="hub"`` calls ``datasets.load_dataset`` on the public copies listed in :data:`BENCHMARKS`.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterable

from hicra.eval.grading import extract_boxed
from hicra.records import iter_jsonl


@dataclass(frozen=True)
class Problem:
    """One evaluation item: ``prompt`` is what the model sees before the instruction is added."""

    benchmark: str
    id: str
    prompt: str
    reference: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Benchmark:
    """Where a benchmark lives, how its rows become problems, and its samples per problem in the paper."""

    name: str
    title: str  # column header of Table 1
    folder: str  # under hicra/data/benchmarks
    hub: tuple[str, str | None, str]  # (dataset id, config, split) for source="hub"
    paper_samples: int
    convert: Callable[[dict[str, Any], int], tuple[str, str, str, dict[str, Any]]]


def _first(row: dict[str, Any], *names: str) -> Any:
    for name in names:
        if row.get(name) not in (None, ""):
            return row[name]
    raise ValueError(f"row has none of the fields {', '.join(names)}")


def _row_id(row: dict[str, Any], index: int, *names: str) -> str:
    for name in names:
        if row.get(name) not in (None, ""):
            return str(row[name])
    return str(index)


def _number(value: Any) -> str:
    """``27.0`` / ``"27.0"`` → ``"27"``; other values unchanged (as text)."""
    text = str(value).strip()
    if re.fullmatch(r"[+-]?\d+\.0+", text):
        return text.split(".")[0]
    return text


def _plain(row: dict[str, Any], index: int) -> tuple[str, str, str, dict[str, Any]]:
    """AIME24/25, AMC23, MATH500: a problem and a short answer."""
    meta = {k: row[k] for k in ("subject", "level", "url") if row.get(k) not in (None, "")}
    return (_row_id(row, index, "unique_id", "id", "ID"), _first(row, "problem", "question", "Problem"),
            _number(_first(row, "answer", "Answer")), meta)


def _minerva(row: dict[str, Any], index: int) -> tuple[str, str, str, dict[str, Any]]:
    """Minerva-Math: the reference is the last ``\\boxed{}`` of the worked solution."""
    reference = extract_boxed(row["solution"], fallbacks=False) if row.get("solution") else None
    if reference is None:
        reference = str(_first(row, "answer"))
    return (_row_id(row, index, "idx", "id"), _first(row, "problem", "question"), reference,
            {"type": row["type"]} if row.get("type") else {})


def olympiad_answers(final_answer: Any) -> list[str]:
    """OlympiadBench's ``final_answer`` (a list or its literal string, never evaluated as code) → answer strings."""
    value = final_answer
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = ast.literal_eval(text)  # literals only: lists of strings
            except (ValueError, SyntaxError):
                value = [text]
        else:
            value = [text]
    if not isinstance(value, (list, tuple)):
        value = [value]
    return [str(v).strip() for v in value if str(v).strip()]


def _strip_dollars(answer: str) -> str:
    """``'$69$,$84$'`` → ``'69,84'``: inline-math markers around the parts of one answer removed."""
    return answer.replace("$", "").strip()


def _truthy(value: Any) -> bool:
    return value is True or str(value).strip().lower() == "true"


def _olympiad(row: dict[str, Any], index: int) -> tuple[str, str, str, dict[str, Any]]:
    """OlympiadBench (OE_TO_maths_en_COMP): ``context`` prefixed when present; several answers joined."""
    answers = [_strip_dollars(a) for a in olympiad_answers(row["final_answer"])]
    question = _first(row, "question", "problem")
    context = row.get("context")
    if context not in (None, "", "None"):
        question = f"{context}\n\n{question}"
    unit = row.get("unit")
    meta = {"answer_type": row.get("answer_type"), "multiple": _truthy(row.get("is_multiple_answer")),
            "unit": None if unit in (None, "", "None") else str(unit)}
    return _row_id(row, index, "id"), question, ", ".join(answers), meta


def gsm8k_answer(text: str) -> str:
    """The final number of a GSM8K solution (after ``####``), without thousands separators."""
    if "####" not in text:
        raise ValueError("GSM8K answer has no '#### N' line")
    return text.rsplit("####", 1)[1].strip().replace(",", "")


def _gsm8k(row: dict[str, Any], index: int) -> tuple[str, str, str, dict[str, Any]]:
    return _row_id(row, index, "idx", "id"), row["question"], gsm8k_answer(row["answer"]), {}


BENCHMARKS: dict[str, Benchmark] = {b.name: b for b in (
    Benchmark("aime24", "AIME24", "aime24", ("HuggingFaceH4/aime_2024", None, "train"), 32, _plain),
    Benchmark("aime25", "AIME25", "aime25", ("math-ai/aime25", None, "test"), 32, _plain),
    Benchmark("math500", "MATH500", "math500", ("HuggingFaceH4/MATH-500", None, "test"), 1, _plain),
    Benchmark("amc23", "AMC23", "amc23", ("math-ai/amc23", None, "test"), 4, _plain),
    Benchmark("minerva", "Minerva", "minerva_math", ("knoveleng/Minerva-Math", None, "train"), 1, _minerva),
    Benchmark("olympiad", "Olympiad", "olympiadbench",
              ("Hothan/OlympiadBench", "OE_TO_maths_en_COMP", "train"), 1, _olympiad),
    Benchmark("gsm8k", "GSM8K", "gsm8k", ("openai/gsm8k", "main", "test"), 1, _gsm8k),
)}
ALIASES = {"minerva_math": "minerva", "olympiadbench": "olympiad", "math": "math500", "amc": "amc23"}
PAPER_BENCHMARKS = ("aime24", "aime25", "math500", "amc23", "minerva", "olympiad")  # Table 1 column order


def get_benchmark(name: str) -> Benchmark:
    """The benchmark called ``name`` (aliases such as ``minerva_math`` accepted); unknown names list the valid ones."""
    key = ALIASES.get(name.strip().lower(), name.strip().lower())
    if key not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}; valid: {', '.join(BENCHMARKS)}")
    return BENCHMARKS[key]


def check_benchmarks(names: list[str]) -> None:
    """Every name is a benchmark (see :func:`get_benchmark`)."""
    for name in names:
        get_benchmark(name)


def _local_rows(bench: Benchmark) -> Iterable[dict[str, Any]]:
    path = Path(str(resources.files("hicra") / "data" / "benchmarks" / bench.folder / "test.jsonl"))
    return (row for _, row in iter_jsonl(path))


def _hub_rows(bench: Benchmark) -> Iterable[dict[str, Any]]:
    from datasets import load_dataset

    repo, config, split = bench.hub
    try:
        return load_dataset(repo, config, split=split)  # type: ignore[return-value]
    except Exception as e:  # offline, renamed or gated datasets: one line naming the set
        raise RuntimeError(f"cannot load {bench.name} from the hub ({repo}): {type(e).__name__}: {e}") from None


def load_problems(name: str, source: str = "local", limit: int | None = None) -> list[Problem]:
    """The problems of benchmark ``name`` from ``source`` (``local`` or ``hub``), the first ``limit`` if given."""
    bench = get_benchmark(name)
    if source not in ("local", "hub"):
        raise ValueError(f"unknown data source {source!r}; valid: local, hub")
    rows = _local_rows(bench) if source == "local" else _hub_rows(bench)
    problems: list[Problem] = []
    seen: set[str] = set()
    for index, row in enumerate(rows):
        if limit is not None and len(problems) >= limit:
            break
        try:
            pid, prompt, reference, meta = bench.convert(dict(row), index)
        except (KeyError, ValueError) as e:
            raise ValueError(f"{bench.name} ({source}) row {index + 1}: {e}") from None
        if pid in seen:  # ids key the generation cache, so they must be unique
            pid = f"{pid}#{index}"
        seen.add(pid)
        problems.append(Problem(bench.name, pid, prompt, reference, meta))
    return problems
