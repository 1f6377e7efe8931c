"""The console against the real kiosk: ``run_kiosk`` with every device's simulator, off screen.

The kiosk runs in a Kivy process of its own (``kiosk.devtools.testing``), touched by its driver as a
citizen would; the agent works in headless Chromium in this process. Between them only the
hub: signalling, documents, the attention log.
"""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest
from pypdf import PdfReader

from kiosk.devtools.testing import run_in_kivy_async

if TYPE_CHECKING:
    # Only the test needs these; the kiosk's own process imports this module without them.
    from console.office import Office
    from playwright.async_api import Browser

pytestmark = [pytest.mark.browser, pytest.mark.slow]

T = TypeVar("T")
#: The kiosk renders in software and shares two cores with everything else: be patient.
_SLOW_S = 120
_HUB, _TOKEN, _CABIN, _DATA, _RECEIPTS = (
    "CABINA_TEST_HUB_URL",
    "CABINA_TEST_CABIN_TOKEN",
    "CABINA_TEST_CABIN_ID",
    "CABINA_TEST_DATA_DIR",
    "CABINA_TEST_RECEIPTS_DIR",
)


async def _citizen_at_the_kiosk() -> None:
    """In the Kivy process: the real kiosk, and a citizen who calls, scans, signs, rates."""
    from kivy.app import App

    from hardware.simulation import SimulatedHardware
    from kiosk.devtools.driver import UiDriver
    from kiosk.runtime import run_kiosk
    from kiosk.screens.frames import next_frame
    from kiosk.settings import KioskSettings
    from provisioning.credential import CabinCredential, write_credential

    settings = KioskSettings(hub_url=os.environ[_HUB], data_dir=Path(os.environ[_DATA]))
    write_credential(
        settings.credential_path,
        CabinCredential(cabin_id=int(os.environ[_CABIN]), token=os.environ[_TOKEN]),
    )
    with SimulatedHardware(receipts_dir=Path(os.environ[_RECEIPTS])) as simulated:
        kiosk = asyncio.ensure_future(run_kiosk(settings, simulated.config, cabin_name="Cabina 1"))
        for _ in range(600):
            app: Any = App.get_running_app()
            if app is not None and app.root is not None:
                break
            if kiosk.done():
                kiosk.result()
            await asyncio.sleep(0.05)
        await next_frame()
        ui = UiDriver(app.root_widget, app.current_screen)
        await ui.wait_until(lambda: app.flow.hub_online, "the hub's welcome", within_s=30)
        await ui.tap_at(960, 540)
        await ui.wait_for_screen("language")
        await ui.tap("lang_es")
        await ui.wait_for_screen("home")
        await ui.tap("talk_to_agent")
        await ui.wait_for_screen("topic")
        await ui.tap("service_padron")
        await ui.wait_for_screen("consent")
        await ui.tap("consent_no")
        await ui.wait_for_screen("call", within_s=120)
        # The agent's picture reaches the cabin's screen.
        await ui.wait_until(lambda: ui.find("agent_video").frames_shown > 10, "agent video", 60)
        await ui.wait_for_screen("step_scan", within_s=120)
        await ui.tap("scan")
        await ui.wait_for_screen("call", within_s=60)
        await ui.wait_for_screen("step_sign", within_s=120)
        await ui.wait_until(lambda: ui.find("document").texture is not None, "the page", 60)
        await ui.draw("pad", [(0.1 + 0.08 * i, 0.3 + 0.3 * (i % 2)) for i in range(10)])
        await ui.tap("accept")
        await ui.wait_for_screen("call", within_s=60)
        await ui.wait_for_screen("survey", within_s=120)
        await ui.tap("face_5")
        await ui.wait_for_screen("goodbye")
        assert app.refused == []
        app.stop()
        await kiosk


async def _unless(kiosk: asyncio.Future[str], step: Awaitable[T]) -> T:
    """``step``'s result, or the kiosk's own failure if it ends first."""
    waiting = asyncio.ensure_future(step)
    await asyncio.wait({waiting, kiosk}, return_when=asyncio.FIRST_COMPLETED)
    if kiosk.done() and not waiting.done():
        waiting.cancel()
        await kiosk  # raises with the kiosk's output
        raise AssertionError("Expected the kiosk to keep going, but it finished first")
    return await waiting


