"""The citizen's path through the cabin, as an explicit state machine with no window and no I/O.

:class:`Flow` (:mod:`kiosk.flow.machine`) takes events and gives commands; this package
re-exports its whole vocabulary, so ``from kiosk.flow import Flow, FlowConfig, TouchScreen``
is how the rest of the kiosk uses it:

- :mod:`kiosk.flow.states`: the screens (:class:`State`), their groups, the home's entries;
- :mod:`kiosk.flow.config`: :class:`FlowConfig`, what the flow knows about its cabin;
- :mod:`kiosk.flow.events`: what the flow takes (touches, devices, the clock; hub messages too);
- :mod:`kiosk.flow.commands`: what it gives (record an event, send to the hub, run a step …);
- :mod:`kiosk.flow.errors`: what :meth:`Flow.dispatch` raises;
- :mod:`kiosk.flow.guards`: where each citizen event is accepted;
- :mod:`kiosk.flow.machine`, :mod:`kiosk.flow.call`, :mod:`kiosk.flow.padron`,
  :mod:`kiosk.flow.appointments`: the handlers, reached through one table, :data:`HANDLERS`.
"""

from __future__ import annotations

from kiosk.flow.appointments import AppointmentVisit
from kiosk.flow.commands import (
    BookAppointment,
    CancelStep,
    CheckInAppointment,
    Command,
    ConfirmIdentity,
    EraseCitizenData,
    IdentifyCitizen,
    IssueCertificate,
    LoadAvailability,
    LoadInformation,
    LoadNextSlot,
    PrepareStep,
    PrintAppointmentReceipt,
    PrintCertificate,
    PrintTicket,
    RecordEvent,
    RunStep,
    SendToHub,
    SetMute,
    StartCall,
    StopCall,
    WatchForQr,
)
from kiosk.flow.config import (
    FlowConfig,
)
from kiosk.flow.errors import (
    FlowError,
    InvalidChoice,
    TransitionRefused,
    UnhandledEvent,
)
from kiosk.flow.events import (
    AnswerConsent,
    AnswerSurvey,
    AppointmentBooked,
    AppointmentCheckedIn,
    AppointmentFailed,
    AppointmentKey,
    AppointmentRetry,
    AvailabilityLoaded,
    Back,
    BookNextSlot,
    CancelWaiting,
    CertificatePrinted,
    CertificateReady,
    ChooseAppointmentField,
    ChooseCertificate,
    ChooseDateField,
    ChooseDay,
    ChooseEntry,
    ChooseLanguage,
    ChooseOffer,
    ChooseService,
    ChooseSlot,
    CitizenEvent,
    ComeBackLater,
    ConfirmBooking,
    ConfirmPrint,
    ConfirmStep,
    DeclineStep,
    DeviceFailed,
    DeviceRecovered,
    EnterPin,
    Event,
    Finish,
    HandsetHungUp,
    HandsetKey,
    HandsetLifted,
    HangUp,
    HubLink,
    KioskEvent,
    NextSlotLoaded,
    OffersLoaded,
    PadronFailed,
    PadronIdentified,
    PadronKey,
    PadronRetry,
    PresenceDetected,
    PresenceLost,
    QrRead,
    RequestTicket,
    SkipSurvey,
    StepFinished,
    StepPrepared,
    SubmitAppointment,
    SubmitPadron,
    SubmitSignature,
    TechnicianGesture,
    Tick,
    ToggleHighContrast,
    ToggleLargeText,
    ToggleMute,
    TouchScreen,
    TypeReference,
)
from kiosk.flow.guards import ACCEPTED_IN
from kiosk.flow.machine import HANDLERS, Flow
from kiosk.flow.padron import PadronVisit
from kiosk.flow.states import (
    APPOINTMENT_STATES,
    BOOKING_STATES,
    CALL_STATES,
    PADRON_STATES,
    STEP_STATE_BY_KIND,
    STEP_STATES,
    HomeEntry,
    State,
)

# fmt: off
__all__ = [
    "ACCEPTED_IN", "APPOINTMENT_STATES", "BOOKING_STATES", "CALL_STATES", "HANDLERS",
    "PADRON_STATES", "STEP_STATES", "STEP_STATE_BY_KIND", "AnswerConsent", "AnswerSurvey",
    "AppointmentBooked", "AppointmentCheckedIn", "AppointmentFailed", "AppointmentKey",
    "AppointmentRetry", "AppointmentVisit", "AvailabilityLoaded", "Back", "BookAppointment",
    "BookNextSlot", "CancelStep", "CancelWaiting", "CertificatePrinted", "CertificateReady",
    "CheckInAppointment", "ChooseAppointmentField", "ChooseCertificate", "ChooseDateField",
    "ChooseDay", "ChooseEntry", "ChooseLanguage", "ChooseOffer", "ChooseService", "ChooseSlot",
    "CitizenEvent", "ComeBackLater", "Command", "ConfirmBooking", "ConfirmIdentity",
    "ConfirmPrint", "ConfirmStep", "DeclineStep", "DeviceFailed", "DeviceRecovered", "EnterPin",
    "EraseCitizenData", "Event", "Finish", "Flow", "FlowConfig", "FlowError", "HandsetHungUp",
    "HandsetKey", "HandsetLifted", "HangUp", "HomeEntry", "HubLink", "IdentifyCitizen",
    "InvalidChoice", "IssueCertificate", "KioskEvent", "LoadAvailability", "LoadInformation",
    "LoadNextSlot", "NextSlotLoaded", "OffersLoaded", "PadronFailed", "PadronIdentified",
    "PadronKey", "PadronRetry", "PadronVisit", "PrepareStep", "PresenceDetected", "PresenceLost",
    "PrintAppointmentReceipt", "PrintCertificate", "PrintTicket", "QrRead", "RecordEvent",
    "RequestTicket", "RunStep", "SendToHub", "SetMute", "SkipSurvey", "StartCall", "State",
    "StepFinished", "StepPrepared", "StopCall", "SubmitAppointment", "SubmitPadron",
    "SubmitSignature", "TechnicianGesture", "Tick", "ToggleHighContrast", "ToggleLargeText",
    "ToggleMute", "TouchScreen", "TransitionRefused", "TypeReference", "UnhandledEvent",
    "WatchForQr",
]
# fmt: on
