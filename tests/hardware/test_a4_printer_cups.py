"""The CUPS backend: reading lp/lpstat output, and the real tools when no queue answers.

No CUPS scheduler runs here, so printing is exercised only up to the point where the real
``lpstat`` says the queue does not exist; the output formats below are those of CUPS 2.4.
"""

from __future__ import annotations

import socket

import pytest

from hardware.a4_printer import A4PrinterConfig, open_a4_printer
from hardware.a4_printer.base import PrinterState
from hardware.a4_printer.cups_backend import (
    CupsA4Printer,
    parse_job_ids,
    parse_request_id,
    parse_status,
)
from hardware.errors import ConfigurationError, DeviceIOError, DeviceMissing
from hardware.health import DeviceState, PaperLevel

IDLE = """\
printer Planta_Baixa is idle.  enabled since Fri 14 Mar 2025 08:00:01
\tForm mounted:
\tContent types: any
\tPrinter types: unknown
\tDescription: HP LaserJet M404
\tAlerts: none
\tLocation: Oficina Russafa
\tConnection: direct
Planta_Baixa accepting requests since Fri 14 Mar 2025 08:00:01
"""

PRINTING_LOW = """\
printer Planta_Baixa now printing Planta_Baixa-41.  enabled since Fri 14 Mar 2025 09:12:00
\tDescription: HP LaserJet M404
\tAlerts: media-low-warning
Planta_Baixa accepting requests since Fri 14 Mar 2025 08:00:01
"""

STOPPED_EMPTY = """\
printer Planta_Baixa disabled since Fri 14 Mar 2025 09:30:00 -
\tMedia tray empty.
\tDescription: HP LaserJet M404
\tAlerts: media-empty-error media-needed-error
Planta_Baixa not accepting requests since Fri 14 Mar 2025 09:30:00 -
\tRejecting Jobs
"""

QUEUE = """\
Planta_Baixa-41         cabina          102400   Fri 14 Mar 2025 09:12:00
Planta_Baixa-42         cabina           20480   Fri 14 Mar 2025 09:12:05
Planta_Alta-7           cabina            4096   Fri 14 Mar 2025 09:12:07
"""


def test_lp_request_ids_are_read() -> None:
    assert parse_request_id("request id is Planta_Baixa-42 (0 file(s))\n") == 42
    with pytest.raises(DeviceIOError, match="request id is"):
        parse_request_id("lp: some other message")


def test_queued_job_ids_belong_to_their_queue() -> None:
    assert parse_job_ids(QUEUE, "Planta_Baixa") == {41, 42}
    assert parse_job_ids(QUEUE, "Planta_Alta") == {7}
    assert parse_job_ids("", "Planta_Baixa") == set()


def test_lpstat_states_and_alerts_are_read() -> None:
    idle = parse_status(IDLE, "Planta_Baixa")
    assert (idle.state, idle.reasons, idle.accepting_jobs) == (PrinterState.IDLE, (), True)
    busy = parse_status(PRINTING_LOW, "Planta_Baixa")
    assert busy.state is PrinterState.PROCESSING and busy.paper is PaperLevel.NEAR_END
    stopped = parse_status(STOPPED_EMPTY, "Planta_Baixa")
    assert stopped.state is PrinterState.STOPPED
    assert stopped.reasons == ("media-empty-error", "media-needed-error")
    assert stopped.accepting_jobs is False and stopped.paper is PaperLevel.OUT


def test_lpstat_output_about_another_printer_is_an_io_error() -> None:
    with pytest.raises(DeviceIOError, match="describe printer 'Planta_Alta'"):
        parse_status(IDLE, "Planta_Alta")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_queue_no_cups_server_knows_is_missing() -> None:
    printer = CupsA4Printer("cabina_no_such_queue", server=f"127.0.0.1:{closed_port()}")
    with pytest.raises(DeviceMissing, match="cabina_no_such_queue"):
        printer.print_pdf(b"%PDF-1.4\n%%EOF\n", title="certificat")
    health = printer.self_test()
    assert (health.device, health.backend) == ("a4_printer", "cups")
    assert (health.state, health.last_error) == (DeviceState.MISSING, "missing")
    assert health.counters == {"jobs": 0, "failed_jobs": 1}


def test_the_cups_backend_refuses_what_is_not_a_pdf_and_needs_a_queue() -> None:
    printer = open_a4_printer(A4PrinterConfig(backend="cups", queue="Planta_Baixa"))
    with pytest.raises(ValueError, match="PDF"):
        printer.print_pdf(b"\x89PNG\r\n", title="imatge")
    with pytest.raises(ConfigurationError, match="'queue'"):
        open_a4_printer(A4PrinterConfig(backend="cups"))
