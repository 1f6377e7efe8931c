"""Done when: a citizen alone at the cabin gets a padrón certificate that anyone can verify.

The cabin is the real kiosk app in a Kivy process of its own (off screen), touched as a finger
would; its padrón client talks to a real hub with the demo residents, and it prints on
Debian's ``ippeveprinter`` (the A4 simulator). This process then reads the spooled PDF: the
resident's data by text extraction, the QR code by OpenCV, and the verification page over HTTP.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest
from padron.office import Office
from pypdf import PdfReader

from hardware.camera.qr import QrReader
from kiosk.devtools.testing import run_in_kivy_async

pytestmark = pytest.mark.slow

_HUB, _TOKEN, _CABIN, _DATA, _SPOOL = (
    "CABINA_TEST_HUB_URL",
    "CABINA_TEST_CABIN_TOKEN",
    "CABINA_TEST_CABIN_ID",
    "CABINA_TEST_DATA_DIR",
    "CABINA_TEST_SPOOL_DIR",
)


def qr_in(pdf: Path) -> str:
    """What the QR code on the PDF's first page says, read by OpenCV at 150 dpi."""
    png = subprocess.run(
        ["pdftoppm", "-png", "-r", "150", "-f", "1", "-l", "1", "-singlefile", str(pdf)],
        capture_output=True,
        check=True,
    ).stdout
    image = cv2.imdecode(np.frombuffer(png, dtype=np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, "pdftoppm drew no picture"
    return QrReader()(image) or ""


async def _citizen_prints_a_certificate() -> None:
    """In the Kivy process: from the attract screen to a printed certificate, by touch."""
    import httpx

    from hardware.config import open_devices
    from hardware.simulation import SimulatedHardware
    from kiosk.devtools.kit import kiosk_app
    from kiosk.effects.outbox import Outbox, OutboxSender
    from kiosk.effects.padron_client import PadronClient
    from kiosk.effects.runner import Parts
    from kiosk.flow import Flow, FlowConfig, HubLink

    hub_url, token = os.environ[_HUB], os.environ[_TOKEN]
    data = Path(os.environ[_DATA])
    citizen = data / "citizen"
    devices_wanted = ("a4_printer", "receipt_printer")
    with SimulatedHardware(devices=devices_wanted, a4_spool_dir=Path(os.environ[_SPOOL])) as sim:
        devices = open_devices(sim.config)
        outbox = Outbox(data / "outbox.sqlite3", actor=f"cabin:{os.environ[_CABIN]}")
        flow = Flow(FlowConfig())
        flow.dispatch(HubLink(online=True))
        async with (
            PadronClient(hub_url=hub_url, token=token) as padron,
            httpx.AsyncClient(timeout=10) as http,
        ):
            parts = Parts(
                outbox=outbox,
                padron=padron,
                a4_printer=devices.a4_printer,
                receipt_printer=devices.receipt_printer,
                citizen_dirs=(citizen,),
            )
            async with kiosk_app(flow, parts) as kit:
                ui = kit.driver
                await ui.tap_at(960, 540)
                await ui.wait_for_screen("language")
                await ui.tap("lang_ca")
                await ui.wait_for_screen("home")
                await ui.tap("padron_certificate")
                await ui.wait_for_screen("padron_document")
                for key in "99990001P":
                    await ui.tap(f"key_{key}")
                await ui.tap("continue")
                await ui.wait_for_screen("padron_birth_date")
                for key in "14031984":
                    await ui.tap(f"key_{key}")
                await ui.tap("continue")
                await ui.wait_for_screen("padron_kind", within_s=60)
                await ui.tap("collective")
                await ui.wait_for_screen("padron_preview")
                await ui.wait_until(lambda: not ui.find("print").disabled, "the preview", 60)
                assert ui.find("page").texture is not None, "the first page is shown"
                assert list(citizen.glob("*.png")), "the preview is in the citizen's folder"
                await ui.tap("print")
                await ui.wait_for_screen("padron_done", within_s=120)
                assert kit.flow.padron.printer == "a4"
                await ui.tap("finish")
                await ui.wait_for_screen("goodbye")
                await ui.tap_at(500, 500)
                await ui.wait_for_screen("attract")
                assert kit.app.refused == []
                assert kit.flow.padron.document == "" and kit.flow.padron.certificate is None
                assert [f for f in citizen.rglob("*") if f.is_file()] == []
            sender = OutboxSender(outbox, hub_url=hub_url, token=token, http=http)
            await sender.send_pending()
            assert outbox.count() == 0
        outbox.close()
        devices.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_citizen_prints_a_certificate_that_verifies(office: Office, tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    await run_in_kivy_async(
        __file__,
        "_citizen_prints_a_certificate",
        env={
            _HUB: office.url,
            _TOKEN: office.seed.cabin_token,
            _CABIN: str(office.seed.cabin_id),
            _DATA: str(tmp_path / "kiosk"),
            _SPOOL: str(spool),
        },
        timeout_s=280,
    )

    spooled = sorted(spool.glob("*.pdf"))
    assert len(spooled) == 1, spooled
    text = "\n".join(page.extract_text() for page in PdfReader(spooled[0]).pages)
    for expected in ("Ana", "Prueba", "Jordi", "Pau", "Carrer de la Demostració", "08030"):
        assert expected in text, f"{expected!r} not in the printed certificate"

    url = qr_in(spooled[0])
    assert url.startswith(f"{office.url}/verify/"), url

    async with httpx.AsyncClient(timeout=10) as http:
        answer = await http.get(url, headers={"Accept": "application/json"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "genuine"

    kinds = [entry.kind for entry in office.log.entries()]
    assert "certificate.issued" in kinds
    assert "document.printed" in kinds
