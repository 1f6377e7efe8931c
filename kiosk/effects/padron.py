"""Carrying out the padrón commands: the hub's padrón API, the preview, the printers.

:func:`carry_out` is what :class:`kiosk.effects.runner.CommandRunner` runs for
:class:`~kiosk.flow.IdentifyCitizen`, :class:`~kiosk.flow.ConfirmIdentity`,
:class:`~kiosk.flow.IssueCertificate` and :class:`~kiosk.flow.PrintCertificate`; it returns
the flow events that answer them. Refusals, an unreachable hub and printer faults become
:class:`~kiosk.flow.PadronFailed` (and a printer fault also a :class:`~kiosk.flow.DeviceFailed`),
never an exception: the citizen reads a plain message.

The preview of the certificate's first page is drawn by poppler's ``pdftoppm`` (Debian
``poppler-utils``), fed the PDF on its standard input so that the PDF itself never touches
the disk; the picture goes to the citizen's folder, which the privacy reset shreds.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hardware.errors import HardwareError
from hardware.receipt_printer import Align, Ticket, TicketLine
from kiosk.effects.padron_client import HubUnreachable, Identification, PadronRefused
from kiosk.flow import (
    CertificatePrinted,
    CertificateReady,
    ConfirmIdentity,
    DeviceFailed,
    Event,
    IdentifyCitizen,
    IssueCertificate,
    PadronFailed,
    PadronIdentified,
    PrintCertificate,
)
from kiosk.screens.texts_ui import translate, ui_text

logger = logging.getLogger(__name__)

PadronCommand = IdentifyCitizen | ConfirmIdentity | IssueCertificate | PrintCertificate
#: Resolution of the preview: a screen shows a page at about this, and it draws fast.
PREVIEW_DPI = 60
PREVIEW_TIMEOUT_S = 20.0

TICKET_TITLE = ui_text("Padrón certificate")
TICKET_CSV = ui_text("Secure verification code (CSV)")
TICKET_HOW = ui_text(
    "Scan the QR code or type the code at this address to see and download your certificate:"
)
TICKET_KEEP = ui_text("Keep this ticket: whoever has the code can see the certificate.")


@dataclass(frozen=True, slots=True)
class PadronParts:
    """What the padrón commands use; any may be missing (no hub client, no printer)."""

    client: Any = None  # kiosk.effects.padron_client.PadronClient
    a4_printer: Any = None  # hardware.a4_printer.A4Printer
    receipt_printer: Any = None  # hardware.receipt_printer.ReceiptPrinter
    #: Where the preview picture is written (the citizen's folder); None: no picture.
    work_dir: Path | None = None


async def carry_out(command: PadronCommand, parts: PadronParts) -> list[Event]:
    """Run ``command``; the events that answer it, in order."""
    if isinstance(command, PrintCertificate):
        return await print_certificate(command, parts)
    request_id = command.request_id
    if parts.client is None:
        logger.warning("a padrón request, but this kiosk has no padrón client")
        return [PadronFailed(request_id, "hub_unreachable")]
    try:
        if isinstance(command, IssueCertificate):
            return [await _issue(command, parts)]
        if isinstance(command, IdentifyCitizen):
            who = await parts.client.identify(
                command.attention_id, command.document, command.birth_date, command.language
            )
        else:
            who = await parts.client.confirm(
                command.identification_id, command.code, command.language
            )
        return [_identified(request_id, who)]
    except PadronRefused as refusal:
        return [
            PadronFailed(
                request_id,
                refusal.code,
                refusal.message,
                refusal.reason,
                refusal.attempts_left,
                refusal.retry_at,
            )
        ]
    except HubUnreachable as exc:
        logger.warning("padrón request failed: %s", exc)
        return [PadronFailed(request_id, "hub_unreachable")]


def _identified(request_id: str, who: Identification) -> PadronIdentified:
    return PadronIdentified(
        request_id,
        who.identification_id,
        who.confirmed,
        who.masked_destination,
        who.holder_initials,
    )


async def _issue(command: IssueCertificate, parts: PadronParts) -> CertificateReady:
    client = parts.client
    certificate = await client.issue(command.identification_id, command.kind, command.language)
    pdf = bytearray(await client.fetch_pdf(certificate))
    preview = await render_preview(pdf, parts.work_dir)
    return CertificateReady(
        command.request_id,
        certificate.certificate_id,
        certificate.csv,
        certificate.verify_url,
        certificate.people,
        pdf,
        preview,
    )


async def render_preview(pdf: bytearray, work_dir: Path | None) -> Path | None:
    """A PNG of the PDF's first page in ``work_dir``; None if it cannot be drawn."""
    tool = shutil.which("pdftoppm")
    if work_dir is None or tool is None:
        logger.warning("no certificate preview: %s", "no folder" if tool else "no pdftoppm")
        return None
    await asyncio.to_thread(work_dir.mkdir, parents=True, exist_ok=True)
    stem = work_dir / f"padron-preview-{uuid.uuid4().hex}"
    args = ("-png", "-r", str(PREVIEW_DPI), "-f", "1", "-l", "1", "-singlefile", "-", str(stem))
    process = await asyncio.create_subprocess_exec(
        tool,
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _out, err = await asyncio.wait_for(process.communicate(bytes(pdf)), PREVIEW_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()
        logger.warning("no certificate preview: pdftoppm took over %s s", PREVIEW_TIMEOUT_S)
        return None
    picture = stem.with_suffix(".png")
    if process.returncode != 0 or not await asyncio.to_thread(picture.exists):
        logger.warning(
            "no certificate preview: pdftoppm exited with %s (%s)",
            process.returncode,
            err.decode("utf-8", "replace").strip()[:200],
        )
        return None
    return picture


async def print_certificate(command: PrintCertificate, parts: PadronParts) -> list[Event]:
    """Print on A4 if asked and possible, else a receipt with the CSV and its QR code."""
    request_id = command.request_id
    use_a4 = parts.a4_printer is not None and (command.a4 or parts.receipt_printer is None)
    if not use_a4 and parts.receipt_printer is None:
        logger.warning("a certificate to print, but this cabin has no printer")
        return [PadronFailed(request_id, "missing")]
    device = "a4_printer" if use_a4 else "receipt_printer"
    try:
        if use_a4:
            await asyncio.to_thread(
                parts.a4_printer.print_pdf, bytes(command.pdf), title="padron-certificate"
            )
        else:
            ticket = certificate_ticket(command.csv, command.verify_url, command.language)
            await asyncio.to_thread(parts.receipt_printer.print_ticket, ticket)
    except HardwareError as exc:
        logger.warning("the certificate did not print on the %s: %s", device, exc.code)
        return [DeviceFailed(device=device, code=exc.code), PadronFailed(request_id, exc.code)]
    return [CertificatePrinted(request_id, "a4" if use_a4 else "receipt")]


def certificate_ticket(csv: str, verify_url: str, lang: str) -> Ticket:
    """A receipt that leads to the certificate: its CSV, the address, and a QR code."""
    return Ticket(
        header=(TicketLine(translate(TICKET_TITLE, lang), bold=True, align=Align.CENTER),),
        body=(
            TicketLine(translate(TICKET_CSV, lang)),
            TicketLine(csv, bold=True, align=Align.CENTER),
            TicketLine(translate(TICKET_HOW, lang)),
            TicketLine(verify_url),
        ),
        qr=verify_url,
        footer=(TicketLine(translate(TICKET_KEEP, lang), align=Align.CENTER),),
    )
