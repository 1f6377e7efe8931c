"""The part of :class:`kiosk.flow.Flow` that follows one call: queue, conversation, steps.

It holds the flow's handlers for the hub's messages too: :data:`CALL_HANDLERS` maps each
event and message type it takes to its handler, and :data:`NOT_FOR_THE_FLOW` lists, with the
reason, the hub's messages the flow takes but never acts on. Hub messages about a call that
is no longer the citizen's (late ``queue.update``, ``call.ended`` after a hang-up) are ignored
by their handlers: the network makes them normal.

Lifting the handset means "I want to talk to someone", as on any telephone, so it takes one
tap at most to the queue: the attention starts in the cabin's default language (or goes on
in the one chosen) on the topic screen, or in the queue at once when the cabin offers one
topic. Nobody asked about recording, so such a call is not recorded; putting the handset down
before an agent answers cancels it, and during the conversation ends it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from contract import signalling as p
from contract.events import EventKind
from kiosk.flow import commands as cmd
from kiosk.flow import events as ev
from kiosk.flow.appointments import AppointmentVisit
from kiosk.flow.config import FlowConfig
from kiosk.flow.errors import InvalidChoice
from kiosk.flow.states import CALL_STATES, STEP_STATE_BY_KIND, STEP_STATES, State
from kiosk.session import Session

logger = logging.getLogger(__name__)

# Only printing is the cabin's to log: the hub logs a scan or a signed document itself when
# the cabin uploads it.
_DOCUMENT_EVENT = {
    "print_a4": EventKind.DOCUMENT_PRINTED,
    "print_receipt": EventKind.DOCUMENT_PRINTED,
}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Where lifting the handset asks for an agent: anywhere before the citizen chose otherwise.
_HANDSET_ASKS_IN = frozenset({State.ATTRACT, State.LANGUAGE, State.HOME, State.TOPIC})


class CallHandlers:
    """Handlers for the queue, the call and the agent's steps; mixed into the flow."""

    config: FlowConfig
    state: State
    session: Session
    notice: str | None
    step_running: bool
    handset_off_hook: bool
    handset_request: bool
    _out: list[cmd.Command]
    _new_id: Callable[[], str]
    #: The appointment the citizen checked in, if any (:mod:`kiosk.flow.appointments`).
    appointment: AppointmentVisit
    _offer_next_slot: Callable[[], None]

    def _go(self, state: State) -> None:
        raise NotImplementedError

    def _record(self, kind: EventKind, **data: Any) -> None:
        raise NotImplementedError

    def _start_attention(self) -> None:
        raise NotImplementedError

    def _reset(self, reason: str) -> None:
        raise NotImplementedError

    @property
    def service_available(self) -> bool:
        """Whether a call to an agent is possible now."""
        raise NotImplementedError

    # --- helpers ----------------------------------------------------------------------------

    def _send(self, message: p.Message) -> None:
        self._out.append(cmd.SendToHub(message))

    def _ours(self, call_id: str | None) -> bool:
        return call_id is not None and call_id == self.session.call_id

    def _leave_call(self, *, hang_up: bool) -> None:
        session = self.session
        assert session.call_id is not None
        if session.step is not None:
            self._out.append(cmd.CancelStep(session.step))
        if hang_up:
            self._send(p.CallEnd(call_id=session.call_id))
        self._out.append(cmd.StopCall(session.call_id))
        session.call_id = None
        session.connected = False
        self._clear_step()
        self._go(State.SURVEY)

    def _leave_queue(self, then: State, notice: str | None = None) -> None:
        self.session.call_id = None
        self.session.queue_position = self.session.estimated_wait_s = None
        self.notice = notice
        self._go(then)

    def _clear_step(self) -> None:
        self.session.step = None
        self.session.step_preview = None
        self.step_running = False

    def _step_update(self, status: p.StepStatus) -> None:
        session = self.session
        assert session.call_id is not None and session.step is not None
        update = p.StepUpdate(call_id=session.call_id, step_id=session.step.step_id, status=status)
        self._send(update)

    # --- the citizen ------------------------------------------------------------------------

    def _request_call(self, *, recording: bool | None) -> None:
        """Ask the hub for an agent; ``recording`` is the citizen's answer, None if not asked."""
        session = self.session
        assert session.attention_id is not None and session.service is not None
        if recording is not None:
            session.recording_consent = recording
            self._record(EventKind.CONSENT_RECORDED, recording=recording)
        session.call_id = self._new_id()
        request = p.CallRequest(
            call_id=session.call_id,
            attention_id=session.attention_id,
            service=session.service,
            language=session.language,
            ref=session.call_id,
            # A citizen who checked in their appointment goes ahead of walk-ins.
            appointment=self.appointment.checked_in,
        )
        self._send(request)
        self.notice = None
        self._go(State.QUEUE)

    def _ask_by_handset(self) -> None:
        self.handset_request = True
        if self.session.attention_id is None:
            self._start_attention()
        services = self.config.services
        if len(services) == 1 and self.service_available:
            self.session.service = services[0]
            self._request_call(recording=None)
        else:
            # OUT_OF_SERVICE stands in for the topic screen when no call is possible.
            self._go(State.TOPIC)

    def _on_answer_consent(self, e: ev.AnswerConsent) -> None:
        self._request_call(recording=e.recording)

    def _on_cancel_waiting(self, _e: ev.CancelWaiting) -> None:
        assert self.session.call_id is not None
        self._send(p.CallCancel(call_id=self.session.call_id))
        self._leave_queue(State.HOME)

    def _on_come_back_later(self, _e: ev.ComeBackLater) -> None:
        if self.session.call_id is not None:
            self._send(p.CallCancel(call_id=self.session.call_id))
        self._leave_queue(State.GOODBYE)

    def _on_hang_up(self, _e: ev.HangUp) -> None:
        self._leave_call(hang_up=True)

    def _on_toggle_mute(self, _e: ev.ToggleMute) -> None:
        self.session.muted = not self.session.muted
        self._out.append(cmd.SetMute(self.session.muted))

    def _on_confirm_step(self, _e: ev.ConfirmStep) -> None:
        step = self.session.step
        assert step is not None
        if self.state is State.STEP_INFO:
            self._step_update("done")
            self._clear_step()
            self._go(State.CALL)
        elif self.step_running:
            raise InvalidChoice("Expected the scanner to be idle, but it is already scanning")
        else:
            self.step_running = True
            self._out.append(cmd.RunStep(step))

    def _on_decline_step(self, _e: ev.DeclineStep) -> None:
        if self.step_running:
            raise InvalidChoice("Expected a step that has not started, but it is running")
        self._step_update("declined")
        self._clear_step()
        self._go(State.CALL)

    def _on_submit_signature(self, e: ev.SubmitSignature) -> None:
        step = self.session.step
        assert step is not None
        if self.step_running:
            raise InvalidChoice("Expected one signature, but the step already has one")
        if not e.image.startswith(_PNG_SIGNATURE):
            raise InvalidChoice("Expected the signature as a PNG image, but got other bytes")
        self.step_running = True
        self._out.append(cmd.RunStep(step, signature=self.session.keep_bytes(e.image)))

    def _on_handset_lifted(self, _e: ev.HandsetLifted) -> None:
        self.handset_off_hook = True
        if self.state is State.GOODBYE:
            self._reset("finished")  # lifting it again after hanging up calls again
        if self.state in _HANDSET_ASKS_IN:
            self._ask_by_handset()

    def _on_handset_hung_up(self, _e: ev.HandsetHungUp) -> None:
        self.handset_off_hook = False
        # Like a telephone: putting the handset down during a conversation ends it. During
        # a step the citizen may need both hands, so there it does not. A call asked for by
        # lifting the handset is cancelled by putting it down before anyone answers.
        if self.state is State.CALL:
            self._leave_call(hang_up=True)
        elif self.state is State.QUEUE and self.handset_request:
            assert self.session.call_id is not None
            self._send(p.CallCancel(call_id=self.session.call_id))
            self._leave_queue(State.GOODBYE)
        # Whoever goes on by touch from here chooses, and is asked, as any citizen is.
        self.handset_request = False

    # --- the step runner --------------------------------------------------------------------

    def _on_step_prepared(self, e: ev.StepPrepared) -> None:
        step = self.session.step
        if step is not None and step.step_id == e.step_id and e.preview is not None:
            self.session.step_preview = self.session.keep_file(e.preview)

    def _on_step_finished(self, e: ev.StepFinished) -> None:
        step = self.session.step
        if step is None or step.step_id != e.step_id or self.state not in STEP_STATES:
            return
        kind = _DOCUMENT_EVENT.get(step.kind)
        if e.status == "done" and kind is not None:
            data = {"step_id": step.step_id, "document_id": e.document_id or step.document_id}
            self._record(kind, **{k: v for k, v in data.items() if v is not None})
        self.notice = e.error if e.status == "failed" else None
        self._clear_step()
        self._go(State.CALL)

    # --- the hub ----------------------------------------------------------------------------

    def _on_queue_update(self, m: p.QueueUpdate) -> None:
        if self._ours(m.call_id) and self.state is State.QUEUE:
            self.session.queue_position = m.position
            self.session.estimated_wait_s = m.estimated_wait_s
            self.session.queued_at = m.queued_at
            self._offer_next_slot()

    def _on_service_closed(self, m: p.ServiceClosed) -> None:
        if self._ours(m.call_id) and self.state is State.QUEUE:
            self.session.opens_at = m.opens_at
            self._leave_queue(State.CLOSED)

    def _on_call_connected(self, m: p.CallConnected) -> None:
        if not (self._ours(m.call_id) and self.state is State.QUEUE):
            return
        self.session.connected = True
        self.session.peer_name = m.peer.name
        self._out.append(cmd.StartCall(m.call_id, m.you_offer))
        self._go(State.CALL)

    def _on_call_ended(self, m: p.CallEnded) -> None:
        if not self._ours(m.call_id):
            return
        if self.state in CALL_STATES:
            self._leave_call(hang_up=False)
        elif self.state is State.QUEUE:
            self._leave_queue(State.HOME, notice="call_not_answered")

    def _on_error(self, m: p.Error) -> None:
        logger.warning("the hub refused a message: %s", m.code)
        # The call request carries its call id as ``ref``: a refusal of it ends the wait.
        if self.state is State.QUEUE and self._ours(m.ref):
            self._leave_queue(State.HOME, notice="call_refused")

    def _on_step_request(self, m: p.StepRequest) -> None:
        if not self._ours(m.call_id):
            return
        if self.state is not State.CALL:
            self._send(
                p.StepUpdate(call_id=m.call_id, step_id=m.step_id, status="declined", error="busy")
            )
            return
        self.session.step = m
        self.notice = None
        state = STEP_STATE_BY_KIND[m.kind]
        if state is State.STEP_PRINT:
            # Nothing for the citizen to decide: the agent's document prints at once.
            self.step_running = True
            self._out.append(cmd.RunStep(m))
        else:
            self._step_update("accepted")
            if state in (State.STEP_SIGN, State.STEP_INFO):
                self._out.append(cmd.PrepareStep(m))
        self._go(state)

    def _not_for_the_flow(self, m: p.Message) -> None:
        logger.debug("hub message %s: not the flow's", type(m).__name__)


