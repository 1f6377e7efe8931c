"""A simulated serial handset: the far end of a pty pair, speaking the line format.

The serial backend opens :attr:`HandsetSimulator.path` with pyserial exactly as it opens a
real handset. That path is a symlink to the pty's slave, as udev's ``/dev/serial/by-id``
links are: :meth:`~HandsetSimulator.unplug` closes the pty and removes the link, and
:meth:`~HandsetSimulator.replug` makes a new pty behind the same link.
"""

from __future__ import annotations

import logging
import os
import select
import shutil
import tempfile
import threading
import tty
from collections.abc import Callable
from pathlib import Path

from hardware.handset.serial_lines import LineSplitter, hook_line, id_line, key_line

logger = logging.getLogger(__name__)

#: What :meth:`HandsetSimulator.send_garbage` sends: noise, a non-UTF-8 line, an over-long
#: line and an unknown command, each of which the serial backend must ignore.
GARBAGE = (
    b"\x00\x07\xff\xfe\x1b[2J\r\n"
    + b"\xc3\x28 HOOK OFF\r\n"
    + b"HOOK "
    + b"O" * 200
    + b"\r\n"
    + b"FROB 12\r\n"
)


class _Pty:
    """One plugged-in period: a pty pair and the thread answering the host's queries."""

    def __init__(self, answer: Callable[[bytes], None]) -> None:
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no line editing, no CR/LF translation
        os.set_blocking(self.master, False)
        self.slave_name = os.ttyname(self._slave)
        self._wake_r, self._wake_w = os.pipe()
        self._answer = answer
        self._thread = threading.Thread(target=self._run, name="handset-simulator", daemon=True)
        self._thread.start()

    def write(self, data: bytes) -> None:
        try:
            os.write(self.master, data)
        except BlockingIOError:  # nobody reads the port: drop it, as a UART overrun would
            logger.warning("Simulated handset dropped %d bytes: nobody reads its port", len(data))

    def close(self) -> None:
        os.write(self._wake_w, b"x")
        self._thread.join()
        for fd in (self.master, self._slave, self._wake_r, self._wake_w):
            os.close(fd)

    def _run(self) -> None:
        splitter = LineSplitter()
        while True:
            ready, _, _ = select.select([self.master, self._wake_r], [], [])
            if self._wake_r in ready:
                return
            try:
                data = os.read(self.master, 1024)
            except BlockingIOError:
                continue
            except OSError as exc:  # the host end is in a bad state; wait to be woken
                logger.debug("Simulated handset read failed: %s", exc)
                select.select([self._wake_r], [], [])
                return
            for line in splitter.feed(data):
                self._answer(line)


class HandsetSimulator:
    """A handset on a pty: lift it, hang it up, press keys, bounce, babble, pull its cable."""

    def __init__(
        self,
        directory: Path,
        *,
        name: str = "handset",
        serial_number: str = "SIM-HS-0001",
        silent: bool = False,
        owns_directory: bool = False,
    ) -> None:
        self._directory = directory
        self._owns_directory = owns_directory
        self._link = directory / name
        self._serial_number = serial_number
        self._silent = silent
        self._lock = threading.Lock()
        self._pty: _Pty | None = None
        self._off_hook = False

    @property
    def path(self) -> Path:
        """The device path to configure as the serial backend's ``port``."""
        return self._link

    @property
    def off_hook(self) -> bool:
        """Whether the simulated handset is lifted."""
        with self._lock:
            return self._off_hook

    @property
    def plugged(self) -> bool:
        """Whether the simulated handset is plugged in."""
        with self._lock:
            return self._pty is not None

    def replug(self) -> None:
        """Plug the handset in (a new pty behind :attr:`path`); it announces itself."""
        with self._lock:
            if self._pty is not None:
                return
            pty = _Pty(self._answer)
            temporary = self._link.with_name(f".{self._link.name}.new")
            temporary.unlink(missing_ok=True)
            temporary.symlink_to(pty.slave_name)
            temporary.replace(self._link)
            self._pty = pty
            self._send(id_line(self._serial_number, "simulated handset"))
        logger.info("Simulated handset plugged in at %s", self._link)

    def unplug(self) -> None:
        """Pull the cable: the pty closes and :attr:`path` disappears."""
        with self._lock:
            pty, self._pty = self._pty, None
            if pty is None:
                return
            self._link.unlink(missing_ok=True)
        # Outside the lock: the pty's thread may be waiting for it to answer a query.
        pty.close()
        logger.info("Simulated handset unplugged")

    def lift(self) -> None:
        """Lift the handset off its cradle."""
        self._set_hook(True)

    def hang_up(self) -> None:
        """Put the handset back on its cradle."""
        self._set_hook(False)

    def press(self, key: str) -> None:
        """Press a key of the keypad (0-9, * or #)."""
        line = key_line(key)
        with self._lock:
            self._send(line)

    def bounce(self) -> None:
        """Move the hook switch with contact bounce: new, old, new position in a burst."""
        with self._lock:
            self._off_hook = not self._off_hook
            burst = hook_line(self._off_hook) + hook_line(not self._off_hook)
            self._send(burst + hook_line(self._off_hook))

    def send_garbage(self) -> None:
        """Send noise, a non-UTF-8 line, an over-long line and an unknown command."""
        self.send_raw(GARBAGE)

    def send_raw(self, data: bytes) -> None:
        """Send bytes as they are, for faults the other methods do not cover."""
        with self._lock:
            self._send(data)

    def close(self) -> None:
        """Unplug and remove the simulator's files."""
        self.unplug()
        if self._owns_directory:
            shutil.rmtree(self._directory, ignore_errors=True)

    def _set_hook(self, off_hook: bool) -> None:
        with self._lock:
            self._off_hook = off_hook
            self._send(hook_line(off_hook))

    def _send(self, data: bytes) -> None:
        # Called with the lock held. Unplugged, the handset's words go nowhere, as with a cable.
        if self._pty is not None:
            self._pty.write(data)

    def _answer(self, line: bytes) -> None:
        if self._silent:
            return
        command = line.strip()
        with self._lock:
            if command == b"STATUS?":
                self._send(hook_line(self._off_hook))
            elif command == b"ID?":
                self._send(id_line(self._serial_number, "simulated handset"))


def start_background(
    directory: Path | None = None,
    *,
    plugged: bool = True,
    silent: bool = False,
    serial_number: str = "SIM-HS-0001",
) -> HandsetSimulator:
    """A running simulator; its :attr:`~HandsetSimulator.path` is the port to open."""
    owned = directory is None
    where = Path(tempfile.mkdtemp(prefix="cabina-handset-")) if directory is None else directory
    where.mkdir(parents=True, exist_ok=True)
    simulator = HandsetSimulator(
        where, serial_number=serial_number, silent=silent, owns_directory=owned
    )
    if plugged:
        simulator.replug()
    return simulator
