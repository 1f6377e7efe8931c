"""The citizen's path through the cabin: an explicit state machine, with no window and no I/O.

Screens and devices feed it events (touches, handset, presence, hub messages, timer ticks)
through :meth:`Flow.dispatch`; it answers with commands for the rest of the kiosk to carry
out (record an attention event in the outbox, send a message to the hub, start the call, run a
device step, erase the citizen's data). States are defined in :mod:`kiosk.flow.states`,
events in :mod:`kiosk.flow.events`, commands in :mod:`kiosk.flow.commands`; the call's part of
the machine is in :mod:`kiosk.flow.call`. ::

    ATTRACT ─────touch─────► LANGUAGE ─► HOME ─► TOPIC ─► CONSENT ─► QUEUE ─► CALL ◄─► STEP_*
       ▲                                 │ │                  ▲       │         │
       │                    INFORMATION ◄┘ └► COMPLAINT ──────┘     CLOSED    SURVEY ─► GOODBYE
       └────────── inactivity (after a warning) or the goodbye: privacy reset ◄───────────┘

From HOME the citizen may also get a padrón certificate by themselves, through the PADRON_*
states (see :mod:`kiosk.flow.padron`), book an appointment or join the one they have, through
the APPOINTMENT_* states (see :mod:`kiosk.flow.appointments`).

Lifting the handset on the way to a call asks for an agent, as on a telephone: TOPIC without
CONSENT, or QUEUE at once when the cabin has one topic (see :mod:`kiosk.flow.call`).

OUT_OF_SERVICE replaces HOME (and the screens leading to a call) while the hub is unreachable
or a required device has failed; TECHNICIAN is reached from ATTRACT by a hidden gesture and a
PIN.

Every event reaches its handler through one table, :data:`HANDLERS` (event type → handler),
merged from this module's, :data:`kiosk.flow.call.CALL_HANDLERS`,
:data:`kiosk.flow.padron.PADRON_HANDLERS` and
:data:`kiosk.flow.appointments.APPOINTMENT_HANDLERS`; every hub message has an entry, those the
flow never acts on included (:data:`kiosk.flow.call.NOT_FOR_THE_FLOW`). Anything without an
entry raises :class:`~kiosk.flow.errors.UnhandledEvent`. A citizen event in a state that does
not accept it (:data:`kiosk.flow.guards.ACCEPTED_IN`) raises
:class:`~kiosk.flow.errors.TransitionRefused`; a value the flow cannot take (an unknown
language, a disabled entry) raises :class:`~kiosk.flow.errors.InvalidChoice`. All three leave
the flow unchanged.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from contract import signalling as p
from contract.appointments import Offer
from contract.clock import utc_now
from contract.events import EventKind
from kiosk.flow import commands as cmd
from kiosk.flow import events as ev
from kiosk.flow.appointments import APPOINTMENT_HANDLERS, AppointmentHandlers, AppointmentVisit
from kiosk.flow.call import CALL_HANDLERS, CallHandlers
from kiosk.flow.config import FlowConfig
from kiosk.flow.errors import InvalidChoice, TransitionRefused, UnhandledEvent
from kiosk.flow.guards import ACCEPTED_IN, ACTIVITY
from kiosk.flow.padron import PADRON_HANDLERS, PadronHandlers, PadronVisit
from kiosk.flow.states import APPOINTMENT_STATES, CALL_STATES, PADRON_STATES, HomeEntry, State
from kiosk.privacy import redact
from kiosk.session import Session

logger = logging.getLogger(__name__)

S = State
#: The screens on the way to a call; OUT_OF_SERVICE stands in for them when it is impossible.
_NEEDS_SERVICE = frozenset({S.HOME, S.TOPIC, S.CONSENT, S.COMPLAINT})


class Flow(CallHandlers, PadronHandlers, AppointmentHandlers):
    """The state machine of one cabin's touchscreen."""

    def __init__(
        self,
        config: FlowConfig,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = utc_now,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        verify_pin: Callable[[str], bool] = lambda _pin: False,
    ) -> None:
        self.config = config
        self._monotonic = monotonic
        self._now = now
        self._new_id = new_id
        self._verify_pin = verify_pin
        self.state = State.ATTRACT
        self.session = Session(language=config.default_language)
        self.hub_online = False
        #: Failed devices, by name ("camera", "receipt_printer" …), with their error code.
        self.device_faults: dict[str, str] = {}
        self.someone_present = False
        self.handset_off_hook = False
        #: Whether the citizen asked for an agent by lifting the handset (and still holds it).
        self.handset_request = False
        #: A short code the current screen should explain (a step's failure, a lost call …).
        self.notice: str | None = None
        #: Whether a step's device work is under way (scanning, printing, stamping).
        self.step_running = False
        self.technician_unlocked = False
        self._pin_failures = 0
        self._back_from_consent = State.TOPIC
        self._back_from_information = State.HOME
        #: The padrón certificate errand (what the citizen typed, what the hub answered).
        self.padron = PadronVisit()
        #: The appointment errand (what the citizen chose and typed, what the hub answered).
        self.appointment = AppointmentVisit()
        #: What the hub lets this cabin's citizens book; refreshed by the kiosk after visits.
        self.appointment_offers: tuple[Offer, ...] = ()
        self._last_activity = self._entered_at = monotonic()
        self._warning = False
        self._out: list[cmd.Command] = []
        self._listeners: list[Callable[[Flow], None]] = []

    # --- what screens read ------------------------------------------------------------------

    @property
    def service_available(self) -> bool:
        """Whether a call to an agent is possible now."""
        return self.hub_online and not (self.config.required_devices & self.device_faults.keys())

    @property
    def can_print_ticket(self) -> bool:
        """Whether the receipt printer works."""
        return "receipt_printer" not in self.device_faults

    @property
    def long_wait(self) -> bool:
        """Whether the estimated wait is long enough to suggest coming back later."""
        wait = self.session.estimated_wait_s
        return wait is not None and wait >= self.config.long_wait_s

    def entries(self) -> dict[HomeEntry, bool]:
        """The entries of the home screen, each with whether it can be chosen now."""
        home = self.state is not State.OUT_OF_SERVICE
        return {
            HomeEntry.TALK_TO_AGENT: home and self.service_available,
            HomeEntry.INFORMATION: True,
            HomeEntry.COMPLAINT: home,
            HomeEntry.PADRON_CERTIFICATE: home and self.padron_available,
            HomeEntry.APPOINTMENT: home and self.booking_available,
            HomeEntry.CHECK_IN: home and self.service_available,
        }

    def warning_remaining(self) -> float | None:
        """Seconds left before the inactivity reset while the warning shows, else None."""
        limit = self._idle_limit()
        if not self._warning or limit is None:
            return None
        return max(0.0, self._last_activity + limit + self.config.warning_s - self._monotonic())

    def subscribe(self, listener: Callable[[Flow], None]) -> Callable[[], None]:
        """Call ``listener`` after every change; returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    # --- the one way in ---------------------------------------------------------------------

    def dispatch(self, event: ev.Event) -> list[cmd.Command]:
        """Apply ``event``; return the commands it gives, in order."""
        handler = HANDLERS.get(type(event))
        if handler is None:
            raise UnhandledEvent(event)
        accepted_in = ACCEPTED_IN.get(type(event))
        if accepted_in is not None and self.state not in accepted_in:
            raise TransitionRefused(self.state, event, accepted_in)
        before = self._view()
        self._out = []
        if isinstance(event, ACTIVITY):
            self._last_activity = self._monotonic()
            self._warning = False
        handler(self, event)
        out, self._out = self._out, []
        if out or not isinstance(event, ev.Tick) or self._view() != before:
            for listener in list(self._listeners):
                listener(self)
        return out

    # --- helpers ----------------------------------------------------------------------------

    def _view(self) -> tuple[State, int | None]:
        remaining = self.warning_remaining()
        return self.state, None if remaining is None else int(remaining)

    def _go(self, state: State) -> None:
        if state in _NEEDS_SERVICE and not self.service_available:
            state = State.OUT_OF_SERVICE
        if state is not self.state:
            logger.info("flow %s -> %s", self.state.value, state.value)
        self.state = state
        self._entered_at = self._last_activity = self._monotonic()
        self._warning = False

    def _record(self, kind: EventKind, **data: Any) -> None:
        attention_id = self.session.attention_id
        assert attention_id is not None, "attention events need an attention"
        self._out.append(cmd.RecordEvent(self._new_id(), kind, attention_id, self._now(), data))

    def _reset(self, reason: str) -> None:
        """End the attention: leave any call, log the end, erase the citizen's data."""
        session = self.session
        if session.call_id is not None:
            if session.step is not None:
                self._out.append(cmd.CancelStep(session.step))
            if session.connected:
                self._send(p.CallEnd(call_id=session.call_id, reason=reason))
                self._out.append(cmd.StopCall(session.call_id))
            else:
                self._send(p.CallCancel(call_id=session.call_id))
        if session.attention_id is not None:
            self._record(EventKind.ATTENTION_ENDED, reason=reason)
        self._out.append(cmd.EraseCitizenData(session))
        self.padron = PadronVisit()
        self.appointment = AppointmentVisit()
        self.session = Session(language=self.config.default_language)
        self.notice = None
        self.step_running = self.technician_unlocked = self.handset_request = False
        self._pin_failures = 0
        self._go(State.ATTRACT)

    def _start_attention(self) -> None:
        self.session.attention_id = self._new_id()
        self._record(EventKind.ATTENTION_STARTED)

    def _idle_limit(self) -> float | None:
        if self.state in CALL_STATES or self.state in (S.ATTRACT, S.GOODBYE, S.PADRON_PRINTING):
            # A citizen talking to an agent may not touch the screen for minutes: the agent
            # ends the call, and the survey after it has its own countdown. A certificate
            # that is printing keeps its screen until the printer answers.
            return None
        return self.config.queue_idle_s if self.state is S.QUEUE else self.config.idle_s

    def _service_changed(self) -> None:
        if self.state in _NEEDS_SERVICE and not self.service_available:
            self._go(S.OUT_OF_SERVICE)
        elif self.state is S.OUT_OF_SERVICE and self.service_available:
            self._go(S.HOME)

    # --- handlers: the citizen's way to a call ----------------------------------------------

    def _on_touch_screen(self, _e: ev.TouchScreen) -> None:
        if self.state is S.ATTRACT:
            self._start_attention()
            self._go(S.LANGUAGE)
        elif self.state is S.GOODBYE:
            self._reset("finished")

    def _on_choose_language(self, e: ev.ChooseLanguage) -> None:
        if e.language not in self.config.languages:
            raise InvalidChoice(f"Expected one of {self.config.languages}, but got {e.language!r}")
        self.session.language = e.language
        self._record(EventKind.LANGUAGE_CHOSEN, language=e.language)
        self._go(S.HOME)

    def _on_choose_entry(self, e: ev.ChooseEntry) -> None:
        if not self.entries().get(e.entry, False):
            raise InvalidChoice(f"Expected an entry available now, but got {e.entry!r}")
        if e.entry is HomeEntry.TALK_TO_AGENT:
            self._go(S.TOPIC)
        elif e.entry is HomeEntry.PADRON_CERTIFICATE:
            self._start_padron()
        elif e.entry is HomeEntry.APPOINTMENT:
            self._start_booking()
        elif e.entry is HomeEntry.CHECK_IN:
            self._start_check_in()
        elif e.entry is HomeEntry.INFORMATION:
            self._back_from_information = self.state
            self._out.append(cmd.LoadInformation(self.session.language))
            self._go(S.INFORMATION)
        else:
            self._go(S.COMPLAINT)

    def _on_choose_service(self, e: ev.ChooseService) -> None:
        config = self.config
        offered = config.services if self.state is S.TOPIC else (config.complaint_service,)
        if e.service not in offered:
            raise InvalidChoice(f"Expected one of {offered}, but got {e.service!r}")
        self.session.service = e.service
        if self.state is S.TOPIC and self.handset_request:
            self._request_call(recording=None)
            return
        self._back_from_consent = self.state
        self._go(S.CONSENT)

    def _on_answer_survey(self, e: ev.AnswerSurvey) -> None:
        if isinstance(e.satisfaction, bool) or e.satisfaction not in range(1, 6):
            raise InvalidChoice(f"Expected a satisfaction from 1 to 5, but got {e.satisfaction!r}")
        # The comment goes to the hub: identity numbers, phones and addresses are cut out.
        comment = redact(e.comment.strip())[: self.config.comment_chars]
        data: dict[str, Any] = {"satisfaction": e.satisfaction}
        if comment:
            self.session.texts.append(comment)
            data["comment"] = comment
        self._record(EventKind.SURVEY_ANSWERED, **data)
        self.session.survey_answered = True
        self._go(S.GOODBYE)

    def _on_skip_survey(self, _e: ev.SkipSurvey) -> None:
        self._go(S.GOODBYE)

    def _on_back(self, _e: ev.Back) -> None:
        if self.state in (S.LANGUAGE, S.TECHNICIAN):
            self._reset("cancelled")
            return
        if self.state in PADRON_STATES:
            self._padron_back()
            return
        if self.state in APPOINTMENT_STATES:
            self._appointment_back()
            return
        target = {
            S.HOME: S.LANGUAGE,
            S.OUT_OF_SERVICE: S.LANGUAGE,
            S.CONSENT: self._back_from_consent,
            S.INFORMATION: self._back_from_information,
        }.get(self.state, S.HOME)
        self._go(target)

    def _on_finish(self, _e: ev.Finish) -> None:
        self._go(S.GOODBYE)

    def _on_request_ticket(self, _e: ev.RequestTicket) -> None:
        if not self.can_print_ticket:
            raise InvalidChoice("Expected a working receipt printer, but it has failed")
        self._out.append(cmd.PrintTicket(self.session.language, self.session.opens_at))

    def _on_toggle_large_text(self, _e: ev.ToggleLargeText) -> None:
        self.session.large_text = not self.session.large_text

    def _on_toggle_high_contrast(self, _e: ev.ToggleHighContrast) -> None:
        self.session.high_contrast = not self.session.high_contrast

    def _on_technician_gesture(self, _e: ev.TechnicianGesture) -> None:
        self._go(S.TECHNICIAN)

    def _on_enter_pin(self, e: ev.EnterPin) -> None:
        if self.technician_unlocked:
            raise InvalidChoice("Expected a locked technician screen, but it is unlocked")
        if self._verify_pin(e.pin):
            self.technician_unlocked = True
            logger.info("technician screen unlocked")
            return
        self._pin_failures += 1
        logger.warning(
            "wrong technician PIN (%d of %d)", self._pin_failures, self.config.pin_attempts
        )
        if self._pin_failures >= self.config.pin_attempts:
            self._reset("cancelled")

    # --- handlers: devices, the hub link, time ----------------------------------------------

    def _on_handset_key(self, _e: ev.HandsetKey) -> None:
        pass

    def _on_presence_detected(self, _e: ev.PresenceDetected) -> None:
        self.someone_present = True

    def _on_presence_lost(self, _e: ev.PresenceLost) -> None:
        self.someone_present = False

    def _on_hub_link(self, e: ev.HubLink) -> None:
        self.hub_online = e.online
        self._service_changed()

    def _on_device_failed(self, e: ev.DeviceFailed) -> None:
        self.device_faults[e.device] = e.code
        self._service_changed()

    def _on_device_recovered(self, e: ev.DeviceRecovered) -> None:
        self.device_faults.pop(e.device, None)
        self._service_changed()

    def _on_tick(self, _e: ev.Tick) -> None:
        now = self._monotonic()
        if self.state is S.GOODBYE:
            if now - self._entered_at >= self.config.goodbye_s:
                self._reset("finished")
            return
        limit = self._idle_limit()
        if limit is None:
            self._warning = False
        elif now - self._last_activity >= limit + self.config.warning_s:
            self._reset("inactivity")
        elif now - self._last_activity >= limit:
            self._warning = True


