"""The signalling protocol between cabins, citizens' browsers, agents' consoles and the hub.

Every message is a JSON object with a ``type`` and the protocol version ``v`` (``1``; a
missing ``v`` means 1). A client may add ``ref``, a string of its own that the hub echoes in
an :class:`Error` about that message. ``docs/signalling.md`` documents each with an example.

Parsing never raises anything but :class:`ProtocolError`, whose ``code`` and message the hub
sends back as an ``error`` message::

    ProtocolError        code
    ├── too_large        the frame is bigger than the hub accepts
    ├── malformed        not JSON, or not a JSON object
    ├── unsupported_version
    ├── unknown_type     a type this side may not send
    └── invalid          a field is missing or has the wrong shape (the message names it)
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from enum import IntEnum
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from contract.appointments import REFERENCE_PATTERN
from contract.languages import Language

VERSION: Literal[1] = 1
#: The longest ``ref`` a client may send; a longer one is not echoed back.
REF_MAX = 64

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Code = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_.-]+$")]


def _uuid(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValueError(f"Expected a UUID, but got {value!r}") from None


Uuid = Annotated[str, Field(max_length=36), AfterValidator(_uuid)]
#: An appointment's reference, in canonical form (``CP-7K3M-Q9XA``).
Reference = Annotated[str, Field(max_length=12, pattern=REFERENCE_PATTERN)]


class CloseCode(IntEnum):
    """Why the hub closed a WebSocket: the standard codes it uses and its own 44xx ones."""

    #: The peer said goodbye, or the hub shuts down.
    NORMAL = 1000
    #: A frame larger than the hub accepts.
    MESSAGE_TOO_LARGE = 1009
    #: The peer does not read its messages: too many are pending for it.
    TRY_AGAIN_LATER = 1013
    #: Bad, missing or revoked credentials: sign in or enrol again before reconnecting.
    UNAUTHORIZED = 4401
    #: No heartbeat within the allowed time.
    NO_HEARTBEAT = 4408
    #: A newer connection of the same cabin or agent replaced this one.
    REPLACED = 4409
    #: A citizen's visit is open in another window already: this newer one is refused (the
    #: first keeps the call).
    ELSEWHERE = 4410


class ProtocolError(Exception):
    """A message that cannot be accepted; ``code`` says why, the message says what."""

    def __init__(self, code: str, message: str, ref: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.ref = ref


class Message(BaseModel):
    """Fields every message has."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = VERSION
    ref: Annotated[str, Field(max_length=REF_MAX)] | None = None


# --- pieces --------------------------------------------------------------------------------


class IceServer(BaseModel):
    """A STUN or TURN server as ``RTCPeerConnection`` takes it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    urls: list[str]
    username: str | None = None
    credential: str | None = None


class SessionDescription(BaseModel):
    """An SDP offer or answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["offer", "answer"]
    sdp: Annotated[str, Field(max_length=32 * 1024)]


class IceCandidate(BaseModel):
    """One trickled ICE candidate; an empty ``candidate`` marks the end of candidates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    candidate: Annotated[str, Field(max_length=1024)]
    sdpMid: str | None = None
    sdpMLineIndex: int | None = None


class Devices(BaseModel):
    """What a citizen's browser could use: a camera and a microphone (both, unless it says)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    camera: bool = True
    microphone: bool = True


