"""The receipt printer driver against the simulator: over TCP, over a serial pty, and on paper."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from escpos import exceptions as escpos_exceptions
from escpos.printer import Dummy

from hardware.camera.qr import QrReader
from hardware.errors import (
    BackendUnavailable,
    ConfigurationError,
    CoverOpen,
    DeviceIOError,
    OutOfPaper,
    PaperJam,
)
from hardware.health import DeviceState, PaperLevel
from hardware.receipt_printer import (
    Align,
    ReceiptPrinter,
    ReceiptPrinterConfig,
    Ticket,
    TicketLine,
    open_receipt_printer,
)
from hardware.receipt_printer.escpos_backend import CodePage, EscposReceiptPrinter
from hardware.receipt_printer.simulator import (
    SimulatorHandle,
    render,
    start_background,
    start_serial,
)

ACCENTED = ("Ajuntament de València", "Añorga", "Txantxiki", "Sol·licitud", "¿Cita?", "10 €")
URL = "https://seu.valencia.es/verifica?csv=VLC-0001"


@pytest.fixture
def printer_sim() -> Iterator[SimulatorHandle]:
    """A simulated network receipt printer on a free loopback port."""
    handle = start_background()
    yield handle
    handle.close()


@pytest.fixture
def printer_receipt(printer_sim: SimulatorHandle) -> Iterator[ReceiptPrinter]:
    """The driver's "simulator" backend aimed at ``printer_sim``."""
    printer = open_receipt_printer(
        ReceiptPrinterConfig(
            backend="simulator", host=printer_sim.host, port=printer_sim.port, profile="TM-T88V"
        )
    )
    yield printer
    printer.close()


def ticket(*texts: str, qr: str | None = URL) -> Ticket:
    return Ticket(
        header=(TicketLine(texts[0], bold=True, align=Align.CENTER, height=2),),
        body=tuple(TicketLine(text) for text in texts[1:]),
        qr=qr,
    )


def test_a_ticket_prints_with_every_accent_style_and_qr(
    printer_sim: SimulatorHandle, printer_receipt: ReceiptPrinter
) -> None:
    result = printer_receipt.print_ticket(ticket(*ACCENTED))
    assert result.paper is PaperLevel.OK
    assert result.lines == len(ACCENTED)
    (receipt,) = printer_sim.wait_for_receipts(1)
    assert receipt.texts == list(ACCENTED)
    title = receipt.line("Ajuntament de València")
    assert title.bold and title.align == "center" and title.height == 2
    assert not receipt.line("Añorga").bold
    assert receipt.qr_payloads == [URL]
    assert QrReader()(np.array(render(receipt))) == URL


def test_every_job_selects_its_code_page_again_after_esc_at(
    printer_sim: SimulatorHandle, printer_receipt: ReceiptPrinter
) -> None:
    printer_receipt.print_ticket(ticket("Primer: València", qr=None))
    printer_receipt.print_ticket(ticket("Segon: Sol·licitud 5 €", qr=None))
    first, second = printer_sim.wait_for_receipts(2)
    assert (first.texts, second.texts) == (["Primer: València"], ["Segon: Sol·licitud 5 €"])


def test_the_bytes_on_the_wire_select_pc858_and_encode_in_it() -> None:
    device = Dummy(profile="TM-T88V", magic_encode_args={"encoding": "CP858", "disabled": True})
    printer = EscposReceiptPrinter(
        device,
        backend="network",
        codepage=CodePage("CP858", 19),
        columns=42,
        native_qr=True,
        center_images=True,
        reads_status=False,
        keep_open=True,
        errors=(OSError, escpos_exceptions.Error),
        not_found=escpos_exceptions.DeviceNotFoundError,
    )
    for _ in range(2):
        device.clear()
        result = printer.print_ticket(ticket("València Añorga", "Sol·licitud ¿Cita? 2 €", qr=URL))
        assert result.paper is PaperLevel.UNKNOWN
        out = bytes(device.output)
        assert out.startswith(b"\x1b@\x1bt\x13")  # ESC @, then ESC t 19 (PC858)
        assert "València Añorga".encode("cp858") in out
        assert b"Sol\xfalicitud \xa8Cita? 2 \xd5" in out
        assert b"\x1d(k" + bytes((len(URL) + 3, 0)) + b"1P0" + URL.encode() in out
        assert out.endswith(b"\x1dV\x00")


def test_long_lines_wrap_at_the_profile_columns(
    printer_sim: SimulatorHandle, printer_receipt: ReceiptPrinter
) -> None:
    words = "Certificat d'empadronament col·lectiu per a la unitat familiar sol·licitant"
    result = printer_receipt.print_ticket(Ticket(body=(TicketLine(words),)))
    (receipt,) = printer_sim.wait_for_receipts(1)
    assert result.lines == 2
    assert all(len(text) <= 42 for text in receipt.texts)
    assert " ".join(receipt.texts) == words


