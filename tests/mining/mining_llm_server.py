"""A local OpenAI-compatible chat server for the annotation tests: deterministic labels, injectable failures."""

from __future__ import annotations

import json
import os
import re
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STRATEGIC_WORDS = {"we", "let's", "need", "want", "know", "see", "notice", "use", "try", "can", "this"}
_NUMBERED = re.compile(r"^(\d+)\. (.+)$", re.MULTILINE)


def fake_label(gram: str) -> str:
    """The test server's deterministic labelling rule."""
    return "strategic" if STRATEGIC_WORDS & set(gram.split()) else "procedural"


class FakeLLM:
    """State of the test server: what it was asked, and failures to inject."""

    def __init__(self) -> None:
        self.requests = 0
        self.asked: list[str] = []
        self.fail_statuses: list[int] = []  # next responses' HTTP error codes, consumed in order
        self.skip: set[str] = set()  # grams the reply leaves out (once each)
        self.kill_pid: int | None = None  # SIGKILL this process on request number kill_on
        self.kill_on = 0
        self.bodies: list[dict] = []
        self.lock = threading.Lock()
        self.url = ""

    def respond(self, body: dict) -> tuple[int, dict | None]:
        with self.lock:
            self.requests += 1
            self.bodies.append(body)
            if self.kill_pid and self.requests == self.kill_on:
                os.kill(self.kill_pid, signal.SIGKILL)
                return 500, None
            if self.fail_statuses:
                return self.fail_statuses.pop(0), {"error": {"message": "injected failure"}}
            grams = [g for _, g in _NUMBERED.findall(body["messages"][-1]["content"])]
            self.asked.extend(grams)
            lines = []
            for i, gram in enumerate(grams, 1):
                if gram in self.skip:
                    self.skip.discard(gram)
                    continue
                lines.append(f"{i}: {fake_label(gram)}")
        return 200, {"id": "x", "object": "chat.completion", "model": body.get("model"),
                     "choices": [{"index": 0, "finish_reason": "stop",
                                  "message": {"role": "assistant", "content": "\n".join(lines)}}]}


def serve():
    """Start a server on 127.0.0.1 (random port) in a thread; yields its :class:`FakeLLM` state, then stops."""
    state = FakeLLM()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server API)
            if self.path != "/v1/chat/completions":
                self.send_error(404)
                return
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            status, doc = state.respond(body)
            data = json.dumps(doc).encode() if doc is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    yield state
    server.shutdown()
    server.server_close()
