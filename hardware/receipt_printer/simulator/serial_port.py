"""The simulated printer behind a serial port: a pty pair whose far end feeds the parser.

A serial printer driver opens :attr:`SerialSimulatorHandle.device_path` (a ``/dev/pts/N``) as
it would open ``/dev/ttyUSB0``; status answers travel back the same line.
"""

from __future__ import annotations

import logging
import os
import select
import threading
import tty
from types import TracebackType

from hardware.receipt_printer.simulator.device import Interrupted, SimulatedPrinter
from hardware.receipt_printer.simulator.printed import Receipt

logger = logging.getLogger(__name__)


class SerialSimulatorHandle:
    """A simulated printer on a pty, served by a background thread."""

    def __init__(self, printer: SimulatedPrinter) -> None:
        self.printer = printer
        self._master, self._slave = os.openpty()
        # Raw mode on both ends: no echo, no CR/LF translation, no XON/XOFF on the bytes.
        tty.setraw(self._master)
        tty.setraw(self._slave)
        self.device_path = os.ttyname(self._slave)
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="serial-printer-sim", daemon=True)
        self._closed = False
        self._thread.start()

    @property
    def receipts(self) -> list[Receipt]:
        """The receipts printed so far."""
        return self.printer.receipts

    def _run(self) -> None:
        session = self.printer.new_session()
        try:
            while True:
                ready, _, _ = select.select([self._master, self._wake_r], [], [])
                if self._wake_r in ready:
                    return
                try:
                    data = os.read(self._master, 65536)
                except OSError:  # EIO: the pty hung up; wait to be woken rather than spin
                    if select.select([self._wake_r], [], [], 0.1)[0]:
                        return
                    continue
                if not data:
                    continue
                try:
                    reply = session.feed(data)
                except Interrupted:
                    # A serial line cannot be dropped; start over as a printer that lost power.
                    session = self.printer.new_session()
                    continue
                if reply:
                    os.write(self._master, reply)
        finally:
            session.close()

    def close(self) -> None:
        """Stop serving and close the pty."""
        if self._closed:
            return
        self._closed = True
        os.write(self._wake_w, b"x")
        self._thread.join(timeout=10)
        for fd in (self._master, self._slave, self._wake_r, self._wake_w):
            os.close(fd)

    def __enter__(self) -> SerialSimulatorHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def start_serial(printer: SimulatedPrinter | None = None) -> SerialSimulatorHandle:
    """Start a simulated serial printer; open ``handle.device_path`` to talk to it."""
    return SerialSimulatorHandle(printer or SimulatedPrinter())
