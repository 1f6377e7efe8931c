"""Carrying out the appointment commands: the hub's appointment API, the ticket, the QR watch.

:func:`carry_out` is what :class:`kiosk.effects.runner.CommandRunner` runs for
:class:`~kiosk.flow.LoadAvailability`, :class:`~kiosk.flow.BookAppointment`,
:class:`~kiosk.flow.LoadNextSlot` and :class:`~kiosk.flow.CheckInAppointment`; it returns the
flow events that answer them. Refusals and an unreachable hub become
:class:`~kiosk.flow.AppointmentFailed` with the code, never an exception: the citizen reads a
plain message. :func:`print_receipt` prints the appointment's ticket; :func:`watch_for_qr`
reads the camera until it sees a QR code.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from contract.appointments import Appointment
from hardware.errors import HardwareError
from hardware.receipt_printer import Align, Ticket, TicketLine
from kiosk.effects.appointments_client import AppointmentRefused, HubUnreachable
from kiosk.flow import (
    AppointmentBooked,
    AppointmentCheckedIn,
    AppointmentFailed,
    AvailabilityLoaded,
    BookAppointment,
    CheckInAppointment,
    DeviceFailed,
    Event,
    LoadAvailability,
    LoadNextSlot,
    NextSlotLoaded,
    OffersLoaded,
    PrintAppointmentReceipt,
    QrRead,
    WatchForQr,
)
from kiosk.flow.appointment_visit import qr_link
from kiosk.screens import appointment_texts as at
from kiosk.screens.texts_ui import translate

logger = logging.getLogger(__name__)

AppointmentCommand = LoadAvailability | BookAppointment | LoadNextSlot | CheckInAppointment
#: How long the check-in screen watches the camera before giving up (the citizen can type).
QR_WATCH_S = 180.0
#: Pause between two frames looked at: a code held up stays for a second or more.
QR_INTERVAL_S = 0.2


@dataclass(frozen=True, slots=True)
class AppointmentParts:
    """What the appointment commands use; any may be missing (no hub client, no printer)."""

    client: Any = None  # kiosk.effects.appointments_client.AppointmentsClient
    receipt_printer: Any = None  # hardware.receipt_printer.ReceiptPrinter


async def load_offers(client: Any) -> OffersLoaded | None:
    """The site's offers as a flow event; None when the hub could not say."""
    if client is None:
        return None
    try:
        offers = await client.offers()
    except AppointmentRefused as refusal:
        logger.warning("the hub refused the appointment offers: %s", refusal.code)
        return OffersLoaded(())
    except HubUnreachable as exc:
        logger.info("no appointment offers for now: %s", exc)
        return None
    return OffersLoaded(tuple(offers))


async def carry_out(command: AppointmentCommand, parts: AppointmentParts) -> list[Event]:
    """Run ``command``; the events that answer it, in order."""
    request_id = command.request_id
    client = parts.client
    if client is None:
        logger.warning("an appointment request, but this kiosk has no appointment client")
        return [AppointmentFailed(request_id, "hub_unreachable")]
    try:
        if isinstance(command, LoadAvailability):
            availability = await client.availability(command.offer_id, command.first, command.last)
            return [AvailabilityLoaded(request_id, tuple(availability.days))]
        if isinstance(command, BookAppointment):
            return [AppointmentBooked(request_id, await client.book(command.booking))]
        if isinstance(command, LoadNextSlot):
            return [NextSlotLoaded(request_id, await client.next_slot(command.service))]
        checked = await client.check_in(command.check_in, attention_id=command.attention_id)
        return [AppointmentCheckedIn(request_id, checked)]
    except AppointmentRefused as refusal:
        return [AppointmentFailed(request_id, refusal.code, refusal.message, refusal.reason)]
    except HubUnreachable as exc:
        logger.warning("appointment request failed: %s", exc)
        return [AppointmentFailed(request_id, "hub_unreachable")]


def appointment_ticket(appointment: Appointment, lang: str) -> Ticket:
    """The receipt of a booking: what, when, where, the reference, and its link as a QR code."""
    offer = appointment.offer
    body = [
        TicketLine(at.offer_name(offer, lang), bold=True),
        TicketLine(at.when_text(appointment.starts_at, lang, offer.timezone), bold=True),
        TicketLine(at.channel_text(offer.channel, lang)),
    ]
    body.extend(TicketLine(line) for line in (offer.site_name, offer.site_address) if line)
    body.append(TicketLine(translate(at.TICKET_REFERENCE, lang)))
    body.append(TicketLine(appointment.reference, bold=True, align=Align.CENTER, width=2, height=2))
    if appointment.what_to_bring:
        body.append(TicketLine(" ".join(appointment.what_to_bring.split())))
    link = appointment.manage_url
    if link:
        body.append(TicketLine(translate(at.TICKET_HOW, lang)))
    return Ticket(
        header=(TicketLine(translate(at.TICKET_TITLE, lang), bold=True, align=Align.CENTER),),
        body=tuple(body),
        qr=link or None,
        footer=(TicketLine(translate(at.TICKET_KEEP, lang), align=Align.CENTER),),
    )


async def print_receipt(command: PrintAppointmentReceipt, printer: Any) -> list[Event]:
    """Print the appointment's ticket; a printer fault is a :class:`DeviceFailed`."""
    if printer is None:
        logger.warning("an appointment ticket, but this cabin has no receipt printer")
        return [DeviceFailed(device="receipt_printer", code="missing")]
    ticket = appointment_ticket(command.appointment, command.language)
    try:
        await asyncio.to_thread(printer.print_ticket, ticket)
    except HardwareError as exc:
        logger.warning("the appointment ticket did not print: %s", exc.code)
        return [DeviceFailed(device="receipt_printer", code=exc.code)]
    return []


async def watch_for_qr(
    command: WatchForQr,
    camera: Any,
    read_qr: Callable[[Any], str | None],
    *,
    watching: Callable[[], bool],
    limit_s: float = QR_WATCH_S,
    interval_s: float = QR_INTERVAL_S,
) -> list[Event]:
    """Look at the camera's frames until one holds a QR code not in ``command.ignore``,
    ``watching()`` turns false, or ``limit_s`` pass; the code read, as a :class:`QrRead`.

    A code to ignore is looked past here, frame after frame, at ``interval_s``: a citizen
    holding up a code the hub has answered already gives the flow nothing to do.
    """
    if camera is None:
        logger.warning("the check-in screen watches for a QR code, but there is no camera")
        return []
    deadline = time.monotonic() + limit_s
    if command.after_s > 0:
        await asyncio.sleep(command.after_s)
    while watching() and time.monotonic() < deadline:
        try:
            frame = await asyncio.to_thread(camera.read)
        except HardwareError as exc:
            return [DeviceFailed(device="camera", code=exc.code)]
        text = await asyncio.to_thread(read_qr, frame)
        if text and qr_link(text) not in command.ignore:
            return [QrRead(command.watch_id, text)]
        await asyncio.sleep(interval_s)
    return []
