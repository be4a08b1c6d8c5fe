"""Gates of a warm start: does the SFT policy behave like the traces it was trained on?

Sampled at temperature 1 on fresh problems, the policy must show (each a :class:`Gate` with its measured value):

* ``parseable``: ≥ 95% of completions parse (an attempt and a boxed answer);
* ``prior/TYPE``: for every problem type, the first strategy follows the trace prior, not the type (largest
  deviation of the strategy frequencies from the prior ≤ ``prior_tolerance``);
* ``equation_accuracy``: within ``band`` of 1 − ε;
* ``backtrack_rate``: fraction of failed first checks followed by a backtrack, within ``band`` of the traces'
  backtrack rate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from hicra.testbed.parser import parse
from hicra.testbed.task import OPERATIONS, Problem
from hicra.testbed.traces import TraceStyle


def chat_prompt(tokenizer, text: str) -> str:
    """The chat-templated prompt of problem text ``text`` (what the trainer feeds the policy)."""
    return tokenizer.apply_chat_template([{"role": "user", "content": text}], tokenize=False,
                                         add_generation_prompt=True)


@dataclass(frozen=True)
class Gate:
    name: str
    value: float
    low: float
    high: float

    @property
    def passed(self) -> bool:
        return self.low <= self.value <= self.high

    def __str__(self) -> str:
        return f"{self.name} = {self.value:.3f} (need {self.low:.2f}..{self.high:.2f})"


def sample(model, tokenizer, problems: list[Problem], batch_size: int = 128, max_new_tokens: int = 96,
           seed: int = 0) -> list[str]:
    """One completion per problem at temperature 1 (the chat-templated prompt, left padding)."""
    import torch

    torch.manual_seed(seed)
    tokenizer.padding_side = "left"
    out: list[str] = []
    model.eval()
    for start in range(0, len(problems), batch_size):
        prompts = [chat_prompt(tokenizer, p.text) for p in problems[start:start + batch_size]]
        batch = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.no_grad():
            ids = model.generate(**batch, do_sample=True, temperature=1.0, top_k=0, max_new_tokens=max_new_tokens,
                                 pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
        out += tokenizer.batch_decode(ids[:, batch["input_ids"].shape[1]:], skip_special_tokens=True)
    return out


def measure(problems: list[Problem], completions: list[str], style: TraceStyle, prior_tolerance: float = 0.15,
            band: float = 0.1) -> list[Gate]:
    """The gates (module docstring) of ``completions`` sampled on ``problems``."""
    parsed = [parse(c, p) for c, p in zip(completions, problems)]
    gates = [Gate("parseable", sum(x.parseable for x in parsed) / max(len(parsed), 1), 0.95, 1.0)]
    for op in OPERATIONS:
        firsts = [x.strategies[0] for x, p in zip(parsed, problems) if p.op == op and x.strategies]
        if firsts:
            deviation = max(abs(firsts.count(o) / len(firsts) - w) for o, w in zip(OPERATIONS, style.prior))
            gates.append(Gate(f"prior/{op}", deviation, 0.0, prior_tolerance))
    equations = [e.correct for x in parsed for e in x.equations]
    target = 1 - style.error_rate
    gates.append(Gate("equation_accuracy", sum(equations) / max(len(equations), 1), target - band,
                      min(1.0, target + band)))
    first_failed = [x for x in parsed if x.checks_failed and x.checks_failed[0]]  # traces backtrack only there
    backtracked = sum(bool(x.backtracks_justified) for x in first_failed)
    gates.append(Gate("backtrack_rate", backtracked / max(len(first_failed), 1), style.backtrack_rate - band,
                      min(1.0, style.backtrack_rate + band)))
    return gates


def gates_document(gates: list[Gate]) -> list[dict]:
    return [{**asdict(g), "passed": g.passed} for g in gates]
