"""Generation backends for evaluation: transformers ``generate`` (CPU/GPU) and vLLM (optional, GPU).

Both take :class:`Request` objects keyed by ``(problem id, sample index)`` and yield :class:`Completion` chunks, so
the caller can append each chunk to its cache before the next one (a crash loses at most one chunk). Sampling
follows the paper's protocol (arXiv 2509.03646, §4.1): temperature 0.6, top-p 0.95; temperature 0 means greedy.

Deviation: transformers sampling is seeded per batch (``seed + batch number``), so a resumed run samples the
remaining items with different random streams than an uninterrupted one; estimates are unaffected.
"""

from __future__ import annotations

import warnings
import zlib
from dataclasses import dataclass
from typing import Any, Iterator, Protocol, Sequence

Key = tuple[str, int]  # (problem id, sample index)


@dataclass(frozen=True)
class Sampling:
    """Decoding settings shared by all backends."""

    temperature: float = 0.6
    top_p: float = 0.95
    max_tokens: int = 4096
    seed: int = 0


@dataclass(frozen=True)
class Request:
    key: Key
    prompt: str


@dataclass(frozen=True)
class Completion:
    key: Key
    text: str
    n_tokens: int
    finished: bool  # stopped at end-of-sequence (False: cut at max_tokens)


class Backend(Protocol):
    def generate(self, requests: Sequence[Request], sampling: Sampling) -> Iterator[list[Completion]]: ...


class TransformersBackend:
    """Batched ``model.generate`` with left padding; requests are sorted by prompt length to limit padding.

    ``fast_generation``: the same sampling through :func:`hicra.generation.decode` (plain ``generate``, with a
    warning, for settings it does not support)."""

    def __init__(self, model: str, dtype: str = "float32", batch_size: int = 16, device: str = "auto",
                 threads: int = 0, fast_generation: bool = True) -> None:
        import torch

        from hicra.models import load_model, load_tokenizer

        if threads > 0:
            torch.set_num_threads(threads)
        self.tokenizer = load_tokenizer(model)
        self.tokenizer.padding_side = "left"
        self.device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
        self.model = load_model(model, dtype=dtype).to(self.device).eval()
        self.batch_size = max(1, batch_size)
        self.fast_generation = fast_generation

    def generate(self, requests: Sequence[Request], sampling: Sampling) -> Iterator[list[Completion]]:
        import sys

        import torch
        from tqdm import tqdm
        from transformers import StoppingCriteria, StoppingCriteriaList

        from hicra.generation import decode, plan_for

        class StepBar(StoppingCriteria):
            """Advances a token-step progress bar; never stops generation."""

            def __init__(self, bar: tqdm) -> None:
                self.bar = bar

            def __call__(self, input_ids, scores, **kwargs):  # type: ignore[no-untyped-def]
                self.bar.update(1)
                return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)

        order = sorted(requests, key=lambda r: len(r.prompt), reverse=True)
        eos = self.tokenizer.eos_token_id
        pad = self.tokenizer.pad_token_id
        for number, start in enumerate(range(0, len(order), self.batch_size)):
            batch = order[start:start + self.batch_size]
            enc = self.tokenizer([r.prompt for r in batch], return_tensors="pt", padding=True,
                                 add_special_tokens=False).to(self.device)
            torch.manual_seed(sampling.seed + number)
            sample = sampling.temperature > 0
            extra: dict[str, Any] = {"temperature": sampling.temperature, "top_p": sampling.top_p} if sample else {}
            settings = dict(do_sample=sample, max_new_tokens=sampling.max_tokens, pad_token_id=pad, eos_token_id=eos,
                            top_k=None, **extra)
            plan = plan_for(self.model, enc["input_ids"], **settings) if self.fast_generation else None
            if isinstance(plan, str):
                warnings.warn(f"fast generation does not support {plan}: using transformers' generate", stacklevel=2)
            with torch.inference_mode(), tqdm(total=sampling.max_tokens, desc=f"batch of {len(batch)}", unit="tok",
                                              leave=False, file=sys.stderr, mininterval=2.0) as bar:
                if plan is None or isinstance(plan, str):
                    out = self.model.generate(**enc, **settings,
                                              stopping_criteria=StoppingCriteriaList([StepBar(bar)]))
                else:
                    out = decode(self.model, enc["input_ids"], enc["attention_mask"], plan, on_step=bar.update)
            new = out[:, enc["input_ids"].shape[1]:].tolist()
            chunk = []
            for req, ids in zip(batch, new):
                finished = eos in ids
                ids = ids[:ids.index(eos)] if finished else ids
                chunk.append(Completion(req.key, self.tokenizer.decode(ids, skip_special_tokens=True),
                                        len(ids) + int(finished), finished))
            yield chunk


