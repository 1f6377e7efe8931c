"""A council's SMS gateway on a loopback port: a real HTTP server that records each request
and answers as it is told (a status, a body, or a stall longer than the client waits)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    """One request the gateway received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    """What the gateway says to one request: a status and body, after ``stall_s``."""

    status: int = 200
    body: bytes = b'{"status": "queued"}'
    stall_s: float = 0.0


@dataclass
class Gateway:
    """The gateway's state: what it received, and the answers it will give in turn (then
    :attr:`usual` for every request after those)."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    usual: Answer = field(default_factory=Answer)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _released: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        """The address messages are posted to."""
        return f"http://127.0.0.1:{self.port}/v1/messages"

    def answer(self, request: Received) -> Answer:
        with self._lock:
            self.received.append(request)
            return self.answers.pop(0) if self.answers else self.usual


def _handler(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            request = Received(
                self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
            )
            answer = gateway.answer(request)
            if answer.stall_s and gateway._released.wait(answer.stall_s):
                return
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        do_POST = do_PUT = _serve

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the request line would not hold personal data, but stderr is noise."""

    return Handler


@contextmanager
def running_gateway() -> Iterator[Gateway]:
    """A gateway serving on a free loopback port until the block ends."""
    gateway = Gateway()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(gateway))
    server.daemon_threads = True
    gateway.port = server.server_address[1]
    thread = threading.Thread(
        target=server.serve_forever, args=(0.02,), name="sms-gateway", daemon=True
    )
    thread.start()
    try:
        yield gateway
    finally:
        gateway._released.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