_Handler = Callable[[Flow, Any], None]


def _merge(*tables: Mapping[type[Any], _Handler]) -> dict[type[Any], _Handler]:
    """One table from several; a type claimed by two of them is a mistake, refused at once."""
    merged: dict[type[Any], _Handler] = {}
    for table in tables:
        twice = merged.keys() & table.keys()
        if twice:
            names = ", ".join(sorted(kind.__name__ for kind in twice))
            raise ValueError(f"Expected one handler per event type, but got two for {names}")
        merged.update(table)
    return merged


#: Each event and hub message the flow takes, with its handler; anything else is refused with
#: :class:`~kiosk.flow.errors.UnhandledEvent`.
HANDLERS: Mapping[type[Any], _Handler] = _merge(
    {
        ev.TouchScreen: Flow._on_touch_screen,
        ev.ChooseLanguage: Flow._on_choose_language,
        ev.ChooseEntry: Flow._on_choose_entry,
        ev.ChooseService: Flow._on_choose_service,
        ev.AnswerSurvey: Flow._on_answer_survey,
        ev.SkipSurvey: Flow._on_skip_survey,
        ev.Back: Flow._on_back,
        ev.Finish: Flow._on_finish,
        ev.RequestTicket: Flow._on_request_ticket,
        ev.ToggleLargeText: Flow._on_toggle_large_text,
        ev.ToggleHighContrast: Flow._on_toggle_high_contrast,
        ev.TechnicianGesture: Flow._on_technician_gesture,
        ev.EnterPin: Flow._on_enter_pin,
        ev.HandsetKey: Flow._on_handset_key,
        ev.PresenceDetected: Flow._on_presence_detected,
        ev.PresenceLost: Flow._on_presence_lost,
        ev.HubLink: Flow._on_hub_link,
        ev.DeviceFailed: Flow._on_device_failed,
        ev.DeviceRecovered: Flow._on_device_recovered,
        ev.Tick: Flow._on_tick,
    },
    CALL_HANDLERS,
    PADRON_HANDLERS,
    APPOINTMENT_HANDLERS,
)
