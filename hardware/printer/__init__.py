"""Printers: a thermal receipt printer (ESC/POS) and an A4 printer (IPP or a CUPS queue).

::

    open_receipt_printer(ReceiptPrinterConfig)      backend: usb | serial | network | simulator
        → ReceiptPrinter  (escpos_backend.EscposReceiptPrinter on escpos_connection's objects)
    open_a4_printer(A4PrinterConfig)                backend: ipp | cups | simulator
        → A4Printer       (ipp_printer.IppA4Printer, cups_printer.CupsA4Printer)

"simulator" means the real backend aimed at a simulator the caller started:
:mod:`hardware.printer.simulator` (a network ESC/POS printer) or
:mod:`hardware.printer.ipp_simulator` (Debian's ippeveprinter). Errors are those of
:mod:`hardware.errors`; opening never connects, so a missing printer shows in ``self_test()``.
"""

from __future__ import annotations

from hardware.errors import ConfigurationError
from hardware.printer.a4 import A4Printer, A4Status, JobResult
from hardware.printer.config import (
    A4_BACKENDS,
    RECEIPT_BACKENDS,
    A4PrinterConfig,
    ReceiptPrinterConfig,
)
from hardware.printer.escpos_status import PrinterStatus
from hardware.printer.receipt import PrintResult, ReceiptPrinter
from hardware.printer.ticket import Align, Ticket, TicketLine

__all__ = [
    "A4_BACKENDS",
    "RECEIPT_BACKENDS",
    "A4Printer",
    "A4PrinterConfig",
    "A4Status",
    "Align",
    "JobResult",
    "PrintResult",
    "PrinterStatus",
    "ReceiptPrinter",
    "ReceiptPrinterConfig",
    "Ticket",
    "TicketLine",
    "open_a4_printer",
    "open_receipt_printer",
]


def open_receipt_printer(cfg: ReceiptPrinterConfig) -> ReceiptPrinter:
    """The receipt printer ``cfg`` describes; it connects when first used."""
    if cfg.backend not in RECEIPT_BACKENDS:
        raise ConfigurationError(
            f"Expected a receipt printer backend ({', '.join(RECEIPT_BACKENDS)}), "
            f"but got {cfg.backend!r}"
        )
    from hardware.printer.escpos_connection import open_escpos_printer

    return open_escpos_printer(cfg)


def open_a4_printer(cfg: A4PrinterConfig) -> A4Printer:
    """The A4 printer ``cfg`` describes; it connects when first used."""
    if cfg.backend not in A4_BACKENDS:
        raise ConfigurationError(
            f"Expected an A4 printer backend ({', '.join(A4_BACKENDS)}), but got {cfg.backend!r}"
        )
    if cfg.backend == "cups":
        if not cfg.queue:
            raise ConfigurationError("Expected 'queue' for a CUPS A4 printer, but got none")
        from hardware.printer.cups_printer import CupsA4Printer

        return CupsA4Printer(
            cfg.queue,
            server=cfg.server,
            job_timeout=cfg.job_timeout,
            request_timeout=cfg.request_timeout,
        )
    if not cfg.uri:
        raise ConfigurationError(f"Expected 'uri' for an {cfg.backend} A4 printer, but got none")
    from hardware.printer.ipp_printer import IppA4Printer

    return IppA4Printer(
        cfg.uri,
        backend=cfg.backend,
        job_timeout=cfg.job_timeout,
        request_timeout=cfg.request_timeout,
        tls_verify=cfg.tls_verify,
    )
