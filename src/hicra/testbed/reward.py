"""The testbed's problems, binary reward and per-step metrics.

Reward (no shaping): 1 if the last ``\\boxed{}`` holds the problem's answer and the completion makes at most two
attempts (strategy phrases), else 0 — :meth:`hicra.testbed.parser.Parsed.answered_right`. It is served through
:class:`hicra.rewards.AnswerReward` (the trainer's and the held-out evaluation's scorer) by :class:`TestbedScorer`,
the ``problems.gym`` entry of the testbed task.

Per-step metrics (:meth:`TestbedReward.step_metrics`, merged into ``metrics.jsonl`` by the trainer), over the step's
rollout records, unparseable completions included:

* ``testbed/strategy_accuracy``: fraction of completions whose first strategy is the problem's type;
* ``testbed/execution_accuracy``: fraction of written equations that are arithmetically right;
* ``testbed/backtrack_recall``: fraction of failed checks followed by a backtrack;
* ``testbed/backtrack_precision``: fraction of backtracks that follow a failed check;
* ``testbed/pass@1``: fraction of completions the reward counts right;
* ``testbed/parseable``: fraction of completions with an attempt and a boxed answer.

Ratios with an empty denominator are NaN (written as null).
"""

from __future__ import annotations

from typing import Any

from hicra.data.problems import Problems, make_prompt
from hicra.rewards import AnswerReward
from hicra.testbed.parser import parse
from hicra.testbed.task import Problem, parse_problem_text, parse_spec, problems

NAN = float("nan")


class TestbedScorer:
    """The testbed task's scorer: the reward of a whole completion given the problem's JSON entry."""

    def score_text(self, text: str, entry: str) -> float:
        problem = Problem.from_json(entry)
        return 1.0 if parse(text, problem).answered_right(problem) else 0.0


def load_testbed(spec: str, size: int, seed: int, template: str, system_prompt: str = "") -> Problems:
    """``size`` problems of ``spec`` (``testbed:LEVEL[:same-phrase]``); ``task`` is the spec, ``gym_entry`` the
    problem's JSON."""
    parsed = parse_spec(spec)
    task = str(parsed)
    rows = [{"prompt": make_prompt(p.text, template, system_prompt), "prompt_id": f"{task}/{i}",
             "answer": str(p.answer), "task": task, "gym_entry": p.to_json()}
            for i, p in enumerate(problems(parsed, size, seed))]
    return Problems(rows, {task: TestbedScorer()}, reward_class=TestbedReward)


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else NAN


def step_metrics(records: list[dict[str, Any]]) -> dict[str, float]:
    """The testbed metrics (module docstring) of one step's rollout records (:mod:`hicra.records` schema)."""
    n = first_right = equations = equations_right = failed = backtracks = justified = passed = ok = 0
    for record in records:
        variant = parse_spec(record["task"]).variant if record.get("task", "").startswith("testbed:") else "distinct"
        problem = parse_problem_text(record.get("prompt", ""), variant)
        if problem is None:
            continue
        parsed = parse(record["completion"], problem)
        n += 1
        first_right += parsed.first_strategy_right(problem)
        equations += len(parsed.equations)
        equations_right += sum(e.correct for e in parsed.equations)
        failed += sum(parsed.checks_failed)
        backtracks += len(parsed.backtracks_justified)
        justified += sum(parsed.backtracks_justified)
        passed += parsed.answered_right(problem)
        ok += parsed.parseable
    return {"testbed/strategy_accuracy": _ratio(first_right, n),
            "testbed/execution_accuracy": _ratio(equations_right, equations),
            "testbed/backtrack_recall": _ratio(justified, failed),
            "testbed/backtrack_precision": _ratio(justified, backtracks),
            "testbed/pass@1": _ratio(passed, n), "testbed/parseable": _ratio(ok, n)}


class TestbedReward(AnswerReward):
    """:class:`AnswerReward` restricted to the testbed's binary reward, plus :meth:`step_metrics`."""

    __name__ = "testbed_reward"
    summary_keys = (("testbed/strategy_accuracy", "strategy accuracy"),
                    ("testbed/execution_accuracy", "execution accuracy"),
                    ("testbed/backtrack_recall", "backtrack recall"), ("testbed/pass@1", "pass@1"))

    def __init__(self, gym: dict[str, Any] | None = None, correct_reward: float = 1.0, format_reward: float = 0.0,
                 unboxed_reward: float = 0.0, timeout: float = 5.0):
        if format_reward or unboxed_reward:
            raise ValueError("the testbed reward is binary: set format_reward 0 and unboxed_reward 0 "
                             "(the testbed preset does)")
        super().__init__(gym, correct_reward, 0.0, 0.0, timeout)

    @staticmethod
    def step_metrics(records: list[dict[str, Any]]) -> dict[str, float]:
        return step_metrics(records)