def vllm_sampling_kwargs(sampling: Sampling, n: int, seed: int) -> dict[str, Any]:
    """Keyword arguments of ``vllm.SamplingParams`` for ``n`` samples of one prompt (greedy when temperature 0)."""
    greedy = sampling.temperature <= 0
    return {"n": n, "temperature": 0.0 if greedy else sampling.temperature, "top_p": 1.0 if greedy else sampling.top_p,
            "max_tokens": sampling.max_tokens, "seed": seed}


def vllm_plan(requests: Sequence[Request], sampling: Sampling) -> list[tuple[str, list[Key], dict[str, Any]]]:
    """Group requests by prompt into ``(prompt, keys, SamplingParams kwargs)``: one vLLM request with ``n`` samples.

    The seed mixes ``sampling.seed``, the prompt and its first sample index, so extending a run from 4 to 32
    samples draws new samples instead of repeating the first four.
    """
    groups: dict[str, list[Key]] = {}
    for r in requests:
        groups.setdefault(r.prompt, []).append(r.key)
    plan = []
    for prompt, keys in groups.items():
        keys = sorted(keys, key=lambda k: k[1])
        seed = (sampling.seed + zlib.crc32(prompt.encode()) + 1_000_003 * keys[0][1]) % (2 ** 31)
        plan.append((prompt, keys, vllm_sampling_kwargs(sampling, len(keys), seed)))
    return plan


class VLLMBackend:
    """vLLM offline inference (``pip install 'hicra[vllm]'``, Linux with a CUDA GPU)."""

    def __init__(self, model: str, dtype: str = "auto", tensor_parallel_size: int = 1, seed: int = 0,
                 chunk: int = 512) -> None:
        try:
            import vllm
        except ImportError:
            raise RuntimeError("backend 'vllm' needs the vllm package: pip install 'hicra[vllm]' (Linux, CUDA GPU); "
                               "or use --backend transformers") from None
        from hicra.models import resolve_model_path

        self._vllm = vllm
        self.llm = vllm.LLM(model=resolve_model_path(model), dtype=dtype, seed=seed,
                            tensor_parallel_size=tensor_parallel_size)
        self.chunk = chunk

    def generate(self, requests: Sequence[Request], sampling: Sampling) -> Iterator[list[Completion]]:
        plan = vllm_plan(requests, sampling)
        for start in range(0, len(plan), self.chunk):
            part = plan[start:start + self.chunk]
            params = [self._vllm.SamplingParams(**kwargs) for _, _, kwargs in part]
            outputs = self.llm.generate([p for p, _, _ in part], params)
            chunk = []
            for (_, keys, _), out in zip(part, outputs):
                for key, o in zip(keys, out.outputs):
                    chunk.append(Completion(key, o.text, len(o.token_ids), o.finish_reason == "stop"))
            yield chunk


def make_backend(name: str, model: str, dtype: str, batch_size: int, seed: int,
                 tensor_parallel_size: int = 1, threads: int = 0, fast_generation: bool = True) -> Backend:
    """The backend called ``name`` (transformers or vllm)."""
    if name == "transformers":
        return TransformersBackend(model, dtype="float32" if dtype == "auto" else dtype, batch_size=batch_size,
                                   threads=threads, fast_generation=fast_generation)
    if name == "vllm":
        return VLLMBackend(model, dtype=dtype, tensor_parallel_size=tensor_parallel_size, seed=seed)
    raise ValueError(f"unknown backend {name!r}; valid: transformers, vllm")
