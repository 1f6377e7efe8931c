"""Printing PDFs on an IPP printer (``ipp://host:631/ipp/print``), following each job to its end.

Why a small IPP client of our own over httpx rather than the CUPS tool ``ipptool``: three
operations and a handful of attributes are all a cabin needs, and IPP is a simple binary
format (:mod:`hardware.a4_printer.ipp_codec`). Our client gets typed values and exact errors
straight from the wire, spawns no process per status poll, and reports a non-IPP answer as
just that; ``ipptool`` would need test files and parsing of text meant for people.

Every failure after a job was accepted cancels it (best effort), so that a certificate cannot
come out later, unattended, once the citizen has gone.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from hardware.a4_printer import base, ipp_codec
from hardware.a4_printer.base import A4Status, JobResult, JobState, PrinterState
from hardware.a4_printer.ipp_codec import Attr, IppDecodeError, IppResponse
from hardware.errors import (
    ConfigurationError,
    DeviceBusy,
    DeviceIOError,
    DeviceMissing,
    HardwareError,
)
from hardware.health import DeviceHealth

logger = logging.getLogger(__name__)

_PRINTER_ATTRS = ("printer-state", "printer-state-reasons", "printer-is-accepting-jobs")
_JOB_ATTRS = ("job-state", "job-state-reasons", "job-impressions-completed")
_USER = "cabina"


def http_url(uri: str) -> str:
    """The HTTP URL an ``ipp://`` or ``ipps://`` printer URI is reached at."""
    parts = urlsplit(uri)
    schemes = {"ipp": "http", "ipps": "https", "http": "http", "https": "https"}
    if parts.scheme not in schemes or not parts.hostname:
        raise ConfigurationError(
            f"Expected a printer URI like ipp://host:631/ipp/print, but got {uri!r}"
        )
    netloc = parts.netloc if parts.port else f"{parts.netloc}:631"
    return urlunsplit((schemes[parts.scheme], netloc, parts.path or "/", "", ""))


