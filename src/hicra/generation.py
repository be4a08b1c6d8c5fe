"""A lean sampling loop for any transformers causal LM: same distribution as ``model.generate``, less work per token.

Where ``generate`` spends a CPU decoding step besides the model's forward (``docs/generation.md``):

- sampling: ``torch.multinomial`` over the whole vocabulary and, under top-p, a full sort of every row. Here a token
  is drawn by inverse CDF (one uniform per row, a float64 cumulative sum, a binary search): exact sampling from the
  same softmax. Top-p first looks at the top 64 tokens, widening only while a row's kept mass is not covered, so the
  full sort runs only for flat rows. No processor runs that would be a no-op (temperature 1, top-k 0, top-p 1).
- the LM head (the model's output embedding, when it is a float32 CPU ``nn.Linear``) multiplies by a copy of its
  weight reordered once per call for oneDNN (``torch._C._nn.mkldnn_linear``): the widest product of a decoding step,
  and the one the default kernel runs furthest below the matmul peak (``docs/generation.md``).

Which settings are supported is decided by transformers itself: the effective generation config (the model's
defaults merged with the caller's) must build no logits processor other than temperature, top-k and top-p, one beam,
one sequence per prompt, and no extra model inputs. Anything else (repetition penalty, min-p, stop strings, images,
...) runs the plain ``generate`` with a warning naming the setting. The result has ``generate``'s shape: prompt ids
followed by the new ids, finished rows padded, as long as the longest row.
"""

from __future__ import annotations

import inspect
import warnings
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Iterator

import torch
from torch import nn

TOP_P_CANDIDATES = 64  # tokens looked at first under top-p (widened ×8 while a row's kept mass is not covered)


@dataclass(frozen=True)
class Sampler:
    """Token selection of one ``generate`` call: greedy, or softmax(logits / temperature) cut by top-k then top-p."""

    greedy: bool = False
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0

    def __call__(self, logits: torch.Tensor) -> torch.Tensor:
        """[B] token ids drawn from [B, V] last-position logits."""
        if self.greedy:
            return logits.argmax(dim=-1)
        scores = logits.float()
        if self.temperature != 1.0:
            scores = scores / self.temperature
        if 0 < self.top_k < scores.shape[-1]:  # as TopKLogitsWarper: drop scores below the k-th largest
            kth = scores.topk(self.top_k, dim=-1).values[:, -1:]
            scores = scores.masked_fill(scores < kth, float("-inf"))
        probs = scores.softmax(dim=-1)
        if self.top_p >= 1.0:
            return draw(probs)
        return nucleus_draw(probs, self.top_p)


def draw(weights: torch.Tensor) -> torch.Tensor:
    """[B] indices drawn with probability proportional to [B, n] non-negative ``weights`` (inverse CDF).

    The cumulative sum is taken in float64; u ~ U[0, total) per row, and the first index whose cumulative weight
    exceeds u is returned, so a zero-weight index is never drawn.
    """
    cdf = weights.double().cumsum(dim=-1)
    total = cdf[:, -1:]
    u = torch.rand(total.shape, dtype=torch.float64, device=weights.device) * total
    u = torch.minimum(u, torch.nextafter(total, torch.zeros_like(total)))
    return torch.searchsorted(cdf, u, right=True).squeeze(-1)


def nucleus_draw(probs: torch.Tensor, top_p: float) -> torch.Tensor:
    """[B] tokens from [B, V] ``probs`` restricted to the top-p nucleus, as ``TopPLogitsWarper`` keeps it.

    A token is kept when the mass of the tokens more likely than it is below ``top_p`` (the most likely token always
    is). Only the k most likely tokens are sorted; once their mass reaches ``top_p`` in every row, no other token can
    be kept, so the draw among them is exact. k grows ×8 until that holds (at worst the whole vocabulary).
    """
    vocab = probs.shape[-1]
    k = min(TOP_P_CANDIDATES, vocab)
    while True:
        top, index = probs.topk(k, dim=-1) if k < vocab else probs.sort(dim=-1, descending=True)
        mass = top.cumsum(dim=-1)
        if k == vocab or bool((mass[:, -1] >= top_p).all()):
            break
        k = min(vocab, k * 8)
    kept = top.masked_fill(mass - top >= top_p, 0.0)
    return index.gather(-1, draw(kept).unsqueeze(-1)).squeeze(-1)


# --------------------------------------------------------------------------------------- settings from transformers
_SUPPORTED = {"TemperatureLogitsWarper": "temperature", "TopKLogitsWarper": "top_k", "TopPLogitsWarper": "top_p"}


@dataclass(frozen=True)
class Plan:
    """What one ``generate`` call asks for, in the loop's terms."""

    sampler: Sampler
    max_new_tokens: int
    eos_ids: tuple[int, ...]
    pad_id: int


