"""The cabin's thermal receipt printer (ESC/POS): a protocol, its backends, and the factory.

::

    open_receipt_printer(ReceiptPrinterConfig)     backend: usb | serial | network | simulator
        → ReceiptPrinter                           base.py: the protocol, PrintResult, health
            EscposReceiptPrinter                   escpos_backend.py: one job, status around it
            on a python-escpos object              escpos_connection.py: USB, serial or network
    Ticket, TicketLine, Align                      ticket.py: what a receipt says
    PrinterStatus                                  escpos_status.py: DLE EOT status bytes
    ReceiptPrinterConfig, RECEIPT_BACKENDS         config.py: [hardware.receipt_printer]
    simulator/                                     an ESC/POS printer in software:
        device.py                                  paper, cover, cutter, the receipts printed
        parser.py → printed.py → render.py         bytes read → what went on paper → a PNG
        server.py, serial_port.py                  its TCP port, its serial pty

"simulator" means the network backend aimed at a simulator the caller started
(:func:`hardware.receipt_printer.simulator.start_background`). Errors are those of
:mod:`hardware.errors`; opening never connects, so a missing printer shows in ``self_test()``.
"""

from __future__ import annotations

from hardware.errors import ConfigurationError
from hardware.receipt_printer.base import PrintResult, ReceiptPrinter
from hardware.receipt_printer.config import RECEIPT_BACKENDS, ReceiptPrinterConfig
from hardware.receipt_printer.escpos_status import PrinterStatus
from hardware.receipt_printer.ticket import Align, Ticket, TicketLine

__all__ = [
    "RECEIPT_BACKENDS",
    "Align",
    "PrintResult",
    "PrinterStatus",
    "ReceiptPrinter",
    "ReceiptPrinterConfig",
    "Ticket",
    "TicketLine",
    "open_receipt_printer",
]


def open_receipt_printer(cfg: ReceiptPrinterConfig) -> ReceiptPrinter:
    """The receipt printer ``cfg`` describes; it connects when first used."""
    if cfg.backend not in RECEIPT_BACKENDS:
        raise ConfigurationError(
            f"Expected a receipt printer backend ({', '.join(RECEIPT_BACKENDS)}), "
            f"but got {cfg.backend!r}"
        )
    from hardware.receipt_printer.escpos_connection import open_escpos_printer

    return open_escpos_printer(cfg)
