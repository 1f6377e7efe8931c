"""A network ESC/POS receipt printer in software, for the demo, technicians and tests.

It parses what a driver sends (text in the selected code page, styles, native QR codes, raster
images, cuts), answers DLE EOT status queries, can run out of paper, open its cover, jam its
cutter or drop a connection mid-job, and renders each receipt to a PNG.

    python -m hardware.receipt_printer.simulator --port 9100 --out receipts/
    python -m hardware.receipt_printer.simulator --example docs/receipt-example.png
"""

from __future__ import annotations

from hardware.receipt_printer.simulator.device import SimulatedPrinter
from hardware.receipt_printer.simulator.printed import (
    PrintedImage,
    PrintedLine,
    PrintedQr,
    Receipt,
    Span,
    Style,
)
from hardware.receipt_printer.simulator.render import render, save_png
from hardware.receipt_printer.simulator.serial_port import SerialSimulatorHandle, start_serial
from hardware.receipt_printer.simulator.server import (
    PrinterServer,
    SimulatorHandle,
    start_background,
)

__all__ = [
    "PrintedImage",
    "PrintedLine",
    "PrintedQr",
    "PrinterServer",
    "Receipt",
    "SerialSimulatorHandle",
    "SimulatedPrinter",
    "SimulatorHandle",
    "Span",
    "Style",
    "render",
    "save_png",
    "start_background",
    "start_serial",
]
