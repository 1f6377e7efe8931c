"""The council's appointment system, played by a real HTTP server on a loopback port.

:class:`Municipal` speaks the wire format of :mod:`hub.appointments.external`: it keeps
bookings in memory, refuses a booking or a move into a full slot with 409, counts places the
council booked itself (:attr:`Municipal.phoned_in`), answers a booking sent again with the
same reference with the same id, names its fields its own way (``names``,
ours → theirs, as a ``field_map``), checks credentials, writes times in Madrid's offset, and
records every request. A :attr:`Municipal.fault` makes it misbehave: :class:`Answer` replies to
every request with a fixed status and body, :class:`Hang` answers nothing until stopped,
:class:`Drop` closes the connection without a word (before or after doing what was asked).
"""

from __future__ import annotations

import base64
import itertools
import json
import socket
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

MADRID = ZoneInfo("Europe/Madrid")

#: The fields a booking must carry (our names).
BOOKING_FIELDS = (
    "reference",
    "service",
    "site_id",
    "channel",
    "starts_at",
    "ends_at",
    "citizen_name",
    "citizen_document",
    "email",
    "phone",
    "language",
)


@dataclass(frozen=True)
class Answer:
    """Answer every request with ``status`` and ``body`` (bytes as they are, else JSON)."""

    status: int
    body: Any = b""
    methods: tuple[str, ...] = ("GET", "POST", "PATCH", "DELETE")


@dataclass(frozen=True)
class Hang:
    """Answer nothing until the server stops."""


@dataclass(frozen=True)
class Drop:
    """Close the connection without answering (``done``: after doing what was asked)."""

    done: bool = False


@dataclass(frozen=True)
class Request:
    """A request as the municipal system received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class Municipal:
    """The municipal appointment system; see the module's docstring."""

    names: dict[str, str] = field(default_factory=dict)
    #: Places per slot.
    capacity: int = 1
    token: str | None = None
    basic: tuple[str, str] | None = None
    prefix: str = "/api/citas"
    bookings: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Places booked at the council's own desk: (service, site, channel, start in UTC) → count.
    phoned_in: dict[tuple[str, int, str, datetime], int] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    fault: Answer | Hang | Drop | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(101)
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def name(self, ours: str) -> str:
        """Its name for our field ``ours``."""
        return self.names.get(ours, ours)

    @property
    def url(self) -> str:
        """The base URL the hub is configured with."""
        assert self._server is not None, "the municipal system is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{self.prefix}"

    def start(self) -> Municipal:
        """Serve on a loopback port, in a thread."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release hung requests and stop serving."""
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> Municipal:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def taken_at(self, service: str, site_id: int, channel: str, start: datetime) -> int:
        """Places taken in one slot: bookings here and those of the council's desk."""
        start = start.astimezone(UTC)
        count = self.phoned_in.get((service, site_id, channel, start), 0)
        for booking in self.bookings.values():
            if (
                booking[self.name("service")] == service
                and booking[self.name("site_id")] == site_id
                and booking[self.name("channel")] == channel
                and datetime.fromisoformat(booking[self.name("starts_at")]) == start
            ):
                count += 1
        return count

    def authorised(self, header: str | None) -> bool:
        """Whether an ``Authorization`` header carries the credentials it expects."""
        if self.token is not None:
            return header == f"Bearer {self.token}"
        if self.basic is not None:
            pair = base64.b64encode(":".join(self.basic).encode()).decode()
            return header == f"Basic {pair}"
        return True

    def availability(self, query: dict[str, str]) -> tuple[int, Any]:
        try:
            service = query[self.name("service")]
            site_id = int(query[self.name("site_id")])
            channel = query[self.name("channel")]
            first = datetime.fromisoformat(query[self.name("from")])
            last = datetime.fromisoformat(query[self.name("to")])
        except (KeyError, ValueError):
            return 400, {"error": "bad query"}
        starts = {key[3] for key in self.phoned_in} | {
            datetime.fromisoformat(b[self.name("starts_at")]) for b in self.bookings.values()
        }
        slots = []
        for start in sorted(starts):
            taken = self.taken_at(service, site_id, channel, start)
            if first <= start < last and taken:
                slots.append(
                    {
                        self.name("starts_at"): start.astimezone(MADRID).isoformat(),
                        self.name("taken"): taken,
                    }
                )
        return 200, slots

    def book(self, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict) or any(self.name(f) not in body for f in BOOKING_FIELDS):
            return 400, {"error": "missing fields"}
        for booking_id, booking in self.bookings.items():
            if booking[self.name("reference")] == body[self.name("reference")]:
                return 200, {self.name("id"): booking_id}
        start = datetime.fromisoformat(body[self.name("starts_at")])
        key = (body[self.name("service")], body[self.name("site_id")], body[self.name("channel")])
        if self.taken_at(*key, start) >= self.capacity:
            return 409, {"error": "slot full"}
        booking_id = f"CITA/{next(self._ids)}"
        self.bookings[booking_id] = dict(body)
        return 201, {self.name("id"): booking_id}

    def move(self, booking_id: str, body: Any) -> tuple[int, Any]:
        booking = self.bookings.get(booking_id)
        if booking is None:
            return 404, {"error": "no such booking"}
        if not isinstance(body, dict) or {self.name("starts_at"), self.name("ends_at")} - set(body):
            return 400, {"error": "missing fields"}
        start = datetime.fromisoformat(body[self.name("starts_at")])
        key = (
            booking[self.name("service")],
            booking[self.name("site_id")],
            booking[self.name("channel")],
        )
        if self.taken_at(*key, start) >= self.capacity:
            return 409, {"error": "slot full"}
        booking[self.name("starts_at")] = body[self.name("starts_at")]
        booking[self.name("ends_at")] = body[self.name("ends_at")]
        return 204, None

    def cancel(self, booking_id: str) -> tuple[int, Any]:
        if self.bookings.pop(booking_id, None) is None:
            return 404, {"error": "no such booking"}
        return 204, None


