import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hicra.analysis.inputs import resolve_run
from hicra.analysis.judge import (DEFAULT_TAXONOMY, INCONSISTENT, PLANNING_GROUP, ChatClient, build_messages,
                                  error_counts, judge_run, load_taxonomy, parse_choice, read_verdict, sample_failures)
from hicra.analysis.options import JudgeConfig
from hicra.cli import main
from hicra.records import RecordError


class FakeJudge:
    """An OpenAI-compatible /v1/chat/completions endpoint on 127.0.0.1 (http.server in a thread).

    The reply letter is chosen from the response text: "strategy" → A, otherwise B. ``fail_first`` requests get
    HTTP 500 (to exercise the retries); ``status`` forces a fixed error code.
    """

    def __init__(self, fail_first: int = 0, status: int | None = None):
        self.requests: list[dict] = []
        self.fail_first, self.status = fail_first, status
        judge = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep the test output clean
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                judge.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
                if judge.status or len(judge.requests) <= judge.fail_first:
                    self.send_response(judge.status or 500)
                    self.end_headers()
                    return
                text = body["messages"][-1]["content"]
                letter = "A" if "strategy" in text.split("Model response")[1].split("What is")[0] else "B"
                doc = {"choices": [{"message": {"role": "assistant", "content": f"Answer: {letter}"}}]}
                data = json.dumps(doc).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def failing_run(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    recs = []
    for step in range(3):
        for i in range(4):
            wrong = "I used the wrong strategy." if i % 2 == 0 else "I computed 2 + 2 = 5."
            recs.append({"step": step, "prompt_id": f"p{i}", "completion": wrong, "reward": 0.0, "correct": False,
                         "prompt": "What is 2 + 2?", "answer": "4"})
        recs.append({"step": step, "prompt_id": "ok", "completion": "4", "reward": 1.0, "correct": True})
    (run / "rollouts.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    return run


def test_judge_run_retries_caches_and_counts(failing_run, monkeypatch):
    monkeypatch.setenv("HICRA_TEST_KEY", "secret-token")
    with FakeJudge(fail_first=1) as fake:
        cfg = JudgeConfig(base_url=fake.base_url, model="judge-1", per_step=4, backoff=0.0,
                          api_key_env="HICRA_TEST_KEY")
        cache = judge_run(resolve_run(failing_run), cfg, progress=False)
        assert len(fake.requests) == 1 + 12  # one HTTP 500, retried, then the 4 failures of each of 3 steps
        assert fake.requests[0]["path"] == "/v1/chat/completions" and fake.requests[0]["model"] == "judge-1"
        assert fake.requests[0]["auth"] == "Bearer secret-token"
        judge_run(resolve_run(failing_run), cfg, progress=False)  # everything cached: no new request
        assert len(fake.requests) == 13
    rows = error_counts(cache)
    assert [r["step"] for r in rows] == [0, 1, 2]
    assert all(r["judged"] == 4 and r["planning_strategy"] == 2 and r["others"] == 2 and r["unparsed"] == 0
               and r["planning_strategy_frac"] == 0.5 and r["cause:Planning & strategy error"] == 2 for r in rows)
    entry = json.loads(cache.read_text().splitlines()[0])
    assert entry["judge_model"] == "judge-1" and entry["taxonomy"] == DEFAULT_TAXONOMY.fingerprint
    merged = error_counts(cache, bucket=2)
    assert [(r["step"], r["judged"]) for r in merged] == [(0, 8), (2, 4)]


def test_sampling_is_seeded_and_limited(failing_run):
    a = sample_failures(failing_run / "rollouts.jsonl", 2, seed=0, threshold=0.5)
    assert len(a) == 6 and all(not r["correct"] for _, r in a)
    assert a == sample_failures(failing_run / "rollouts.jsonl", 2, seed=0, threshold=0.5)


def test_client_gives_up_with_one_clear_line():
    with FakeJudge(status=503) as fake:
        client = ChatClient(fake.base_url, "m", retries=2, backoff=0.0)
        with pytest.raises(RuntimeError, match="failed after 3 attempts: HTTP 503"):
            client.complete([{"role": "user", "content": "x"}])
    with FakeJudge(status=401) as fake:
        with pytest.raises(RuntimeError, match="HTTP 401"):
            ChatClient(fake.base_url, "m", retries=3, backoff=0.0).complete([])
        assert len(fake.requests) == 1  # client errors are not retried


def test_judge_cli_and_report_inputs(failing_run, capsys):
    with FakeJudge() as fake:
        assert main(["judge", str(failing_run), "--base-url", fake.base_url, "--model", "j", "--per-step", "1"]) == 0
    out = capsys.readouterr().out
    assert "3 judged failures" in out and "step 2:" in out
    assert main(["judge", str(failing_run), "--base-url", "http://127.0.0.1:9/v1", "--model", "j",
                 "--retries", "0", "--per-step", "2"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "judge request" in err


def test_parse_choice_and_prompt():
    letters = "ABCD"
    assert parse_choice("B", letters) == "B" and parse_choice("(C) misread", letters) == "C"
    assert parse_choice("Answer: D.", letters) == "D" and parse_choice("none of these", letters) is None
    assert parse_choice("", letters) is None
    msgs = build_messages(DEFAULT_TAXONOMY, {"completion": "x" * 50, "prompt": "P?", "answer": "4"}, max_chars=10)
    user = msgs[-1]["content"]
    assert "[...] xxxxxxxxxx\n" in user and "A. Planning & strategy error" in user and "(A, B, C, D)" in user


def test_custom_taxonomy_file(tmp_path):
    path = tmp_path / "tax.yaml"
    path.write_text("causes:\n  - {letter: P, name: plan, group: 'Planning & Strategy'}\n"
                    "  - {letter: Q, name: other, group: Others, description: anything else}\n", encoding="utf-8")
    tax = load_taxonomy(path)
    assert [c.letter for c in tax.causes] == ["P", "Q"] and tax.cause("P").group == PLANNING_GROUP
    assert tax.fingerprint != DEFAULT_TAXONOMY.fingerprint
    path.write_text("causes: [{letter: ab, name: x, group: y}, {letter: B, name: z, group: y}]\n", encoding="utf-8")
    with pytest.raises(RecordError, match="one capital letter"):
        load_taxonomy(path)


def test_letter_and_quoted_name_must_agree():
    tax = DEFAULT_TAXONOMY
    # a real SmolLM2 reply: letter A, but the name of cause B
    assert read_verdict("A. Calculation / execution error: the sum is wrong", tax) == (INCONSISTENT, None)
    assert read_verdict("B. Calculation / execution error", tax) == ("B", tax.cause("B"))
    assert read_verdict("Calculation/execution error.", tax) == ("B", tax.cause("B"))  # name only
    assert read_verdict("A", tax) == ("A", tax.cause("A"))
    assert read_verdict("Answer: C (Misunderstanding the problem)", tax) == ("C", tax.cause("C"))
    assert read_verdict("no idea", tax) == (None, None)


def test_inconsistent_replies_are_counted_apart(tmp_path):
    cache = tmp_path / "judgments.jsonl"
    entries = [{"key": "a", "step": 0, "choice": "A", "group": PLANNING_GROUP, "cause": "Planning & strategy error"},
               {"key": "b", "step": 0, "choice": INCONSISTENT, "group": None, "cause": None},
               {"key": "c", "step": 0, "choice": None, "group": None, "cause": None}]
    cache.write_text("".join(json.dumps({**e, "judge_model": "j", "taxonomy": "t"}) + "\n" for e in entries))
    (row,) = error_counts(cache)
    assert (row["judged"], row["planning_strategy"], row["inconsistent"], row["unparsed"]) == (3, 1, 1, 1)
    assert row["planning_strategy_frac"] == 1.0  # only consistent verdicts enter the share


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/v1", "127.0.0.1:8000/v1"])
def test_only_http_urls(failing_run, capsys, url):
    assert main(["judge", str(failing_run), "--base-url", url, "--model", "j"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "must be an http:// or https:// URL" in err
    assert not (failing_run / "judgments.jsonl").exists()
    with pytest.raises(ValueError, match="http"):
        ChatClient(url, "m")


@pytest.mark.slow
def test_judge_end_to_end_against_a_real_openai_compatible_server(tmp_path, openai_server, capsys):
    """`transformers serve` with SmolLM2 answers `hicra judge`; each reply is recorded and read as the parser says."""
    base_url, model = openai_server
    rollouts = tmp_path / "r.jsonl"
    recs = [{"step": 0, "prompt_id": f"p{i}", "completion": text, "reward": 0.0, "correct": False,
             "prompt": "What is 2 + 2?", "answer": "4"} for i, text in enumerate(["2 + 2 = 5.", "I give up."])]
    rollouts.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    argv = ["judge", str(rollouts), "--base-url", base_url, "--model", model, "--timeout", "300", "--retries", "0"]
    assert main(argv) == 0
    assert "2 judged failures" in capsys.readouterr().out
    cache = tmp_path / "r.judgments.jsonl"
    entries = [json.loads(line) for line in cache.read_text().splitlines()]
    assert len(entries) == 2 and all(e["judge_model"] == model and e["reply"].strip() for e in entries)
    for e in entries:
        choice, cause = read_verdict(e["reply"], DEFAULT_TAXONOMY)
        assert (e["choice"], e["group"]) == (choice, cause.group if cause else None)
    (row,) = error_counts(cache)
    assert row["judged"] == 2 == row["planning_strategy"] + row["others"] + row["unparsed"] + row["inconsistent"]
    assert main(argv) == 0 and len(cache.read_text().splitlines()) == 2  # cached: nothing asked again
