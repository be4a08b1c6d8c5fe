"""The registered credit methods, the control arms' masks (counts, supports, seeding) and α = 0 = GRPO exactly."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from hicra.core import (
    CREDIT_METHODS,
    CreditInputs,
    get_credit_method,
    hicra_advantages,
    matched_random_mask,
    register_credit,
    scaled_advantages,
)

ALL = ("grpo", "hicra", "hicra_entropy", "entropy_reg", "hicra_random", "hicra_execution", "hicra_scaled")


def batch(seed: int, b: int = 5, t: int = 12):
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, t + 1, (b,), generator=gen)
    real = torch.arange(t).unsqueeze(0) < lengths.unsqueeze(1)
    planning = (torch.rand(b, t, generator=gen) < 0.3) & real
    adv = torch.randn(b, generator=gen)
    entropies = torch.rand(b, t, generator=gen)
    return adv, planning, real, entropies


def inputs(planning, real, entropies, seed=0):
    return CreditInputs(planning, real, entropies, None, 0.3, torch.Generator().manual_seed(seed))


def test_the_one_method_list():
    assert tuple(CREDIT_METHODS) == ALL
    with pytest.raises(ValueError, match="unknown method 'ppo'; valid: grpo, hicra, hicra_entropy, entropy_reg, "
                                         "hicra_random, hicra_execution, hicra_scaled"):
        get_credit_method("ppo")
    with pytest.raises(ValueError, match="already registered"):
        register_credit("hicra", "twice")(lambda x: None)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(ALL))
def test_alpha_zero_is_grpo_exactly_for_every_method(seed, name):
    adv, planning, real, entropies = batch(seed)
    out, _ = get_credit_method(name).apply(adv, inputs(planning, real, entropies), 0.0)
    assert torch.equal(out.expand(-1, real.shape[1]) if out.dim() == 2 else out[:, None].expand_as(real),
                       adv[:, None].expand_as(real))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000))
def test_random_controls_count_and_support(seed):
    adv, planning, real, entropies = batch(seed)
    for name, support in (("hicra_random", real), ("hicra_execution", real & ~planning)):
        out, mask = get_credit_method(name).apply(adv, inputs(planning, real, entropies, seed), 0.5)
        assert not (mask & ~support).any()  # drawn only where allowed
        expected = torch.minimum(planning.sum(1), support.sum(1))  # as many as planning tokens, if there are enough
        assert torch.equal(mask.sum(1), expected)
        assert torch.equal(out, hicra_advantages(adv, mask, 0.5))
    again = get_credit_method("hicra_random").apply(adv, inputs(planning, real, entropies, seed), 0.5)[1]
    assert torch.equal(again, get_credit_method("hicra_random").apply(adv, inputs(planning, real, entropies, seed),
                                                                      0.5)[1])


def test_random_draw_is_uniform_over_the_support():
    planning = torch.zeros(1, 10, dtype=torch.bool)
    planning[0, :2] = True
    among = torch.ones(1, 10, dtype=torch.bool)
    gen = torch.Generator().manual_seed(0)
    counts = sum(matched_random_mask(planning, among, gen).float() for _ in range(4000))
    assert torch.allclose(counts / 4000, torch.full((1, 10), 0.2), atol=0.03)  # 2 of 10 positions, each ≈ 1/5


def test_scaled_is_one_plus_alpha_for_both_signs():
    adv = torch.tensor([1.0, -2.0])
    mask = torch.tensor([[1, 0], [1, 0]], dtype=torch.bool)
    assert torch.equal(scaled_advantages(adv, mask, 0.5), torch.tensor([[1.5, 1.0], [-3.0, -2.0]]))
    assert torch.equal(hicra_advantages(adv, mask, 0.5), torch.tensor([[1.5, 1.0], [-1.0, -2.0]]))  # HICRA differs
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\)"):
        scaled_advantages(adv, mask, 1.0)


def test_methods_ask_for_what_they_need():
    adv, planning, real, _ = batch(0)
    with pytest.raises(ValueError, match="needs the sampling policy's token entropies"):
        get_credit_method("hicra_entropy").apply(adv, CreditInputs(planning, real), 0.2)
    with pytest.raises(ValueError, match="needs a seeded torch.Generator"):
        get_credit_method("hicra_random").apply(adv, CreditInputs(planning, real), 0.2)
    out, mask = get_credit_method("grpo").apply(adv, CreditInputs(planning, real), 0.2)
    assert out is adv and mask is None
