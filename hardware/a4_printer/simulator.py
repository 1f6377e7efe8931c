"""An A4 printer in software: Debian's ``ippeveprinter`` (cups-ipp-utils) on a loopback port.

How it is started, and why:

* ``-p PORT -n localhost``: it opens one IPv4 and one IPv6 listener for the name given, so a
  name with both loopback addresses (``127.0.0.1`` alone fails the IPv6 one).
* ``-d SPOOL -k -f application/pdf``: PDFs only, kept in the spool folder as ``N-title.pdf``.
* ``-r off``: no DNS-SD advertisement. ippeveprinter still connects to Avahi over the D-Bus
  system bus at start, and exits ("Unable to initialize DNS-SD") where there is no bus; so it
  gets a private, empty ``dbus-daemon`` of its own, on which no Avahi can ever announce it.
* ``-c COMMAND``: without a command it "prints" by sleeping 5–15 s; ours returns at once,
  notes the copies the job asked for (:meth:`IppSimulatorHandle.copies`), and reports a paper
  jam (``STATE: +media-jam``, exit 1) when one was injected.

Paper is set through ippeveprinter's own media page (``/media``): an empty tray makes it
report ``media-empty``, a low one ``media-low``.
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import httpx

from hardware.a4_printer.ipp_backend import IppA4Printer
from hardware.errors import BackendUnavailable, DeviceIOError, HardwareError
from hardware.health import PaperLevel

logger = logging.getLogger(__name__)

_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

_COMMAND = """#!/bin/sh
# Run by ippeveprinter for each job with the document as $1: "print" it at once. The job's
# attributes come as IPP_* variables: the copies asked for are noted beside the spool.
echo "$(basename "$1") ${{IPP_COPIES:-1}}" >> {copies}
if [ -e {jam} ]; then
  rm -f {jam}
  echo "STATE: +media-jam" >&2
  echo "ERROR: paper jam (simulated)" >&2
  exit 1
