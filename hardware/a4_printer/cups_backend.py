"""Printing PDFs on a CUPS queue with ``lp`` and ``lpstat`` (cups-client), for cabins whose
printer a technician set up in CUPS.

``lp`` submits; ``lpstat -W not-completed -o`` shows when the job leaves the queue and
``lpstat -l -p -a`` gives the queue's state and ``Alerts:`` (its printer-state-reasons). The
tools run with ``LC_ALL=C`` so that their English output can be read. lpstat cannot tell a
completed job from an aborted one, so after a job leaves the queue the printer's reasons are
checked once more.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import threading
import time

from hardware.a4_printer import base
from hardware.a4_printer.base import A4Status, JobResult, JobState, PrinterState
from hardware.errors import (
    BackendUnavailable,
    DeviceIOError,
    DeviceMissing,
    HardwareError,
)
from hardware.health import DeviceHealth

logger = logging.getLogger(__name__)

_REQUEST_ID = re.compile(r"request id is (?P<queue>\S+)-(?P<id>\d+)")
_NOT_THERE = ("does not exist", "Invalid destination", "Unknown destination", "not found")


def parse_request_id(output: str) -> int:
    """The job id in ``lp``'s "request id is QUEUE-42 (1 file(s))"."""
    match = _REQUEST_ID.search(output)
    if match is None:
        raise DeviceIOError(
            f"Expected lp to print 'request id is QUEUE-N', but got {output.strip()[:80]!r}",
            device=base.DEVICE,
        )
    return int(match["id"])


def parse_job_ids(output: str, queue: str) -> set[int]:
    """The job ids of ``queue`` in ``lpstat -o`` output."""
    ids = set()
    for line in output.splitlines():
        first = line.split(maxsplit=1)[0] if line.strip() else ""
        prefix, _, number = first.rpartition("-")
        if prefix == queue and number.isdigit():
            ids.add(int(number))
    return ids


def parse_status(output: str, queue: str) -> A4Status:
    """The queue's status from ``lpstat -l -p QUEUE -a QUEUE`` output."""
    state: PrinterState | None = None
    reasons: tuple[str, ...] = ()
    accepting = True
    for line in output.splitlines():
        if line.startswith(f"printer {queue} "):
            rest = line[len(f"printer {queue} ") :]
            if rest.startswith("disabled"):
                state = PrinterState.STOPPED
            elif rest.startswith("now printing"):
                state = PrinterState.PROCESSING
            elif rest.startswith("is idle"):
                state = PrinterState.IDLE
        elif line.strip().startswith("Alerts:") and state is not None:
            words = line.split(":", 1)[1].replace(",", " ").split()
            reasons = tuple(word for word in words if word != "none")
        elif line.startswith(f"{queue} not accepting requests"):
            accepting = False
    if state is None:
        raise DeviceIOError(
            f"Expected lpstat to describe printer {queue!r}, but it did not", device=base.DEVICE
        )
    return A4Status(state, reasons, accepting)