def test_near_end_prints_and_says_so(
    printer_sim: SimulatorHandle, printer_receipt: ReceiptPrinter
) -> None:
    printer_sim.set_paper(PaperLevel.NEAR_END)
    assert printer_receipt.print_ticket(ticket("Paper")).paper is PaperLevel.NEAR_END
    assert len(printer_sim.wait_for_receipts(1)) == 1
    health = printer_receipt.self_test()
    assert (health.state, health.paper, health.last_error) == (
        DeviceState.WARNING,
        PaperLevel.NEAR_END,
        None,
    )


def test_out_of_paper_refuses_before_printing_and_self_test_reports_it(
    printer_sim: SimulatorHandle, printer_receipt: ReceiptPrinter
) -> None:
    printer_sim.set_paper(PaperLevel.OUT)
    with pytest.raises(OutOfPaper) as caught:
        printer_receipt.print_ticket(ticket("No ha d'eixir"))
    assert caught.value.code == "paper_out"
    health = printer_receipt.self_test()
    assert health.device == "receipt_printer" and health.backend == "simulator"
    assert (health.state, health.paper, health.last_error) == (
        DeviceState.FAULT,
        PaperLevel.OUT,
        "paper_out",
    )
    assert health.counters["failed_jobs"] == 1
    printer_sim.clear_faults()
    printer_receipt.print_ticket(ticket("Ara sí"))
    assert [r.texts for r in printer_sim.wait_for_receipts(1)] == [["Ara sí"]]
    assert printer_sim.printer.discarded == 0


@pytest.mark.parametrize(
    ("fault", "error"), [("cover", CoverOpen), ("cutter", PaperJam)], ids=["cover", "cutter"]
)
def test_cover_open_and_cutter_jam_refuse_the_job(
    printer_sim: SimulatorHandle,
    printer_receipt: ReceiptPrinter,
    fault: str,
    error: type[Exception],
) -> None:
    if fault == "cover":
        printer_sim.set_cover_open()
    else:
        printer_sim.printer.set_cutter_error()
    with pytest.raises(error):
        printer_receipt.print_ticket(ticket("Res"))
    assert printer_receipt.self_test().state is DeviceState.FAULT
    assert printer_sim.receipts == []


def test_a_connection_dropped_mid_job_is_an_io_error_and_the_next_job_prints(
    printer_sim: SimulatorHandle, printer_receipt: ReceiptPrinter
) -> None:
    printer_sim.drop_next_job()
    with pytest.raises(DeviceIOError) as caught:
        printer_receipt.print_ticket(ticket("Tallat", "a mitges"))
    assert caught.value.code == "io"
    assert printer_sim.receipts == []
    printer_receipt.print_ticket(ticket("Sencer"))
    assert [r.texts for r in printer_sim.wait_for_receipts(1)] == [["Sencer"]]
    assert printer_receipt.self_test().counters == {"jobs": 1, "failed_jobs": 1}


def test_a_printer_that_is_gone_is_missing_in_self_test(printer_sim: SimulatorHandle) -> None:
    printer = open_receipt_printer(
        ReceiptPrinterConfig(backend="network", host=printer_sim.host, port=printer_sim.port)
    )
    printer_sim.close()
    health = printer.self_test()
    assert (health.state, health.last_error) == (DeviceState.MISSING, "missing")
    assert health.paper is PaperLevel.UNKNOWN


def test_a_profile_without_native_qr_sends_the_qr_as_an_image(
    printer_sim: SimulatorHandle,
) -> None:
    printer = open_receipt_printer(
        ReceiptPrinterConfig(
            backend="simulator", host=printer_sim.host, port=printer_sim.port, profile="TH230"
        )
    )
    printer.print_ticket(ticket("Sense QR natiu", qr=URL))
    printer.close()
    (receipt,) = printer_sim.wait_for_receipts(1)
    assert receipt.qr_payloads == []
    assert QrReader()(np.array(render(receipt))) == URL


def test_the_serial_backend_prints_and_reads_status_over_a_pty() -> None:
    with start_serial() as line:
        printer = open_receipt_printer(
            ReceiptPrinterConfig(
                backend="serial", serial_port=line.device_path, baudrate=115200, timeout=2
            )
        )
        try:
            printer.print_ticket(ticket("Per sèrie: Añorga €"))
            assert line.printer.wait_for_receipts(1)[0].texts == ["Per sèrie: Añorga €"]
            line.printer.set_paper(PaperLevel.OUT)
            with pytest.raises(OutOfPaper):
                printer.print_ticket(ticket("Sense paper"))
            assert printer.status().paper is PaperLevel.OUT
        finally:
            printer.close()
    assert len(line.receipts) == 1


