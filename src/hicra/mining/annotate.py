"""Stage e — LLM annotation of mined grams as strategic or procedural (arXiv 2509.03646, Appendix A: mined
candidates are checked for a strategic, reasoning-steering function before entering the SG list).

Any OpenAI-compatible chat endpoint works (``POST {base_url}/chat/completions``; a local vLLM server, for one); the
client is plain :mod:`urllib`, no SDK. Grams are sent in batches, one numbered phrase per line, and the reply is read
line by line (``3: strategic``); a gram the reply skips is asked again on its own once, then left unlabelled.

Crash safety: every labelled batch is appended to a JSONL cache and fsynced before the next request
(:func:`hicra.records.append_jsonl`). A rerun loads the cache — keyed by model, prompt version and gram — and asks
only for grams not in it; a half-written last line left by a crash is cut off first. Network errors, timeouts,
HTTP 429 and 5xx are retried with exponential backoff (``backoff * 2**attempt`` seconds); other HTTP errors fail at
once with the server's message.

Deviation: the paper does not publish its annotation prompt; :data:`PROMPT` is ours.
"""

from __future__ import annotations

import http.client
import json
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from tqdm import tqdm

from hicra.mining.config import MiningError
from hicra.io import DataError, append_jsonl, iter_jsonl, repair_tail

LABELS = ("strategic", "procedural")
PROMPT_VERSION = 1
PROMPT = """\
Below are short phrases taken from step-by-step solutions of math problems. Label each one:
- strategic: it steers the reasoning — plans, chooses or switches an approach, deduces from a known fact, checks, \
reflects or backtracks (e.g. "we can use the fact that", "let's try a different approach", "but wait").
- procedural: it carries out a concrete step — arithmetic, algebra, naming an object, stating a result \
(e.g. "the sum of the", "both sides by", "the area of").
Answer with one line per phrase, "<number>: strategic" or "<number>: procedural", and nothing else.

"""
_REPLY_LINE = re.compile(r"^\W*(\d+)\W+(strategic|procedural)\b", re.IGNORECASE | re.MULTILINE)
_RETRY_STATUS = {408, 409, 425, 429}
REPLY_TOKENS_PER_GRAM = 12  # "17: procedural" and a newline, with room to spare; bounds a runaway reply


class AnnotationError(MiningError):
    """The annotation endpoint failed for good, or the cache file is corrupt."""


def build_prompt(grams: list[str]) -> str:
    return PROMPT + "\n".join(f"{i}. {g}" for i, g in enumerate(grams, 1))


def parse_reply(reply: str, grams: list[str]) -> dict[str, str]:
    """``{gram: label}`` for every numbered line of ``reply`` that names a gram of ``grams``."""
    labels: dict[str, str] = {}
    for num, label in _REPLY_LINE.findall(reply):
        i = int(num) - 1
        if 0 <= i < len(grams):
            labels.setdefault(grams[i], label.lower())
    return labels


@dataclass
class ChatClient:
    """Minimal OpenAI-compatible chat client with retries and exponential backoff."""

    base_url: str
    model: str
    api_key: str = ""
    timeout: float = 60.0
    max_retries: int = 5
    backoff: float = 1.0
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise AnnotationError(f"field 'llm_base_url' must start with http:// or https://, got {self.base_url!r}")

    @property
    def url(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"

    def _post(self, body: bytes) -> str:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            doc = json.loads(response.read().decode("utf-8"))
        return doc["choices"][0]["message"]["content"] or ""

    def chat(self, prompt: str, max_tokens: int | None = None) -> str:
        """The assistant's reply to one user message (temperature 0; at most ``max_tokens`` tokens if given)."""
        doc = {"model": self.model, "temperature": 0.0, "messages": [{"role": "user", "content": prompt}]}
        if max_tokens:
            doc["max_tokens"] = max_tokens
        body = json.dumps(doc).encode("utf-8")
        last = ""
        for attempt in range(self.max_retries + 1):
            if attempt:
                self.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                return self._post(body)
            except urllib.error.HTTPError as e:
                detail = e.read().decode("utf-8", "replace").strip().replace("\n", " ")[:200]
                if e.code < 500 and e.code not in _RETRY_STATUS:
                    raise AnnotationError(f"{self.url}: HTTP {e.code}: {detail or e.reason}") from None
                last = f"HTTP {e.code}"
            except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
                last = str(getattr(e, "reason", None) or e) or type(e).__name__
            except (ValueError, KeyError, IndexError, TypeError) as e:
                last = f"malformed response ({type(e).__name__}: {e})"
        raise AnnotationError(f"{self.url}: gave up after {self.max_retries + 1} attempts ({last}); "
                              f"labels so far are cached, rerun to resume")


def _cache_key(model: str, gram: str) -> tuple[str, int, str]:
    return model, PROMPT_VERSION, gram


def load_cache(path: str | Path) -> dict[tuple[str, int, str], str]:
    """The cached labels; a half-written last line (a crash during append) is removed from the file first
    (:func:`hicra.io.repair_tail`)."""
    path = Path(path)
    repair_tail(path)
    if not path.is_file():
        return {}
    cache: dict[tuple[str, int, str], str] = {}
    try:
        lines = list(iter_jsonl(path))
    except DataError as e:
        raise AnnotationError(str(e)) from None
    for lineno, rec in lines:
        try:
            key, label = _cache_key(rec["model"], rec["gram"]), rec["label"]
            if rec["prompt"] == PROMPT_VERSION and label in LABELS:
                cache[key] = label
        except (KeyError, TypeError):
            raise AnnotationError(f"{path}:{lineno}: corrupt annotation cache line; delete the line or the "
                                  f"file to re-annotate") from None
    return cache


@dataclass
class Annotation:
    labels: dict[str, str]
    counts: dict[str, int] = field(default_factory=dict)


def annotate(grams: list[str], client: ChatClient, cache_path: str | Path, batch_size: int = 20,
             progress: bool = True) -> Annotation:
    """Label ``grams`` strategic/procedural, reusing and extending the cache at ``cache_path``."""
    cache = load_cache(cache_path)
    labels = {g: cache[_cache_key(client.model, g)] for g in grams if _cache_key(client.model, g) in cache}
    todo = [g for g in dict.fromkeys(grams) if g not in labels]
    requests = 0

    def ask(batch: list[str]) -> dict[str, str]:
        nonlocal requests
        requests += 1
        got = parse_reply(client.chat(build_prompt(batch), max_tokens=REPLY_TOKENS_PER_GRAM * len(batch) + 16), batch)
        append_jsonl(cache_path, ({"gram": g, "label": got[g], "model": client.model, "prompt": PROMPT_VERSION}
                                  for g in batch if g in got))
        return got

    batches = [todo[i:i + batch_size] for i in range(0, len(todo), batch_size)]
    for batch in tqdm(batches, desc="e. annotate", unit="batch", delay=1.0, disable=not progress):
        got = ask(batch)
        for gram in batch:
            if gram not in got and len(batch) > 1:
                got.update(ask([gram]))
        labels.update(got)
    counts = {"grams": len(set(grams)), "from cache": len(set(grams)) - len(todo), "requests": requests,
              "labelled strategic": sum(v == "strategic" for v in labels.values()),
              "labelled procedural": sum(v == "procedural" for v in labels.values()),
              "unlabelled": len(set(grams)) - len(labels)}
    return Annotation(labels=labels, counts=counts)