class CupsA4Printer:
    """An A4 printer behind a CUPS queue."""

    def __init__(
        self,
        queue: str,
        *,
        server: str | None = None,
        job_timeout: float = 120.0,
        request_timeout: float = 10.0,
        poll_interval: float = 0.5,
    ) -> None:
        self._tools: dict[str, str] = {}
        for tool in ("lp", "lpstat", "cancel"):
            path = shutil.which(tool)
            if path is None:
                raise BackendUnavailable(
                    f"The cups backend needs the program {tool!r}: apt install cups-client",
                    device=base.DEVICE,
                )
            self._tools[tool] = path
        self.queue = queue
        self.backend = "cups"
        self._server = ["-h", server] if server else []
        self._job_timeout = job_timeout
        self._timeout = request_timeout
        self._poll = poll_interval
        self._lock = threading.Lock()
        self._counters = {"jobs": 0, "failed_jobs": 0}

    def print_pdf(self, data: bytes, *, title: str, copies: int = 1) -> JobResult:
        """Print ``copies`` of ``data`` (a PDF) on the queue and wait until it leaves it."""
        base.check_pdf(data)
        base.check_copies(copies)
        with self._lock:
            try:
                base.refuse_unless_ready(self._status())
                output = self._run(
                    ["lp", *self._server, "-d", self.queue, "-t", title, "-n", str(copies),
                     "-o", "document-format=application/pdf"],
                    data,
                )  # fmt: skip
                job_id = parse_request_id(output)
                logger.info("CUPS job %d submitted (%d bytes)", job_id, len(data))
                result = self._follow(job_id)
            except HardwareError:
                self._counters["failed_jobs"] += 1
                raise
            self._counters["jobs"] += 1
            return result

    def status(self) -> A4Status:
        """The queue's state and alerts."""
        with self._lock:
            return self._status()

    def self_test(self) -> DeviceHealth:
        """A status query as a health snapshot; never raises."""
        try:
            status = self.status()
        except HardwareError as exc:
            return base.health_from_error(self.backend, exc, self._counters)
        return base.health(self.backend, status, self._counters)

    def close(self) -> None:
        """Nothing to release: every call runs its own process."""

    def _status(self) -> A4Status:
        output = self._run(["lpstat", *self._server, "-l", "-p", self.queue, "-a", self.queue])
        return parse_status(output, self.queue)

    def _follow(self, job_id: int) -> JobResult:
        deadline = time.monotonic() + self._job_timeout
        while True:
            waiting = self._run(["lpstat", *self._server, "-W", "not-completed", "-o", self.queue])
            if job_id not in parse_job_ids(waiting, self.queue):
                break
            status = self._status()
            error = base.error_for(status.reasons, stopped=status.state is PrinterState.STOPPED)
            if error is None and time.monotonic() >= deadline:
                error = DeviceIOError(
                    f"Expected CUPS job {job_id} to finish within {self._job_timeout:g} s, "
                    f"but it is still queued",
                    device=base.DEVICE,
                )
            if error is not None:
                self._cancel(job_id)
                raise error
            time.sleep(self._poll)
        base.refuse_unless_ready(self._status())
        logger.info("CUPS job %d left the queue", job_id)
        return JobResult(job_id, JobState.COMPLETED)

    def _cancel(self, job_id: int) -> None:
        try:
            self._run(["cancel", *self._server, f"{self.queue}-{job_id}"])
        except HardwareError as exc:
            logger.warning("Could not cancel CUPS job %d: %s", job_id, exc.code)

    def _run(self, argv: list[str], data: bytes | None = None) -> str:
        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        try:
            done = subprocess.run(  # noqa: S603  (fixed programs; arguments are not a shell)
                [self._tools[argv[0]], *argv[1:]],
                input=data,
                capture_output=True,
                timeout=self._timeout,
                env=env,
                check=False,
            )
        except FileNotFoundError as exc:
            raise BackendUnavailable(
                f"The cups backend needs the program {argv[0]!r}: apt install cups-client",
                device=base.DEVICE,
            ) from exc
        except subprocess.TimeoutExpired as exc:
            raise DeviceIOError(
                f"Expected {argv[0]} to finish within {self._timeout:g} s, but it did not",
                device=base.DEVICE,
            ) from exc
        out = done.stdout.decode("utf-8", errors="replace")
        err = done.stderr.decode("utf-8", errors="replace").strip()
        if done.returncode != 0:
            if any(marker in err for marker in _NOT_THERE):
                raise DeviceMissing(
                    f"CUPS has no queue {self.queue!r} (or no CUPS server answers): {err}",
                    device=base.DEVICE,
                )
            raise DeviceIOError(
                f"Expected {argv[0]} to succeed, but it exited {done.returncode}: {err}",
                device=base.DEVICE,
            )
        return out
