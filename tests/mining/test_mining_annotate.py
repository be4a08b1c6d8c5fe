"""Stage e: LLM annotation against a local OpenAI-compatible test server — batching, cache, crash-resume, retries."""

import json
import subprocess
import sys
import textwrap

import pytest

from hicra.mining.annotate import AnnotationError, ChatClient, annotate, load_cache, parse_reply

from mining_llm_server import fake_label

GRAMS = ["we need to find", "the sum of the", "we know that", "both sides by", "this gives us",
         "the number of", "we can write", "the first equation", "we want to", "is equal to"]


def client(server, **kw):
    kw.setdefault("backoff", 0.0)
    return ChatClient(server.url, "test-model", **kw)


def test_parse_reply_tolerates_formatting():
    reply = "1: strategic\n2. Procedural\n**3** - strategic (deduction)\n9: strategic\nfour: procedural"
    assert parse_reply(reply, ["a", "b", "c"]) == {"a": "strategic", "b": "procedural", "c": "strategic"}


def test_annotation_is_batched_cached_and_not_repeated(llm_server, tmp_path):
    cache = tmp_path / "ann.jsonl"
    result = annotate(GRAMS, client(llm_server), cache, batch_size=4, progress=False)
    assert result.labels == {g: fake_label(g) for g in GRAMS}
    assert llm_server.requests == 3 and llm_server.asked == GRAMS
    body = llm_server.bodies[0]
    assert body["model"] == "test-model" and body["temperature"] == 0.0
    lines = [json.loads(line) for line in cache.read_text().splitlines()]
    assert [r["gram"] for r in lines] == GRAMS and {r["model"] for r in lines} == {"test-model"}
    again = annotate(GRAMS[:5] + ["a new gram here"], client(llm_server), cache, batch_size=4, progress=False)
    assert llm_server.asked[len(GRAMS):] == ["a new gram here"]
    assert again.counts["from cache"] == 5 and again.counts["requests"] == 1
    other_model = ChatClient(llm_server.url, "other-model", backoff=0.0)
    annotate(GRAMS[:2], other_model, cache, progress=False)  # the cache is per model
    assert llm_server.asked[-2:] == GRAMS[:2]


def test_crash_mid_annotation_resumes_without_reasking(llm_server, tmp_path):
    cache = tmp_path / "ann.jsonl"
    script = textwrap.dedent(f"""
        from hicra.mining.annotate import ChatClient, annotate
        annotate({GRAMS!r}, ChatClient({llm_server.url!r}, "test-model", max_retries=0),
                 {str(cache)!r}, batch_size=2, progress=False)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    llm_server.kill_pid, llm_server.kill_on = proc.pid, 4  # the process dies while waiting for request 4
    assert proc.wait(timeout=60) == -9
    cached = {key[2] for key in load_cache(cache)}
    assert cached == set(GRAMS[:6])  # three complete batches survived the crash
    llm_server.kill_pid = None
    before = len(llm_server.asked)
    result = annotate(GRAMS, client(llm_server), cache, batch_size=2, progress=False)
    assert llm_server.asked[before:] == GRAMS[6:]  # nothing cached is asked again
    assert result.labels == {g: fake_label(g) for g in GRAMS}
    assert result.counts["from cache"] == 6


def test_half_written_cache_line_is_cut_off(llm_server, tmp_path):
    cache = tmp_path / "ann.jsonl"
    annotate(GRAMS[:3], client(llm_server), cache, progress=False)
    with cache.open("a") as f:
        f.write('{"gram": "we know th')  # a crash in the middle of an append
    assert {key[2] for key in load_cache(cache)} == set(GRAMS[:3])
    assert cache.read_text().endswith("\n")
    annotate(GRAMS[:4], client(llm_server), cache, progress=False)
    assert len(cache.read_text().splitlines()) == 4
    cache.write_text('{"gram": "x"}\n' + cache.read_text())
    with pytest.raises(AnnotationError, match=r"ann\.jsonl:1: corrupt annotation cache line"):
        load_cache(cache)


def test_retries_with_exponential_backoff(llm_server, tmp_path):
    delays = []
    llm_server.fail_statuses = [503, 429, 500]
    c = client(llm_server, backoff=0.5, max_retries=3, sleep=delays.append)
    result = annotate(GRAMS[:2], c, tmp_path / "a.jsonl", progress=False)
    assert delays == [0.5, 1.0, 2.0] and len(result.labels) == 2
    llm_server.fail_statuses = [503] * 3
    with pytest.raises(AnnotationError, match="gave up after 3 attempts .HTTP 503.; labels so far are cached"):
        annotate(GRAMS[2:4], client(llm_server, max_retries=2), tmp_path / "a.jsonl", progress=False)


def test_client_errors_fail_at_once(llm_server, tmp_path):
    llm_server.fail_statuses = [400]
    with pytest.raises(AnnotationError, match="HTTP 400: .*injected failure"):
        annotate(GRAMS[:2], client(llm_server), tmp_path / "a.jsonl", progress=False)
    assert llm_server.requests == 1
    dead = ChatClient("http://127.0.0.1:9/v1", "m", max_retries=1, backoff=0.0, timeout=2)
    with pytest.raises(AnnotationError, match="gave up after 2 attempts"):
        dead.chat("hi")
    with pytest.raises(AnnotationError, match="must start with http"):
        ChatClient("127.0.0.1:8000", "m")


def test_skipped_gram_is_asked_again_alone(llm_server, tmp_path):
    llm_server.skip = {"we know that"}
    result = annotate(GRAMS[:4], client(llm_server), tmp_path / "a.jsonl", batch_size=4, progress=False)
    assert llm_server.requests == 2 and llm_server.asked[-1] == "we know that"
    assert result.labels["we know that"] == "strategic" and result.counts["unlabelled"] == 0


@pytest.mark.slow
def test_annotation_against_a_real_openai_compatible_server(openai_server, tmp_path):
    """`transformers serve` with SmolLM2: whatever the small model answers is parsed, cached and never re-asked."""
    base_url, model = openai_server
    cache = tmp_path / "ann.jsonl"
    grams = ["we can use the fact that", "the sum of the"]
    real = ChatClient(base_url, model, timeout=300, max_retries=0)
    result = annotate(grams, real, cache, batch_size=2, progress=False)
    assert 1 <= result.counts["requests"] <= 3 and set(result.labels.values()) <= {"strategic", "procedural"}
    assert result.counts["unlabelled"] == len(grams) - len(result.labels)
    cached = {key[2]: label for key, label in load_cache(cache).items() if key[0] == model}
    assert cached == result.labels
    again = annotate([g for g in grams if g in result.labels], real, cache, progress=False)
    assert again.counts["requests"] == 0 and again.labels == result.labels