fi
echo "STATE: -media-jam" >&2
exit 0
"""

# ippeveprinter's trays are auto, main, manual, by-pass-tray; its media page numbers them so.
_TRAY_SHEETS = {
    PaperLevel.OK: (250, 25),
    PaperLevel.NEAR_END: (5, 25),
    PaperLevel.OUT: (0, 0),
}


def _program(name: str, package: str) -> str:
    path = shutil.which(name) or next(
        (p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)), None
    )
    if path is None:
        raise BackendUnavailable(f"The A4 printer simulator needs {name}: apt install {package}")
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class IppSimulatorHandle:
    """A running ippeveprinter: its ``uri``, its ``spool_dir``, faults, and ``close()``."""

    def __init__(self, spool_dir: Path | None, name: str, startup_timeout: float) -> None:
        self._state = Path(tempfile.mkdtemp(prefix="cabina-ipp-"))
        self.spool_dir = spool_dir or self._state / "spool"
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        self._jam = self._state / "jam"
        self._copies_log = self._state / "copies"
        self._paused = False
        self._processes: list[subprocess.Popen[bytes]] = []
        try:
            bus = self._start_bus()
            self._printer = self._start_printer(name, bus, startup_timeout)
        except BaseException:
            self.close()
            raise

    # -- start -----------------------------------------------------------------------------

    def _start_bus(self) -> str:
        socket_path = self._state / "bus"
        config = self._state / "bus.conf"
        config.write_text(_BUS_CONFIG.format(socket=socket_path), encoding="utf-8")
        bus = subprocess.Popen(  # noqa: S603  (our own program path and arguments)
            [_program("dbus-daemon", "dbus-daemon"), f"--config-file={config}", "--nofork"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._processes.append(bus)
        deadline = time.monotonic() + 10
        while not socket_path.exists():
            if bus.poll() is not None or time.monotonic() > deadline:
                raise DeviceIOError("The private D-Bus for the A4 printer simulator did not start")
            time.sleep(0.02)
        return f"unix:path={socket_path}"

    def _start_printer(self, name: str, bus: str, timeout: float) -> subprocess.Popen[bytes]:
        command = self._state / "print-command"
        command.write_text(
            _COMMAND.format(
                jam=shlex.quote(str(self._jam)), copies=shlex.quote(str(self._copies_log))
            ),
            encoding="utf-8",
        )
        command.chmod(0o755)
        program = _program("ippeveprinter", "cups-ipp-utils")
        env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": bus, "HOME": str(self._state)}
        last_error = ""
        for _attempt in range(3):  # a free port can be taken between probing and binding
            self.port = _free_port()
            self.uri = f"ipp://127.0.0.1:{self.port}/ipp/print"
            log_path = self._state / "ippeveprinter.log"
            with log_path.open("wb") as log:
                process = subprocess.Popen(  # noqa: S603  (our own program path and arguments)
                    [program, "-r", "off", "-n", "localhost", "-p", str(self.port),
                     "-d", str(self.spool_dir), "-k", "-f", "application/pdf",
                     "-c", str(command), name],
                    stdout=log,
                    stderr=log,
                    env=env,
                )  # fmt: skip
            self._processes.append(process)
            if self._wait_ready(process, timeout):
                logger.info("A4 printer simulator at %s", self.uri)
                self.set_paper(PaperLevel.OK)
                return process
            last_error = log_path.read_text(encoding="utf-8", errors="replace")[-300:]
            self._stop(process)
        raise DeviceIOError(f"ippeveprinter did not start: {last_error.strip()}")

    def _wait_ready(self, process: subprocess.Popen[bytes], timeout: float) -> bool:
        client = IppA4Printer(self.uri, request_timeout=1.0)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    return False
                try:
                    client.status()
                    return True
                except HardwareError:
                    time.sleep(0.05)
            return False
        finally:
            client.close()

    # -- faults ----------------------------------------------------------------------------

    def set_paper(self, level: PaperLevel) -> None:
        """Fill the trays (OK), leave a few sheets (NEAR_END) or empty them (OUT)."""
        if level not in _TRAY_SHEETS:
            raise ValueError(f"Expected a paper level OK, NEAR_END or OUT, but got {level}")
        main, bypass = _TRAY_SHEETS[level]
        a4 = "iso_a4_210x297mm"
        query = {
            "size1": a4, "type1": "stationery", "level1": str(main),
            "size3": a4, "type3": "stationery", "level3": str(bypass),
        }  # fmt: skip
        reply = httpx.get(f"http://127.0.0.1:{self.port}/media", params=query, timeout=5)
        if reply.status_code != 200:
            raise DeviceIOError(
                f"Expected the media page to answer 200, but got {reply.status_code}"
            )

    def jam_next_job(self) -> None:
        """Make the next job abort with a paper jam."""
        self._jam.touch()

    def pause(self) -> None:
        """Freeze the printer (SIGSTOP): it accepts connections but answers nothing."""
        self._printer.send_signal(signal.SIGSTOP)
        self._paused = True

    def resume(self) -> None:
        """Undo :meth:`pause`."""
        self._printer.send_signal(signal.SIGCONT)
        self._paused = False

    def kill(self) -> None:
        """Kill the printer process, as if the printer were switched off."""
        self._printer.kill()
        self._printer.wait()

    def spooled(self) -> list[Path]:
        """The PDF documents the printer received, oldest first."""
        return sorted(self.spool_dir.glob("*.pdf"), key=lambda p: int(p.name.split("-", 1)[0]))

    def copies(self) -> dict[str, int]:
        """The copies each printed job asked for, by the name of its spooled document."""
        if not self._copies_log.exists():
            return {}
        lines = self._copies_log.read_text(encoding="utf-8").splitlines()
        return {name: int(count) for name, count in (line.rsplit(" ", 1) for line in lines)}

    # -- stop ------------------------------------------------------------------------------

    def _stop(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is not None:
            return
        process.send_signal(signal.SIGCONT)
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def close(self) -> None:
        """Stop ippeveprinter and its bus; remove the temporary folders."""
        for process in reversed(self._processes):
            self._stop(process)
        self._processes.clear()
        shutil.rmtree(self._state, ignore_errors=True)

    def __enter__(self) -> IppSimulatorHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def start_background(
    spool_dir: Path | None = None, *, name: str = "Cabina A4", startup_timeout: float = 15.0
) -> IppSimulatorHandle:
    """Start ippeveprinter on a free loopback port; returns once it answers IPP."""
    return IppSimulatorHandle(spool_dir, name, startup_timeout)