class Party(BaseModel):
    """Who is at the other end: a cabin, a site or an agent, as shown to people."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str


StepKind = Literal["scan", "print_a4", "print_receipt", "sign", "show_info"]
StepStatus = Literal["accepted", "progress", "done", "failed", "declined", "cancelled"]
#: The most copies a ``print_a4`` step may ask for (its ``copies`` param, 1 by default): a
#: cabin refuses more, as a mistake rather than a need, before anything is printed.
MAX_PRINT_COPIES = 10

#: The cabin device each step needs; steps not named here need only the screen.
STEP_DEVICES: Mapping[StepKind, str] = MappingProxyType(
    {"scan": "scanner", "print_a4": "a4_printer", "print_receipt": "receipt_printer"}
)


# --- both sides ----------------------------------------------------------------------------


class Ping(Message):
    """Application heartbeat; the hub answers ``pong`` at once."""

    type: Literal["ping"] = "ping"
    ts: float | None = None


class RtcDescription(Message):
    """An SDP offer or answer for the other end of ``call_id``; the hub only relays it."""

    type: Literal["rtc.description"] = "rtc.description"
    call_id: Id
    description: SessionDescription


class RtcCandidate(Message):
    """An ICE candidate for the other end of ``call_id``; the hub only relays it."""

    type: Literal["rtc.candidate"] = "rtc.candidate"
    call_id: Id
    candidate: IceCandidate


class CallEnd(Message):
    """Hang up ``call_id``."""

    type: Literal["call.end"] = "call.end"
    call_id: Id
    reason: Code = "hangup"


# --- cabin → hub ---------------------------------------------------------------------------


class CallRequest(Message):
    """The citizen asks for an agent. Re-sent unchanged after a reconnect to keep its place."""

    type: Literal["call.request"] = "call.request"
    call_id: Id
    attention_id: Uuid
    service: Code
    language: Language
    #: When the citizen first joined the queue; sent again after a reconnect.
    queued_at: datetime | None = None
    #: The appointment the citizen checked in at this cabin, if they came with one: the hub
    #: queues the call ahead of walk-ins and offers it first to the agent it was booked with.
    #: One the hub cannot match to a check-in at this cabin is queued as a walk-in.
    appointment: Reference | None = None
    #: From a citizen's browser: whether it could use a camera and a microphone (the agent is
    #: told when it rings). A cabin has both and does not send it.
    devices: Devices | None = None


class CallCancel(Message):
    """The citizen stops waiting."""

    type: Literal["call.cancel"] = "call.cancel"
    call_id: Id


#: The most sheets one feeder scan holds (the hub takes no PDF of more pages).
MAX_SCAN_PAGES = 500


class StepUpdate(Message):
    """How a step the agent asked for is going at the cabin (relayed to the agent)."""

    type: Literal["step.update"] = "step.update"
    call_id: Id
    step_id: Id
    status: StepStatus
    #: A code for what failed (``paper_out``, ``no_document`` …), never free personal text.
    error: Code | None = None
    #: Where the agent's console fetches a result (a scan, a signed PDF).
    document_id: Id | None = None
    #: A scan's small picture of its first page, shown while the PDF opens.
    preview_document_id: Id | None = None
    progress: Annotated[float, Field(ge=0, le=1)] | None = None
    #: A feeder scan under way: which sheet (from 1) ``document_id`` holds, sent as soon as
    #: it is scanned, before the batch's PDF of every sheet.
    page: Annotated[int, Field(ge=1, le=MAX_SCAN_PAGES)] | None = None
    #: A feeder scan done: how many sheets the batch's PDF holds.
    pages: Annotated[int, Field(ge=1, le=MAX_SCAN_PAGES)] | None = None


#: The ``telemetry`` row in which a cabin reports the free space of its data directory's disk
#: (``last_error`` ``disk_low`` as a warning, ``disk_full`` as a fault).
DISK_DEVICE = "disk"


class Telemetry(Message):
    """The cabin's device health snapshots (``hardware.health.DeviceHealth.to_json``)."""

    type: Literal["telemetry"] = "telemetry"
    devices: Annotated[list[dict[str, Any]], Field(max_length=16)]


# --- agent → hub ---------------------------------------------------------------------------


class PresenceSet(Message):
    """The agent makes themselves available or away."""

    type: Literal["presence.set"] = "presence.set"
    state: Literal["available", "away"]


class CallAccept(Message):
    """Answer the call that is ringing at this agent."""

    type: Literal["call.accept"] = "call.accept"
    call_id: Id


class CallDecline(Message):
    """Let the call that is ringing here go to someone else."""

    type: Literal["call.decline"] = "call.decline"
    call_id: Id


class CallTransfer(Message):
    """Hand the call to another agent or back to a queue, with a note for the next agent."""

    type: Literal["call.transfer"] = "call.transfer"
    call_id: Id
    to_agent: Id | None = None
    service: Code | None = None
    note: Annotated[str, Field(max_length=500)] = ""


class WrapupDone(Message):
    """The agent finished wrap-up early and is available again."""

    type: Literal["wrapup.done"] = "wrapup.done"


