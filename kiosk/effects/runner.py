"""Carrying out the flow's commands with the kiosk's parts: outbox, hub link, call, devices.

:class:`CommandRunner` is what :class:`kiosk.screens.app.KioskApp` is given as ``execute``. Each
command goes to the part that does it; slow work runs as a task on the app's event loop and
its outcome comes back as a flow event through ``deliver``. Hub messages come in through
:meth:`CommandRunner.on_hub_message`: media signalling goes to the call, the rest to the flow.
Nothing here draws anything: pictures and information reach the screen through :class:`View`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from contract import signalling as p
from hardware.errors import HardwareError
from hardware.receipt_printer import Align, Ticket, TicketLine
from kiosk import texts
from kiosk.effects import appointments
from kiosk.effects.padron import PadronCommand, PadronParts, carry_out
from kiosk.flow import (
    BookAppointment,
    CancelStep,
    CheckInAppointment,
    Command,
    ConfirmIdentity,
    DeviceFailed,
    EraseCitizenData,
    Event,
    HubLink,
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
from kiosk.privacy import privacy_reset
from kiosk.screens.information import InformationItem

logger = logging.getLogger(__name__)

#: Opening hours and addresses in a language, for the information screen and the ticket.
InformationSource = Callable[[str], Awaitable[Sequence[InformationItem]]]


class View(Protocol):
    """What the runner shows through the app."""

    def show_agent_frame(self, frame: npt.NDArray[np.uint8], colorfmt: str = "bgr") -> None:
        """A frame of the agent's video."""
        ...

    def clear_video(self) -> None:
        """Forget every picture of the call."""
        ...

    def show_information(self, items: Sequence[InformationItem] | None) -> None:
        """Opening hours and addresses; None while loading."""
        ...


class CallLike(Protocol):
    """The part of :class:`kiosk.effects.call.Call` the runner uses."""

    call_id: str

    async def start(self, you_offer: bool) -> None: ...
    async def handle(self, message: p.RtcDescription | p.RtcCandidate) -> None: ...
    def set_muted(self, muted: bool) -> None: ...
    async def hang_up(self) -> None: ...


@dataclass
class Parts:
    """The kiosk's parts; any may be missing (a cabin without printer, a test without hub)."""

    outbox: Any = None  # kiosk.effects.outbox.Outbox
    wake_sender: Callable[[], None] = lambda: None
    hub: Any = None  # kiosk.effects.hub_client.HubClient
    steps: Any = None  # kiosk.steps.StepRunner
    receipt_printer: Any = None
    a4_printer: Any = None
    #: The hub's padrón API (a :class:`kiosk.effects.padron_client.PadronClient`, already open).
    padron: Any = None
    #: The hub's appointment API (a :class:`kiosk.effects.appointments_client.AppointmentsClient`).
    appointments: Any = None
    #: The camera the check-in screen reads QR codes from, and the reader of a frame's code.
    camera: Any = None
    read_qr: Callable[[Any], str | None] | None = None
    #: Whether the check-in screen still watches for a QR code (the flow's state says).
    qr_watching: Callable[[], bool] = lambda: True
    #: Builds the call's media for a call id (:func:`kiosk.runtime.run_kiosk` makes one).
    new_call: Callable[[str], CallLike] | None = None
    information: InformationSource | None = None
    #: Carries out a technician's remote action (see :class:`kiosk.remote_actions.FleetActions`).
    fleet: Callable[[p.FleetAction], None] | None = None
    #: Folders holding the citizen's files, erased by the privacy reset.
    citizen_dirs: Sequence[Path] = field(default_factory=tuple)


