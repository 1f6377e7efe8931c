"""The ``serial`` backend: a handset speaking ASCII lines over a serial port (pyserial)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from hardware.errors import DeviceMissing, missing_library
from hardware.handset.readings import Reading
from hardware.handset.serial_lines import ID_QUERY, STATUS_QUERY, LineDecoder

logger = logging.getLogger(__name__)

#: How long one read waits for bytes; it bounds how late a settled hook change is reported.
POLL_SECONDS = 0.02


def pyserial() -> ModuleType:
    """The pyserial module, or the error naming the package to install."""
    try:
        import serial  # imported here: only this backend needs pyserial
    except ImportError as exc:
        raise missing_library("pyserial", "serial") from exc
    return serial


class SerialLink:
    """An open serial port to a handset; asks it to identify itself on opening."""

    def __init__(self, port: str, baudrate: int) -> None:
        serial = pyserial()
        self._error: type[Exception] = serial.SerialException
        self._name = port
        self._decoder = LineDecoder()
        try:
            self._port: Any = serial.Serial(port=port, baudrate=baudrate, timeout=POLL_SECONDS)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise DeviceMissing(
                f"Expected a handset on serial port {port}, but it cannot be opened: {exc}",
                device="handset",
            ) from exc
        try:
            self._write(ID_QUERY)
        except DeviceMissing:
            self.close()
            raise

    @property
    def ignored(self) -> int:
        """Lines ignored so far as over-long, not ASCII or unknown."""
        return self._decoder.ignored

    def read(self) -> list[Reading]:
        """The readings completed by the bytes that arrive within one poll."""
        try:
            data: bytes = self._port.read(max(1, self._port.in_waiting))
        except (self._error, OSError) as exc:
            raise DeviceMissing(
                f"The handset on {self._name} stopped answering: {exc}", device="handset"
            ) from exc
        return self._decoder.feed(data) if data else []

    def request_status(self) -> None:
        """Send ``STATUS?``; the ``HOOK`` answer arrives through :meth:`read`."""
        self._write(STATUS_QUERY)

    def close(self) -> None:
        """Close the port."""
        try:
            self._port.close()
        except (self._error, OSError) as exc:
            logger.debug("Closing %s failed: %s", self._name, exc)

    def _write(self, data: bytes) -> None:
        try:
            self._port.write(data)
        except (self._error, OSError) as exc:
            raise DeviceMissing(
                f"The handset on {self._name} cannot be written to: {exc}", device="handset"
            ) from exc


@dataclass(frozen=True, slots=True)
class SerialPortInfo:
    """A serial port the machine has."""

    device: str  # e.g. /dev/ttyACM0
    description: str
    usb_id: str | None  # "vvvv:pppp" for USB adapters


def list_serial_ports() -> list[SerialPortInfo]:
    """The machine's serial ports, as pyserial finds them."""
    pyserial()
    from serial.tools import list_ports  # imported here: only this backend needs pyserial

    ports = []
    for port in sorted(list_ports.comports(), key=lambda p: p.device):
        usb_id = None
        if port.vid is not None and port.pid is not None:
            usb_id = f"{port.vid:04x}:{port.pid:04x}"
        description = port.description if port.description not in ("n/a", "") else ""
        ports.append(SerialPortInfo(port.device, description, usb_id))
    return ports
