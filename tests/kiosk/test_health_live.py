"""The whole kiosk reports its health: a receipt printer running out of paper raises the fleet's
alert on the hub, and a new roll clears it.

The hub runs over TLS in this process; the enrolled kiosk (``run_kiosk``) runs in a Kivy process
of its own with the simulated receipt printer, whose paper the test takes away and gives back.
Nothing but the kiosk's own device checks tells the hub.
"""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.enrolled_cabin import TlsHub, enrol_cabin, make_certificate
from support.tls import Certificate

from kiosk.devtools.testing import run_in_kivy_async

pytestmark = pytest.mark.slow

_HUB, _CA, _DATA = "CABINA_TEST_HUB_URL", "CABINA_TEST_HUB_CA", "CABINA_TEST_DATA_DIR"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[TlsHub]:
    """The hub over TLS, with the demo data."""
    certificate: Certificate = make_certificate(tmp_path / "tls", "hub")
    served = TlsHub(tmp_path / "hub", certificate).start()
    yield served
    served.stop()


async def _a_kiosk_whose_printer_runs_out() -> None:
    from kivy.app import App

    from hardware.health import PaperLevel
    from hardware.simulation import SimulatedHardware
    from kiosk.devtools.driver import UiDriver
    from kiosk.runtime import run_kiosk
    from kiosk.settings import KioskSettings

    context = ssl.create_default_context(cafile=os.environ[_CA])
    settings = KioskSettings(
        hub_url="http://192.0.2.1:8000", data_dir=Path(os.environ[_DATA]), health_interval_s=0.3
    )
    with SimulatedHardware(devices=("receipt_printer",)) as simulated:
        assert simulated.receipt_printer is not None, simulated.failures
        printer = simulated.receipt_printer
        kiosk = asyncio.ensure_future(run_kiosk(settings, simulated.config))
        app: Any = None
        for _ in range(600):
            app = App.get_running_app()
            if (app is not None and app.root is not None) or kiosk.done():
                break
            await asyncio.sleep(0.05)
        assert not kiosk.done(), kiosk.result()
        ui = UiDriver(app.root_widget, app.current_screen)
        await ui.wait_until(lambda: app.flow.hub_online, "the hub's welcome", within_s=30)

        async with httpx.AsyncClient(base_url=os.environ[_HUB], verify=context) as http:
            login = await http.post(
                "/api/auth/login", json={"username": "technician", "password": "technician-demo"}
            )
            http.headers["Authorization"] = f"Bearer {login.json()['token']}"

            async def printer_row() -> dict[str, Any] | None:
                cabins = (await http.get("/api/fleet/cabins")).json()
                online = [cabin for cabin in cabins if cabin["online"]]
                assert len(online) == 1, online
                rows = [d for d in online[0]["devices"] if d["device"] == "receipt_printer"]
                return rows[0] if rows else None

            async def printer_alerts() -> list[tuple[str, str, str]]:
                found = (await http.get("/api/fleet/alerts")).json()["alerts"]
                return [
                    (a["kind"], a["severity"], a["code"])
                    for a in found
                    if a["device"] == "receipt_printer"
                ]

            async def until(what: str, holds: Any) -> None:
                for _ in range(300):
                    if await holds():
                        return
                    await asyncio.sleep(0.1)
                raise AssertionError(f"Expected {what}, but it did not happen within 30 s")

            async def printer_ok() -> bool:
                row = await printer_row()
                return row is not None and row["state"] == "ok"

            await until("the kiosk's first telemetry", printer_ok)
            assert await printer_alerts() == []

            printer.set_paper(PaperLevel.NEAR_END)

            async def paper_low() -> bool:
                return await printer_alerts() == [("paper_low", "warning", "near_end")]

            await until("a paper-low warning", paper_low)
            assert "receipt_printer" not in app.flow.device_faults

            printer.set_paper(PaperLevel.OUT)

            async def paper_out() -> bool:
                return await printer_alerts() == [("device_fault", "fault", "paper_out")]

            await until("a paper-out fault", paper_out)
            await ui.wait_until(
                lambda: app.flow.device_faults.get("receipt_printer") == "paper_out",
                "the kiosk to stop offering printed receipts",
            )
            assert not app.flow.can_print_ticket

            printer.set_paper(PaperLevel.OK)

            async def cleared() -> bool:
                return await printer_alerts() == [] and await printer_ok()

            await until("the alert to clear after the new roll", cleared)
            await ui.wait_until(
                lambda: "receipt_printer" not in app.flow.device_faults,
                "the kiosk to print again",
            )
        app.stop()
        status = await asyncio.wait_for(kiosk, 60)
    assert status == 0, status
    assert app.refused == [], app.refused


async def test_a_printer_out_of_paper_raises_and_clears_the_fleet_alert(
    hub: TlsHub, tmp_path: Path
) -> None:
    data_dir = tmp_path / "kiosk"
    await asyncio.to_thread(enrol_cabin, hub, data_dir, "dmi:HEALTH-1", "Cabina Salut")
    await run_in_kivy_async(
        __file__,
        "_a_kiosk_whose_printer_runs_out",
        env={_HUB: hub.url, _CA: str(hub.certificate.cert), _DATA: str(data_dir)},
    )
