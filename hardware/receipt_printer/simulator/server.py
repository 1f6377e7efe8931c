"""The simulated printer on a TCP port, as a network receipt printer listens on 9100.

:class:`PrinterServer` is the asyncio server; :func:`start_background` runs one in a thread
and returns a :class:`SimulatorHandle` for code that is not async (tests, the demo).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path
from types import TracebackType

from hardware.health import PaperLevel
from hardware.receipt_printer.simulator.device import Interrupted, SimulatedPrinter
from hardware.receipt_printer.simulator.printed import Receipt

logger = logging.getLogger(__name__)

_READ_SIZE = 65536


class PrinterServer:
    """Serves a :class:`SimulatedPrinter` to TCP clients."""

    def __init__(self, printer: SimulatedPrinter) -> None:
        self.printer = printer
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self, host: str = "127.0.0.1", port: int = 9100) -> tuple[str, int]:
        """Listen on ``host:port`` (port 0 picks a free one); returns the bound address."""
        self._server = await asyncio.start_server(self._serve, host, port)
        address = self._server.sockets[0].getsockname()
        logger.info("Receipt printer simulator listening on %s:%d", address[0], address[1])
        return str(address[0]), int(address[1])

    async def serve_forever(self) -> None:
        """Serve until cancelled."""
        if self._server is None:
            raise RuntimeError("Expected start() before serve_forever(), but it was not called")
        await self._server.serve_forever()

    async def close(self) -> None:
        """Stop listening and end every connection."""
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        session = self.printer.new_session()
        try:
            while data := await reader.read(_READ_SIZE):
                try:
                    reply = session.feed(data)
                except Interrupted:
                    writer.transport.abort()
                    return
                if reply:
                    writer.write(reply)
                    await writer.drain()
        except ConnectionError as exc:
            logger.info("Client connection ended: %s", type(exc).__name__)
        except asyncio.CancelledError:
            # The server is closing. Returning (rather than re-raising) matters: asyncio's
            # stream protocol asks the finished task for its exception and would log a
            # CancelledError as an unhandled error.
            return
        finally:
            session.close()
            writer.close()
            if task is not None:
                self._connections.discard(task)


class SimulatorHandle:
    """A simulator running in a background thread: its address, its printer, and ``close()``."""

    def __init__(self, printer: SimulatedPrinter, host: str, port: int, stop: Stopper) -> None:
        self.printer = printer
        self.host = host
        self.port = port
        self._stop = stop

    @property
    def receipts(self) -> list[Receipt]:
        """The receipts printed so far."""
        return self.printer.receipts

    def wait_for_receipts(self, count: int, timeout: float = 10.0) -> list[Receipt]:
        """Block until ``count`` receipts were printed."""
        return self.printer.wait_for_receipts(count, timeout)

    def set_paper(self, level: PaperLevel) -> None:
        """Full roll, near end, or out of paper."""
        self.printer.set_paper(level)

    def set_cover_open(self, is_open: bool = True) -> None:
        """Open or close the cover."""
        self.printer.set_cover_open(is_open)

    def set_cutter_error(self, failed: bool = True) -> None:
        """Jam the autocutter, or clear it."""
        self.printer.set_cutter_error(failed)

    def drop_next_job(self) -> None:
        """Drop the connection in the middle of the next receipt."""
        self.printer.drop_next_job()

    def clear_faults(self) -> None:
        """Back to a healthy printer."""
        self.printer.clear_faults()

    def close(self) -> None:
        """Stop the server and its thread."""
        self._stop()

    def __enter__(self) -> SimulatorHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class Stopper:
    """Stops a server running in another thread's event loop, once."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, server: PrinterServer, thread: threading.Thread
    ) -> None:
        self._loop = loop
        self._server = server
        self._thread = thread
        self._done = False

    def __call__(self) -> None:
        if self._done:
            return
        self._done = True
        future = asyncio.run_coroutine_threadsafe(self._server.close(), self._loop)
        future.result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


def start_background(
    printer: SimulatedPrinter | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    out_dir: Path | None = None,
) -> SimulatorHandle:
    """Start a simulated network printer in a thread; ``port=0`` picks a free port."""
    printer = printer or SimulatedPrinter(out_dir=out_dir)
    server = PrinterServer(printer)
    loop = asyncio.new_event_loop()
    started: dict[str, tuple[str, int] | BaseException] = {}
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            started["address"] = loop.run_until_complete(server.start(host, port))
        except OSError as exc:
            started["address"] = exc
            ready.set()
            loop.close()
            return
        ready.set()
        loop.run_forever()
        loop.close()

    thread = threading.Thread(target=run, name="receipt-printer-simulator", daemon=True)
    thread.start()
    ready.wait()
    address = started["address"]
    if isinstance(address, BaseException):
        thread.join()
        raise address
    return SimulatorHandle(printer, address[0], address[1], Stopper(loop, server, thread))
