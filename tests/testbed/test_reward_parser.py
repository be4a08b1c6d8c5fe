"""The binary reward on hand-written traces, the tolerant parser, and the per-step metrics."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hicra.testbed.parser import evaluate, parse, planning_spans
from hicra.testbed import reward as testbed_reward
from hicra.testbed.reward import TestbedScorer, load_testbed, step_metrics
from hicra.testbed.task import Problem

# "wug 9 4 -> 5 ; 8 2 -> ?": the type is subtract (the example fits no other operation), the answer 6
P = Problem("1", "distinct", "wug", "subtract", 9, 4, 8, 2)
RIGHT = "the key insight is 9-4=5 vs 5 yes.\nanswer 8-2=6 \\boxed{6}"
LUCKY = "a good starting point is 9+4=5 vs 5 yes.\nanswer 8+2=6 \\boxed{6}"  # wrong arithmetic, right numbers
UNBOXED = "the key insight is 9-4=5 vs 5 yes.\nanswer 8-2=6"
SECOND = ("a good starting point is 9+4=13 vs 5 no.\nwait, that's not right.\n"
          "the key insight is 9-4=5 vs 5 yes.\nanswer 8-2=6 \\boxed{6}")
NO_BACKTRACK = "a good starting point is 9+4=13 vs 5 no.\nanswer 8+2=10 \\boxed{10}"
THREE = ("a good starting point is 9+4=13 vs 5 no.\nwait, that's not right.\n"
         "a more direct approach is 9*4=36 vs 5 no.\nwait, that's not right.\n"
         "the key insight is 9-4=5 vs 5 yes.\nanswer 8-2=6 \\boxed{6}")


def score(text: str, problem: Problem = P) -> float:
    return TestbedScorer().score_text(text, problem.to_json())


@pytest.mark.parametrize("text,reward", [(RIGHT, 1.0), (LUCKY, 1.0), (UNBOXED, 0.0), (SECOND, 1.0), (THREE, 0.0),
                                         (RIGHT.replace("{6}", "{7}"), 0.0), ("", 0.0)])
def test_reward_is_the_boxed_answer_within_two_attempts(text, reward):
    assert score(text) == reward


def test_wrong_arithmetic_that_hits_the_target_is_rewarded_but_counted_as_wrong_execution():
    parsed = parse(LUCKY, P)
    assert [e.correct for e in parsed.equations] == [False, False]
    assert not parsed.first_strategy_right(P) and parsed.checks_failed == [False]


def test_parse_of_a_two_attempt_trace():
    parsed = parse(SECOND, P)
    assert parsed.strategies == ["add", "subtract"] and parsed.parseable
    assert parsed.checks_failed == [True, False] and parsed.backtracks_justified == [True]
    assert [e.correct for e in parsed.equations] == [True, True, True]
    assert [SECOND[a:b] for a, b in parsed.planning_spans] == ["a good starting point is", "wait, that's not right",
                                                                "the key insight is"]


def test_same_phrase_variant_keeps_the_deciding_word_out_of_the_planning_span():
    problem = Problem("1", "same-phrase", "wug", "subtract", 9, 4, 8, 2)
    text = "the plan is to subtract 9-4=5 vs 5 yes.\nanswer 8-2=6 \\boxed{6}"
    parsed = parse(text, problem)
    assert parsed.strategies == ["subtract"] and parsed.answered_right(problem)
    assert [text[a:b] for a, b in planning_spans(text, "same-phrase")] == ["the plan is to"]
    assert parse("the plan is to juggle 9-4=5 \\boxed{6}", problem).strategies == [None]


@pytest.mark.parametrize("garbled", [
    "\\boxed{", "a good starting point is", "9*4=", "wait, that's not right" * 3, "\x00\ufffd🙂 vs vs 3 = = +",
    "a good starting point is 99999999999*4=3 vs yes \\boxed{}", "answer 8-2=6 \\boxed{6", "1" * 5000])
def test_the_parser_reads_garbled_output_without_failing(garbled):
    parsed = parse(garbled, P)
    assert not parsed.answered_right(P)
    assert score(garbled) == 0.0


PIECES = [*"0123456789+-*= {}.,\n", "vs", "\\boxed{", "yes", "no", "the key insight is", "wait, that's not right"]


@given(st.lists(st.sampled_from(PIECES), max_size=80).map("".join))
def test_the_parser_never_raises(text):
    parsed = parse(text, P)
    assert parsed.parseable == (bool(parsed.strategies) and parsed.boxed is not None)


def test_evaluate_uses_precedence():
    assert evaluate("2+3*4") == 14 and evaluate("9-4") == 5 and evaluate("7+3+3") == 13


def test_step_metrics_count_unparseable_completions():
    prompt = f"<|im_start|>user\n{P.text}<|im_end|>\n<|im_start|>assistant\n"
    records = [{"prompt": prompt, "completion": c, "task": "testbed:1"} for c in (RIGHT, SECOND, THREE, NO_BACKTRACK,
                                                                                       "garbage")]
    m = step_metrics(records)
    assert m["testbed/strategy_accuracy"] == pytest.approx(1 / 5)
    assert m["testbed/pass@1"] == pytest.approx(2 / 5)
    assert m["testbed/parseable"] == pytest.approx(4 / 5)
    assert m["testbed/execution_accuracy"] == pytest.approx(1.0)  # every written equation is right
    assert m["testbed/backtrack_recall"] == pytest.approx(3 / 4)  # 4 failed checks, 3 followed by a backtrack
    assert m["testbed/backtrack_precision"] == pytest.approx(1.0)
    assert math.isnan(step_metrics([])["testbed/pass@1"])


def test_the_trainer_reward_scores_testbed_rows_and_refuses_shaping():
    problems = load_testbed("testbed:1", 4, 0, "{problem}")
    reward = problems.reward_class(problems.gym)
    rows = problems.rows
    p = Problem.from_json(rows[0]["gym_entry"])
    good = f"answer \\boxed{{{p.answer}}}"  # no strategy written: the reward reads only the answer and attempts
    values = reward(prompts=[r["prompt"] for r in rows[:2]], completions=[good, "no"],
                    answer=[r["answer"] for r in rows[:2]], task=[r["task"] for r in rows[:2]],
                    gym_entry=[r["gym_entry"] for r in rows[:2]])
    assert values == [1.0, 0.0]
    with pytest.raises(ValueError, match="binary"):
        testbed_reward.TestbedReward(problems.gym, format_reward=0.1)


def test_study_heldout_problems_follow_the_training_rows_and_use_the_testbed_reward():
    from hicra.study.config import StudyConfig
    from hicra.study.heldout import heldout_problems, reward_grader, to_eval_problems

    values = {"dataset": "testbed:1", "dataset_size": 200, "dataset_seed": 0, "prompt_template": "{problem}",
              "format_reward": 0.0, "unboxed_reward": 0.0}
    held = heldout_problems(values, StudyConfig(heldout_size=20))
    train = {r["prompt"][-1]["content"] for r in load_testbed("testbed:1", 200, 0, "{problem}").rows}
    # the 20 rows after the training rows, minus repeats of a training problem (rare: ~50k level-1 problems)
    assert 15 <= len(held.rows) <= 20 and not train & {r["prompt"][-1]["content"] for r in held.rows}
    assert held.rows[0]["prompt_id"] == "testbed:1/200"
    items = to_eval_problems(held)[:2]
    answers = [Problem.from_json(p.meta["gym_entry"]).answer for p in items]
    cache = {(items[0].id, 0): {"completion": f"answer \\boxed{{{answers[0]}}}"},
             (items[1].id, 0): {"completion": f"answer {answers[1]}"}}
    graded = reward_grader(held, values)(items, cache, 1)
    assert [g["correct"] for g in graded] == [True, False]
