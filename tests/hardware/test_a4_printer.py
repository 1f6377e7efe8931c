"""The IPP A4 printer driver against Debian's real ippeveprinter, and against servers that lie."""

from __future__ import annotations

import io
import socket
import struct
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from hardware.a4_printer import A4Printer, A4PrinterConfig, ipp_codec, open_a4_printer
from hardware.a4_printer.base import A4Status, PrinterState, Reason, error_for, refuse_unless_ready
from hardware.a4_printer.ipp_backend import IppA4Printer, http_url
from hardware.a4_printer.ipp_codec import Attr
from hardware.a4_printer.simulator import IppSimulatorHandle, start_background
from hardware.errors import (
    ConfigurationError,
    CoverOpen,
    DeviceBusy,
    DeviceIOError,
    DeviceMissing,
    OutOfPaper,
    PaperJam,
)
from hardware.health import DeviceState, PaperLevel


@pytest.fixture
def printer_ipp_sim() -> Iterator[IppSimulatorHandle]:
    """ippeveprinter on a free loopback port, spooling to a temporary folder."""
    handle = start_background()
    yield handle
    handle.close()


@pytest.fixture
def printer_a4(printer_ipp_sim: IppSimulatorHandle) -> Iterator[A4Printer]:
    """The driver's "simulator" backend aimed at ``printer_ipp_sim``."""
    printer = open_a4_printer(
        A4PrinterConfig(
            backend="simulator", uri=printer_ipp_sim.uri, job_timeout=20, request_timeout=5
        )
    )
    yield printer
    printer.close()


def certificate_pdf(text: str = "Certificat d'empadronament") -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4)
    page.drawString(72, 770, text)
    page.showPage()
    page.save()
    return buffer.getvalue()


def test_a_pdf_reaches_the_spool_folder_byte_for_byte(
    printer_ipp_sim: IppSimulatorHandle, printer_a4: A4Printer
) -> None:
    pdf = certificate_pdf()
    result = printer_a4.print_pdf(pdf, title="certificat")
    assert result.state.name == "COMPLETED"
    (spooled,) = printer_ipp_sim.spooled()
    assert spooled.name == f"{result.job_id}-certificat.pdf"
    assert spooled.read_bytes() == pdf
    health = printer_a4.self_test()
    assert (health.device, health.backend, health.state) == ("a4_printer", "simulator", "ok")
    assert health.counters == {"jobs": 1, "failed_jobs": 0}


def test_out_of_paper_refuses_before_sending_and_clears_when_refilled(
    printer_ipp_sim: IppSimulatorHandle, printer_a4: A4Printer
) -> None:
    printer_ipp_sim.set_paper(PaperLevel.OUT)
    with pytest.raises(OutOfPaper):
        printer_a4.print_pdf(certificate_pdf(), title="certificat")
    assert printer_ipp_sim.spooled() == []
    health = printer_a4.self_test()
    assert (health.state, health.paper, health.last_error) == (
        DeviceState.FAULT,
        PaperLevel.OUT,
        "paper_out",
    )
    printer_ipp_sim.set_paper(PaperLevel.OK)
    printer_a4.print_pdf(certificate_pdf(), title="certificat")
    assert len(printer_ipp_sim.spooled()) == 1


def test_near_end_is_a_warning_and_still_prints(
    printer_ipp_sim: IppSimulatorHandle, printer_a4: A4Printer
) -> None:
    printer_ipp_sim.set_paper(PaperLevel.NEAR_END)
    health = printer_a4.self_test()
    assert (health.state, health.paper) == (DeviceState.WARNING, PaperLevel.NEAR_END)
    printer_a4.print_pdf(certificate_pdf(), title="certificat")
    assert len(printer_ipp_sim.spooled()) == 1