class CommandRunner:
    """Runs the flow's commands; results come back as events through ``deliver``."""

    def __init__(self, parts: Parts, *, deliver: Callable[[Event], None], view: View) -> None:
        self.parts = parts
        self._deliver = deliver
        self._view = view
        self._call: CallLike | None = None
        self._qr_watch: asyncio.Task[Any] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        #: Every command run, by type name, in order: what the technician's log and tests read.
        self.history: list[str] = []

    # --- from the flow ----------------------------------------------------------------------

    def __call__(self, command: Command) -> None:
        """Carry out ``command``."""
        self.history.append(type(command).__name__)
        parts = self.parts
        if isinstance(command, RecordEvent):
            if parts.outbox is not None:
                parts.outbox.add(command)
                parts.wake_sender()
        elif isinstance(command, SendToHub):
            if parts.hub is not None:
                parts.hub.send(command.message)
        elif isinstance(command, StartCall):
            self._spawn(self._start_call(command))
        elif isinstance(command, StopCall):
            self._spawn(self._stop_call(command.call_id))
        elif isinstance(command, SetMute):
            if self._call is not None:
                self._call.set_muted(command.muted)
        elif isinstance(command, PrepareStep):
            if parts.steps is not None:
                self._spawn(self._deliver_result(parts.steps.prepare(command.request)))
        elif isinstance(command, RunStep):
            if parts.steps is not None:
                run = parts.steps.run(command.request, command.signature)
                self._spawn(self._deliver_result(run))
        elif isinstance(command, CancelStep):
            if parts.steps is not None:
                parts.steps.cancel(command.request)
        elif isinstance(command, PrintTicket):
            self._spawn(self._print_ticket(command))
        elif isinstance(command, LoadInformation):
            self._spawn(self._load_information(command.language))
        elif isinstance(command, EraseCitizenData):
            self._erase(command)
        elif isinstance(
            command, IdentifyCitizen | ConfirmIdentity | IssueCertificate | PrintCertificate
        ):
            self._spawn(self._padron(command))
        elif isinstance(
            command, LoadAvailability | BookAppointment | LoadNextSlot | CheckInAppointment
        ):
            parts_ = appointments.AppointmentParts(parts.appointments, parts.receipt_printer)
            self._spawn(self._deliver_all(appointments.carry_out(command, parts_)))
        elif isinstance(command, PrintAppointmentReceipt):
            printing = appointments.print_receipt(command, parts.receipt_printer)
            self._spawn(self._deliver_all(printing))
        elif isinstance(command, WatchForQr):
            self._watch_for_qr(command)
        else:
            raise TypeError(f"Expected a flow command, but got {type(command).__name__}")

    # --- from the hub -----------------------------------------------------------------------

    def on_hub_message(self, message: p.Message) -> None:
        """A message from the hub: signalling to the call, remote actions to the fleet part,
        everything else to the flow."""
        if isinstance(message, p.RtcDescription | p.RtcCandidate):
            call = self._call
            if call is not None and call.call_id == message.call_id:
                self._spawn(call.handle(message))
            return
        if isinstance(message, p.FleetAction):
            # The technician's business, not the citizen's: the flow never sees it.
            if self.parts.fleet is not None:
                self.parts.fleet(message)
            else:
                logger.warning("remote action %s ignored: no fleet part", message.kind)
            return
        self._deliver(message)

    def on_link(self, online: bool) -> None:
        """The hub became reachable, or was lost."""
        self._deliver(HubLink(online=online))
        if online:
            self.refresh_offers()

    def refresh_offers(self) -> None:
        """Ask the hub what can be booked here (the booking tile follows the answer)."""
        if self.parts.appointments is not None:
            self._spawn(self._load_offers())

    async def close(self) -> None:
        """Hang up any call and wait for the work in progress to stop."""
        if self._call is not None:
            await self._call.hang_up()
            self._call = None
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # --- the work ---------------------------------------------------------------------------

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            logger.error("a kiosk task failed: %s", type(exc).__name__, exc_info=exc)

    async def _deliver_result(self, work: Awaitable[Event]) -> None:
        self._deliver(await work)

    async def _deliver_all(self, work: Awaitable[Sequence[Event]]) -> None:
        for event in await work:
            self._deliver(event)

    async def _load_offers(self) -> None:
        loaded = await appointments.load_offers(self.parts.appointments)
        if loaded is not None:
            self._deliver(loaded)

    def _watch_for_qr(self, command: WatchForQr) -> None:
        parts = self.parts
        if self._qr_watch is not None:
            self._qr_watch.cancel()
        if parts.read_qr is None:
            logger.warning("the check-in screen watches for a QR code, but there is no reader")
            return
        watch = appointments.watch_for_qr(
            command, parts.camera, parts.read_qr, watching=parts.qr_watching
        )
        task = asyncio.get_running_loop().create_task(self._deliver_all(watch))
        self._qr_watch = task
        self._tasks.add(task)
        task.add_done_callback(self._done)

    async def _start_call(self, command: StartCall) -> None:
        if self.parts.new_call is None:
            logger.warning("no media for call %s: this kiosk has no call factory", command.call_id)
            return
        if self._call is not None:
            await self._call.hang_up()
        self._call = self.parts.new_call(command.call_id)
        await self._call.start(command.you_offer)

    async def _stop_call(self, call_id: str) -> None:
        call = self._call
        if call is not None and call.call_id == call_id:
            self._call = None
            await call.hang_up()
        self._view.clear_video()

    async def _load_information(self, lang: str) -> None:
        self._view.show_information(None)
        source = self.parts.information
        items: Sequence[InformationItem] = ()
        if source is not None:
            try:
                items = await source(lang)
            except Exception as exc:  # the screen says it cannot show them; the visit goes on
                logger.warning("could not load the information: %s", type(exc).__name__)
        self._view.show_information(items)

    async def _print_ticket(self, command: PrintTicket) -> None:
        printer = self.parts.receipt_printer
        if printer is None:
            logger.warning("a ticket was asked for, but this cabin has no receipt printer")
            return
        lang = command.language
        items: Sequence[InformationItem] = ()
        if self.parts.information is not None:
            try:
                items = await self.parts.information(lang)
            except Exception as exc:  # a ticket with what we have is better than none
                logger.warning("no information for the ticket: %s", type(exc).__name__)
        body: list[TicketLine] = []
        if command.opens_at is not None:
            body.append(TicketLine(texts.opens_text(command.opens_at, lang), bold=True))
        for item in items:
            body.append(TicketLine(item.heading, bold=True))
            body.extend(TicketLine(line) for line in item.lines)
        ticket = Ticket(
            header=(TicketLine(texts.tr(texts.TICKET_TITLE, lang), bold=True, align=Align.CENTER),),
            body=tuple(body),
            footer=(TicketLine(texts.tr(texts.TICKET_THANKS, lang), align=Align.CENTER),),
        )
        try:
            await asyncio.to_thread(printer.print_ticket, ticket)
        except HardwareError as exc:
            self._deliver(DeviceFailed(device="receipt_printer", code=exc.code))

    async def _padron(self, command: PadronCommand) -> None:
        parts = self.parts
        folder = parts.citizen_dirs[0] if parts.citizen_dirs else None
        padron = PadronParts(parts.padron, parts.a4_printer, parts.receipt_printer, folder)
        for event in await carry_out(command, padron):
            self._deliver(event)

    def _erase(self, command: EraseCitizenData) -> None:
        self._view.clear_video()
        self._view.show_information(None)
        privacy_reset(command.session, self.parts.citizen_dirs)
        # Between two visits: what can be booked may have changed at the hub.
        self.refresh_offers()
