import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from hicra.core import check_method, grpo_advantages, hicra_advantages


def loop_grpo(rewards, groups, scale):
    out = []
    for r, g in zip(rewards, groups):
        members = [x for x, h in zip(rewards, groups) if h == g]
        mean = sum(members) / len(members)
        if scale == "none":
            out.append(r - mean)
        elif scale == "group":
            std = torch.tensor(members).std().item() if len(members) > 1 else 0.0
            out.append((r - mean) / (std + 1e-6))
        else:
            out.append((r - mean) / (torch.tensor(rewards).std().item() + 1e-6))
    return torch.tensor(out)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.sampled_from([0.0, 0.5, 1.0, 2.0])), min_size=2, max_size=24),
       st.sampled_from(["group", "batch", "none"]))
def test_grpo_matches_loop_reference_for_shuffled_groups(items, scale):
    groups = [g for g, _ in items]
    rewards = [r for _, r in items]
    got = grpo_advantages(torch.tensor(rewards), torch.tensor(groups), scale=scale)
    assert torch.allclose(got, loop_grpo(rewards, groups, scale), atol=1e-4)


def test_constant_group_gets_exact_zero_never_nan():
    adv = grpo_advantages(torch.tensor([1.0, 1.0, 1.0, 0.0, 1.0]), torch.tensor([7, 7, 7, 3, 3]))
    assert torch.equal(adv[:3], torch.zeros(3))
    assert not torch.isnan(adv).any()
    assert adv[3] < 0 < adv[4]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(1, 12), st.floats(0.0, 1.0, exclude_max=True), st.integers(0, 10_000))
def test_hicra_is_a_plus_alpha_abs_a_on_planning_tokens_only(b, t, alpha, seed):
    gen = torch.Generator().manual_seed(seed)
    adv = torch.randn(b, t, generator=gen)
    mask = torch.rand(b, t, generator=gen) < 0.4
    before = adv.clone()
    out = hicra_advantages(adv, mask, alpha)
    assert torch.equal(adv, before)  # pure
    assert torch.allclose(out[mask], adv[mask] + alpha * adv[mask].abs())
    assert torch.equal(out[~mask], adv[~mask])
    # on planning tokens (1 ± α)Â: amplified for positive Â, attenuated for negative Â
    pos, neg = mask & (adv > 0), mask & (adv < 0)
    # (1 − α)Â cancels for α near 1: compare with a tolerance relative to |Â| (a few float32 ulps), not to the result
    for sel, factor in ((pos, 1 + alpha), (neg, 1 - alpha)):
        assert ((out[sel] - factor * adv[sel]).abs() <= 1e-6 * adv[sel].abs()).all()
    assert (out[neg] <= 0).all()  # α < 1 never turns a negative planning advantage positive


def test_hicra_broadcasts_sequence_advantages_and_alpha_zero_is_grpo():
    adv = torch.tensor([1.0, -2.0])
    mask = torch.tensor([[1, 0, 1], [0, 1, 1]], dtype=torch.bool)
    assert torch.equal(hicra_advantages(adv, mask, 0.0), adv[:, None].expand(2, 3))
    assert torch.allclose(hicra_advantages(adv, mask, 0.5), torch.tensor([[1.5, 1.0, 1.5], [-2.0, -1.0, -1.0]]))


def test_bad_inputs_raise_clear_errors():
    import pytest

    with pytest.raises(ValueError, match="valid: 'group'"):
        grpo_advantages(torch.ones(2), torch.zeros(2), scale="std")
    for alpha in (-0.1, 1.0, 1.5, float("nan")):
        with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\)"):
            hicra_advantages(torch.ones(2), torch.ones(2, 2, dtype=torch.bool), alpha)
    hicra_advantages(torch.ones(2), torch.ones(2, 2, dtype=torch.bool), 0.999)
    with pytest.raises(ValueError, match="valid: grpo, hicra, hicra_entropy, entropy_reg, hicra_random"):
        check_method("ppo")
