"""Error types of failed rollouts (arXiv 2509.03646, §4.3.1): an LLM judge answers a multiple-choice question.

Per step, up to ``per_step`` failed rollouts are sampled (seeded, stable across runs) and sent to any
OpenAI-compatible chat endpoint (``POST {base_url}/chat/completions``, plain HTTP through urllib). The judge picks
the main cause of failure from a taxonomy; each cause belongs to a group, and the paper's question is how the share
of the "Planning & Strategy" group evolves against "Others".

**Default taxonomy** (:data:`DEFAULT_TAXONOMY`)::

    A  Planning & strategy error  wrong approach or strategy, a plan that cannot reach the answer, giving up on
                                  or never revising a failing approach            → Planning & Strategy
    B  Calculation / execution    arithmetic, algebra or substitution mistakes in otherwise sound steps → Others
    C  Misunderstanding           misreading the question, its conditions or what is asked           → Others
    D  Formatting / incomplete    no final answer, wrong format, truncated or looping output         → Others

**Taxonomy file** (JSON, or YAML with the same structure; ``--taxonomy``)::

    {"causes": [{"letter": "A", "name": "...", "description": "...", "group": "Planning & Strategy"}, ...],
     "question": "optional text replacing the default question"}

Judgments are cached (JSONL, one line per rollout, appended and fsync'ed) under the rollout's stable key
(:class:`hicra.analysis.inputs.RecordKeys`), the judge model and the taxonomy's fingerprint, so an interrupted
run resumes where it stopped and a changed taxonomy is judged afresh. Requests are retried with exponential backoff
on connection errors, HTTP 429 and 5xx. A reply without a valid letter is kept with ``choice: null`` ("unparsed");
a reply whose letter disagrees with the option name it quotes is kept with ``choice: "inconsistent"`` and counted
apart (:func:`read_verdict`). Only ``http://`` and ``https://`` base URLs are accepted.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from hicra.analysis.inputs import RecordKeys, RunInfo, is_correct
from hicra.analysis.options import JudgeConfig
from hicra.io import append_jsonl, check_distinct, read_yaml, repair_tail
from hicra.records import RecordError, iter_rollouts, read_jsonl

PLANNING_GROUP = "Planning & Strategy"
OTHER_GROUP = "Others"


@dataclass(frozen=True)
class Cause:
    letter: str
    name: str
    description: str
    group: str


@dataclass(frozen=True)
class Taxonomy:
    causes: tuple[Cause, ...]
    question: str = "What is the main cause of this failure? Choose exactly one option."

    @property
    def fingerprint(self) -> str:
        doc = json.dumps([[asdict(c) for c in self.causes], self.question], sort_keys=True)
        return hashlib.sha1(doc.encode("utf-8")).hexdigest()[:12]

    def cause(self, letter: str | None) -> Cause | None:
        return next((c for c in self.causes if c.letter == letter), None)


DEFAULT_TAXONOMY = Taxonomy((
    Cause("A", "Planning & strategy error", "wrong approach or strategy for the problem, a plan that cannot reach "
          "the answer, or failing to revise an approach that is not working", PLANNING_GROUP),
    Cause("B", "Calculation / execution error", "arithmetic, algebra or substitution mistakes while carrying out "
          "otherwise sound steps", OTHER_GROUP),
    Cause("C", "Misunderstanding the problem", "misreading the question, its conditions or what is asked", OTHER_GROUP),
    Cause("D", "Formatting / incomplete", "no final answer, a wrongly formatted answer, or a truncated or looping "
          "response", OTHER_GROUP),
))


def load_taxonomy(path: str | Path | None) -> Taxonomy:
    """The default taxonomy (empty path) or one read from a JSON/YAML file (format in the module docstring)."""
    if not path:
        return DEFAULT_TAXONOMY
    path = Path(path)
    if not path.is_file():
        raise RecordError(f"{path}: no such taxonomy file")
    doc = read_yaml(path, shape=None)  # YAML is a superset of JSON
    if not isinstance(doc, dict) or not isinstance(doc.get("causes"), list) or len(doc["causes"]) < 2:
        raise RecordError(f"{path}: expected a mapping with a 'causes' list of at least two causes")
    causes = []
    for i, c in enumerate(doc["causes"]):
        if not isinstance(c, dict) or not all(isinstance(c.get(k), str) and c[k] for k in ("letter", "name", "group")):
            raise RecordError(f"{path}: causes[{i}] needs string fields letter, name and group")
        if not re.fullmatch(r"[A-Z]", c["letter"]):
            raise RecordError(f"{path}: causes[{i}]: letter must be one capital letter, got {c['letter']!r}")
        causes.append(Cause(c["letter"], c["name"], str(c.get("description", "")), c["group"]))
    if len({c.letter for c in causes}) != len(causes):
        raise RecordError(f"{path}: cause letters must be distinct")
    return Taxonomy(tuple(causes), str(doc.get("question") or Taxonomy.question))


def build_messages(taxonomy: Taxonomy, rec: dict[str, Any], max_chars: int) -> list[dict[str, str]]:
    """The chat request for one failed rollout: problem, reference answer, response, lettered options."""
    response = rec["completion"]
    if len(response) > max_chars:
        response = "[...] " + response[-max_chars:]
    options = "\n".join(f"{c.letter}. {c.name}: {c.description}" for c in taxonomy.causes)
    letters = ", ".join(c.letter for c in taxonomy.causes)
    user = (f"Problem:\n{rec.get('prompt') or '(not recorded)'}\n\n"
            f"Reference answer: {rec.get('answer') or '(not recorded)'}\n\n"
            f"Model response (graded incorrect):\n{response}\n\n"
            f"{taxonomy.question}\n{options}\n\nReply with a single letter ({letters}).")
    return [{"role": "system", "content": "You classify why a model's solution to a reasoning problem failed."},
            {"role": "user", "content": user}]


def parse_choice(reply: str, letters: Iterable[str]) -> str | None:
    """The first stand-alone option letter in the reply ("B", "(B)", "Answer: B."), else None."""
    allowed = "".join(sorted(letters))
    m = re.search(rf"(?<![A-Za-z])([{allowed}])(?![A-Za-z])", reply or "")
    return m.group(1) if m else None


def _words(text: str) -> str:
    return " " + " ".join(re.findall(r"[a-z0-9]+", text.lower())) + " "


INCONSISTENT = "inconsistent"


def read_verdict(reply: str, taxonomy: Taxonomy) -> tuple[str | None, Cause | None]:
    """``(choice, cause)`` of a judge reply: the option letter, checked against the option names the reply quotes.

    A reply naming causes (e.g. "A. Calculation / execution error: ...") whose letter is not one of them is
    ``(INCONSISTENT, None)``: counted apart, never as the letter's class. A reply with a name and no letter takes
    the named cause when exactly one is named; a reply with neither is ``(None, None)`` (unparsed).
    """
    letter = parse_choice(reply, (c.letter for c in taxonomy.causes))
    text = _words(reply or "")
    named = [c for c in taxonomy.causes if _words(c.name) in text]
    if letter is None:
        return (named[0].letter, named[0]) if len(named) == 1 else (None, None)
    if named and all(c.letter != letter for c in named):
        return INCONSISTENT, None
    return letter, taxonomy.cause(letter)


class ChatClient:
    """Minimal OpenAI-compatible chat client (urllib) with retries and exponential backoff."""

    RETRY_STATUS = (408, 409, 429, 500, 502, 503, 504)

    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout: float = 60.0,
                 retries: int = 4, backoff: float = 1.0, sleep: Callable[[float], None] = time.sleep):
        if not base_url or not model:
            raise ValueError("the judge needs --base-url and --model")
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"field 'base_url' must be an http:// or https:// URL, got {base_url!r}")
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model, self.api_key, self.timeout = model, api_key, timeout
        self.retries, self.backoff, self.sleep = retries, backoff, sleep

    def complete(self, messages: list[dict[str, str]]) -> str:
        body = json.dumps({"model": self.model, "messages": messages, "temperature": 0.0, "max_tokens": 16})
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                self.sleep(self.backoff * 2 ** (attempt - 1))
            req = urllib.request.Request(self.url, data=body.encode("utf-8"), headers=headers, method="POST")
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    doc = json.loads(resp.read().decode("utf-8"))
                return str(doc["choices"][0]["message"]["content"] or "")
            except urllib.error.HTTPError as e:
                last = f"HTTP {e.code} {e.reason}"
                if e.code not in self.RETRY_STATUS:
                    raise RuntimeError(f"judge request to {self.url} failed: {last}") from None
            except (urllib.error.URLError, OSError) as e:  # connection refused, reset, timeout
                last = str(getattr(e, "reason", e))
            except (ValueError, KeyError, IndexError, TypeError):
                last = "malformed response (expected choices[0].message.content)"
        raise RuntimeError(f"judge request to {self.url} failed after {self.retries + 1} attempts: {last}")


def sample_failures(path: Path, per_step: int, seed: int, threshold: float) -> list[tuple[str, dict[str, Any]]]:
    """(key, record) of up to ``per_step`` failed rollouts per step, chosen by a seeded, order-free sample."""
    keys = RecordKeys()
    by_step: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    for _, rec in iter_rollouts(path):
        key = keys(rec)
        if not is_correct(rec, threshold):
            by_step.setdefault(rec["step"], []).append((key, rec))
    out = []
    for step in sorted(by_step):
        pool = sorted(by_step[step], key=lambda kr: kr[0])
        out.extend(random.Random(f"{seed}:{step}").sample(pool, min(per_step, len(pool))))
    return out


def judge_run(info: RunInfo, cfg: JudgeConfig, threshold: float = 0.5, client: ChatClient | None = None,
              progress: bool = True) -> Path:
    """Judge the sampled failures of a run that are not cached yet; returns the cache path."""
    taxonomy = load_taxonomy(cfg.taxonomy)
    cache = Path(cfg.cache) if cfg.cache else info.judgments
    client = client or ChatClient(cfg.base_url, cfg.model, os.environ.get(cfg.api_key_env) if cfg.api_key_env
                                  else None, cfg.timeout, cfg.retries, cfg.backoff)
    run_files = [(name, info.run_dir / name) for name in ("config.yaml", "metrics.jsonl")] if info.run_dir else []
    check_distinct([("--cache", cache)], [("rollouts", info.rollouts), ("--taxonomy", cfg.taxonomy)] + run_files)
    repair_tail(cache)
    done = {(e.get("key"), e.get("judge_model"), e.get("taxonomy")) for e in read_jsonl(cache)} if cache.is_file() \
        else set()
    todo = [(k, r) for k, r in sample_failures(info.rollouts, cfg.per_step, cfg.seed, threshold)
            if (k, client.model, taxonomy.fingerprint) not in done]
    from tqdm import tqdm

    for key, rec in tqdm(todo, desc=f"judging {info.name}", unit="rollout", disable=not progress or not todo):
        reply = client.complete(build_messages(taxonomy, rec, cfg.max_chars))
        letter, cause = read_verdict(reply, taxonomy)
        append_jsonl(cache, [{"key": key, "step": rec["step"], "prompt_id": str(rec["prompt_id"]),
                              "judge_model": client.model, "taxonomy": taxonomy.fingerprint, "choice": letter,
                              "cause": cause.name if cause else None, "group": cause.group if cause else None,
                              "reply": reply[:200]}])
    return cache


def error_counts(cache: Path, bucket: int = 1) -> list[dict[str, Any]]:
    """Per step bucket: judged failures, counts per group and the Planning & Strategy share; [] if no cache.

    Only the latest judgment of each (rollout, judge model, taxonomy) counts; if the cache mixes several judges
    or taxonomies, the most recent (judge model, taxonomy) pair is used.
    """
    if not cache.is_file():
        return []
    entries = list(read_jsonl(cache, required=("key", "step")))
    if not entries:
        return []
    latest = (entries[-1].get("judge_model"), entries[-1].get("taxonomy"))
    chosen = {e["key"]: e for e in entries if (e.get("judge_model"), e.get("taxonomy")) == latest}
    rows: dict[int, dict[str, Any]] = {}
    for e in chosen.values():
        b = int(e["step"]) // bucket * bucket
        row = rows.setdefault(b, {"step": b, "judged": 0, "planning_strategy": 0, "others": 0, "unparsed": 0,
                                  "inconsistent": 0})
        row["judged"] += 1
        group = e.get("group")
        row["planning_strategy" if group == PLANNING_GROUP else "others" if group is not None else
            "inconsistent" if e.get("choice") == INCONSISTENT else "unparsed"] += 1
        if e.get("cause"):
            row[f"cause:{e['cause']}"] = row.get(f"cause:{e['cause']}", 0) + 1
    out = []
    for b in sorted(rows):
        r = rows[b]
        parsed = r["planning_strategy"] + r["others"]
        r["planning_strategy_frac"] = r["planning_strategy"] / parsed if parsed else float("nan")
        out.append(r)
    return out