def test_a_serial_port_that_does_not_exist_is_missing() -> None:
    printer = open_receipt_printer(
        ReceiptPrinterConfig(backend="serial", serial_port="/dev/cabina-no-such-tty")
    )
    assert printer.self_test().state is DeviceState.MISSING


@pytest.mark.parametrize(
    ("raw", "number"), [("0x04b8", 0x04B8), ("04B8", 0x04B8), (1208, 1208), (" 0e15 ", 0x0E15)]
)
def test_usb_ids_are_read_as_lsusb_prints_them(raw: object, number: int) -> None:
    cfg = ReceiptPrinterConfig.model_validate(
        {"backend": "usb", "vendor_id": raw, "product_id": raw}
    )
    assert (cfg.vendor_id, cfg.product_id) == (number, number)


def test_usb_configuration_errors() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="hexadecimal"):
        ReceiptPrinterConfig.model_validate({"backend": "usb", "vendor_id": "epson"})
    with pytest.raises(ValidationError):
        ReceiptPrinterConfig.model_validate({"backend": "usb", "vendor_id": "0x1ffff"})
    with pytest.raises(ConfigurationError, match="vendor_id"):
        open_receipt_printer(ReceiptPrinterConfig(backend="usb", vendor_id=0x04B8))


def test_a_usb_printer_that_is_not_plugged_in_is_missing_not_a_crash() -> None:
    printer = open_receipt_printer(
        ReceiptPrinterConfig(backend="usb", vendor_id="0x04b8", product_id="0x0e15", in_ep=None)
    )
    health = printer.self_test()
    assert health.state in (DeviceState.MISSING, DeviceState.FAULT)
    assert health.last_error in ("missing", BackendUnavailable.code)


def test_unknown_backend_and_bad_options_are_configuration_errors() -> None:
    from pydantic import ValidationError

    with pytest.raises(ConfigurationError, match="usb, serial, network, simulator"):
        open_receipt_printer(ReceiptPrinterConfig(backend="bluetooth"))
    with pytest.raises(ConfigurationError, match="host"):
        open_receipt_printer(ReceiptPrinterConfig(backend="network"))
    with pytest.raises(ConfigurationError, match="TM-T88V"):
        open_receipt_printer(ReceiptPrinterConfig(backend="network", host="x", profile="TM-X"))
    with pytest.raises(ConfigurationError, match="CP858"):
        open_receipt_printer(ReceiptPrinterConfig(backend="network", host="x", codepage="CP999"))
    with pytest.raises(ValidationError):
        ReceiptPrinterConfig.model_validate({"backend": "network", "colour": "red"})


def test_the_code_page_is_chosen_from_what_the_profile_lists() -> None:
    chosen = {}
    for profile in ("TM-T88V", "ZJ-5870", "simple"):
        printer = open_receipt_printer(
            ReceiptPrinterConfig(backend="network", host="127.0.0.1", profile=profile)
        )
        assert isinstance(printer, EscposReceiptPrinter)
        chosen[profile] = printer.codepage
    assert chosen == {
        "TM-T88V": CodePage("CP858", 19),
        "ZJ-5870": CodePage("CP1252", 16),
        "simple": CodePage("CP437", 0),
    }


def test_ticket_lines_refuse_control_characters_and_silly_sizes() -> None:
    with pytest.raises(ValueError, match=r"U\+001B"):
        TicketLine("Nom\x1b@")
    with pytest.raises(ValueError, match="width between 1 and 8"):
        TicketLine("gran", width=9)
    with pytest.raises(ValueError, match="empty"):
        Ticket(qr="")


def test_the_driver_satisfies_the_protocol(
    printer_sim: SimulatorHandle, printer_receipt: ReceiptPrinter
) -> None:
    # Used only through ReceiptPrinter, as the kiosk does: each method does what it promises.
    printer: ReceiptPrinter = printer_receipt
    assert isinstance(printer, ReceiptPrinter)
    status = printer.status()
    assert (status.online, status.paper, status.cover_open) == (True, PaperLevel.OK, False)
    assert printer.self_test().state is DeviceState.OK

    result = printer.print_ticket(ticket("Torn A-12", "Padró", qr=None))
    assert (result.paper, result.lines) == (PaperLevel.OK, 2)
    assert [r.texts for r in printer_sim.wait_for_receipts(1)] == [["Torn A-12", "Padró"]]

    printer_sim.set_cover_open()
    assert printer.status().cover_open is True
    health = printer.self_test()
    assert (health.state, health.last_error) == (DeviceState.FAULT, "cover_open")
    with pytest.raises(CoverOpen):
        printer.print_ticket(ticket("No ha d'eixir", qr=None))
    printer_sim.clear_faults()
    assert printer.self_test().counters == {"jobs": 1, "failed_jobs": 1}

    printer.close()
    printer_sim.close()
    assert printer.self_test().state is DeviceState.MISSING
