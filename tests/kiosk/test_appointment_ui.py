"""Appointments at the cabin by real touches, against a real hub with the demo offers.

A citizen books the last free time of the fortnight (mistyping the DNI's letter on the way,
which is said under the field), confirms, and a ticket comes out of the simulated receipt
printer with the date, the place, the reference and a QR code of the management link. Then
another citizen holds that QR code up to the simulated camera: the cabin reads it, the hub
finds the appointment and says it is too early to join, in the citizen's words. Nothing of the
first citizen stays on screen afterwards.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from kiosk.devtools.testing import run_in_kivy

_HUB, _TOKEN, _RECEIPTS, _QR = (
    "CABINA_TEST_HUB_URL",
    "CABINA_TEST_CABIN_TOKEN",
    "CABINA_TEST_RECEIPTS_DIR",
    "CABINA_TEST_QR_DIR",
)
NAME = "MARTA LOPEZ"
DOCUMENT = "12345678Z"
EMAIL = "MARTA@EXAMPLE.ORG"


async def _book_then_show_the_ticket_to_the_camera() -> None:
    import cv2
    import httpx
    import qrcode

    from cabina.identity_texts import refusal_text
    from contract.appointments import Channel
    from hardware.camera.qr import QrReader
    from hardware.camera.simulator import SimulatedCamera
    from hardware.config import open_devices
    from hardware.simulation import SimulatedHardware
    from kiosk.devtools.driver import UiDriver
    from kiosk.devtools.kit import kiosk_app
    from kiosk.effects.appointments_client import AppointmentsClient
    from kiosk.effects.runner import Parts
    from kiosk.flow import Flow, FlowConfig, State
    from kiosk.flow.appointments import AppointmentProblem
    from kiosk.screens import appointment_texts as at

    hub_url, token = os.environ[_HUB], os.environ[_TOKEN]
    receipts = Path(os.environ[_RECEIPTS])
    read_qr = QrReader()

    def tickets() -> list[Path]:
        return sorted(receipts.glob("*.png"))

    def codes_on_tickets() -> list[str | None]:
        pictures = [cv2.imread(str(ticket)) for ticket in tickets()]
        return [None if p is None else read_qr(p.astype("uint8")) for p in pictures]

    async def type_keys(ui: UiDriver, text: str) -> None:
        for char in text:
            await ui.tap("key_space" if char == " " else f"key_{char}")

    with SimulatedHardware(devices=("receipt_printer", "camera"), receipts_dir=receipts) as sim:
        devices = open_devices(sim.config)
        flow = Flow(FlowConfig(languages=("es", "ca", "eu", "en"), default_language="ca"))
        async with httpx.AsyncClient(timeout=30) as http:
            parts = Parts(
                receipt_printer=devices.receipt_printer,
                appointments=AppointmentsClient(http, hub_url=hub_url, token=token),
                camera=devices.camera,
                read_qr=read_qr,
                qr_watching=lambda: flow.state is State.APPOINTMENT_CHECK_IN,
            )
            async with kiosk_app(flow, parts) as kit:
                ui = kit.driver
                kit.runner.on_link(True)  # as the hub link does: the offers are asked for
                await ui.tap_at(960, 540)
                await ui.wait_for_screen("language")
                await ui.tap("lang_ca")
                await ui.wait_for_screen("home")
                await ui.wait_until(
                    lambda: not ui.find("appointment").disabled, "the booking tile", 30
                )
                await ui.tap("appointment")
                await ui.wait_for_screen("appointment_offer")
                offer = next(
                    o for o in kit.flow.appointment_offers if o.channel is Channel.CABIN_VIDEO
                )
                await ui.tap(f"offer_{offer.id}")
                await ui.wait_for_screen("appointment_day")
                await ui.wait_until(lambda: kit.flow.appointment.days_loaded, "the free days", 30)
                last_day = kit.flow.appointment.days[-1].day
                await ui.tap(f"day_{last_day.isoformat()}")
                await ui.wait_for_screen("appointment_time")
                last = kit.flow.appointment_slots()[-1].starts_at
                local = last.astimezone(ZoneInfo(offer.timezone))
                await ui.tap(f"time_{local:%H%M}")
                await ui.wait_for_screen("appointment_details")

                await type_keys(ui, NAME)
                await ui.tap("document")
                await type_keys(ui, DOCUMENT[:-1] + "A")
                await ui.tap("email")
                await type_keys(ui, EMAIL)
                assert ui.find("email").text == EMAIL.lower()
                await ui.tap("continue")
                wrong_letter = refusal_text("invalid_document", "wrong_letter", "ca")
                assert ui.find("document_message").text == wrong_letter
                assert ui.screen == "appointment_details", "nothing was sent to the hub"
                await ui.tap("document")
                await ui.tap("key_erase")
                await ui.tap("key_Z")
                assert ui.find("document_message").text == ""
                await ui.tap("continue")
                await ui.wait_for_screen("appointment_confirm")
                assert "30" in ui.find("consent").text
                await ui.tap("confirm")
                await ui.wait_for_screen("appointment_done", within_s=30)

                booked = kit.flow.appointment.booked
                assert booked is not None and booked.manage_url
                assert ui.find("reference").text == booked.reference
                assert booked.starts_at == last and booked.language == "ca"
                # The ticket came out with the link's QR code: read it as a camera would
                # (once the printer has finished drawing it).
                await ui.wait_until(
                    lambda: codes_on_tickets() == [booked.manage_url],
                    "the ticket with the link's QR code",
                    30,
                )
                assert "PrintAppointmentReceipt" in kit.commands
                await ui.tap("finish")
                await ui.wait_for_screen("goodbye")
                await ui.tap_at(500, 500)
                await ui.wait_for_screen("attract")
                on_screen = [
                    str(getattr(widget, "text", ""))
                    for screen in kit.app.root_widget.ids.screens.screens
                    for widget in screen.walk()
                ]
                leftovers = [t for t in on_screen if "MARTA" in t.upper() or DOCUMENT in t]
                assert leftovers == []

                # Another visit: the citizen shows the e-mail's QR code to the camera.
                image = Path(os.environ[_QR]) / "qr.png"
                image.write_bytes(_png(qrcode.make(booked.manage_url)))
                await ui.tap_at(960, 540)
                await ui.wait_for_screen("language")
                await ui.tap("lang_es")
                await ui.wait_for_screen("home")
                await ui.tap("check_in")
                await ui.wait_for_screen("appointment_check_in")
                camera = devices.camera
                assert isinstance(camera, SimulatedCamera)
                camera.show_image(image)
                too_early = at.problem_text(AppointmentProblem("not_changeable", "too_early"), "es")
                await ui.wait_until(
                    lambda: ui.find("message").text == too_early, "the hub's answer", 30
                )
                assert "CheckInAppointment" in kit.commands
                assert kit.app.refused == []
        devices.close()


def _png(code: object) -> bytes:
    """A QR code made by ``qrcode`` as PNG bytes (what an e-mail shows)."""
    import io

    out = io.BytesIO()
    code.save(out)  # type: ignore[attr-defined]
    return out.getvalue()


@pytest.mark.slow
def test_a_booking_prints_its_ticket_and_its_qr_code_is_read_back(
    hub: object, tmp_path: Path
) -> None:
    from hub.attention_log import AttentionLog
    from hub.db import Database
    from hub.demo_data import seed_demo_appointments

    running: object = hub
    settings = running.settings  # type: ignore[attr-defined]
    database = Database(settings.effective_database_url)
    try:
        log = AttentionLog(database)
        seed_demo_appointments(
            log,
            site_id=running.site_id,  # type: ignore[attr-defined]
            now=datetime.now(UTC),
        )
    finally:
        database.dispose()
    receipts, qr = tmp_path / "receipts", tmp_path / "qr"
    qr.mkdir()
    run_in_kivy(
        __file__,
        "_book_then_show_the_ticket_to_the_camera",
        env={
            _HUB: running.url,  # type: ignore[attr-defined]
            _TOKEN: running.token,  # type: ignore[attr-defined]
            _RECEIPTS: str(receipts),
            _QR: str(qr),
        },
    )
    tickets = list(receipts.glob("*.png"))
    assert len(tickets) == 1, "one ticket came out of the receipt printer"
