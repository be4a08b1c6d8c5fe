"""``hicra score``: per-token log-probabilities and entropies of recorded completions under a given checkpoint.

The paper tracks perplexity and token entropy of planning vs. execution tokens across training (§2.2.1) by
scoring the rollouts with each checkpoint. For every rollout record this fills in

* ``completion_ids`` — kept when present (the exact sampled ids), else the completion text tokenised without
  special tokens;
* ``logprobs``       — log π(o_t | prompt, o_<t) of each completion token;
* ``entropies``      — H_t of the next-token distribution at each completion position (nats), via
  :func:`hicra.core.masks.token_entropy`;
* ``score_model``    — the checkpoint name.

The context is the record's ``prompt`` (already chat-formatted, tokenised without special tokens); without a
prompt it is the tokenizer's BOS token (else EOS), so the first completion token is scored too. Logits are divided
by ``temperature`` (1.0 = the raw policy). Sequences longer than ``max_length`` lose prompt tokens from the left.

Resumable: records are appended (fsync'ed) to the output batch by batch, and records whose key
(:class:`hicra.analysis.inputs.RecordKeys`) is already in the output are skipped. A torn last line of the output
(the previous run was killed mid-append) is cut off with a note on stderr before resuming, a complete last line
without its newline is kept (:func:`hicra.io.repair_tail`); any other bad line stops the run, naming file and line.
Token ids outside the model's vocabulary stop the run before anything is scored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from hicra.analysis.inputs import RecordKeys
from hicra.config import check_fields, option
from hicra.importers import FIELD_HELP, import_rollouts
from hicra.io import append_jsonl, check_distinct, repair_tail
from hicra.records import RecordError, iter_rollouts, rollouts_path


@dataclass
class ScoreConfig:
    """Options of ``hicra score``."""

    model: str = option("smollm2", "checkpoint to score with: smollm2, a Hugging Face id or a local path")
    tokenizer: str = option("", "tokenizer; empty = the model's")
    batch_size: int = option(4, "sequences per forward pass", ge=1)
    max_length: int = option(4096, "longest prompt + completion in tokens (the prompt is cut from the left)",
                             ge=2)
    temperature: float = option(1.0, "logits are divided by this before log-softmax (match the sampling temperature; "
                                     "at least 1e-6: smaller values turn the float32 logits into inf and NaN)",
                                 ge=1e-6)
    dtype: str = option("float32", "model dtype: float32, bfloat16 or float16",
                        choices=("float32", "bfloat16", "float16"))
    head_chunk: int = option(1024, "positions per LM-head chunk (bounds the [positions, vocab] logits memory)",
                            ge=1)
    field: str = option("", FIELD_HELP)

    def __post_init__(self) -> None:
        check_fields(self)


class Scorer:
    """Scores completions with a causal LM; see the module docstring for the conventions."""

    def __init__(self, model, tokenizer, config: ScoreConfig, name: str = ""):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.config = config
        self.name = name or config.model
        start = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
        if start is None:
            raise ValueError("the tokenizer has neither a BOS nor an EOS token to start unprompted completions")
        self.start_id = int(start)
        self.pad_id = int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else start)

    def check_ids(self, records: Sequence[dict[str, Any]]) -> None:
        """Refuse recorded ``completion_ids`` outside the model's vocabulary (they would index past its embeddings)."""
        vocab = self.model.get_input_embeddings().num_embeddings
        for rec in records:
            ids = rec.get("completion_ids") or ()
            top = max(ids, default=-1)
            if top >= vocab:
                raise RecordError(f"field 'completion_ids' holds token id {top}, outside the vocabulary of "
                                  f"{self.name} ({vocab} tokens) (step {rec['step']}, prompt {rec['prompt_id']}); "
                                  "score with the model that sampled it")

    def _ids(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"]) if text else []

    def score(self, records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Copies of ``records`` with completion_ids, logprobs, entropies and score_model filled in."""
        import torch

        from hicra.core.masks import token_entropy

        cfg = self.config
        seqs, spans = [], []
        for rec in records:
            comp = rec.get("completion_ids")
            comp = list(comp) if comp is not None else self._ids(rec["completion"])
            prompt = self._ids(rec.get("prompt") or "") or [self.start_id]
            room = cfg.max_length - len(comp)
            if room < 1:
                raise RecordError(f"completion of {len(comp)} tokens exceeds --max-length {cfg.max_length} "
                                  f"(step {rec['step']}, prompt {rec['prompt_id']})")
            prompt = prompt[-room:]
            seqs.append(prompt + comp)
            spans.append((len(prompt), len(comp)))
        width = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), width), self.pad_id, dtype=torch.long)
        attn = torch.zeros((len(seqs), width), dtype=torch.long)
        for i, s in enumerate(seqs):
            ids[i, :len(s)] = torch.tensor(s)
            attn[i, :len(s)] = 1
        with torch.inference_mode():
            hidden = self.model.get_decoder()(input_ids=ids, attention_mask=attn).last_hidden_state
            rows = torch.cat([hidden[i, p - 1:p - 1 + c] for i, (p, c) in enumerate(spans)])  # states predicting o_t
            targets = torch.cat([ids[i, p:p + c] for i, (p, c) in enumerate(spans)])
            head = self.model.get_output_embeddings()
            lps, ents = [], []
            for a in range(0, len(rows), cfg.head_chunk):
                logits = head(rows[a:a + cfg.head_chunk]).float() / cfg.temperature
                logp = torch.log_softmax(logits, dim=-1)
                lps.append(logp.gather(1, targets[a:a + cfg.head_chunk, None])[:, 0])
                ents.append(token_entropy(logits))
            lp = torch.cat(lps).tolist() if lps else []
            ent = torch.cat(ents).tolist() if ents else []
        out, pos = [], 0
        for rec, s, (p, c) in zip(records, seqs, spans):
            new = dict(rec)
            new.update(completion_ids=s[p:], logprobs=[round(x, 6) for x in lp[pos:pos + c]],
                       entropies=[round(x, 6) for x in ent[pos:pos + c]], score_model=self.name)
            out.append(new)
            pos += c
        return out


def pending(input_path: str | Path, output_path: str | Path,
            field_map: str = "") -> tuple[list[dict[str, Any]], int]:
    """The records of ``input_path`` not yet in ``output_path`` (validated; shortest first) and how many are there.

    The input is read first, so a bad input stops the run before the output is touched; then a torn last line of
    the output is cut off (see the module docstring).
    """
    output_path = Path(output_path)
    check_distinct([("--output", output_path)], [("--input", rollouts_path(input_path))])
    input_path = rollouts_path(import_rollouts(input_path, field_map))  # foreign rollouts: hicra.importers
    check_distinct([("--output", output_path)], [("--input", input_path)])
    if output_path.is_dir():
        raise ValueError(f"--output {output_path}: is a directory")
    records = [rec for _, rec in iter_rollouts(input_path)]
    repair_tail(output_path)
    done: set[str] = set()
    if output_path.is_file():
        keys = RecordKeys()
        done = {keys(rec) for _, rec in iter_rollouts(output_path)}
    keys = RecordKeys()
    todo = [rec for rec in records if keys(rec) not in done]
    todo.sort(key=lambda r: len(r.get("completion_ids") or r["completion"]))  # similar lengths batch together
    return todo, len(done)



def score_records(todo: Sequence[dict[str, Any]], output_path: str | Path, scorer: Scorer,
                  progress: bool = True) -> None:
    """Score ``todo`` and append the results to ``output_path`` batch by batch (fsync'ed)."""
    from tqdm import tqdm

    scorer.check_ids(todo)  # before anything is appended
    bs = scorer.config.batch_size
    with tqdm(total=len(todo), desc="scoring", unit="rec", disable=not progress) as bar:
        for a in range(0, len(todo), bs):
            append_jsonl(output_path, scorer.score(todo[a:a + bs]))
            bar.update(len(todo[a:a + bs]))


def score_file(input_path: str | Path, output_path: str | Path, scorer: Scorer,
               progress: bool = True) -> tuple[int, int]:
    """Score every record of ``input_path`` not yet in ``output_path`` (appending); returns (scored, skipped)."""
    todo, skipped = pending(input_path, output_path, scorer.config.field)
    score_records(todo, output_path, scorer, progress)
    return len(todo), skipped