def plan_for(model: Any, input_ids: torch.Tensor, generation_config: Any = None, **kwargs: Any) -> Plan | str:
    """The :class:`Plan` of ``model.generate(input_ids, generation_config=..., **kwargs)``, or why it has none.

    The effective config and its logits processors come from transformers' own ``generate`` preparation, so the
    model's generation defaults apply exactly as they would there.
    """
    config, model_kwargs = model._prepare_generation_config(generation_config, **kwargs)
    extra = sorted(k for k, v in model_kwargs.items() if v is not None and k not in ("attention_mask", "use_cache"))
    if extra:
        return f"inputs {', '.join(extra)}"
    for name, neutral in (("num_beams", 1), ("num_return_sequences", 1), ("stop_strings", None),
                          ("assistant_model", None), ("prompt_lookup_num_tokens", None), ("max_time", None),
                          ("return_dict_in_generate", False), ("use_cache", True)):
        value = getattr(config, name, neutral)
        if value not in (neutral, None):
            return f"{name}={value!r}"
    length = input_ids.shape[1]
    model._prepare_special_tokens(config, True, device=input_ids.device, batch_size=input_ids.shape[0])
    processors = model._get_logits_processor(generation_config=config, input_ids_seq_length=length,
                                             device=input_ids.device, model_kwargs={})
    found = [type(p).__name__ for p in processors]
    other = [n for n in found if n not in _SUPPORTED]
    if other or found != sorted(found, key=list(_SUPPORTED).index):
        return f"logits processors {', '.join(other or found)}"
    values = {_SUPPORTED[type(p).__name__]: p for p in processors}
    greedy = not config.do_sample
    sampler = Sampler(greedy=greedy,
                      temperature=1.0 if greedy or "temperature" not in values else values["temperature"].temperature,
                      top_k=0 if greedy or "top_k" not in values else values["top_k"].top_k,
                      top_p=1.0 if greedy or "top_p" not in values else values["top_p"].top_p)
    eos = config._eos_token_tensor
    eos_ids = () if eos is None else tuple(int(e) for e in eos.tolist())
    pad = config._pad_token_tensor
    new = config.max_new_tokens if config.max_new_tokens is not None else config.max_length - length
    return Plan(sampler, max(0, int(new)), eos_ids, 0 if pad is None else int(pad))


# ------------------------------------------------------------------------------------------------ the decode loop
def _accepts(model: Any, name: str) -> bool:
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return name in inspect.signature(base.forward).parameters


@contextmanager
def packed_head(model: nn.Module) -> Iterator[None]:
    """Within the block, the model's LM head (its output embedding, if a float32 CPU ``nn.Linear``) multiplies by a
    oneDNN-reordered copy of its weight, made once here (the block must not change the weights). Otherwise a no-op."""
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    weight = getattr(head, "weight", None)
    if (type(head) is not nn.Linear or weight.dtype != torch.float32 or weight.device.type != "cpu"
            or not torch.backends.mkldnn.is_available()):
        yield
        return
    bias = head.bias if head.bias is not None else torch.zeros(head.out_features)
    head.forward = partial(_mkldnn_linear, weight.detach().to_mkldnn(), bias.detach().to_mkldnn())
    try:
        yield
    finally:
        del head.forward


def _mkldnn_linear(weight: torch.Tensor, bias: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    flat = x.reshape(-1, x.shape[-1]).contiguous().to_mkldnn()
    return torch._C._nn.mkldnn_linear(flat, weight, bias).to_dense().view(*x.shape[:-1], -1)


@torch.no_grad()
def decode(model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor | None, plan: Plan,
           on_step: Callable[[], None] | None = None, pack_head: bool = True) -> torch.Tensor:
    """[B, P + T] prompt and new ids of ``plan`` (T ≤ max_new_tokens: stops once every row has ended).

    ``pack_head``: run a CPU model's LM head on a oneDNN-reordered weight (:func:`packed_head`).

    Left padding is handled as ``generate`` does: positions count the real tokens only and the attention mask
    covers the prompt's padding. Rows that ended get ``plan.pad_id``.
    """
    batch, length = input_ids.shape
    device = input_ids.device
    mask = torch.ones_like(input_ids) if attention_mask is None else attention_mask.to(input_ids.dtype)
    mask = torch.cat([mask, mask.new_ones(batch, plan.max_new_tokens)], dim=1)
    positions = (mask[:, :length].cumsum(-1) - 1).masked_fill(mask[:, :length] == 0, 0)
    extra = {"logits_to_keep": 1} if _accepts(model, "logits_to_keep") else {}
    if _accepts(model, "position_ids"):
        extra["position_ids"] = positions
    new = torch.full((batch, plan.max_new_tokens), plan.pad_id, dtype=input_ids.dtype, device=device)
    eos = torch.tensor(plan.eos_ids, dtype=input_ids.dtype, device=device)
    done = torch.zeros(batch, dtype=torch.bool, device=device)
    tokens, cache, steps = input_ids, None, 0
    last = positions[:, -1:]
    with packed_head(model) if pack_head else nullcontext():
        while steps < plan.max_new_tokens:
            out = model(input_ids=tokens, attention_mask=mask[:, :length + steps], past_key_values=cache,
                        use_cache=True, **extra)
            cache = out.past_key_values
            token = plan.sampler(out.logits[:, -1])
            token = token.masked_fill(done, plan.pad_id)
            new[:, steps] = token
            steps += 1
            done |= torch.isin(token, eos)
            if on_step is not None:
                on_step()
            if bool(done.all()):
                break
            tokens = token.unsqueeze(-1)
            if "position_ids" in extra:
                last = last + 1
                extra["position_ids"] = last
    return torch.cat([input_ids, new[:, :steps]], dim=1)


def generate(model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
             generation_config: Any = None, **kwargs: Any) -> torch.Tensor:
    """``model.generate(input_ids, attention_mask, generation_config, **kwargs)`` through :func:`decode`; settings the
    loop does not support run the plain ``generate`` with a warning."""
    plan = plan_for(model, input_ids, generation_config, attention_mask=attention_mask, **kwargs)
    if isinstance(plan, str):
        warnings.warn(f"fast generation does not support {plan}: using transformers' generate", stacklevel=2)
        return type(model).generate(model, input_ids=input_ids, attention_mask=attention_mask,
                                    generation_config=generation_config, **kwargs)
    return decode(model, input_ids, attention_mask, plan)


@contextmanager
def fast_generate(model: Any) -> Iterator[None]:
    """Within the block, ``model.generate`` is :func:`generate` (for callers that call ``generate`` themselves)."""
    model.generate = partial(generate, model)
    try:
        yield
    finally:
        del model.generate
