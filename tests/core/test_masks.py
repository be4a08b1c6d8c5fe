import torch

from hicra.core import entropy_bonus, entropy_gated_mask, fork_token_mask, long_correct_sequences, token_entropy


def test_token_entropy_uniform_and_peaked():
    logits = torch.tensor([[0.0, 0.0, 0.0, 0.0], [100.0, 0.0, 0.0, 0.0]])
    h = token_entropy(logits)
    assert torch.allclose(h, torch.tensor([torch.log(torch.tensor(4.0)).item(), 0.0]), atol=1e-5)


def test_fork_tokens_are_top_q_per_sequence_ignoring_padding():
    ent = torch.tensor([[0.1, 0.9, 0.5, 0.3, 9.0], [5.0, 1.0, 2.0, 3.0, 4.0]])
    mask = torch.tensor([[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    got = fork_token_mask(ent, mask, top_q=0.3)
    # row 0: 4 real tokens → ceil(1.2) = 2 kept: 0.9 and 0.5; padding (9.0) never selected
    assert got[0].tolist() == [False, True, True, False, False]
    # row 1: 5 tokens → ceil(1.5) = 2 kept: 5.0 and 4.0
    assert got[1].tolist() == [True, False, False, False, True]


def test_entropy_gate_restricts_to_long_correct_responses():
    correct = torch.tensor([1, 1, 0, 1])
    lengths = torch.tensor([10, 4, 20, 3])
    groups = torch.tensor([0, 0, 1, 1])
    eligible = long_correct_sequences(correct, lengths, groups)
    assert eligible.tolist() == [True, False, False, False]
    ent = torch.rand(4, 6)
    gated = entropy_gated_mask(ent, torch.ones(4, 6, dtype=torch.bool), 0.5, eligible)
    assert gated[0].sum() == 3 and gated[1:].sum() == 0


def test_entropy_bonus_is_masked_mean():
    ent = torch.tensor([[1.0, 3.0, 100.0]])
    assert entropy_bonus(ent, torch.tensor([[1, 1, 0]])).item() == 2.0


def test_fork_fraction_is_exact_for_decimal_q():
    ent = torch.arange(10.0).unsqueeze(0)
    assert fork_token_mask(ent, torch.ones(1, 10, dtype=torch.bool), top_q=0.3).sum() == 3  # 10 · 0.3 → 3, not 4
