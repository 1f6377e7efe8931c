"""Where the citizen can be: the flow's states, the groups the flow reasons about, home's entries.

:class:`State` names every screen; :data:`CALL_STATES`, :data:`STEP_STATES` and
:data:`PADRON_STATES` are the groups the machine's rules speak of.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "CALL_STATES", "PADRON_STATES", "STEP_STATES", "STEP_STATE_BY_KIND", "HomeEntry", "State",
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


class HomeEntry(StrEnum):
    """The choices on the home screen."""

    TALK_TO_AGENT = "talk_to_agent"
    INFORMATION = "information"
    COMPLAINT = "complaint"
    PADRON_CERTIFICATE = "padron_certificate"
    #: Shown but not available yet.
    APPOINTMENT = "appointment"
