"""The events :meth:`kiosk.flow.Flow.dispatch` takes: the citizen's, and the kiosk's own.

Citizen events come from touches (:data:`CitizenEvent`); kiosk events from devices, the step
runner, the padrón's requests and the clock (:data:`KioskEvent`). Hub messages
(``queue.update``, ``call.connected`` …) are events too: :mod:`contract.signalling`'s classes
are dispatched as they are. Each of them has an entry in :data:`kiosk.flow.machine.HANDLERS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from contract import signalling as p
from contract.appointments import Appointment, DayAvailability, Offer, Slot
from kiosk.flow.states import HomeEntry

# fmt: off
__all__ = [
    "AnswerConsent",
    "AnswerSurvey",
    "AppointmentBooked",
    "AppointmentCheckedIn",
    "AppointmentFailed",
    "AppointmentKey",
    "AppointmentRetry",
    "AvailabilityLoaded",
    "Back",
    "BookNextSlot",
    "CancelWaiting",
    "CertificatePrinted",
    "CertificateReady",
    "ChooseAppointmentField",
    "ChooseCertificate",
    "ChooseDateField",
    "ChooseDay",
    "ChooseEntry",
    "ChooseLanguage",
    "ChooseOffer",
    "ChooseService",
    "ChooseSlot",
    "CitizenEvent",
    "ComeBackLater",
    "ConfirmBooking",
    "ConfirmPrint",
    "ConfirmStep",
    "DeclineStep",
    "DeviceFailed",
    "DeviceRecovered",
    "EnterPin",
    "Event",
    "Finish",
    "HandsetHungUp",
    "HandsetKey",
    "HandsetLifted",
    "HangUp",
    "HubLink",
    "KioskEvent",
    "NextSlotLoaded",
    "OffersLoaded",
    "PadronFailed",
    "PadronIdentified",
    "PadronKey",
    "PadronRetry",
    "PresenceDetected",
    "PresenceLost",
    "QrRead",
    "RequestTicket",
    "SkipSurvey",
    "StepFinished",
    "StepPrepared",
    "SubmitAppointment",
    "SubmitPadron",
    "SubmitSignature",
    "TechnicianGesture",
    "Tick",
    "ToggleHighContrast",
    "ToggleLargeText",
    "ToggleMute",
    "TouchScreen",
    "TypeReference",
]
# fmt: on


# --- events: from the citizen -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TouchScreen:
    """Any touch: wakes the attract screen, ends the goodbye, keeps the citizen active."""


@dataclass(frozen=True, slots=True)
class ChooseLanguage:
    """The citizen picked a language (a code of ``CITIZEN_LANGUAGES``)."""

    language: str


@dataclass(frozen=True, slots=True)
class ChooseEntry:
    """The citizen picked an entry of the home screen (or of the out-of-service screen)."""

    entry: HomeEntry


@dataclass(frozen=True, slots=True)
class ChooseService:
    """The citizen picked what they need to talk about (a service code)."""

    service: str


@dataclass(frozen=True, slots=True)
class AnswerConsent:
    """Whether the citizen lets the call be recorded."""

    recording: bool


@dataclass(frozen=True, slots=True)
class CancelWaiting:
    """The citizen leaves the queue and goes back home."""


@dataclass(frozen=True, slots=True)
class ComeBackLater:
    """The citizen leaves the queue (or a closed service) and ends the visit."""


@dataclass(frozen=True, slots=True)
class HangUp:
    """The citizen ends the call from the screen."""


@dataclass(frozen=True, slots=True)
class ToggleMute:
    """The citizen mutes or unmutes their microphone."""


@dataclass(frozen=True, slots=True)
class ConfirmStep:
    """The citizen is ready: scan now (document placed), or done reading the page shown."""


@dataclass(frozen=True, slots=True)
class DeclineStep:
    """The citizen refuses the step the agent asked for."""


@dataclass(frozen=True, slots=True)
class SubmitSignature:
    """The citizen signed on the screen: the signature as a PNG image."""

    image: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class AnswerSurvey:
    """One of five faces (1 worst … 5 best) and an optional comment."""

    satisfaction: int
    comment: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class SkipSurvey:
    """The citizen does not answer the survey."""


@dataclass(frozen=True, slots=True)
class Back:
    """The citizen goes back one screen."""


@dataclass(frozen=True, slots=True)
class Finish:
    """The citizen is done and leaves."""


@dataclass(frozen=True, slots=True)
class RequestTicket:
    """The citizen asks for a printed ticket with the cabin's information."""