def test_a_job_that_aborts_on_a_jam_is_a_paper_jam_and_the_next_one_prints(
    printer_ipp_sim: IppSimulatorHandle, printer_a4: A4Printer
) -> None:
    printer_ipp_sim.jam_next_job()
    with pytest.raises(PaperJam):
        printer_a4.print_pdf(certificate_pdf(), title="encallat")
    result = printer_a4.print_pdf(certificate_pdf(), title="bo")
    assert result.state.name == "COMPLETED"
    assert printer_a4.status().reasons == ()
    assert printer_a4.self_test().counters == {"jobs": 1, "failed_jobs": 1}


def test_a_document_that_is_not_a_pdf_is_refused(
    printer_ipp_sim: IppSimulatorHandle, printer_a4: A4Printer
) -> None:
    with pytest.raises(ValueError, match="Expected a PDF document"):
        printer_a4.print_pdf(b"Hola, soc un text", title="text")
    assert printer_ipp_sim.spooled() == []


def test_a_killed_printer_is_missing(
    printer_ipp_sim: IppSimulatorHandle, printer_a4: A4Printer
) -> None:
    printer_ipp_sim.kill()
    with pytest.raises(DeviceMissing):
        printer_a4.print_pdf(certificate_pdf(), title="certificat")
    health = printer_a4.self_test()
    assert (health.state, health.last_error) == (DeviceState.MISSING, "missing")


def test_a_frozen_printer_times_out_as_an_io_error(printer_ipp_sim: IppSimulatorHandle) -> None:
    printer = open_a4_printer(
        A4PrinterConfig(backend="ipp", uri=printer_ipp_sim.uri, request_timeout=0.5)
    )
    printer_ipp_sim.pause()
    try:
        with pytest.raises(DeviceIOError, match="timed out"):
            printer.status()
        assert printer.self_test().state is DeviceState.FAULT
        printer_ipp_sim.resume()
        assert printer.status().state is PrinterState.IDLE
    finally:
        printer_ipp_sim.resume()
        printer.close()


class _HtmlPage(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b"<html><body>Router admin</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def printer_html_server() -> Iterator[str]:
    """A plain HTTP server that answers every POST with an HTML page."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HtmlPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"ipp://127.0.0.1:{server.server_address[1]}/ipp/print"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def printer_garbage_server() -> Iterator[str]:
    """A TCP port that answers anything with bytes that are not HTTP."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            if stop.is_set():
                conn.close()
                return
            with conn:
                conn.recv(65536)
                conn.sendall(b"\x00\xffSSH-2.0-not-a-printer\r\n\x01\x02")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    address = listener.getsockname()
    yield f"ipp://127.0.0.1:{address[1]}/ipp/print"
    stop.set()
    socket.create_connection(address).close()  # wakes the blocked accept()
    thread.join()
    listener.close()


def test_an_http_server_that_is_not_a_printer_is_an_io_error(printer_html_server: str) -> None:
    printer = open_a4_printer(A4PrinterConfig(backend="ipp", uri=printer_html_server))
    with pytest.raises(DeviceIOError, match="text/html"):
        printer.print_pdf(certificate_pdf(), title="certificat")
    health = printer.self_test()
    assert (health.state, health.last_error) == (DeviceState.FAULT, "io")
    printer.close()


def test_a_port_that_speaks_no_http_is_an_io_error(printer_garbage_server: str) -> None:
    printer = open_a4_printer(A4PrinterConfig(backend="ipp", uri=printer_garbage_server))
    with pytest.raises(DeviceIOError):
        printer.status()
    printer.close()


@pytest.mark.parametrize(
    ("reasons", "stopped", "error"),
    [
        (["media-empty-report"], False, OutOfPaper),
        (["media-needed-error"], False, OutOfPaper),
        (["media-jam-error"], False, PaperJam),
        (["media-jam"], True, PaperJam),
        (["cover-open-report"], False, CoverOpen),
        (["door-open-warning"], False, CoverOpen),
        (["offline-error"], False, DeviceMissing),
        (["paused"], True, DeviceBusy),
        (["toner-empty-error"], False, DeviceIOError),
        ([], True, DeviceIOError),
    ],
)
def test_printer_states_map_to_errors(
    reasons: list[str], stopped: bool, error: type[Exception]
) -> None:
    assert isinstance(error_for(reasons, stopped=stopped), error)


@pytest.mark.parametrize(
    "reasons", [[], ["none"], ["media-low-report"], ["media-jam-report"], ["toner-low-warning"]]
)
def test_an_idle_printer_with_only_reports_and_warnings_may_print(reasons: list[str]) -> None:
    assert error_for(reasons, stopped=False) is None


def test_a_printer_that_refuses_jobs_is_busy() -> None:
    with pytest.raises(DeviceBusy, match="not accepting"):
        refuse_unless_ready(A4Status(PrinterState.IDLE, (), accepting_jobs=False))
    assert Reason.parse("media-empty-error") == Reason("media-empty", "error")
    assert Reason.parse("media-empty") == Reason("media-empty", "")


def test_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="ipp, cups, simulator"):
        open_a4_printer(A4PrinterConfig(backend="lpd"))
    with pytest.raises(ConfigurationError, match="'uri'"):
        open_a4_printer(A4PrinterConfig(backend="ipp"))
    with pytest.raises(ConfigurationError, match="ipp://host"):
        open_a4_printer(A4PrinterConfig(backend="ipp", uri="lpd://printer/queue"))
    assert http_url("ipp://10.0.0.5/ipp/print") == "http://10.0.0.5:631/ipp/print"
    assert http_url("ipps://printer.local:8443/ipp/print") == "https://printer.local:8443/ipp/print"


