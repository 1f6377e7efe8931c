"""The kiosk's Kivy app: shows the flow's state, forwards touches to it, runs its commands.

The app holds no citizen logic. Every touch becomes a :mod:`kiosk.flow` event; the flow
answers with commands, which the ``execute`` callable given at construction carries out
(outbox, hub, call, devices — see :mod:`kiosk.effects.runner`); whatever those produce comes back
as flow events through :meth:`KioskApp.send`. Screens are built the first time they are
needed, and the rest are warmed up while the attract screen waits.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock, ClockEvent
from kivy.lang import Builder
from kivy.properties import ObjectProperty, StringProperty

from hardware.check import CheckResult
from kiosk import texts
from kiosk.flow import (
    Command,
    Event,
    Flow,
    FlowError,
    State,
    Tick,
    ToggleHighContrast,
    ToggleLargeText,
    TouchScreen,
)
from kiosk.screens import icons, widgets  # noqa: F401 - registers the widget classes for .kv rules
from kiosk.screens.base import KioskScreen
from kiosk.screens.display import finish_frames_off_screen
from kiosk.screens.inactivity import InactivityOverlay
from kiosk.screens.information import InformationItem
from kiosk.screens.root import KioskRoot
from kiosk.screens.technician import HardwareCheck
from kiosk.screens.texts_ui import translate
from kiosk.screens.theme import Theme
from kiosk.screens.video import Frame

logger = logging.getLogger(__name__)

_HERE = Path(__file__).parent
#: Each state's screen: the module (and its .kv file) and the class.
SCREENS: dict[State, tuple[str, str]] = {
    State.ATTRACT: ("attract", "AttractScreen"),
    State.LANGUAGE: ("language", "LanguageScreen"),
    State.HOME: ("home", "HomeScreen"),
    State.TOPIC: ("topic", "TopicScreen"),
    State.CONSENT: ("consent", "ConsentScreen"),
    State.QUEUE: ("queue", "QueueScreen"),
    State.CLOSED: ("closed", "ClosedScreen"),
    State.CALL: ("call", "CallScreen"),
    State.STEP_SCAN: ("step_scan", "ScanStepScreen"),
    State.STEP_PRINT: ("step_print", "PrintStepScreen"),
    State.STEP_SIGN: ("step_sign", "SignStepScreen"),
    State.STEP_INFO: ("step_info", "InfoStepScreen"),
    State.SURVEY: ("survey", "SurveyScreen"),
    State.GOODBYE: ("goodbye", "GoodbyeScreen"),
    State.INFORMATION: ("information", "InformationScreen"),
    State.COMPLAINT: ("complaint", "ComplaintScreen"),
    State.OUT_OF_SERVICE: ("out_of_service", "OutOfServiceScreen"),
    State.TECHNICIAN: ("technician", "TechnicianScreen"),
    State.PADRON_DOCUMENT: ("padron_document", "PadronDocumentScreen"),
    State.PADRON_BIRTH_DATE: ("padron_birth_date", "PadronBirthDateScreen"),
    State.PADRON_CODE: ("padron_code", "PadronCodeScreen"),
    State.PADRON_KIND: ("padron_kind", "PadronKindScreen"),
    State.PADRON_PREVIEW: ("padron_preview", "PadronPreviewScreen"),
    State.PADRON_PRINTING: ("padron_printing", "PadronPrintingScreen"),
    State.PADRON_DONE: ("padron_done", "PadronDoneScreen"),
    State.PADRON_PROBLEM: ("padron_problem", "PadronProblemScreen"),
    State.APPOINTMENT_OFFER: ("appointment_offer", "AppointmentOfferScreen"),
    State.APPOINTMENT_DAY: ("appointment_day", "AppointmentDayScreen"),
    State.APPOINTMENT_TIME: ("appointment_time", "AppointmentTimeScreen"),
    State.APPOINTMENT_DETAILS: ("appointment_details", "AppointmentDetailsScreen"),
    State.APPOINTMENT_CONFIRM: ("appointment_confirm", "AppointmentConfirmScreen"),
    State.APPOINTMENT_DONE: ("appointment_done", "AppointmentDoneScreen"),
    State.APPOINTMENT_PROBLEM: ("appointment_problem", "AppointmentProblemScreen"),
    State.APPOINTMENT_CHECK_IN: ("appointment_check_in", "AppointmentCheckInScreen"),
    State.APPOINTMENT_REFERENCE: ("appointment_reference", "AppointmentReferenceScreen"),
}
_SHARED_KV = ("widgets", "root", "inactivity")


def load_kv(module: str) -> None:
    """Load ``<module>.kv`` from this package, once."""
    path = str(_HERE / f"{module}.kv")
    if path not in Builder.files:
        Builder.load_file(path)


class KioskApp(App):  # type: ignore[misc]
    """The cabin's touchscreen."""

    theme: Any = ObjectProperty(None)
    #: The citizen's language: every ``app.tr(…, app.lang)`` in the .kv rules follows it.
    lang = StringProperty("es")
    cabin_name = StringProperty("")

    def __init__(
        self,
        flow: Flow,
        execute: Callable[[Command], None],
        *,
        cabin_name: str = "",
        hardware_check: HardwareCheck | None = None,
        tick_s: float = 0.5,
        warm_up: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.flow = flow
        self.theme = Theme()
        self.lang = flow.session.language
        self.cabin_name = cabin_name
        self.title = "Cabina"
        self.refused: list[str] = []
        self._execute = execute
        self._hardware_check = hardware_check
        self._tasks: set[asyncio.Task[Any]] = set()
        self._tick_s = tick_s
        self._warm_up = warm_up
        self._screens: dict[State, KioskScreen] = {}
        self._tick: ClockEvent | None = None
        self._warming: ClockEvent | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._root: KioskRoot | None = None

    # --- what .kv rules call ----------------------------------------------------------------

    def t(self, message: str, lang: str) -> str:
        """``message`` (a :mod:`kiosk.texts` msgid, ``kiosk`` domain) in ``lang``."""
        return texts.tr(message, lang)

    def tr(self, message: str, lang: str) -> str:
        """``message`` (a :mod:`kiosk.screens.texts_ui` msgid, ``kiosk_ui`` domain) in ``lang``."""
        return translate(message, lang)

    def toggle_contrast(self) -> None:
        """The citizen tapped the high-contrast toggle."""
        self.send(ToggleHighContrast())

    def toggle_large_text(self) -> None:
        """The citizen tapped the large-text toggle."""
        self.send(ToggleLargeText())

    # --- the flow ---------------------------------------------------------------------------

    def send(self, event: Event) -> None:
        """Hand ``event`` to the flow and carry out the commands it gives."""
        try:
            commands = self.flow.dispatch(event)
        except FlowError as exc:
            # A second tap on a button whose screen is already leaving, most often.
            logger.info("the flow refused %s: %s", type(event).__name__, exc)
            self.refused.append(type(event).__name__)
            return
        for command in commands:
            self._execute(command)

    def send_from_anywhere(self, event: Event) -> None:
        """:meth:`send`, callable from any thread (device readers, network callbacks)."""
        Clock.schedule_once(lambda _dt: self.send(event), 0)

    def run_hardware_check(
        self, done: Callable[[Sequence[CheckResult] | BaseException], None]
    ) -> None:
        """Run the hardware self-test in the background; ``done`` gets its results or error."""
        check = self._hardware_check
        if check is None:
            done(RuntimeError("No hardware check is configured for this kiosk"))
            return

        async def run() -> None:
            try:
                results = await check()
            except Exception as exc:  # shown to the technician, who can act on it
                logger.warning("the hardware check failed: %s", exc)
                done(exc)
            else:
                done(results)

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def show_information(self, items: Sequence[InformationItem] | None) -> None:
        """Show opening hours and addresses (None: still loading) on the information screen."""
        screen = self.screen(State.INFORMATION)
        screen.show(list(items) if items is not None else None)

    # --- pictures ---------------------------------------------------------------------------

    def show_agent_frame(self, frame: Frame, colorfmt: str = "bgr") -> None:
        """Show a frame of the agent's video on the current screen, if it has a place for it."""
        self._show_frame("agent_video", frame, colorfmt)

    def show_own_frame(self, frame: Frame, colorfmt: str = "bgr") -> None:
        """Show a frame of the cabin's own camera, if the current screen shows it."""
        self._show_frame("own_video", frame, colorfmt)

    def show_own_frame_threadsafe(self, frame: Frame) -> None:
        """:meth:`show_own_frame` from the camera's reader thread."""
        Clock.schedule_once(lambda _dt: self.show_own_frame(frame), 0)

    def clear_video(self) -> None:
        """Forget the pictures of the call on every screen (the call ended)."""
        for screen in self._screens.values():
            for widget_id in ("agent_video", "own_video"):
                view = screen.ids.get(widget_id)
                if view is not None:
                    view.clear()

    def _show_frame(self, widget_id: str, frame: Frame, colorfmt: str) -> None:
        screen = self._screens.get(self.flow.state)
        view = screen.ids.get(widget_id) if screen is not None else None
        if view is not None:
            view.show_frame(frame, colorfmt)

    def use_flow(self, flow: Flow) -> None:
        """Show ``flow`` from now on (a new cabin session in tests and screenshots)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.flow = flow
        self._unsubscribe = flow.subscribe(lambda _flow: self.refresh())
        self.refresh()

    # --- Kivy -------------------------------------------------------------------------------

    def build(self) -> KioskRoot:
        """The window's widgets, showing the flow's current state."""
        from kivy.core.window import Window

        finish_frames_off_screen(Window)
        for name in _SHARED_KV:
            load_kv(name)
        root = KioskRoot(on_activity=self._on_activity)
        self._root = root
        self._unsubscribe = self.flow.subscribe(lambda _flow: self.refresh())
        self.refresh()
        return root

    def on_start(self) -> None:
        """Start the clock that drives the flow's timeouts, and warm up the screens."""
        self._tick = Clock.schedule_interval(lambda _dt: self.send(Tick()), self._tick_s)
        if self._warm_up:
            self._warming = Clock.schedule_once(self._warm_next, 0.2)

    def on_stop(self) -> None:
        """Stop driving the flow, and stop warming screens up: building one after the app
        stopped fails, as the kv rules' ``app`` is gone."""
        if self._tick is not None:
            self._tick.cancel()
        if self._warming is not None:
            self._warming.cancel()
            self._warming = None
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    # --- showing ----------------------------------------------------------------------------

    @property
    def root_widget(self) -> KioskRoot:
        """The window's root widget (after :meth:`build`)."""
        if self._root is None:
            raise RuntimeError("Expected the app to be built, but build() has not run")
        return self._root

    def screen(self, state: State) -> KioskScreen:
        """The screen of ``state``, built on first use."""
        found = self._screens.get(state)
        if found is not None:
            return found
        module_name, class_name = SCREENS[state]
        module = importlib.import_module(f"kiosk.screens.{module_name}")
        load_kv(module_name)
        screen: KioskScreen = getattr(module, class_name)(name=state.value)
        screen.controller = self
        self.root_widget.ids.screens.add_widget(screen)
        self._screens[state] = screen
        return screen

    @property
    def warmed_up(self) -> bool:
        """Whether every screen has been built."""
        return len(self._screens) == len(SCREENS)

    def current_screen(self) -> KioskScreen:
        """The screen on show."""
        return self.screen(self.flow.state)

    def refresh(self) -> None:
        """Show the flow as it is now."""
        flow = self.flow
        session = flow.session
        self.theme.set(high_contrast=session.high_contrast, large_text=session.large_text)
        self.lang = session.language
        root = self.root_widget
        root.show_bar = flow.state is not State.ATTRACT
        screen = self.screen(flow.state)
        screen.render(flow)
        manager = root.ids.screens
        if manager.current != screen.name:
            manager.current = screen.name
        warning: InactivityOverlay = root.ids.warning
        warning.show(flow.warning_remaining(), self.lang)

    def _on_activity(self) -> bool:
        """A touch somewhere: tell the flow; True when that touch only woke the kiosk up."""
        flow = self.flow
        if flow.state is State.ATTRACT:
            return False  # the attract screen turns the touch into the start itself
        before = (flow.state, flow.warning_remaining() is not None)
        self.send(TouchScreen())
        return (flow.state, False) != before

    def _warm_next(self, _dt: float) -> None:
        for state in SCREENS:
            if state not in self._screens:
                self.screen(state)
                # One screen per frame, so the attract screen stays smooth.
                self._warming = Clock.schedule_once(self._warm_next, 0)
                return
        self._warming = None