@dataclass(frozen=True, slots=True)
class ToggleLargeText:
    """Large text on or off, for this citizen only."""


@dataclass(frozen=True, slots=True)
class ToggleHighContrast:
    """High contrast on or off, for this citizen only."""


@dataclass(frozen=True, slots=True)
class TechnicianGesture:
    """The hidden gesture on the attract screen that asks for the technician's PIN."""


@dataclass(frozen=True, slots=True)
class EnterPin:
    """The technician typed a PIN."""

    pin: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class PadronKey:
    """A key of the padrón keypads: a digit or letter, or ``erase``."""

    key: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class ChooseDateField:
    """The citizen touched the day, month or year of their date of birth."""

    field: Literal["day", "month", "year"]


@dataclass(frozen=True, slots=True)
class SubmitPadron:
    """The citizen is done typing on a padrón screen (document, date of birth or code)."""


@dataclass(frozen=True, slots=True)
class ChooseCertificate:
    """The citizen chose an ``individual`` or a ``collective`` certificate."""

    kind: Literal["individual", "collective"]


@dataclass(frozen=True, slots=True)
class ConfirmPrint:
    """The citizen saw the certificate's preview and wants it printed."""


@dataclass(frozen=True, slots=True)
class PadronRetry:
    """The citizen tries again after a padrón problem."""


@dataclass(frozen=True, slots=True)
class ChooseOffer:
    """The citizen chose the errand of their appointment (an :class:`Offer`'s id)."""

    offer_id: int


@dataclass(frozen=True, slots=True)
class ChooseDay:
    """The citizen chose a day (a date at the office) among those with places."""

    day: date


@dataclass(frozen=True, slots=True)
class ChooseSlot:
    """The citizen chose a time of the day they chose."""

    starts_at: datetime


@dataclass(frozen=True, slots=True)
class ChooseAppointmentField:
    """The citizen touched a field to type in (``name``, ``document``, ``email`` …)."""

    field: str


@dataclass(frozen=True, slots=True)
class AppointmentKey:
    """A key of the appointment keyboard: a character, ``space`` or ``erase``."""

    key: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class SubmitAppointment:
    """The citizen is done typing: their details, or a reference and DNI/NIE."""


@dataclass(frozen=True, slots=True)
class ConfirmBooking:
    """The citizen read the summary and the data notice, and books."""


@dataclass(frozen=True, slots=True)
class AppointmentRetry:
    """The citizen tries again after an appointment problem."""


@dataclass(frozen=True, slots=True)
class BookNextSlot:
    """From a long queue, the citizen books the next free time instead of waiting."""


@dataclass(frozen=True, slots=True)
class TypeReference:
    """The citizen would rather type their appointment's reference than show its QR code."""


# --- events: from devices and the kiosk itself ----------------------------------------------


@dataclass(frozen=True, slots=True)
class HandsetLifted:
    """The handset went off hook."""


@dataclass(frozen=True, slots=True)
class HandsetHungUp:
    """The handset went back on its cradle."""


@dataclass(frozen=True, slots=True)
class HandsetKey:
    """A key of the handset's keypad."""

    digit: str


@dataclass(frozen=True, slots=True)
class PresenceDetected:
    """Someone is in front of the cabin."""


@dataclass(frozen=True, slots=True)
class PresenceLost:
    """No one is in front of the cabin any more."""


@dataclass(frozen=True, slots=True)
class DeviceFailed:
    """A device stopped working; ``code`` is a :mod:`hardware.errors` code."""

    device: str
    code: str


@dataclass(frozen=True, slots=True)
class DeviceRecovered:
    """A device works again."""

    device: str


@dataclass(frozen=True, slots=True)
class HubLink:
    """The hub became reachable (``online``) or was lost."""

    online: bool


@dataclass(frozen=True, slots=True)
class StepFinished:
    """The device work of a step ended (the step runner already told the agent)."""

    step_id: str
    status: Literal["done", "failed"]
    #: A :mod:`hardware.errors` code (or another short code) when it failed.
    error: str | None = None
    document_id: str | None = None


@dataclass(frozen=True, slots=True)
class StepPrepared:
    """What a step shows is ready: ``preview`` is an image of the document, if it has one."""

    step_id: str
    preview: Path | None = None