def _handler(system: Municipal) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: Any) -> None:
            data = body if isinstance(body, bytes) else b"" if body is None else _dumps(body)
            self.send_response(status)
            if data:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw
            with system._lock:
                system.requests.append(
                    Request(self.command, url.path, query, dict(self.headers.items()), body)
                )
                fault = system.fault
            if isinstance(fault, Hang):
                system._release.wait(timeout=60)
                self.close_connection = True
                return
            if isinstance(fault, Drop) and not fault.done:
                self.close_connection = True
                return
            if isinstance(fault, Answer) and self.command in fault.methods:
                self._answer(fault.status, fault.body)
                return
            if not system.authorised(self.headers.get("Authorization")):
                self._answer(401, {"error": "who are you"})
                return
            with system._lock:
                status, answer = self._route(url.path, query, body)
            if isinstance(fault, Drop):
                self.close_connection = True
                return
            self._answer(status, answer)

        def _route(self, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
            if not path.startswith(system.prefix + "/"):
                return 404, {"error": "not found"}
            rest = path[len(system.prefix) :]
            if rest == "/availability" and self.command == "GET":
                return system.availability(query)
            if rest == "/bookings" and self.command == "POST":
                return system.book(body)
            if rest.startswith("/bookings/") and rest.count("/") == 2:
                booking_id = unquote(rest.removeprefix("/bookings/"))
                if self.command == "PATCH":
                    return system.move(booking_id, body)
                if self.command == "DELETE":
                    return system.cancel(booking_id)
            return 405, {"error": "no such operation"}

        do_GET = do_POST = do_PATCH = do_DELETE = _serve

    return Handler


def _dumps(body: Any) -> bytes:
    return json.dumps(body).encode()


def closed_port_url() -> str:
    """A loopback URL where nothing listens (the port was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/citas"
