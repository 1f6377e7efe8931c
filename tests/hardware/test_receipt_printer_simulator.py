"""python-escpos's own Network connection talking to the simulator over a loopback TCP port."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from escpos.printer import Network

from hardware.camera.qr import QrReader
from hardware.health import PaperLevel
from hardware.receipt_printer.simulator import SimulatorHandle, render, start_background
from hardware.receipt_printer.simulator.__main__ import main as simulator_main
from hardware.receipt_printer.simulator.example import VERIFY_URL

URL = "https://seu.valencia.es/verifica?csv=ABCD-1234-EFGH"


@pytest.fixture
def printer_sim(tmp_path: Path) -> Iterator[SimulatorHandle]:
    """A simulated network receipt printer saving PNGs under ``tmp_path``."""
    handle = start_background(out_dir=tmp_path / "receipts")
    yield handle
    handle.close()


def network(sim: SimulatorHandle, profile: str = "TM-T88V") -> Network:
    return Network(sim.host, sim.port, timeout=5, profile=profile)


def decode_qr(image: np.ndarray) -> str:
    text = QrReader()(image)
    assert text is not None, "no QR code found in the image"
    return text


def png_gray(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    assert image is not None, f"{path} is not an image"
    return image


def test_text_bold_and_native_qr_arrive_exactly(printer_sim: SimulatorHandle) -> None:
    p = network(printer_sim)
    p.hw("INIT")
    p.charcode("CP858")  # sends ESC t 19
    p.set(bold=True, align="center")
    p.textln("Ajuntament de València")
    p.set(bold=False, align="left")
    p.textln("Añorga, Txantxiki, Sol·licitud, ¿Cita?, 3 €")
    p.qr(URL, native=True, size=6, ec=1)
    p.cut()
    p.close()
    (receipt,) = printer_sim.wait_for_receipts(1)
    assert receipt.texts == [
        "Ajuntament de València",
        "Añorga, Txantxiki, Sol·licitud, ¿Cita?, 3 €",
    ]
    assert receipt.line("Ajuntament de València").bold
    assert not receipt.line("Añorga, Txantxiki, Sol·licitud, ¿Cita?, 3 €").bold
    assert receipt.qr_payloads == [URL]
    saved = printer_sim.printer.out_dir
    assert saved is not None
    assert decode_qr(png_gray(saved / "receipt-0001.png")) == URL


def test_each_cut_ends_a_receipt(printer_sim: SimulatorHandle) -> None:
    p = network(printer_sim)
    for word in ("primer", "segon", "tercer"):
        p.textln(word)
        p.cut()
    p.close()
    receipts = printer_sim.wait_for_receipts(3)
    assert [r.texts for r in receipts] == [["primer"], ["segon"], ["tercer"]]


def test_status_queries_get_the_state_the_simulator_is_in(printer_sim: SimulatorHandle) -> None:
    p = network(printer_sim)
    assert p.is_online() is True
    assert p.paper_status() == 2
    printer_sim.set_paper(PaperLevel.NEAR_END)
    assert p.paper_status() == 1
    printer_sim.set_paper(PaperLevel.OUT)
    assert p.paper_status() == 0
    assert p.is_online() is False
    printer_sim.clear_faults()
    printer_sim.set_cover_open()
    assert p.is_online() is False
    assert p.paper_status() == 2
    p.close()


def test_a_qr_sent_as_a_raster_image_decodes_from_the_png(printer_sim: SimulatorHandle) -> None:
    p = network(printer_sim)
    p.textln("QR com a imatge")
    p.qr(URL, native=False, size=4, center=True)
    p.cut()
    p.close()
    (receipt,) = printer_sim.wait_for_receipts(1)
    assert receipt.qr_payloads == []  # no GS ( k: the printer only saw an image
    image = np.array(render(receipt))
    assert decode_qr(image) == URL


def test_garbage_on_the_wire_does_not_stop_the_printer(printer_sim: SimulatorHandle) -> None:
    with socket.create_connection((printer_sim.host, printer_sim.port), timeout=5) as raw:
        raw.sendall(bytes(range(0, 32)) + b"\x1b\xfe\x1d\xfd\x1c\xfc\x1dv0\x00\xff\xff\xff\xff")
    p = network(printer_sim)
    p.textln("després del soroll")
    p.cut()
    p.close()
    receipts = printer_sim.wait_for_receipts(1)
    assert receipts[-1].texts[-1] == "després del soroll"


def test_a_dropped_job_leaves_no_receipt_and_the_next_one_prints(
    printer_sim: SimulatorHandle,
) -> None:
    printer_sim.drop_next_job()
    p = network(printer_sim)
    # The reset reaches the client at whichever write or read follows it: a later line of
    # this job if the simulator drops it fast, otherwise a status query.
    with pytest.raises(OSError):
        p.textln("primera línia")
        p.textln("segona línia")
        p.cut()
        for _ in range(50):
            p.is_online()
    p.close()
    assert printer_sim.receipts == []
    assert printer_sim.printer.discarded == 1
    p = network(printer_sim)
    p.textln("ara sí")
    p.cut()
    p.close()
    assert printer_sim.wait_for_receipts(1)[0].texts == ["ara sí"]


def test_the_example_command_writes_a_png_a_phone_can_read(tmp_path: Path) -> None:
    target = tmp_path / "docs" / "receipt-example.png"
    assert simulator_main(["--example", str(target)]) == 0
    assert decode_qr(png_gray(target)) == VERIFY_URL


def test_the_committed_example_is_the_one_the_command_draws(tmp_path: Path) -> None:
    committed = png_gray(Path(__file__).resolve().parents[2] / "docs" / "receipt-example.png")
    drawn = tmp_path / "example.png"
    simulator_main(["--example", str(drawn)])
    assert committed.shape == png_gray(drawn).shape
    assert decode_qr(committed) == VERIFY_URL