@pytest.mark.parametrize("copies", [0, -1, True])
def test_a_number_of_copies_no_printer_can_make_is_refused_before_sending(copies: int) -> None:
    printer = IppA4Printer("ipp://127.0.0.1:9/ipp/print")  # nothing listens: nothing is sent
    try:
        with pytest.raises(ValueError, match="Expected at least 1 copy"):
            printer.print_pdf(certificate_pdf(), title="certificat", copies=copies)
    finally:
        printer.close()


class _NoCopiesPrinter(BaseHTTPRequestHandler):
    """An IPP printer that takes jobs but ignores ``copies``, as IPP lets a printer say."""

    operations: ClassVar[list[int]] = []

    def do_POST(self) -> None:
        request = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        operation, request_id = struct.unpack(">HI", request[2:8])
        self.operations.append(operation)
        groups: dict[int, list[Attr]] = {
            ipp_codec.OPERATION: [Attr.of(ipp_codec.CHARSET, "attributes-charset", "utf-8")]
        }
        status = 0x0000
        if operation == ipp_codec.GET_PRINTER_ATTRIBUTES:
            groups[ipp_codec.PRINTER] = [
                Attr.of(ipp_codec.ENUM, "printer-state", 3),
                Attr.of(ipp_codec.KEYWORD, "printer-state-reasons", "none"),
            ]
        elif operation == ipp_codec.PRINT_JOB:
            status = 0x0001  # successful-ok-ignored-or-substituted-attributes
            groups[ipp_codec.JOB] = [Attr.of(ipp_codec.INTEGER, "job-id", 7)]
            groups[ipp_codec.UNSUPPORTED] = [Attr.of(ipp_codec.INTEGER, "copies", 3)]
        body = ipp_codec.encode_request(status, request_id, groups)
        self.send_response(200)
        self.send_header("Content-Type", "application/ipp")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


def test_a_printer_that_ignores_copies_fails_the_job_and_cancels_it() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NoCopiesPrinter)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    printer = IppA4Printer(f"ipp://127.0.0.1:{server.server_address[1]}/ipp/print")
    try:
        with pytest.raises(DeviceIOError, match="make 3 copies, but it does not support copies"):
            printer.print_pdf(certificate_pdf(), title="certificat", copies=3)
    finally:
        printer.close()
        server.shutdown()
        server.server_close()
        thread.join()
    assert _NoCopiesPrinter.operations == [
        ipp_codec.GET_PRINTER_ATTRIBUTES,
        ipp_codec.PRINT_JOB,
        ipp_codec.CANCEL_JOB,
    ]
