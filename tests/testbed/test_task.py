"""The task family: determinism, unambiguous problems, prefix-stable sets, specs."""

from __future__ import annotations

import pytest

from hicra.testbed.task import (CUE_TABLE, OPERATIONS, Problem, Spec, apply, parse_problem_text, parse_spec, problem,
                                problems)


@pytest.mark.parametrize("level", ["1", "2", "3"])
def test_generation_is_deterministic_and_prefix_stable(level):
    spec = Spec(level)
    first = problems(spec, 300, seed=7)
    assert first == problems(spec, 300, seed=7)
    assert problems(spec, 50, seed=7) == first[:50]  # held-out rows follow the training rows
    assert first != problems(spec, 300, seed=8)
    assert [problem(spec, 7, i) for i in (0, 299)] == [first[0], first[299]]


@pytest.mark.parametrize("level", ["1", "2", "3"])
def test_no_problem_is_solvable_by_two_operations(level):
    for p in problems(Spec(level), 2000, seed=0):
        assert p.consistent_ops() == [p.op]  # exactly one operation fits the example
        answers = [apply(op, p.c, p.d) for op in OPERATIONS]
        assert len(set(answers)) == len(OPERATIONS)  # a wrong strategy never reaches the answer
        if level == "1":
            assert CUE_TABLE[p.cue] == p.op
        else:
            assert p.cue == ""


def test_every_type_and_cue_occurs():
    ps = problems(Spec("1"), 2000, seed=0)
    assert {p.op for p in ps} == set(OPERATIONS)
    assert {p.cue for p in ps} == set(CUE_TABLE)


def test_the_problem_is_recovered_from_its_rendered_prompt():
    for p in problems(Spec("1", "same-phrase"), 200, seed=3):
        prompt = f"<|im_start|>user\n{p.text}<|im_end|>\n<|im_start|>assistant\n"
        back = parse_problem_text(prompt, "same-phrase")
        assert (back.op, back.answer, back.target, back.cue) == (p.op, p.answer, p.target, p.cue)
    assert parse_problem_text("no problem here") is None


def test_json_round_trip():
    p = problem(Spec("2"), 0, 5)
    assert Problem.from_json(p.to_json()) == p


@pytest.mark.parametrize("spec,needle", [("testbed:4", "unknown testbed level '4'"),
                                         ("testbed:", "unknown testbed level ''"),
                                         ("testbed:1:reversed", "unknown testbed variant 'reversed'")])
def test_bad_specs_are_one_clear_error(spec, needle):
    with pytest.raises(ValueError, match=needle):
        parse_spec(spec)
