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
- :mod:`kiosk.flow.machine`, :mod:`kiosk.flow.call`, :mod:`kiosk.flow.padron`: the handlers,
  reached through one table, :data:`HANDLERS`.
"""

from __future__ import annotations

from kiosk.flow.commands import (
    CancelStep,
    Command,
    ConfirmIdentity,
    EraseCitizenData,
    IdentifyCitizen,
    IssueCertificate,
    LoadInformation,
    PrepareStep,
    PrintCertificate,
    PrintTicket,
    RecordEvent,
    RunStep,
    SendToHub,
    SetMute,
    StartCall,
    StopCall,
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
    Back,
    CancelWaiting,
    CertificatePrinted,
    CertificateReady,
    ChooseCertificate,
    ChooseDateField,
    ChooseEntry,
    ChooseLanguage,
    ChooseService,
    CitizenEvent,
    ComeBackLater,
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
    PadronFailed,
    PadronIdentified,
    PadronKey,
    PadronRetry,
    PresenceDetected,
    PresenceLost,
    RequestTicket,
    SkipSurvey,
    StepFinished,
    StepPrepared,
    SubmitPadron,
    SubmitSignature,
    TechnicianGesture,
    Tick,
    ToggleHighContrast,
    ToggleLargeText,
    ToggleMute,
    TouchScreen,
)
from kiosk.flow.guards import ACCEPTED_IN
from kiosk.flow.machine import HANDLERS, Flow
from kiosk.flow.padron import PadronVisit
from kiosk.flow.states import (
    CALL_STATES,
    PADRON_STATES,
    STEP_STATE_BY_KIND,
    STEP_STATES,
    HomeEntry,
    State,
)

# fmt: off
__all__ = [
    "ACCEPTED_IN", "CALL_STATES", "HANDLERS", "PADRON_STATES", "STEP_STATES", "STEP_STATE_BY_KIND",
    "AnswerConsent", "AnswerSurvey", "Back", "CancelStep", "CancelWaiting", "CertificatePrinted",
    "CertificateReady", "ChooseCertificate", "ChooseDateField", "ChooseEntry", "ChooseLanguage",
    "ChooseService", "CitizenEvent", "ComeBackLater", "Command", "ConfirmIdentity", "ConfirmPrint",
    "ConfirmStep", "DeclineStep", "DeviceFailed", "DeviceRecovered", "EnterPin",
    "EraseCitizenData", "Event", "Finish", "Flow", "FlowConfig", "FlowError", "HandsetHungUp",
    "HandsetKey", "HandsetLifted", "HangUp", "HomeEntry", "HubLink", "IdentifyCitizen",
    "InvalidChoice", "IssueCertificate", "KioskEvent", "LoadInformation", "PadronFailed",
    "PadronIdentified", "PadronKey", "PadronRetry", "PadronVisit", "PrepareStep",
    "PresenceDetected", "PresenceLost", "PrintCertificate", "PrintTicket", "RecordEvent",
    "RequestTicket", "RunStep", "SendToHub", "SetMute", "SkipSurvey", "StartCall", "State",
    "StepFinished", "StepPrepared", "StopCall", "SubmitPadron", "SubmitSignature",
    "TechnicianGesture", "Tick", "ToggleHighContrast", "ToggleLargeText", "ToggleMute",
    "TouchScreen", "TransitionRefused", "UnhandledEvent",
]
# fmt: on