async def test_an_agent_serves_a_citizen_at_the_real_kiosk(
    browser: Browser, office: Office, tmp_path: Path
) -> None:
    from console.browser import (
        answer,
        go_available,
        media_flows_both_ways,
        open_console,
        open_tool,
    )
    from console.office import make_pdf

    receipts = tmp_path / "receipts"
    laia = await open_console(browser, office, "laia")
    page = laia.page
    await go_available(laia)
    kiosk = asyncio.ensure_future(
        run_in_kivy_async(
            __file__,
            "_citizen_at_the_kiosk",
            env={
                _HUB: office.hub.url,
                _TOKEN: office.cabin_token,
                _CABIN: str(office.cabin_id),
                _DATA: str(tmp_path / "kiosk"),
                _RECEIPTS: str(receipts),
            },
            timeout_s=280,
        )
    )
    try:
        ring = page.locator("cab-ring:not([hidden])")
        await _unless(kiosk, ring.wait_for(timeout=120_000))
        assert await ring.locator(".ring-service").inner_text() == "Residents' register"
        await answer(laia)
        await _unless(kiosk, media_flows_both_ways(laia))

        await page.click("cab-cabin-tools .tool-scan")
        await _unless(kiosk, laia.step_status("scan", "done", _SLOW_S))
        # The scan arrives as a PDF, shown by its small preview and opened from it.
        viewer = page.locator("cab-documents .viewer[data-type='application/pdf']")
        await viewer.wait_for()
        preview = viewer.locator("img.doc-preview")
        assert await preview.evaluate("img => img.complete && img.naturalWidth > 0")
        assert await preview.evaluate("img => Math.max(img.naturalWidth, img.naturalHeight)") <= 900
        pdf_url = await viewer.locator("a.doc-open").get_attribute("href")
        assert pdf_url is not None and pdf_url.startswith("blob:")  # opens without the network
        scanned = await page.evaluate(
            """id => fetch('/api/documents/' + id).then(async r => ({
                   type: r.headers.get('content-type'),
                   disposition: r.headers.get('content-disposition'),
                   body: Array.from(new Uint8Array(await r.arrayBuffer())),
               }))""",
            await viewer.get_attribute("data-document-id"),
        )
        assert scanned["type"] == "application/pdf"
        assert scanned["disposition"].startswith("inline; filename=")
        reader = PdfReader(io.BytesIO(bytes(scanned["body"])), strict=True)
        assert len(reader.pages) == 1
        assert float(reader.pages[0].mediabox.width) == pytest.approx(595.3, abs=1.5)  # A4

        await open_tool(laia, "print_receipt")
        await page.fill("cab-cabin-tools input[name=ticket-title]", "Cita prèvia")
        await page.fill("cab-cabin-tools textarea[name=ticket-body]", "Dimarts, 9:30")
        await page.click("cab-cabin-tools .tool-print-receipt")
        await _unless(kiosk, laia.step_status("print_receipt", "done", _SLOW_S))

        await open_tool(laia, "sign")
        await page.set_input_files(
            "cab-cabin-tools input[name=sign-file]",
            files=[{"name": "sollicitud.pdf", "mimeType": "application/pdf", "buffer": make_pdf()}],
        )
        await page.click("cab-cabin-tools .tool-sign")
        await _unless(kiosk, laia.step_status("sign", "done", _SLOW_S))
        await page.locator("cab-documents button[data-kind='signed']").wait_for()

        await page.click("cab-call .hangup")
        form = page.locator("cab-wrapup form.wrapup-form")
        await form.wait_for()
        await form.locator("select[name=topic]").select_option("padron_certificado")
        await form.locator("select[name=outcome]").select_option("resolved")
        await form.locator("button[type=submit]").click()
        await page.locator("cab-topbar .presence[data-state='available']").wait_for()
        await _unless(kiosk, asyncio.sleep(0))
        await kiosk
    finally:
        kiosk.cancel()
    assert list(receipts.glob("*.png")), "the ticket was printed by the receipt simulator"
    assert laia.errors == []