class IppA4Printer:
    """An A4 printer spoken to over IPP/1.1."""

    def __init__(
        self,
        uri: str,
        *,
        backend: str = "ipp",
        job_timeout: float = 120.0,
        request_timeout: float = 10.0,
        tls_verify: bool = True,
        poll_interval: float = 0.2,
    ) -> None:
        self.uri = uri
        self.backend = backend
        self._url = http_url(uri)
        self._job_timeout = job_timeout
        self._poll = poll_interval
        # No keep-alive: requests are few, and a fresh connection tells a printer that went
        # away (connection refused) apart from one that broke mid-answer.
        self._client = httpx.Client(
            timeout=request_timeout,
            verify=tls_verify,
            limits=httpx.Limits(max_keepalive_connections=0),
        )
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._counters = {"jobs": 0, "failed_jobs": 0}

    # -- public ----------------------------------------------------------------------------

    def print_pdf(self, data: bytes, *, title: str, copies: int = 1) -> JobResult:
        """Print ``copies`` of ``data`` (a PDF) as job ``title``; returns once the printer
        completed it."""
        base.check_pdf(data)
        base.check_copies(copies)
        with self._lock:
            try:
                base.refuse_unless_ready(self._status())
                job_id = self._submit(data, title, copies)
                result = self._follow(job_id)
            except HardwareError:
                self._counters["failed_jobs"] += 1
                raise
            self._counters["jobs"] += 1
            return result

    def status(self) -> A4Status:
        """``printer-state``, ``printer-state-reasons`` and whether it accepts jobs."""
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
        """Close the HTTP client."""
        self._client.close()

    # -- IPP operations --------------------------------------------------------------------

    def _operation(self, *extra: Attr) -> dict[int, list[Attr]]:
        return {
            ipp_codec.OPERATION: [
                Attr.of(ipp_codec.CHARSET, "attributes-charset", "utf-8"),
                Attr.of(ipp_codec.LANGUAGE, "attributes-natural-language", "en"),
                Attr.of(ipp_codec.URI, "printer-uri", self.uri),
                Attr.of(ipp_codec.NAME, "requesting-user-name", _USER),
                *extra,
            ]
        }

    def _call(
        self, operation: int, groups: dict[int, list[Attr]], data: bytes = b""
    ) -> IppResponse:
        request_id = next(self._ids)
        body = ipp_codec.encode_request(operation, request_id, groups, data)
        try:
            reply = self._client.post(
                self._url, content=body, headers={"Content-Type": "application/ipp"}
            )
        except httpx.ConnectError as exc:
            raise DeviceMissing(
                f"No printer answers at {self.uri}: {exc}", device=base.DEVICE
            ) from exc
        except httpx.TimeoutException as exc:
            raise DeviceIOError(
                f"Expected an answer from {self.uri}, but it timed out", device=base.DEVICE
            ) from exc
        except httpx.HTTPError as exc:
            raise DeviceIOError(
                f"Talking to {self.uri} failed: {type(exc).__name__}: {exc}", device=base.DEVICE
            ) from exc
        content_type = reply.headers.get("content-type", "")
        if reply.status_code != 200 or not content_type.startswith("application/ipp"):
            raise DeviceIOError(
                f"Expected HTTP 200 with application/ipp from {self.uri}, but got HTTP "
                f"{reply.status_code} with {content_type or 'no content type'}",
                device=base.DEVICE,
            )
        try:
            response = ipp_codec.decode_response(reply.content)
        except IppDecodeError as exc:
            raise DeviceIOError(
                f"Expected an IPP response from {self.uri}, but it is malformed: {exc}",
                device=base.DEVICE,
            ) from exc
        if response.request_id != request_id:
            raise DeviceIOError(
                f"Expected IPP request-id {request_id}, but got {response.request_id}",
                device=base.DEVICE,
            )
        return response

    def _status(self) -> A4Status:
        requested = Attr(ipp_codec.KEYWORD, "requested-attributes", _PRINTER_ATTRS)
        response = self._call(ipp_codec.GET_PRINTER_ATTRIBUTES, self._operation(requested))
        self._raise_for(response, "Get-Printer-Attributes")
        state = response.first(ipp_codec.PRINTER, "printer-state")
        if state not in {s.value for s in PrinterState}:
            raise DeviceIOError(
                f"Expected printer-state 3, 4 or 5, but got {state!r}", device=base.DEVICE
            )
        reasons = tuple(
            str(r) for r in response.group(ipp_codec.PRINTER).get("printer-state-reasons", []) if r
        )
        accepting = response.first(ipp_codec.PRINTER, "printer-is-accepting-jobs", True)
        return A4Status(
            PrinterState(state), tuple(r for r in reasons if r != "none"), bool(accepting)
        )

    def _submit(self, data: bytes, title: str, copies: int) -> int:
        groups = self._operation(
            Attr.of(ipp_codec.NAME, "job-name", title),
            Attr.of(ipp_codec.MIME_TYPE, "document-format", "application/pdf"),
        )
        # The printer makes the copies: one document sent, however many sheets come out.
        groups[ipp_codec.JOB] = [Attr.of(ipp_codec.INTEGER, "copies", copies)]
        response = self._call(ipp_codec.PRINT_JOB, groups, data)
        self._raise_for(response, "Print-Job")
        if "copies" in response.group(ipp_codec.UNSUPPORTED):
            # Printed once where several were asked for is a failure the citizen would notice.
            ignored = response.first(ipp_codec.JOB, "job-id")
            if isinstance(ignored, int):
                self._cancel(ignored)
            raise DeviceIOError(
                f"Expected the printer to make {copies} copies, but it does not support copies",
                device=base.DEVICE,
            )
        job_id = response.first(ipp_codec.JOB, "job-id")
        if not isinstance(job_id, int):
            raise DeviceIOError(
                f"Expected a job-id in the Print-Job answer, but got {job_id!r}", device=base.DEVICE
            )
        logger.info("A4 job %d submitted (%d bytes)", job_id, len(data))
        return job_id

    def _job(self, job_id: int) -> tuple[JobState, list[str], Any]:
        requested = Attr(ipp_codec.KEYWORD, "requested-attributes", _JOB_ATTRS)
        response = self._call(
            ipp_codec.GET_JOB_ATTRIBUTES,
            self._operation(Attr.of(ipp_codec.INTEGER, "job-id", job_id), requested),
        )
        self._raise_for(response, "Get-Job-Attributes")
        state = response.first(ipp_codec.JOB, "job-state")
        if state not in {s.value for s in JobState}:
            raise DeviceIOError(f"Expected a job-state 3–9, but got {state!r}", device=base.DEVICE)
        reasons = [str(r) for r in response.group(ipp_codec.JOB).get("job-state-reasons", [])]
        return JobState(state), reasons, response.first(ipp_codec.JOB, "job-impressions-completed")

    def _follow(self, job_id: int) -> JobResult:
        deadline = time.monotonic() + self._job_timeout
        try:
            while True:
                state, reasons, pages = self._job(job_id)
                if state is JobState.COMPLETED:
                    logger.info("A4 job %d completed", job_id)
                    return JobResult(job_id, state, pages if isinstance(pages, int) else None)
                if state.finished:
                    failure = self._failure(job_id, state, reasons)
                    break
                # A printer that stopped holds the job: say why now rather than at the timeout.
                printer = self._status()
                stopped = printer.state is PrinterState.STOPPED
                error = base.error_for(printer.reasons, stopped=stopped)
                if error is not None:
                    raise error
                if time.monotonic() >= deadline:
                    raise DeviceIOError(
                        f"Expected job {job_id} to finish within {self._job_timeout:g} s, "
                        f"but it is {state.name.lower()}",
                        device=base.DEVICE,
                    )
                time.sleep(self._poll)
        except HardwareError:
            self._cancel(job_id)
            raise
        raise failure  # the job is over: nothing to cancel

    def _failure(self, job_id: int, state: JobState, reasons: list[str]) -> HardwareError:
        try:
            printer = self._status()
        except HardwareError:
            printer = A4Status(PrinterState.STOPPED, ())
        # The job is over: any reason the printer still shows is the likely cause.
        causes = [base.Reason.parse(reason).name for reason in printer.reasons]
        error = base.error_for(causes, stopped=True) if causes else None
        if error is not None:
            return error
        return DeviceIOError(
            f"Expected job {job_id} to complete, but it was {state.name.lower()} "
            f"(job-state-reasons: {', '.join(reasons) or 'none'})",
            device=base.DEVICE,
        )

    def _cancel(self, job_id: int) -> None:
        try:
            response = self._call(
                ipp_codec.CANCEL_JOB, self._operation(Attr.of(ipp_codec.INTEGER, "job-id", job_id))
            )
        except HardwareError as exc:
            logger.warning("Could not cancel A4 job %d: %s", job_id, exc.code)
            return
        logger.info("Cancel A4 job %d: %s", job_id, response.status_name)

    def _raise_for(self, response: IppResponse, operation: str) -> None:
        if response.ok:
            return
        status = response.status_name
        message = f"Expected {operation} to succeed at {self.uri}, but got {status}"
        if response.status_code == 0x040A:
            raise ConfigurationError(
                f"The printer at {self.uri} does not accept PDF documents ({status})",
                device=base.DEVICE,
            )
        if response.status_code in (0x0401, 0x0402, 0x0403, 0x0406):
            raise ConfigurationError(message, device=base.DEVICE)
        if response.status_code in (0x0506, 0x0507):
            raise DeviceBusy(message, device=base.DEVICE)
        raise DeviceIOError(message, device=base.DEVICE)
