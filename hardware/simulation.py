"""Every device on its simulator, started and stopped together, with faults on request.

For the demo, for ``cabina hardware check --simulate`` and for tests::

    with SimulatedHardware(faults={"receipt_printer": "paper_out"}) as sim:
        results = run_check(sim.config)

The printers' simulators are servers started here (the ESC/POS receipt printer on a loopback
port, Debian's ``ippeveprinter``); the handset, scanner and camera simulators start when their
device is opened. A fault is one of :data:`FAULTS`; ``missing`` points the device at an
address where nothing answers, as a switched-off device would.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from hardware.a4_printer import simulator as a4_simulator
from hardware.config import DEVICE_NAMES, HardwareConfig
from hardware.errors import ConfigurationError, DeviceIOError, HardwareError
from hardware.health import PaperLevel
from hardware.receipt_printer import simulator as receipt_simulator

logger = logging.getLogger(__name__)

#: The faults each device's simulator can show, by name.
FAULTS: Mapping[str, tuple[str, ...]] = {
    "camera": ("missing",),
    "scanner": ("missing",),
    "receipt_printer": ("paper_out", "paper_low", "cover_open", "cutter_jam", "missing"),
    "a4_printer": ("paper_out", "paper_low", "missing"),
    "handset": ("unplugged", "silent"),
}

_PAPER = {"paper_out": PaperLevel.OUT, "paper_low": PaperLevel.NEAR_END}


def parse_faults(pairs: Iterable[str]) -> dict[str, str]:
    """``["receipt_printer=paper_out", …]`` as a mapping, each pair checked against FAULTS."""
    faults: dict[str, str] = {}
    for pair in pairs:
        device, sep, fault = pair.partition("=")
        if not sep or device not in FAULTS:
            raise ConfigurationError(
                f"Expected DEVICE=FAULT with DEVICE among {', '.join(FAULTS)}, but got {pair!r}"
            )
        if fault not in FAULTS[device]:
            raise ConfigurationError(
                f"Expected a {device} fault among {', '.join(FAULTS[device])}, but got {fault!r}",
                device=device,
            )
        faults[device] = fault
    return faults


def _silent_port() -> int:
    """A loopback port nothing listens on (just released by us)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SimulatedHardware:
    """The simulators of ``devices``, running, and :attr:`config` pointing at each of them.

    A simulator that cannot start (``ippeveprinter`` not installed) is left out of
    :attr:`config` and its error kept in :attr:`failures`.
    """

    def __init__(
        self,
        *,
        faults: Mapping[str, str] | None = None,
        devices: Iterable[str] = DEVICE_NAMES,
        handset_socket: Path | None = None,
        receipts_dir: Path | None = None,
        a4_spool_dir: Path | None = None,
    ) -> None:
        self.faults = dict(faults or {})
        parse_faults(f"{device}={fault}" for device, fault in self.faults.items())
        wanted = set(devices)
        self.failures: dict[str, HardwareError] = {}
        self.receipt_printer: receipt_simulator.SimulatorHandle | None = None
        self.a4_printer: a4_simulator.IppSimulatorHandle | None = None
        overrides: dict[str, dict[str, Any] | None] = {
            name: None for name in DEVICE_NAMES if name not in wanted
        }
        if self.faults.get("camera") == "missing":
            overrides["camera"] = {"backend": "file", "path": "/nonexistent/cabina-camera.mp4"}
        if self.faults.get("scanner") == "missing":
            # The SANE test backend, asked for a device it does not have, answers as a real
            # SANE backend does for an unplugged scanner.
            overrides["scanner"] = {"backend": "simulator", "device": "cabina-unplugged:0"}
        if "handset" in wanted:
            overrides["handset"] = {
                "backend": "simulator",
                "fault": self.faults.get("handset"),
                "control_socket": handset_socket,
            }
        try:
            receipt = self._receipt(receipts_dir) if "receipt_printer" in wanted else None
            a4_uri = self._a4(a4_spool_dir) if "a4_printer" in wanted else None
            if self.faults.get("receipt_printer") == "missing":
                receipt = ("127.0.0.1", _silent_port())
            if self.faults.get("a4_printer") == "missing":
                a4_uri = f"ipp://127.0.0.1:{_silent_port()}/ipp/print"
            self.config = HardwareConfig.simulated(
                receipt_printer=receipt, a4_printer_uri=a4_uri, overrides=overrides
            )
        except BaseException:
            self.close()
            raise

    def _receipt(self, receipts_dir: Path | None) -> tuple[str, int] | None:
        fault = self.faults.get("receipt_printer")
        if fault == "missing":
            return None
        try:
            handle = receipt_simulator.start_background(out_dir=receipts_dir)
        except OSError as exc:
            self.failures["receipt_printer"] = DeviceIOError(
                f"The receipt printer simulator did not start: {exc}", device="receipt_printer"
            )
            return None
        self.receipt_printer = handle
        if fault in _PAPER:
            handle.set_paper(_PAPER[fault])
        elif fault == "cover_open":
            handle.set_cover_open()
        elif fault == "cutter_jam":
            handle.printer.set_cutter_error()
        return handle.host, handle.port

    def _a4(self, spool_dir: Path | None) -> str | None:
        fault = self.faults.get("a4_printer")
        if fault == "missing":
            return None
        try:
            handle = a4_simulator.start_background(spool_dir)
        except HardwareError as exc:
            logger.warning("The A4 printer simulator did not start: %s", exc)
            self.failures["a4_printer"] = exc
            return None
        self.a4_printer = handle
        if fault in _PAPER:
            handle.set_paper(_PAPER[fault])
        return handle.uri

    def close(self) -> None:
        """Stop the simulators this started."""
        for handle in (self.a4_printer, self.receipt_printer):
            if handle is not None:
                handle.close()
        self.a4_printer = self.receipt_printer = None

    def __enter__(self) -> SimulatedHardware:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
