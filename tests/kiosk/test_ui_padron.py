"""The padrón screens by real touches, against a real hub with the demo residents.

A citizen who mistypes the letter, then a day that does not exist, then a date the padrón does
not know, reads a plain message each time; in a cabin with only a receipt printer they leave
with a ticket carrying the certificate's code and QR. Then nothing of them stays: not on disk
(the preview is shredded, the outbox holds no identifier), not in the flow, not on a screen.
"""

from __future__ import annotations

import io
import os
import socket
import uuid
from datetime import date
from pathlib import Path

import pytest

from kiosk.devtools.testing import run_in_kivy

_HUB, _TOKEN, _CABIN, _DATA, _RECEIPTS = (
    "CABINA_TEST_HUB_URL",
    "CABINA_TEST_CABIN_TOKEN",
    "CABINA_TEST_CABIN_ID",
    "CABINA_TEST_DATA_DIR",
    "CABINA_TEST_RECEIPTS_DIR",
)
DOCUMENT = "99990001P"
#: What identifies the sample resident, in the forms a leftover could hold it.
TRACES = (DOCUMENT, "Prueba Ejemplo", "Demostraci", "1984-03-14", "14/03/1984")


def traces(data: bytes) -> list[str]:
    """Which of the resident's identifiers ``data`` holds, in UTF-8 or UTF-16."""
    return [
        needle
        for needle in TRACES
        for encoding in ("utf-8", "utf-16-le")
        if needle.encode(encoding) in data
    ]


def free_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def files(folder: Path) -> list[Path]:
    """Every file below ``folder``."""
    return [path for path in folder.rglob("*") if path.is_file()]


def leftovers(folder: Path) -> list[str]:
    """Each file below ``folder`` that holds an identifier of the resident, with what."""
    return [
        f"{path.relative_to(folder)}: {found}"
        for path in files(folder)
        if (found := traces(path.read_bytes()))
    ]


async def _mistakes_then_a_ticket_and_nothing_left() -> None:
    import httpx

    from cabina.identity_texts import refusal_text
    from hardware.config import open_devices
    from hardware.simulation import SimulatedHardware
    from kiosk.devtools.driver import UiDriver
    from kiosk.devtools.kit import kiosk_app
    from kiosk.effects.outbox import Outbox, OutboxSender
    from kiosk.effects.padron_client import PadronClient
    from kiosk.effects.runner import Parts
    from kiosk.flow import Flow, FlowConfig, HubLink

    hub_url, token = os.environ[_HUB], os.environ[_TOKEN]
    data = Path(os.environ[_DATA])
    citizen = data / "citizen"

    async def type_keys(ui: UiDriver, keys: str) -> None:
        for key in keys:
            await ui.tap(f"key_{key}")

    with SimulatedHardware(
        devices=("receipt_printer",), receipts_dir=Path(os.environ[_RECEIPTS])
    ) as sim:
        devices = open_devices(sim.config)
        outbox = Outbox(data / "outbox.sqlite3", actor=f"cabin:{os.environ[_CABIN]}")
        flow = Flow(FlowConfig())
        flow.dispatch(HubLink(online=True))
        async with PadronClient(hub_url=hub_url, token=token) as padron:
            parts = Parts(
                outbox=outbox,
                padron=padron,
                receipt_printer=devices.receipt_printer,
                citizen_dirs=(citizen,),
            )
            async with kiosk_app(flow, parts) as kit:
                ui = kit.driver
                await ui.tap_at(960, 540)
                await ui.wait_for_screen("language")
                await ui.tap("lang_es")
                await ui.wait_for_screen("home")
                await ui.tap("padron_certificate")
                await ui.wait_for_screen("padron_document")

                await type_keys(ui, "99990001A")
                assert ui.find("typed").text == " ".join("99990001A")
                await ui.tap("continue")
                wrong_letter = refusal_text("invalid_document", "wrong_letter", "es")
                assert ui.find("message").text == wrong_letter
                assert ui.screen == "padron_document", "nothing was sent to the hub"
                await type_keys(ui, ["erase", "P"])  # type: ignore[arg-type]
                assert ui.find("message").text == ""
                await ui.tap("continue")
                await ui.wait_for_screen("padron_birth_date")

                await type_keys(ui, "29022023")
                await ui.tap("continue")
                no_such_day = refusal_text("invalid_birth_date", "no_such_day", "es")
                assert ui.find("message").text == no_such_day
                await ui.tap("day")
                await type_keys(ui, ["erase", "erase", "1", "5"])  # type: ignore[arg-type]
                await ui.tap("month")
                await type_keys(ui, ["erase", "erase", "0", "3"])  # type: ignore[arg-type]
                await ui.tap("year")
                await type_keys(ui, ["erase"] * 4 + list("1984"))  # type: ignore[arg-type]
                await ui.tap("continue")
                # Not the resident's birthday: the hub does not find them, and says so.
                await ui.wait_for_screen("padron_document", within_s=30)
                assert "padrón" in ui.find("message").text
                assert ui.find("typed").text == " ".join(DOCUMENT)
                await ui.tap("continue")
                await ui.wait_for_screen("padron_birth_date")
                await ui.tap("day")
                await type_keys(ui, ["erase", "erase", "1", "4"])  # type: ignore[arg-type]
                await ui.tap("continue")
                await ui.wait_for_screen("padron_kind", within_s=30)
                assert ui.find("individual") is not None

                await ui.tap("individual")
                await ui.wait_for_screen("padron_preview")
                await ui.wait_until(lambda: not ui.find("print").disabled, "the preview", 60)
                await ui.tap("print")
                await ui.wait_for_screen("padron_done", within_s=60)
                assert kit.flow.padron.printer == "receipt"
                assert "RecordEvent" in kit.commands
                await ui.tap("finish")
                await ui.wait_for_screen("goodbye")
                await ui.tap_at(500, 500)
                await ui.wait_for_screen("attract")

                assert kit.app.refused == []
                assert "EraseCitizenData" in kit.commands
                # Every screen, shown or not: the typed number is spaced out on screen.
                on_screen = [
                    str(getattr(widget, "text", "")).replace(" ", "")
                    for screen in kit.app.root_widget.ids.screens.screens
                    for widget in screen.walk()
                ]
                assert [t for t in on_screen if traces(t.encode()) or "9999" in t] == []
                padron_state = repr(vars(kit.flow.padron)) + repr(vars(kit.flow.session))
                assert traces(padron_state.encode()) == [] and "9999" not in padron_state
                assert kit.flow.session.buffers == [] and kit.flow.session.files == []
            async with httpx.AsyncClient(timeout=10) as http:
                sender = OutboxSender(outbox, hub_url=hub_url, token=token, http=http)
                await sender.send_pending()
        assert outbox.count() == 0
        outbox.close()
        devices.close()

    assert leftovers(data) == []
    assert files(citizen) == []


