"""The simulated receipt printer itself: paper, cover, cutter, and the receipts it printed.

Shared by every way in (TCP port, serial pty); each connection gets its own parser session.
Fault setters are safe to call from any thread while connections are being served.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from hardware.health import PaperLevel
from hardware.receipt_printer import escpos_status
from hardware.receipt_printer.simulator.parser import EscPosParser, Interrupted
from hardware.receipt_printer.simulator.printed import Receipt, ReceiptBuilder
from hardware.receipt_printer.simulator.render import PAPER_DOTS, save_png

logger = logging.getLogger(__name__)

__all__ = ["Interrupted", "Session", "SimulatedPrinter"]


class SimulatedPrinter:
    """An ESC/POS receipt printer with fault injection; keeps what it printed."""

    def __init__(self, *, out_dir: Path | None = None, paper_dots: int = PAPER_DOTS) -> None:
        self.out_dir = out_dir
        self.paper_dots = paper_dots
        self._lock = threading.Condition()
        self._receipts: list[Receipt] = []
        self._paper = PaperLevel.OK
        self._cover_open = False
        self._cutter_error = False
        self._drop_next_job = False
        self.discarded = 0  # receipts lost to a fault or a dropped connection
        self.sessions = 0

    # -- faults ----------------------------------------------------------------------------

    def set_paper(self, level: PaperLevel) -> None:
        """Load a full roll (OK), reach the near-end mark, or run out."""
        if level is PaperLevel.UNKNOWN:
            raise ValueError("Expected a paper level OK, NEAR_END or OUT, but got UNKNOWN")
        with self._lock:
            self._paper = level

    def set_cover_open(self, is_open: bool = True) -> None:
        """Open or close the roll cover."""
        with self._lock:
            self._cover_open = is_open

    def set_cutter_error(self, failed: bool = True) -> None:
        """Jam the autocutter, or clear it."""
        with self._lock:
            self._cutter_error = failed

    def drop_next_job(self) -> None:
        """Drop the connection after the first line of the next receipt (one shot)."""
        with self._lock:
            self._drop_next_job = True

    def clear_faults(self) -> None:
        """A full roll, cover closed, cutter free, no pending drop."""
        with self._lock:
            self._paper = PaperLevel.OK
            self._cover_open = False
            self._cutter_error = False
            self._drop_next_job = False

    def status_byte(self, n: int) -> int | None:
        """The answer to DLE EOT ``n`` in the current state."""
        with self._lock:
            return escpos_status.encode(
                n, paper=self._paper, cover_open=self._cover_open, cutter_error=self._cutter_error
            )

    # -- receipts --------------------------------------------------------------------------

    @property
    def receipts(self) -> list[Receipt]:
        """The receipts printed so far, oldest first."""
        with self._lock:
            return list(self._receipts)

    def wait_for_receipts(self, count: int, timeout: float = 10.0) -> list[Receipt]:
        """Block until ``count`` receipts were printed; raises TimeoutError after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._receipts) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"Expected {count} receipt(s) within {timeout} s, "
                        f"but got {len(self._receipts)}"
                    )
                self._lock.wait(left)
            return list(self._receipts)

    def clear_receipts(self) -> None:
        """Forget the receipts printed so far."""
        with self._lock:
            self._receipts.clear()

    def new_session(self) -> Session:
        """A parser for one connection."""
        with self._lock:
            self.sessions += 1
        return Session(self)

    def _printed(self, receipt: Receipt) -> None:
        with self._lock:
            if self._paper is PaperLevel.OUT or self._cover_open or self._cutter_error:
                self.discarded += 1
                logger.warning(
                    "Receipt with %d items not printed: printer fault", len(receipt.items)
                )
                return
            number = len(self._receipts) + 1
            if self.out_dir is not None:
                # Saved before the receipt is announced, so whoever waits for it finds the file.
                path = self.out_dir / f"receipt-{number:04d}.png"
                save_png(receipt, path, self.paper_dots)
                logger.info("Saved %s", path)
            self._receipts.append(receipt)
            self._lock.notify_all()
        logger.info("Printed receipt %d: %d items, %s cut", number, len(receipt.items), receipt.cut)

    def _should_drop(self) -> bool:
        with self._lock:
            if self._drop_next_job:
                self._drop_next_job = False
                return True
            return False


class Session:
    """One connection's parser state; feed it bytes, send back what it returns."""

    def __init__(self, printer: SimulatedPrinter) -> None:
        self._printer = printer
        self._closed = False
        self._builder = ReceiptBuilder()
        self._parser = EscPosParser(
            self._builder,
            status=printer.status_byte,
            on_receipt=printer._printed,
            after_line=printer._should_drop,
        )

    def feed(self, data: bytes) -> bytes:
        """Parse ``data``; returns status answers. Raises :class:`Interrupted` to drop."""
        try:
            return self._parser.feed(data)
        except Interrupted:
            logger.warning("Dropping the connection in the middle of a receipt (injected fault)")
            self.close()
            raise

    def close(self) -> None:
        """The connection ended: an unfinished receipt is lost."""
        if self._closed:
            return
        self._closed = True
        lost = self._builder.discard()
        if lost or self._parser.pending:
            with self._printer._lock:
                self._printer.discarded += 1
            logger.warning(
                "Connection ended inside a receipt: %d item(s), %d byte(s) discarded",
                lost,
                self._parser.pending,
            )