@dataclass(frozen=True, slots=True)
class PadronIdentified:
    """The hub identified the citizen (``confirmed``) or sent them a code to type."""

    request_id: str
    identification_id: str = field(repr=False)
    confirmed: bool
    #: Where the code went (``a•••@e•••.org``), when one was sent.
    masked_destination: str | None = field(default=None, repr=False)
    holder_initials: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class CertificateReady:
    """The hub issued the certificate; its PDF and a picture of its first page are here."""

    request_id: str
    certificate_id: str
    csv: str = field(repr=False)
    verify_url: str = field(repr=False)
    people: int
    #: The PDF, in a buffer the privacy reset zeroes.
    pdf: bytearray = field(repr=False)
    #: A PNG of the first page, in the citizen's folder; None if it could not be drawn.
    preview: Path | None = None


@dataclass(frozen=True, slots=True)
class CertificatePrinted:
    """The certificate came out: on the ``a4`` printer, or as a ``receipt`` with its CSV."""

    request_id: str
    printer: Literal["a4", "receipt"]


@dataclass(frozen=True, slots=True)
class PadronFailed:
    """A padrón request failed: the hub refused, could not be reached, or a printer failed.

    ``code`` is the hub's (``not_found`` …), ``hub_unreachable``, or a :mod:`hardware.errors`
    code; ``message`` is the hub's text for the citizen, already in their language.
    """

    request_id: str
    code: str
    message: str | None = None
    reason: str | None = None
    attempts_left: int | None = None
    retry_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OffersLoaded:
    """What the hub lets the cabin's citizens book (empty: the booking tile is dimmed)."""

    offers: tuple[Offer, ...]


@dataclass(frozen=True, slots=True)
class AvailabilityLoaded:
    """The days of an offer with free places, as the hub answered ``request_id``."""

    request_id: str
    days: tuple[DayAvailability, ...]


@dataclass(frozen=True, slots=True)
class AppointmentBooked:
    """The hub booked the appointment; ``appointment`` carries its management link."""

    request_id: str
    appointment: Appointment = field(repr=False)


@dataclass(frozen=True, slots=True)
class NextSlotLoaded:
    """The earliest free time for the queue's service (None: there is none)."""

    request_id: str
    slot: Slot | None


@dataclass(frozen=True, slots=True)
class QrRead:
    """The camera read a QR code while the check-in screen watched for one."""

    watch_id: str
    text: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class AppointmentCheckedIn:
    """The hub found the citizen's appointment and checked them in."""

    request_id: str
    appointment: Appointment = field(repr=False)


@dataclass(frozen=True, slots=True)
class AppointmentFailed:
    """An appointment request failed: a refusal's ``code`` (:data:`contract.appointments.
    RefusalCode`), ``hub_unreachable``, or another short code; ``reason`` as the hub gave it."""

    request_id: str
    code: str
    message: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passed: the kiosk sends one about twice a second for timeouts."""


CitizenEvent = (
    TouchScreen
    | ChooseLanguage
    | ChooseEntry
    | ChooseService
    | AnswerConsent
    | CancelWaiting
    | ComeBackLater
    | HangUp
    | ToggleMute
    | ConfirmStep
    | DeclineStep
    | SubmitSignature
    | AnswerSurvey
    | SkipSurvey
    | Back
    | Finish
    | RequestTicket
    | ToggleLargeText
    | ToggleHighContrast
    | TechnicianGesture
    | EnterPin
    | PadronKey
    | ChooseDateField
    | SubmitPadron
    | ChooseCertificate
    | ConfirmPrint
    | PadronRetry
    | ChooseOffer
    | ChooseDay
    | ChooseSlot
    | ChooseAppointmentField
    | AppointmentKey
    | SubmitAppointment
    | ConfirmBooking
    | AppointmentRetry
    | BookNextSlot
    | TypeReference
)
KioskEvent = (
    HandsetLifted
    | HandsetHungUp
    | HandsetKey
    | PresenceDetected
    | PresenceLost
    | DeviceFailed
    | DeviceRecovered
    | HubLink
    | StepPrepared
    | StepFinished
    | PadronIdentified
    | CertificateReady
    | CertificatePrinted
    | PadronFailed
    | OffersLoaded
    | AvailabilityLoaded
    | AppointmentBooked
    | NextSlotLoaded
    | QrRead
    | AppointmentCheckedIn
    | AppointmentFailed
    | Tick
)
#: Anything :meth:`kiosk.flow.Flow.dispatch` accepts: its own events and the hub's messages.
Event = CitizenEvent | KioskEvent | p.Message