@pytest.mark.slow
def test_mistakes_are_explained_a_ticket_prints_and_nothing_is_left(
    hub: object, tmp_path: Path
) -> None:
    from hub.db import Database
    from hub.padron.demo_residents import seed_demo_residents

    running: object = hub
    settings = running.settings  # type: ignore[attr-defined]
    database = Database(settings.effective_database_url)
    try:
        seed_demo_residents(database, today=date.today())
    finally:
        database.dispose()
    receipts = tmp_path / "receipts"
    run_in_kivy(
        __file__,
        "_mistakes_then_a_ticket_and_nothing_left",
        env={
            _HUB: running.url,  # type: ignore[attr-defined]
            _TOKEN: running.token,  # type: ignore[attr-defined]
            _CABIN: str(running.cabin_id),  # type: ignore[attr-defined]
            _DATA: str(tmp_path / "kiosk"),
            _RECEIPTS: str(receipts),
        },
    )
    assert list(receipts.glob("*.png")), "the ticket came out of the receipt printer"


# --- carrying out the padrón commands, without a window -----------------------------------


def _pdf() -> bytearray:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, "Certificat d'empadronament")
    page.save()
    return bytearray(out.getvalue())


async def test_the_preview_is_drawn_in_the_citizens_folder_or_not_at_all(tmp_path: Path) -> None:
    from kiosk.effects.padron import render_preview

    picture = await render_preview(_pdf(), tmp_path / "citizen")
    assert picture is not None and picture.parent == tmp_path / "citizen"
    assert picture.read_bytes().startswith(b"\x89PNG")
    assert await render_preview(bytearray(b"not a pdf"), tmp_path / "citizen") is None
    assert await render_preview(_pdf(), None) is None
    assert sorted(p.name for p in (tmp_path / "citizen").iterdir()) == [picture.name]


async def test_an_unreachable_hub_and_a_missing_client_are_plain_failures() -> None:
    from kiosk.effects.padron import PadronParts, carry_out
    from kiosk.effects.padron_client import PadronClient
    from kiosk.flow import IdentifyCitizen, PadronFailed

    command = IdentifyCitizen("r-1", str(uuid.uuid4()), DOCUMENT, date(1984, 3, 14), "gl")
    assert await carry_out(command, PadronParts()) == [PadronFailed("r-1", "hub_unreachable")]
    url = f"http://127.0.0.1:{free_port()}"
    async with PadronClient(hub_url=url, token="t", timeout_s=2) as client:
        answer = await carry_out(command, PadronParts(client=client))
    assert answer == [PadronFailed("r-1", "hub_unreachable")]


async def test_a_printer_out_of_paper_is_a_device_fault_and_a_failure(tmp_path: Path) -> None:
    from hardware.config import open_devices
    from hardware.simulation import SimulatedHardware
    from kiosk.effects.padron import PadronParts, carry_out, certificate_ticket
    from kiosk.flow import CertificatePrinted, DeviceFailed, PadronFailed, PrintCertificate

    url = "http://127.0.0.1/verify/W8F8HGMM"
    command = PrintCertificate("r-2", _pdf(), "W8F8-HGMM", url, "eu", a4=True)
    with SimulatedHardware(
        devices=("a4_printer", "receipt_printer"),
        faults={"a4_printer": "paper_out"},
        receipts_dir=tmp_path / "receipts",
    ) as sim:
        devices = open_devices(sim.config)
        try:
            a4_only = PadronParts(a4_printer=devices.a4_printer)
            assert await carry_out(command, a4_only) == [
                DeviceFailed(device="a4_printer", code="paper_out"),
                PadronFailed("r-2", "paper_out"),
            ]
            both = PadronParts(
                a4_printer=devices.a4_printer, receipt_printer=devices.receipt_printer
            )
            receipt = PrintCertificate("r-3", _pdf(), "W8F8-HGMM", url, "eu", a4=False)
            assert await carry_out(receipt, both) == [CertificatePrinted("r-3", "receipt")]
        finally:
            devices.close()
    assert await carry_out(command, PadronParts()) == [PadronFailed("r-2", "missing")]
    assert list((tmp_path / "receipts").glob("*.png"))
    ticket = certificate_ticket("W8F8-HGMM", url, "eu")
    assert ticket.qr == url and "W8F8-HGMM" in [line.text for line in ticket.body]
    assert ticket.header[0].text == "Erroldatze-ziurtagiria"
