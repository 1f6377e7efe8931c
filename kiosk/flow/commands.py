"""The commands :mod:`kiosk.flow` gives the rest of the kiosk; re-exported by :mod:`kiosk.flow`.

Whoever runs the flow carries each out: :class:`RecordEvent` into the outbox, :class:`SendToHub`
through the hub client, :class:`StartCall`/:class:`StopCall`/:class:`SetMute` on the call,
:class:`PrepareStep`/:class:`RunStep`/:class:`CancelStep` with the step runner,
:class:`EraseCitizenData` with :func:`kiosk.privacy.privacy_reset`; the padrón's
:class:`IdentifyCitizen`/:class:`ConfirmIdentity`/:class:`IssueCertificate` with
:class:`kiosk.effects.padron_client.PadronClient` and :class:`PrintCertificate` with the printers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from pydantic import JsonValue

from contract import signalling as p
from contract.appointments import Appointment, BookingRequest, CheckIn
from contract.events import EventKind
from kiosk.session import Session

# fmt: off
__all__ = [
    "BookAppointment",
    "CancelStep",
    "CheckInAppointment",
    "Command",
    "ConfirmIdentity",
    "EraseCitizenData",
    "IdentifyCitizen",
    "IssueCertificate",
    "LoadAvailability",
    "LoadInformation",
    "LoadNextSlot",
    "PrepareStep",
    "PrintAppointmentReceipt",
    "PrintCertificate",
    "PrintTicket",
    "RecordEvent",
    "RunStep",
    "SendToHub",
    "SetMute",
    "StartCall",
    "StopCall",
    "WatchForQr",
]
# fmt: on


@dataclass(frozen=True, slots=True)
class RecordEvent:
    """Write this attention event to the outbox (codes and ids only, never personal data)."""

    event_id: str
    kind: EventKind
    attention_id: str
    occurred_at: datetime
    data: dict[str, JsonValue] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SendToHub:
    """Send this message to the hub (queued by the hub client while offline)."""

    message: p.Message


@dataclass(frozen=True, slots=True)
class StartCall:
    """An agent answered: build the peer connection; send the offer when ``you_offer``."""

    call_id: str
    you_offer: bool


@dataclass(frozen=True, slots=True)
class StopCall:
    """Close the peer connection of ``call_id``."""

    call_id: str


@dataclass(frozen=True, slots=True)
class SetMute:
    """Mute or unmute the microphone."""

    muted: bool


@dataclass(frozen=True, slots=True)
class PrepareStep:
    """Fetch what a step shows (the document to sign or read) before the citizen acts."""

    request: p.StepRequest


@dataclass(frozen=True, slots=True)
class RunStep:
    """Do the device work of a step; then dispatch :class:`StepFinished`."""

    request: p.StepRequest
    #: The citizen's signature (PNG) for a ``sign`` step; zeroed by the privacy reset.
    signature: bytearray | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class CancelStep:
    """Stop a step's device work, if any is running."""

    request: p.StepRequest


@dataclass(frozen=True, slots=True)
class PrintTicket:
    """Print the cabin's information ticket (opening hours, addresses) in ``language``."""

    language: str
    opens_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class LoadInformation:
    """Fetch the opening hours and addresses to show, in ``language``."""

    language: str


@dataclass(frozen=True, slots=True)
class EraseCitizenData:
    """The privacy reset: erase ``session`` and the citizen's files (:mod:`kiosk.privacy`)."""

    session: Session = field(repr=False)


@dataclass(frozen=True, slots=True)
class IdentifyCitizen:
    """Ask the hub's padrón who this is; answer with ``PadronIdentified`` or ``PadronFailed``."""

    request_id: str
    attention_id: str
    document: str = field(repr=False)
    birth_date: date = field(repr=False)
    language: str


@dataclass(frozen=True, slots=True)
class ConfirmIdentity:
    """Send the one-time code the citizen typed; answered as :class:`IdentifyCitizen` is."""

    request_id: str
    identification_id: str = field(repr=False)
    code: str = field(repr=False)
    language: str


@dataclass(frozen=True, slots=True)
class IssueCertificate:
    """Issue and fetch a certificate, draw its first page; then ``CertificateReady``."""

    request_id: str
    identification_id: str = field(repr=False)
    kind: Literal["individual", "collective"]
    language: str


@dataclass(frozen=True, slots=True)
class PrintCertificate:
    """Print the certificate: on A4 when ``a4`` and the cabin has one, else a receipt with its
    CSV and QR code; then ``CertificatePrinted`` or ``PadronFailed``."""

    request_id: str
    pdf: bytearray = field(repr=False)
    csv: str = field(repr=False)
    verify_url: str = field(repr=False)
    language: str
    a4: bool = True


@dataclass(frozen=True, slots=True)
class LoadAvailability:
    """Ask the hub for an offer's free places from ``first`` to ``last`` (dates at the office);
    answer with ``AvailabilityLoaded`` or ``AppointmentFailed``."""

    request_id: str
    offer_id: int
    first: date
    last: date


@dataclass(frozen=True, slots=True)
class BookAppointment:
    """Book at the hub; answer with ``AppointmentBooked`` or ``AppointmentFailed``."""

    request_id: str
    booking: BookingRequest = field(repr=False)


@dataclass(frozen=True, slots=True)
class PrintAppointmentReceipt:
    """Print the appointment's ticket (date, time, place, reference, QR of its link)."""

    appointment: Appointment = field(repr=False)
    language: str


@dataclass(frozen=True, slots=True)
class LoadNextSlot:
    """Ask the hub for the earliest free time of ``service``; then ``NextSlotLoaded``."""

    request_id: str
    service: str


@dataclass(frozen=True, slots=True)
class WatchForQr:
    """Read the camera's frames for a QR code while the check-in screen shows; then
    ``QrRead`` with ``watch_id``."""

    watch_id: str
    #: Links to look past (as :func:`kiosk.flow.appointment_visit.qr_link` reads them): the
    #: hub answered them in this visit already, and a code held up stays in every frame.
    ignore: frozenset[str] = field(default=frozenset(), repr=False)
    #: Seconds before the first frame is looked at: after the hub did not answer, the code
    #: still held up is asked about again, but not at the camera's pace.
    after_s: float = 0.0


@dataclass(frozen=True, slots=True)
class CheckInAppointment:
    """Join the citizen's appointment; answer with ``AppointmentCheckedIn`` or
    ``AppointmentFailed``."""

    request_id: str
    attention_id: str
    check_in: CheckIn = field(repr=False)


Command = (
    RecordEvent
    | SendToHub
    | StartCall
    | StopCall
    | SetMute
    | PrepareStep
    | RunStep
    | CancelStep
    | PrintTicket
    | LoadInformation
    | EraseCitizenData
    | IdentifyCitizen
    | ConfirmIdentity
    | IssueCertificate
    | PrintCertificate
    | LoadAvailability
    | BookAppointment
    | PrintAppointmentReceipt
    | LoadNextSlot
    | WatchForQr
    | CheckInAppointment
)