class StepRequest(Message):
    """The agent asks the cabin to scan, print, collect a signature or show a page."""

    type: Literal["step.request"] = "step.request"
    call_id: Id
    step_id: Id
    kind: StepKind
    #: Where the cabin fetches what to print or sign, from the hub.
    document_id: Id | None = None
    params: Annotated[dict[str, str | int | float | bool], Field(max_length=16)] = Field(
        default_factory=dict
    )


# --- hub → both ----------------------------------------------------------------------------


class Welcome(Message):
    """First message on a connection: who the hub thinks you are and how to connect media."""

    type: Literal["welcome"] = "welcome"
    role: Literal["cabin", "agent", "citizen"]
    me: Party
    site: Party | None = None
    ice_servers: list[IceServer]
    heartbeat_interval_s: float
    server_time: datetime
    #: For agents: their state, languages and services.
    state: str | None = None
    languages: list[str] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list)


class Pong(Message):
    """Answer to ``ping``."""

    type: Literal["pong"] = "pong"
    ts: float | None = None


class Error(Message):
    """Something the client sent was refused; the connection stays open unless said."""

    type: Literal["error"] = "error"
    code: Code
    message: str


# --- hub → cabin ---------------------------------------------------------------------------


class QueueUpdate(Message):
    """The waiting citizen's place in the queue and the estimated wait."""

    type: Literal["queue.update"] = "queue.update"
    call_id: Id
    position: int
    estimated_wait_s: float
    queued_at: datetime


class ServiceClosed(Message):
    """The service is closed now; ``opens_at`` says when it opens (``None``: not scheduled)."""

    type: Literal["service.closed"] = "service.closed"
    call_id: Id
    opens_at: datetime | None


class CallConnected(Message):
    """An agent answered (to the cabin) / you are connected (to the agent)."""

    type: Literal["call.connected"] = "call.connected"
    call_id: Id
    attention_id: Uuid
    peer: Party
    #: ``True`` for the side that sends the WebRTC offer (the cabin).
    you_offer: bool


class CallEnded(Message):
    """The call is over, and why (``hangup``, ``cancelled``, ``agent_offline``, …)."""

    type: Literal["call.ended"] = "call.ended"
    call_id: Id
    reason: Code


class CallTransferred(Message):
    """To the cabin: the agent handed the call on; close the media, the citizen waits again."""

    type: Literal["call.transferred"] = "call.transferred"
    call_id: Id
    service: str


class FleetAction(Message):
    """To the cabin: do ``kind`` and report the outcome to ``/api/cabin/actions/{action_id}``."""

    type: Literal["fleet.action"] = "fleet.action"
    action_id: Uuid
    kind: Literal["restart_app", "self_test", "screenshot"]


# --- hub → agent ---------------------------------------------------------------------------


class Presence(Message):
    """The agent's state changed (by their own action, wrap-up ending, missed rings …)."""

    type: Literal["presence"] = "presence"
    state: str
    reason: Code


class CallRing(Message):
    """A citizen is waiting for this agent: ring until ``ring_timeout_s`` runs out."""

    type: Literal["call.ring"] = "call.ring"
    call_id: Id
    attention_id: Uuid
    cabin: Party
    site: Party
    service: str
    language: str
    waited_s: float
    ring_timeout_s: float
    #: A transferred call: what the previous agent wrote for this one.
    note: str | None = None
    #: The appointment the citizen came for (checked in at the cabin), if any.
    appointment: Reference | None = None
    #: Where the citizen calls from: a cabin, or their own browser at home (``web``: then
    #: ``cabin`` names no cabin and ``site`` is empty).
    channel: Literal["cabin", "web"] = "cabin"
    #: For ``web``: what the citizen's browser could use, as it said when asking.
    devices: Devices | None = None


class CabinTools(Message):
    """To the agent in a call: the cabin's steps that cannot work now, each with the reason.

    Sent when the call connects and whenever the cabin's device health changes during it.
    """

    type: Literal["cabin.tools"] = "cabin.tools"
    call_id: Id
    #: Step kind → what is wrong with its device (``missing``, ``paper_out``, ``jammed`` …).
    unavailable: dict[StepKind, Code] = Field(default_factory=dict)


class CallRingCancelled(Message):
    """Stop ringing: the citizen gave up, another agent took it, or the ring timed out."""

    type: Literal["call.ring_cancelled"] = "call.ring_cancelled"
    call_id: Id
    reason: Code


