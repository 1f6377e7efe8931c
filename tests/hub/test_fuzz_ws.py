"""The cabin, agent and citizen WebSockets fuzzed with messages generated from the contract's
models.

Every message type :mod:`contract.signalling` defines is generated from its JSON schema, so a
new type is fuzzed as soon as the contract has it (and a type whose schema the generator cannot
read fails the test). A fuzzed cabin and a fuzzed agent's console send them to a real served
hub as they are (often in the wrong state, or about a call that is not theirs), from the wrong
side, with a wrong version or an unknown type, with a field of the wrong type, too large, as
binary frames, or not as JSON at all. For every frame:

- the hub answers what the contract's own parser says of it: that typed error, or for a message
  it takes, at most one of the documented refusals, and every message it sends is a valid one;
- only an oversized frame closes the connection, with 1009; nothing hangs or fails in the hub;
- a cabin and an agent connected all along still answer their heartbeat;
- the attention log holds nothing the fuzzed peers were not entitled to write.

A citizen's browser at home (``/ws/citizen``, with a video visit's cookie) is fuzzed the same
way, on its own: it may touch nothing but its visit's call.

Two fixed sequences run first whatever is generated: one frame of each kind, with the parser's
edge cases (deep nesting, a type that is not a string, a ref too long to echo, text over the
limit in bytes but not in characters), and a call taken through its states with what each
refuses.
The quick profile runs in ``make test`` on SQLite; ``make fuzz`` sets ``CABINA_FUZZ_EXAMPLES``
for the long one, on SQLite and PostgreSQL. Runs are derandomized, so a failure comes back on
the next run.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter
from support.peers import Peer, Place, open_peer
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from contract import signalling as p
from hub.attention_log import entry_data
from hub.models import LogEntry
from hub.server import BackgroundHub
from hub.services import services_of
from hub.settings import HubSettings

if TYPE_CHECKING:
    from tests.hub.conftest import Staff

LONG = "CABINA_FUZZ_EXAMPLES" in os.environ
#: Sequences of up to 12 frames: 60 in the quick profile, and in the long one twenty for each
#: of the ``CABINA_FUZZ_EXAMPLES`` the HTTP fuzzer sends per operation (2000 by default).
EXAMPLES = int(os.environ["CABINA_FUZZ_EXAMPLES"]) * 20 if LONG else 60

pytestmark = [pytest.mark.slow, pytest.mark.fuzz]

Side = Literal["cabin", "agent", "citizen"]
#: The frame limit of the hub under test; the server itself cuts frames four times larger.
MAX_BYTES = 4096
CUT_BYTES = MAX_BYTES * 4
#: The refusals a well-formed message may get (``docs/signalling.md`` and the router's codes).
REFUSALS = frozenset(
    {
        "unknown_call",
        "not_yours",
        "not_offered_to_you",
        "bad_state",
        "call_ended",
        "unknown_agent",
        "not_your_call",
        "no_skill",
        "agent_busy",
        "site_full",
    }
)
#: What the hub may write about a call, and nothing else, while it is fuzzed.
CALL_EVENTS = frozenset(
    {
        "call.queued",
        "call.offered",
        "call.ring_timeout",
        "call.declined",
        "call.answered",
        "call.transferred",
        "call.cancelled",
        "call.ended",
    }
)
#: Call ids the generated messages use most of the time: the fuzzed cabin's own, and the
#: bystander cabin's waiting call (``c-by``) that no fuzzed peer may touch.
CALL_IDS = ["c-0", "c-1", "c-2", "c-by"]
ATTENTIONS = [str(UUID(int=n + 1)) for n in range(3)]
BYSTANDER_ATTENTION = str(UUID(int=99))

_UNIONS: dict[str, Any] = {
    "cabin": p.CabinMessage,
    "agent": p.AgentMessage,
    "citizen": p.CitizenMessage,
    "hub": p.HubMessage,
}


class NoStrategy(Exception):
    """A schema construct the generator does not know: extend :func:`_from_schema`."""


# --- messages from the contract's schemas ----------------------------------------------------


def _json_values() -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    return st.recursive(
        scalars | st.text(max_size=10),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
        max_leaves=6,
    )


def _string(schema: dict[str, Any]) -> st.SearchStrategy[str]:
    low, high = schema.get("minLength", 0), min(schema.get("maxLength", 40), 40)
    if "pattern" in schema:
        return st.from_regex(schema["pattern"], fullmatch=True).filter(
            lambda s: low <= len(s) <= schema.get("maxLength", 10**9)
        )
    if schema.get("format") == "date-time":
        return st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat())
    if set(schema) - {"type", "minLength", "maxLength", "title", "default", "description"}:
        raise NoStrategy(f"string schema {schema}")
    return st.text(min_size=low, max_size=max(low, high))


def _from_schema(
    schema: dict[str, Any],
    defs: dict[str, Any],
    overrides: dict[str, st.SearchStrategy[Any]],
) -> st.SearchStrategy[Any]:
    """Values valid for ``schema`` (pydantic's JSON schema), kept small."""
    if "$ref" in schema:
        return _from_schema(defs[schema["$ref"].rsplit("/", 1)[1]], defs, overrides)
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "anyOf" in schema:
        return st.one_of([_from_schema(option, defs, overrides) for option in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "string":
        return _string(schema)
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "number":
        return st.floats(schema.get("minimum"), schema.get("maximum"), allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        items = _from_schema(schema.get("items", {"type": "null"}), defs, overrides)
        return st.lists(items, max_size=min(schema.get("maxItems", 3), 3))
    if kind == "object":
        return _object(schema, defs, overrides)
    raise NoStrategy(f"schema {schema}")


def _object(
    schema: dict[str, Any],
    defs: dict[str, Any],
    overrides: dict[str, st.SearchStrategy[Any]],
) -> st.SearchStrategy[dict[str, Any]]:
    properties: dict[str, Any] = schema.get("properties", {})
    if not properties:
        extra = schema.get("additionalProperties", True)
        values = _json_values() if extra is True else _from_schema(extra, defs, overrides)
        size = min(schema.get("maxProperties", 3), 3)
        return st.dictionaries(st.text(max_size=8), values, max_size=size)

    def field_of(name: str, spec: dict[str, Any]) -> st.SearchStrategy[Any]:
        if name in overrides:
            return overrides[name]
        return _from_schema(spec, defs, overrides)

    required = set(schema.get("required", []))
    return st.fixed_dictionaries(
        {name: field_of(name, spec) for name, spec in properties.items() if name in required},
        optional={
            name: field_of(name, spec) for name, spec in properties.items() if name not in required
        },
    )


def _typed(kind: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda message: message | {"type": kind}


def message_strategies(
    sender: Literal["cabin", "agent", "citizen", "hub"],
    overrides: dict[str, st.SearchStrategy[Any]],
) -> dict[str, st.SearchStrategy[dict[str, Any]]]:
    """A strategy for every message type ``sender`` may send, from the contract's schemas."""
    schema = TypeAdapter(_UNIONS[sender]).json_schema()
    mapping: dict[str, str] = schema["discriminator"]["mapping"]
    # Every type the parser takes from ``sender`` has a schema here, hence a strategy.
    assert set(mapping) == p.message_types(sender), "the union and the parser disagree"
    defs = schema["$defs"]
    strategies: dict[str, st.SearchStrategy[dict[str, Any]]] = {}
    for kind, ref in sorted(mapping.items()):
        model = defs[ref.rsplit("/", 1)[1]]
        # The type is always sent: its default alone would not reach the wire.
        strategies[kind] = _object(model, defs, overrides).map(_typed(kind))
    return strategies


# --- frames -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """One frame a fuzzed peer sends, and how it was made (shown when a check fails)."""

    side: Side
    how: str
    payload: str | bytes


def _wrong_type(message: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    def replace(key: str) -> st.SearchStrategy[dict[str, Any]]:
        old = message[key]
        values = _json_values().filter(lambda v: type(v) is not type(old) and v != old)
        return values.map(lambda v: message | {key: v})

    return st.sampled_from(sorted(message)).flatmap(replace)


def frames(
    side: Side,
    own: dict[str, st.SearchStrategy[dict[str, Any]]],
    foreign: st.SearchStrategy[dict[str, Any]],
) -> st.SearchStrategy[Frame]:
    """Every kind of frame ``side`` may be sent, from ``own`` and ``foreign`` messages."""
    message = st.one_of(list(own.values()))
    every_type = set(own) | set(p.message_types("cabin")) | set(p.message_types("agent"))
    text = json.dumps
    oversized = st.one_of(
        st.integers(MAX_BYTES, CUT_BYTES * 2).map(lambda n: {"type": "ping", "pad": "x" * n}),
        # Under the limit in characters, over it in bytes.
        st.just({"type": "ping", "pad": "é" * (MAX_BYTES // 2 + 8)}),
    ).map(lambda m: json.dumps(m, ensure_ascii=False))
    kinds: list[tuple[str, st.SearchStrategy[str | bytes]]] = [
        ("valid", message.map(text)),
        ("valid", message.map(text)),
        ("valid", message.map(text)),
        ("foreign", foreign.map(text)),
        (
            "version",
            st.tuples(message, _json_values().filter(lambda v: v != 1)).map(
                lambda mv: text(mv[0] | {"v": mv[1]})
            ),
        ),
        (
            "unknown_type",
            st.tuples(message, st.text(max_size=20).filter(lambda t: t not in every_type)).map(
                lambda mt: text(mt[0] | {"type": mt[1]})
            ),
        ),
        ("wrong_type", message.flatmap(_wrong_type).map(text)),
        (
            "malformed",
            st.one_of(
                st.text(max_size=40),
                _json_values().filter(lambda v: not isinstance(v, dict)).map(text),
                st.integers(500, MAX_BYTES // 2).map(lambda n: "[" * n + "]" * n),
                st.integers(500, MAX_BYTES // 2).map(lambda n: '{"a":' * n + "1" + "}" * n),
            ),
        ),
        ("oversized", oversized),
        ("binary", st.one_of(message.map(lambda m: text(m).encode()), st.binary(max_size=40))),
    ]
    return st.one_of([payload.map(_framed(side, how)) for how, payload in kinds])


def _framed(side: Side, how: str) -> Callable[[str | bytes], Frame]:
    return lambda payload: Frame(side, how, payload)


def expected_refusal(frame: Frame) -> str | None:
    """What the contract says of ``frame``: an error code, ``"cut"`` or ``None`` (taken)."""
    raw = frame.payload
    size = len(raw.encode()) if isinstance(raw, str) else len(raw)
    if size > CUT_BYTES:
        return "cut"  # the WebSocket server itself refuses to read it
    if isinstance(raw, bytes) and size <= MAX_BYTES:
        return "malformed"  # the protocol is JSON text frames
    try:
        p.parse(raw, frame.side, MAX_BYTES)
    except p.ProtocolError as refused:
        return refused.code
    return None


def _cabin(how: str, **message: Any) -> Frame:
    return Frame("cabin", how, json.dumps(message, ensure_ascii=False))


def _agent(how: str, **message: Any) -> Frame:
    return Frame("agent", how, json.dumps(message, ensure_ascii=False))


def _explicit_refusals() -> list[Frame]:
    """One frame of each kind whatever the generator draws, edge cases included."""
    half = MAX_BYTES // 2
    return [
        Frame("cabin", "malformed", "[" * half + "]" * half),
        Frame("cabin", "malformed", '{"a":' * 1000 + "1" + "}" * 1000),
        Frame("cabin", "binary", b"\xff\xfe"),
        Frame("agent", "binary", json.dumps({"type": "ping"}).encode()),
        _cabin("unknown_type", type=["ping"]),
        _cabin("unknown_type", type="nope", ref="r" * 200),
        _cabin("wrong_type", type="ping", ref="r" * 200),
        _cabin("version", type="ping", v=2),
        _cabin("foreign", type="call.accept", call_id="c-by"),
        _agent("foreign", type="welcome"),
        _cabin("oversized", type="ping", pad="é" * (half + 8)),
        _cabin("oversized", type="ping", pad="x" * CUT_BYTES),
        _agent("oversized", type="ping", pad="x" * MAX_BYTES),
    ]


def _explicit_call(agent: str, bystander: str) -> list[Frame]:
    """A call taken through its states, with what is not allowed in each."""
    call = {"call_id": "c-0"}
    request = call | {"attention_id": ATTENTIONS[0], "service": "padron", "language": "ca"}
    step = call | {"step_id": "s-1"}
    return [
        _agent("valid", type="presence.set", state="available"),
        _cabin("valid", type="call.request", **request),
        _cabin("valid", type="call.request", **request | {"attention_id": ATTENTIONS[1]}),
        _cabin("valid", type="call.cancel", call_id="c-by"),
        _cabin(
            "valid", type="rtc.description", description={"type": "offer", "sdp": "v=0"}, **call
        ),
        _agent("valid", type="call.accept", call_id="c-by"),
        _agent("valid", type="call.decline", call_id="c-by"),
        _agent("valid", type="call.transfer", service="tributs", **call),
        _agent("valid", type="call.accept", **call),
        _cabin("valid", type="call.request", **request),
        _agent("valid", type="call.transfer", to_agent=bystander, **call),
        _agent("valid", type="call.transfer", to_agent=agent, **call),
        _agent("valid", type="call.decline", **call),
        _agent("valid", type="step.request", kind="scan", **step | {"call_id": "c-by"}),
        _agent("valid", type="step.request", kind="scan", **step),
        _cabin("valid", type="step.update", status="done", **step),
        _agent("valid", type="call.end", **call),
        _agent("valid", type="wrapup.done"),
        _cabin("valid", type="call.request", **request),
    ]


# --- the world ----------------------------------------------------------------------------------


@dataclass
class World:
    """The served hub, the fuzzed peers, and the bystanders that must not notice them."""

    hub: BackgroundHub
    tokens: dict[str, str]
    peers: dict[str, Peer] = field(default_factory=dict)
    #: The cabina_visit cookie of the fuzzed citizen's video visit, when one is fuzzed.
    visit_cookie: str | None = None
    pings: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    async def peer(self, name: str) -> Peer:
        """The connection of ``name``, opened again if the last frame closed it."""
        if name not in self.peers and name.endswith("citizen"):
            self.peers[name] = await self._citizen()
        if name not in self.peers:
            path = "/ws/cabin" if name.endswith("cabin") else "/ws/agent"
            self.peers[name] = await open_peer(self.hub.ws_url, path, self.tokens[name])
        return self.peers[name]

    async def _citizen(self) -> Peer:
        """The citizen's browser, connected again once the hub has let the last one go."""
        headers = {"Origin": self.hub.url, "Cookie": f"cabina_visit={self.visit_cookie}"}
        for _ in range(50):
            peer = Peer(await connect(f"{self.hub.ws_url}/ws/citizen", additional_headers=headers))
            try:
                await peer.expect("welcome")
                return peer
            except ConnectionClosed as closed:
                # Refused as open elsewhere while the hub still ends the closed connection.
                assert closed.rcvd is not None and closed.rcvd.code == p.CloseCode.ELSEWHERE
                await asyncio.sleep(0.05)
        raise AssertionError("the citizen could not connect again")

    async def heard(self, name: str) -> list[dict[str, Any]]:
        """Everything ``name`` received up to the answer to a fresh ping."""
        peer = await self.peer(name)
        ts = 1e12 + next(self.pings)
        await peer.send(type="ping", ts=ts)
        start = len(peer.received)
        await peer.expect("pong", ts=ts)
        return peer.received[start:]

    async def closed_with(self, name: str) -> int | None:
        """Read ``name`` until the hub closes it; the close code."""
        peer = self.peers.pop(name)
        try:
            while True:
                raw = await asyncio.wait_for(peer.ws.recv(), 10)
                peer.received.append(json.loads(raw))
        except ConnectionClosed as closed:
            return None if closed.rcvd is None else closed.rcvd.code

    async def close(self) -> None:
        """Close every connection."""
        for peer in self.peers.values():
            await peer.close()


async def _send(world: World, frame: Frame) -> None:
    name = f"fuzz_{frame.side}"
    peer = await world.peer(name)
    expected = expected_refusal(frame)
    seen = len(peer.received)
    # A frame too large for the server may close the connection before the send completes.
    with contextlib.suppress(ConnectionClosed):
        await peer.ws.send(frame.payload)
    if expected in ("cut", "too_large"):
        code = await world.closed_with(name)
        assert code == p.CloseCode.MESSAGE_TOO_LARGE, (frame, code)
        if expected == "too_large":
            errors = [m for m in peer.received[seen:] if m["type"] == "error"]
            assert [e["code"] for e in errors] == ["too_large"], (frame, errors)
        return
    try:
        received = peer.received[seen:] + await world.heard(name)
    except ConnectionClosed as closed:
        code = None if closed.rcvd is None else closed.rcvd.code
        raise AssertionError(f"{frame} closed the connection with {code}") from None
    for message in received:
        p.parse(json.dumps(message), "hub", 10**7)  # every message the hub sends is valid
    codes = [m["code"] for m in received if m["type"] == "error"]
    if expected is None:
        assert len(codes) <= 1 and set(codes) <= REFUSALS, (frame, codes)
    else:
        assert codes == [expected], (frame, codes)


async def _example(world: World, sent: list[Frame]) -> None:
    for frame in sent:
        await _send(world, frame)
    # Those connected all along are still served.
    for name in ("bystander_cabin", "bystander_agent"):
        await world.heard(name)


# --- the test -----------------------------------------------------------------------------------


@pytest.fixture(
    params=["sqlite", *([pytest.param("postgresql", marks=pytest.mark.postgres)] if LONG else [])]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database URL: SQLite, and PostgreSQL too in the long profile."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hub.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def hub_settings(make_settings: Callable[..., HubSettings]) -> HubSettings:
    """A small frame limit, and heartbeats and rings slow enough never to end a fuzz run."""
    return make_settings(max_message_bytes=MAX_BYTES, heartbeat_interval_s=120, ring_timeout_s=600)


def _token(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def _settled(read: Callable[[], list[LogEntry]]) -> list[LogEntry]:
    """The entries once the hub's event writer has stopped adding to them."""
    entries, deadline = read(), time.monotonic() + 30
    while time.monotonic() < deadline:
        time.sleep(0.3)
        again = read()
        if len(again) == len(entries):
            return again
        entries = again
    return entries


def _check_entitled(entries: list[LogEntry], cabin: str, agent: str) -> None:
    """Every entry follows from something its actor was entitled to do, in chain order."""
    queued: set[str] = set()
    offered: Counter[tuple[str, object]] = Counter()
    declined: Counter[tuple[str, object]] = Counter()
    answered: set[tuple[str, object]] = set()
    for entry in entries:
        where = f"seq {entry.seq} {entry.kind} by {entry.actor}"
        assert entry.kind in CALL_EVENTS, where
        assert entry.attention_id is not None and entry.attention_id != BYSTANDER_ATTENTION, where
        attention, data = entry.attention_id, entry_data(entry)
        assert entry.actor in (f"cabin:{cabin}", f"user:{agent}", "hub"), where
        if entry.kind == "call.queued":
            assert entry.actor == f"cabin:{cabin}", where
            queued.add(attention)
            continue
        assert attention in queued, f"{where}: the call was never queued"
        key = (attention, data.get("agent_id"))
        if entry.kind == "call.offered":
            offered[key] += 1
        elif entry.kind == "call.declined":
            declined[key] += 1
            assert entry.actor == f"user:{agent}" and declined[key] <= offered[key], where
        elif entry.kind == "call.answered":
            assert entry.actor == f"user:{agent}" and offered[key] > 0, where
            answered.add(key)
        elif entry.kind == "call.transferred":
            assert (attention, data.get("from_agent")) in answered, where


def test_every_frame_gets_its_documented_answer(
    app: FastAPI, live_hub: BackgroundHub, staff: Staff
) -> None:
    """Fuzzed cabin and agent frames: typed answers, no crash, bystanders served, log clean."""
    place = Place(staff.client, staff.headers("admin"))
    site = place.site()
    fuzz_cabin, fuzz_cabin_token = place.cabin(site, "Cabina 1")
    _, bystander_cabin_token = place.cabin(site, "Cabina 2")
    fuzz_agent, bystander_agent = str(staff.ids["agent"]), str(staff.ids["agent2"])
    world = World(
        live_hub,
        {
            "fuzz_cabin": fuzz_cabin_token,
            "fuzz_agent": _token(staff.headers("agent")),
            "bystander_cabin": bystander_cabin_token,
            "bystander_agent": _token(staff.headers("agent2")),
        },
    )
    # Fields whose values must name things in this hub to reach past the first check (the
    # schema cannot say that an attention id is a UUID, or which calls exist).
    overrides: dict[str, st.SearchStrategy[Any]] = {
        "call_id": st.sampled_from([*CALL_IDS, "c-9"]),
        "attention_id": st.sampled_from([*ATTENTIONS, BYSTANDER_ATTENTION]),
        "action_id": st.uuids().map(str),
        "service": st.sampled_from(["padron", "tributs"]),
        "language": st.sampled_from(["ca", "es", "eu"]),
        "to_agent": st.sampled_from([fuzz_agent, bystander_agent, "404"]),
    }
    hub_messages = st.one_of(list(message_strategies("hub", overrides).values()))
    by_side: dict[Side, st.SearchStrategy[Frame]] = {}
    pairs: list[tuple[Side, Side]] = [("cabin", "agent"), ("agent", "cabin")]
    for side, other in pairs:
        foreign = st.one_of(*message_strategies(other, overrides).values(), hub_messages)
        by_side[side] = frames(side, message_strategies(side, overrides), foreign)

    log = services_of(app).attention_log
    with asyncio.Runner() as runner:

        async def setup() -> None:
            # The bystander cabin waits for a service no agent handles, all along.
            cabin = await world.peer("bystander_cabin")
            await cabin.send(
                type="call.request", call_id="c-by", attention_id=BYSTANDER_ATTENTION,
                service="tributs", language="ca",
            )  # fmt: skip
            await cabin.expect("queue.update", call_id="c-by")
            await world.peer("bystander_agent")

        runner.run(setup())
        before = _settled(lambda: list(log.entries(limit=10**6)))[-1].seq

        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(sent=st.lists(by_side["cabin"] | by_side["agent"], min_size=1, max_size=12))
        @example(sent=_explicit_refusals())
        @example(sent=_explicit_call(fuzz_agent, bystander_agent))
        def run(sent: list[Frame]) -> None:
            runner.run(_example(world, sent))

        try:
            run()
        finally:
            runner.run(world.close())
    entries = _settled(lambda: list(log.entries(after_seq=before, limit=10**6)))
    _check_entitled(entries, str(fuzz_cabin), fuzz_agent)
    assert log.verify().ok


def _citizen(how: str, **message: Any) -> Frame:
    return Frame("citizen", how, json.dumps(message, ensure_ascii=False))


def _citizen_edges(call_id: str) -> list[Frame]:
    """What a citizen's browser may not do: a cabin's step, another cabin's call, a huge frame."""
    other = {"call_id": "c-by", "attention_id": BYSTANDER_ATTENTION}
    return [
        _citizen("foreign", type="step.update", call_id=call_id, step_id="s-1", status="done"),
        _citizen("valid", type="call.request", service="tributs", language="ca", **other),
        _citizen("valid", type="call.cancel", call_id="c-by"),
        _citizen("oversized", type="ping", pad="x" * MAX_BYTES),
    ]


def _visit(app: FastAPI, clock: Any) -> tuple[str, str, str]:
    """A video visit from home identified as the page does: its cookie, call and attention."""
    from datetime import datetime, timedelta

    from appointments.conftest import booking
    from appointments.notice_fixtures import RecordingGateway
    from appointments.web_fixtures import DNI, seed_office

    from contract.appointments import BookedVia, Channel

    services = services_of(app)
    seeded = seed_office(services.attention_log, clock())
    starts = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
    offer = seeded.offers[("padron", Channel.HOME_VIDEO)]
    token = services.appointments.book(booking(offer, starts), via=BookedVia.WEB, actor="hub").token
    clock.now = starts - timedelta(minutes=5)
    texts = RecordingGateway()
    services.web_visits.sms = texts
    services.web_visits.send_code(token, "es")
    code = texts.sent[-1][1].rsplit(" ", 1)[1].strip(".")
    view, cookie = services.web_visits.identify(token, DNI, code)
    return cookie, view.call_id, view.attention_id


def test_every_citizen_frame_gets_its_documented_answer(
    app: FastAPI, live_hub: BackgroundHub, staff: Staff, clock: Any
) -> None:
    """Fuzzed frames of a citizen's browser: typed answers, no crash, nothing but its own call."""
    place = Place(staff.client, staff.headers("admin"))
    _, bystander_cabin_token = place.cabin(place.site(), "Cabina 2")
    cookie, call_id, attention_id = _visit(app, clock)
    world = World(
        live_hub,
        {
            "bystander_cabin": bystander_cabin_token,
            "bystander_agent": _token(staff.headers("agent2")),
        },
        visit_cookie=cookie,
    )
    overrides: dict[str, st.SearchStrategy[Any]] = {
        "call_id": st.sampled_from([call_id, "c-by", "c-9"]),
        "attention_id": st.sampled_from([attention_id, BYSTANDER_ATTENTION]),
        "action_id": st.uuids().map(str),
        "service": st.sampled_from(["padron", "tributs"]),
        "language": st.sampled_from(["ca", "es", "eu"]),
        "to_agent": st.just("404"),
    }
    # A cabin's own messages (its devices, its steps) are as foreign to a browser as an agent's.
    cabin_only = p.message_types("cabin") - p.message_types("citizen")
    foreign = st.one_of(
        *message_strategies("agent", overrides).values(),
        *(s for kind, s in message_strategies("cabin", overrides).items() if kind in cabin_only),
        *message_strategies("hub", overrides).values(),
    )
    citizen = frames("citizen", message_strategies("citizen", overrides), foreign)
    log = services_of(app).attention_log
    with asyncio.Runner() as runner:

        async def setup() -> None:
            cabin = await world.peer("bystander_cabin")
            await cabin.send(
                type="call.request", call_id="c-by", attention_id=BYSTANDER_ATTENTION,
                service="tributs", language="ca",
            )  # fmt: skip
            await cabin.expect("queue.update", call_id="c-by")
            await world.peer("bystander_agent")

        runner.run(setup())
        before = _settled(lambda: list(log.entries(limit=10**6)))[-1].seq

        @settings(
            max_examples=EXAMPLES // 2,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(sent=st.lists(citizen, min_size=1, max_size=12))
        @example(sent=_citizen_edges(call_id))
        def run(sent: list[Frame]) -> None:
            runner.run(_example(world, sent))

        try:
            run()
        finally:
            runner.run(world.close())
    entries = _settled(lambda: list(log.entries(after_seq=before, limit=10**6)))
    visit_actor = next(e.actor for e in log.timeline(attention_id) if e.kind == "attention.started")
    for entry in entries:
        where = f"seq {entry.seq} {entry.kind} by {entry.actor}"
        assert entry.kind in CALL_EVENTS or entry.kind == "attention.ended", where
        assert entry.attention_id == attention_id, where
        assert entry.actor in (visit_actor, "hub"), where
    assert log.verify().ok