#: The hub's messages the flow takes but never acts on, and why; anything else the hub sends
#: has a handler in :data:`CALL_HANDLERS`.
NOT_FOR_THE_FLOW: Mapping[type[p.Message], str] = {
    p.Welcome: "the hub client keeps it (ICE servers, heartbeat)",
    p.Pong: "the hub client's heartbeat",
    p.RtcDescription: "the call's media signalling, handed to the call itself",
    p.RtcCandidate: "the call's media signalling, handed to the call itself",
    p.FleetAction: "a technician's remote action, handed to the kiosk's remote actions",
    p.CallTransferred: "the flow does not follow a transfer: the citizen stays on the call",
    p.StepUpdate: "sent to agents only: the cabin sends these",
    p.Presence: "sent to agents only",
    p.CallRing: "sent to agents only",
    p.CallRingCancelled: "sent to agents only",
    p.CabinTools: "sent to agents only: the cabin's own health monitor knows its devices",
}

_Handler = Callable[[CallHandlers, Any], None]
#: Each event and hub message this part of the flow takes, with its handler.
CALL_HANDLERS: Mapping[type[Any], _Handler] = {
    ev.AnswerConsent: CallHandlers._on_answer_consent,
    ev.CancelWaiting: CallHandlers._on_cancel_waiting,
    ev.ComeBackLater: CallHandlers._on_come_back_later,
    ev.HangUp: CallHandlers._on_hang_up,
    ev.ToggleMute: CallHandlers._on_toggle_mute,
    ev.ConfirmStep: CallHandlers._on_confirm_step,
    ev.DeclineStep: CallHandlers._on_decline_step,
    ev.SubmitSignature: CallHandlers._on_submit_signature,
    ev.HandsetLifted: CallHandlers._on_handset_lifted,
    ev.HandsetHungUp: CallHandlers._on_handset_hung_up,
    ev.StepPrepared: CallHandlers._on_step_prepared,
    ev.StepFinished: CallHandlers._on_step_finished,
    p.QueueUpdate: CallHandlers._on_queue_update,
    p.ServiceClosed: CallHandlers._on_service_closed,
    p.CallConnected: CallHandlers._on_call_connected,
    p.CallEnded: CallHandlers._on_call_ended,
    p.Error: CallHandlers._on_error,
    p.StepRequest: CallHandlers._on_step_request,
    **dict.fromkeys(NOT_FOR_THE_FLOW, CallHandlers._not_for_the_flow),
}
