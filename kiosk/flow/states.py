"""Where the citizen can be: the flow's states, the groups the flow reasons about, home's entries.

:class:`State` names every screen; :data:`CALL_STATES`, :data:`STEP_STATES` and
:data:`PADRON_STATES` are the groups the machine's rules speak of.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "APPOINTMENT_STATES", "BOOKING_STATES", "CALL_STATES", "PADRON_STATES", "STEP_STATES",
    "STEP_STATE_BY_KIND", "HomeEntry", "State",
]  # fmt: skip


class State(StrEnum):
    """Every screen the citizen can be on."""

    ATTRACT = "attract"
    LANGUAGE = "language"
    HOME = "home"
    TOPIC = "topic"
    CONSENT = "consent"
    QUEUE = "queue"
    CLOSED = "closed"
    CALL = "call"
    STEP_SCAN = "step_scan"
    STEP_PRINT = "step_print"
    STEP_SIGN = "step_sign"
    STEP_INFO = "step_info"
    SURVEY = "survey"
    GOODBYE = "goodbye"
    INFORMATION = "information"
    COMPLAINT = "complaint"
    OUT_OF_SERVICE = "out_of_service"
    TECHNICIAN = "technician"
    #: The padrón certificate, served by the cabin itself (:mod:`kiosk.flow.padron`).
    PADRON_DOCUMENT = "padron_document"
    PADRON_BIRTH_DATE = "padron_birth_date"
    PADRON_CODE = "padron_code"
    PADRON_KIND = "padron_kind"
    PADRON_PREVIEW = "padron_preview"
    PADRON_PRINTING = "padron_printing"
    PADRON_DONE = "padron_done"
    PADRON_PROBLEM = "padron_problem"
    #: Appointments (cita previa): booking one, or joining one (:mod:`kiosk.flow.appointments`).
    APPOINTMENT_OFFER = "appointment_offer"
    APPOINTMENT_DAY = "appointment_day"
    APPOINTMENT_TIME = "appointment_time"
    APPOINTMENT_DETAILS = "appointment_details"
    APPOINTMENT_CONFIRM = "appointment_confirm"
    APPOINTMENT_DONE = "appointment_done"
    APPOINTMENT_PROBLEM = "appointment_problem"
    APPOINTMENT_CHECK_IN = "appointment_check_in"
    APPOINTMENT_REFERENCE = "appointment_reference"


#: The states of an agent-driven step, by the step's kind.
STEP_STATE_BY_KIND: dict[str, State] = {
    "scan": State.STEP_SCAN,
    "print_a4": State.STEP_PRINT,
    "print_receipt": State.STEP_PRINT,
    "sign": State.STEP_SIGN,
    "show_info": State.STEP_INFO,
}
STEP_STATES: frozenset[State] = frozenset(STEP_STATE_BY_KIND.values())
#: The states where the citizen is talking to an agent.
CALL_STATES: frozenset[State] = STEP_STATES | {State.CALL}
#: The states of the padrón certificate's self-service.
PADRON_STATES: frozenset[State] = frozenset(s for s in State if s.value.startswith("padron_"))
#: The states of booking an appointment, or of joining one at its time.
APPOINTMENT_STATES: frozenset[State] = frozenset(
    s for s in State if s.value.startswith("appointment_")
)
#: The states of booking only.
BOOKING_STATES: frozenset[State] = APPOINTMENT_STATES - {
    State.APPOINTMENT_CHECK_IN,
    State.APPOINTMENT_REFERENCE,
}


class HomeEntry(StrEnum):
    """The choices on the home screen."""

    TALK_TO_AGENT = "talk_to_agent"
    INFORMATION = "information"
    COMPLAINT = "complaint"
    PADRON_CERTIFICATE = "padron_certificate"
    #: Book an appointment: live when the hub has offers for the cabin's site.
    APPOINTMENT = "appointment"
    #: "I have an appointment": join it by its QR code or its reference.
    CHECK_IN = "check_in"