CabinMessage = Annotated[
    Ping
    | CallRequest
    | CallCancel
    | CallEnd
    | RtcDescription
    | RtcCandidate
    | StepUpdate
    | Telemetry,
    Field(discriminator="type"),
]
AgentMessage = Annotated[
    Ping
    | PresenceSet
    | CallAccept
    | CallDecline
    | CallEnd
    | CallTransfer
    | WrapupDone
    | RtcDescription
    | RtcCandidate
    | StepRequest,
    Field(discriminator="type"),
]
#: What a citizen's browser may send (a video visit from home): a cabin's call messages only.
CitizenMessage = Annotated[
    Ping | CallRequest | CallCancel | CallEnd | RtcDescription | RtcCandidate,
    Field(discriminator="type"),
]
HubMessage = Annotated[
    Welcome
    | Pong
    | Error
    | QueueUpdate
    | ServiceClosed
    | CallConnected
    | CallEnded
    | CallTransferred
    | FleetAction
    | Presence
    | CallRing
    | CallRingCancelled
    | CabinTools
    | RtcDescription
    | RtcCandidate
    | StepRequest
    | StepUpdate,
    Field(discriminator="type"),
]

_CABIN: TypeAdapter[CabinMessage] = TypeAdapter(CabinMessage)
_AGENT: TypeAdapter[AgentMessage] = TypeAdapter(AgentMessage)
_CITIZEN: TypeAdapter[CitizenMessage] = TypeAdapter(CitizenMessage)
_HUB: TypeAdapter[HubMessage] = TypeAdapter(HubMessage)
_ADAPTERS: dict[str, TypeAdapter[Any]] = {
    "cabin": _CABIN,
    "agent": _AGENT,
    "citizen": _CITIZEN,
    "hub": _HUB,
}
#: Who may send messages: a cabin, an agent's console, a citizen's browser, or the hub.
Sender = Literal["cabin", "agent", "citizen", "hub"]


def _types_of(adapter: TypeAdapter[Any]) -> frozenset[str]:
    schema = adapter.json_schema()
    return frozenset(schema["discriminator"]["mapping"])


_TYPES = {side: _types_of(adapter) for side, adapter in _ADAPTERS.items()}


def parse(raw: str | bytes, sender: Sender, max_bytes: int) -> Any:
    """Parse one frame sent by ``sender``; raise :class:`ProtocolError` for anything wrong."""
    # The limit is in bytes as they travel: a text frame is measured encoded.
    size = len(raw.encode("utf-8", "surrogatepass")) if isinstance(raw, str) else len(raw)
    if size > max_bytes:
        raise ProtocolError(
            "too_large", f"Expected a message of at most {max_bytes} bytes, but got {size}"
        )
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(
            "malformed", f"Expected a JSON object, but could not parse: {exc}"
        ) from exc
    except RecursionError:
        raise ProtocolError(
            "malformed", "Expected a JSON object, but it is nested too deeply"
        ) from None
    if not isinstance(data, dict):
        raise ProtocolError("malformed", f"Expected a JSON object, but got {type(data).__name__}")
    # Only a ref the error can carry is echoed: one that is too long is itself refused below.
    raw_ref = data.get("ref")
    ref = raw_ref if isinstance(raw_ref, str) and len(raw_ref) <= REF_MAX else None
    version = data.get("v", VERSION)
    if version != VERSION:
        raise ProtocolError(
            "unsupported_version", f"Expected protocol version {VERSION}, but got {version!r}", ref
        )
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in _TYPES[sender]:
        allowed = ", ".join(sorted(_TYPES[sender]))
        raise ProtocolError(
            "unknown_type", f"Expected a {sender} message type ({allowed}), but got {kind!r}", ref
        )
    try:
        return _ADAPTERS[sender].validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"][1:]) or "message"
        raise ProtocolError("invalid", f"{kind}: field {where!r}: {first['msg']}", ref) from exc


def dump(message: Message) -> str:
    """Serialise a message for the wire."""
    return message.model_dump_json(exclude_none=True)


def message_types(sender: Sender) -> frozenset[str]:
    """The message types ``sender`` may send."""
    return _TYPES[sender]
