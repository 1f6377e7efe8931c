"""The guards on the flow's transitions: where each citizen event is accepted.

:data:`ACCEPTED_IN` names, for each citizen event, the states that take it; in any other
state :meth:`kiosk.flow.Flow.dispatch` raises :class:`~kiosk.flow.errors.TransitionRefused`
before any handler runs. Events that the citizen cannot get wrong (a touch, the handset, the
hub's messages) are not guarded: their handlers decide, state by state, what they mean.
:data:`ACTIVITY` lists the events that show someone is using the cabin.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiosk.flow import events as ev
from kiosk.flow.states import APPOINTMENT_STATES, CALL_STATES, PADRON_STATES, State

S = State
#: Where each guarded citizen event is accepted; anywhere else it raises TransitionRefused.
ACCEPTED_IN: Mapping[type[Any], frozenset[State]] = {
    ev.ChooseLanguage: frozenset({S.LANGUAGE}),
    ev.ChooseEntry: frozenset({S.HOME, S.OUT_OF_SERVICE}),
    ev.ChooseService: frozenset({S.TOPIC, S.COMPLAINT}),
    ev.AnswerConsent: frozenset({S.CONSENT}),
    ev.CancelWaiting: frozenset({S.QUEUE}),
    ev.ComeBackLater: frozenset({S.QUEUE, S.CLOSED}),
    ev.HangUp: CALL_STATES,
    ev.ToggleMute: CALL_STATES,
    ev.ConfirmStep: frozenset({S.STEP_SCAN, S.STEP_INFO}),
    ev.DeclineStep: frozenset({S.STEP_SCAN, S.STEP_SIGN, S.STEP_INFO}),
    ev.SubmitSignature: frozenset({S.STEP_SIGN}),
    ev.AnswerSurvey: frozenset({S.SURVEY}),
    ev.SkipSurvey: frozenset({S.SURVEY}),
    ev.Back: frozenset(
        {S.LANGUAGE, S.HOME, S.TOPIC, S.CONSENT, S.CLOSED, S.INFORMATION, S.COMPLAINT}
        | {S.OUT_OF_SERVICE, S.TECHNICIAN}
        | (PADRON_STATES - {S.PADRON_PRINTING, S.PADRON_DONE})
        | (APPOINTMENT_STATES - {S.APPOINTMENT_DONE})
    ),
    ev.Finish: frozenset(
        {S.HOME, S.TOPIC, S.CONSENT, S.CLOSED, S.INFORMATION, S.COMPLAINT, S.OUT_OF_SERVICE}
        | (PADRON_STATES - {S.PADRON_PRINTING})
        | APPOINTMENT_STATES
    ),
    ev.RequestTicket: frozenset({S.OUT_OF_SERVICE, S.INFORMATION, S.CLOSED}),
    ev.ToggleLargeText: frozenset(State) - {S.ATTRACT},
    ev.ToggleHighContrast: frozenset(State) - {S.ATTRACT},
    ev.TechnicianGesture: frozenset({S.ATTRACT}),
    ev.EnterPin: frozenset({S.TECHNICIAN}),
    ev.PadronKey: frozenset({S.PADRON_DOCUMENT, S.PADRON_BIRTH_DATE, S.PADRON_CODE}),
    ev.ChooseDateField: frozenset({S.PADRON_BIRTH_DATE}),
    ev.SubmitPadron: frozenset({S.PADRON_DOCUMENT, S.PADRON_BIRTH_DATE, S.PADRON_CODE}),
    ev.ChooseCertificate: frozenset({S.PADRON_KIND}),
    ev.ConfirmPrint: frozenset({S.PADRON_PREVIEW}),
    ev.PadronRetry: frozenset({S.PADRON_PROBLEM}),
    ev.ChooseOffer: frozenset({S.APPOINTMENT_OFFER}),
    ev.ChooseDay: frozenset({S.APPOINTMENT_DAY}),
    ev.ChooseSlot: frozenset({S.APPOINTMENT_TIME}),
    ev.ChooseAppointmentField: frozenset({S.APPOINTMENT_DETAILS, S.APPOINTMENT_REFERENCE}),
    ev.AppointmentKey: frozenset({S.APPOINTMENT_DETAILS, S.APPOINTMENT_REFERENCE}),
    ev.SubmitAppointment: frozenset({S.APPOINTMENT_DETAILS, S.APPOINTMENT_REFERENCE}),
    ev.ConfirmBooking: frozenset({S.APPOINTMENT_CONFIRM}),
    ev.AppointmentRetry: frozenset({S.APPOINTMENT_PROBLEM}),
    ev.BookNextSlot: frozenset({S.QUEUE}),
    ev.TypeReference: frozenset({S.APPOINTMENT_CHECK_IN}),
}
#: Events that show someone is using the cabin: they restart the inactivity countdown.
ACTIVITY: tuple[type[Any], ...] = (
    *ACCEPTED_IN,
    ev.TouchScreen,
    ev.HandsetLifted,
    ev.HandsetHungUp,
    ev.HandsetKey,
    ev.PresenceDetected,
)
