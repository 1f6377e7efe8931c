"""The console in a real browser (Debian's Chromium) against a real hub and a cabin.

The cabin is :class:`cabin_peer.CabinPeer` (aiortc and the protocol); tickets go through the
real ESC/POS backend to the receipt printer simulator. The main journey also writes the
screenshots of ``docs/screenshots/console-*.png``.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from console.browser import (
    Console,
    answer,
    go_available,
    media_flows_both_ways,
    open_console,
    open_tool,
)
from console.cabin_peer import CabinPeer
from console.office import Office, make_pdf
from playwright.async_api import Browser, WebSocketRoute
from pypdf import PdfReader

from hardware.health import PaperLevel
from hardware.receipt_printer import ReceiptPrinter, ReceiptPrinterConfig, open_receipt_printer
from hardware.receipt_printer.simulator import SimulatorHandle, start_background
from hub.services import services_of

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DNI = "12345678Z"


@pytest.fixture
def receipts(tmp_path: Path) -> Iterator[tuple[SimulatorHandle, ReceiptPrinter]]:
    """The receipt printer simulator and the real backend aimed at it."""
    with start_background(out_dir=tmp_path / "receipts") as simulator:
        printer = open_receipt_printer(
            ReceiptPrinterConfig(backend="simulator", host=simulator.host, port=simulator.port)
        )
        yield simulator, printer
        printer.close()


@pytest.fixture
async def cabin(
    office: Office, receipts: tuple[SimulatorHandle, ReceiptPrinter]
) -> AsyncIterator[CabinPeer]:
    """The office's cabin, connected, with a ticket printer."""
    peer = CabinPeer(office.hub.ws_url, office.hub.url, office.cabin_token, printer=receipts[1])
    await peer.open()
    yield peer
    await peer.close()


def attention(office: Office, attention_id: str) -> dict[str, Any]:
    """An attention as a supervisor reads it through the API."""
    response = office.client.get(
        f"/api/attentions/{attention_id}", headers=office.headers("montse")
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def test_an_agent_serves_a_citizen_from_ring_to_history(
    browser: Browser,
    office: Office,
    cabin: CabinPeer,
    receipts: tuple[SimulatorHandle, ReceiptPrinter],
    tmp_path: Path,
) -> None:
    laia = await open_console(browser, office, "laia")
    page = laia.page
    await go_available(laia)
    await laia.shot("available")

    # A citizen calls: the console rings with who, where, what, in which language.
    await cabin.call("padron", "es")
    ring = page.locator("cab-ring:not([hidden])")
    await ring.wait_for()
    assert await ring.locator(".ring-cabin").inner_text() == "Cabina 1"
    assert await ring.locator(".ring-service").inner_text() == "Residents' register"
    assert await ring.locator(".ring-language").inner_text() == "Spanish"
    assert await page.evaluate("!document.querySelector('cab-desk').ringer.audio.paused")
    await laia.shot("ringing")

    # One click answers; video and sound flow both ways.
    await answer(laia)
    await cabin.expect("call.connected", call_id=cabin.call_id)
    assert not await page.evaluate("document.querySelector('cab-desk').ringer.ringing")
    stats = await media_flows_both_ways(laia, cabin)
    assert stats["width"] == 640 and stats["height"] == 360
    quality = await laia.text("cab-call .quality .quality-level")
    assert quality in ("Good connection", "Fair connection")

    # The agent checks the citizen's identity: a first visit, so no history yet.
    await page.select_option("cab-citizen select[name=method]", "document_on_camera")
    await page.fill("cab-citizen input[name=document_number]", DNI)
    await page.click("cab-citizen .identity-form button[type=submit]")
    assert "Identity verified" in await laia.text("cab-citizen .identity-verified")
    assert await laia.text("cab-citizen .history-empty") == "No earlier attentions."

    # A scan from the cabin opens in the console.
    await page.click("cab-cabin-tools .tool-scan")
    assert await laia.step_status("scan", "done") == "Done"
    image = page.locator("cab-documents .viewer img.doc-image")
    await image.wait_for()
    assert await image.evaluate("img => img.complete && img.naturalWidth === 620")

    # A ticket comes out of the receipt printer.
    simulator, _ = receipts
    await open_tool(laia, "print_receipt")
    await page.fill("cab-cabin-tools input[name=ticket-title]", "Cita prèvia")
    await page.fill("cab-cabin-tools textarea[name=ticket-body]", "Dimarts 10/3, 9:30\nTaulell 4")
    await page.click("cab-cabin-tools .tool-print-receipt")
    assert await laia.step_status("print_receipt", "done") == "Done"
    printed = await asyncio.to_thread(simulator.wait_for_receipts, 1)
    assert printed[0].texts[:3] == ["Cita prèvia", "Dimarts 10/3, 9:30", "Taulell 4"]
    assert list((tmp_path / "receipts").glob("*.png"))

    # A signature on the agent's PDF comes back signed.
    await open_tool(laia, "sign")
    await page.set_input_files(
        "cab-cabin-tools input[name=sign-file]",
        files=[{"name": "sollicitud.pdf", "mimeType": "application/pdf", "buffer": make_pdf()}],
    )
    await page.click("cab-cabin-tools .tool-sign")
    assert await laia.step_status("sign", "done") == "Done"
    signed_button = page.locator("cab-documents button[data-kind='signed']")
    await signed_button.wait_for()
    signed_id = await signed_button.get_attribute("data-document-id")
    await page.locator(f"cab-documents .viewer[data-document-id='{signed_id}']").wait_for()
    signed = await page.evaluate(
        """id => fetch('/api/documents/' + id).then(r => r.arrayBuffer())
                 .then(b => Array.from(new Uint8Array(b)))""",
        signed_id,
    )
    text = PdfReader(io.BytesIO(bytes(signed))).pages[-1].extract_text()
    assert "Signat a la cabina" in text
    await page.locator("cab-documents button[data-kind='scan']").click()
    await image.wait_for()
    await page.evaluate(
        "window.scrollTo(0, 0); document.querySelector('.desk-side').scrollTo(0, 0)"
    )
    await laia.shot("in-call")

    # Hanging up leads to wrap-up: topic and outcome from the hub's lists.
    await page.click("cab-call .hangup")
    form = page.locator("cab-wrapup form.wrapup-form")
    await form.wait_for()
    topics = await form.locator("select[name=topic] option").all_inner_texts()
    assert "Change of address" in topics and "Paying a bill" not in topics
    await form.locator("select[name=topic]").select_option("padron_domicilio")
    await form.locator("select[name=outcome]").select_option("resolved")
    await form.locator("textarea[name=notes]").fill("Needs the lease contract next time.")
    await page.evaluate("window.scrollTo(0, 0)")
    await laia.shot("wrap-up")
    await form.locator("button[type=submit]").click()
    await page.locator("cab-topbar .presence[data-state='available']").wait_for()
    await services_of(office.app).event_writer.flush()
    first = attention(office, cabin.attention_id or "")
    assert (first["topic"], first["outcome"]) == ("padron_domicilio", "resolved")
    assert first["wait_s"] is not None and first["talk_s"] is not None
    kinds = [item["kind"] for item in first["timeline"]]
    assert "document.scanned" in kinds and "document.signed" in kinds

    # The same citizen comes back: this time the agent sees what happened before.
    first_attention = cabin.attention_id
    await cabin.call("padron", "es")
    await answer(laia)
    await cabin.expect("call.connected", call_id=cabin.call_id)
    await page.fill("cab-citizen input[name=document_number]", "12.345.678-z")
    await page.click("cab-citizen .identity-form button[type=submit]")
    earlier = page.locator(f"cab-citizen .history li[data-attention-id='{first_attention}']")
    await earlier.wait_for()
    assert await earlier.locator(".history-topic").inner_text() == "Change of address"
    assert await earlier.locator(".history-outcome").inner_text() == "Resolved"
    assert await earlier.locator(".history-documents").inner_text() == "Scan, Signed document"

    # The supervisor sees the service live and today's figures.
    montse = await open_console(browser, office, "montse")
    await montse.page.locator("cab-topbar a[href='#/supervisor']").click()
    board = montse.page.locator("cab-supervisor")
    await board.locator("tr[data-activity='in_call']").wait_for()
    assert await board.locator("[data-figure='attentions'] .figure-value").inner_text() == "2"
    assert await board.locator("[data-figure='answered'] .figure-value").inner_text() == "2"
    agent_row = board.locator(f"tr[data-agent-id='{office.user_id('laia')}']")
    assert await agent_row.get_attribute("data-state") == "in_call"
    await montse.shot("supervisor", full_page=True)
    href = await board.locator(".export a.button").get_attribute("href")
    exported = await montse.page.evaluate("url => fetch(url).then(r => r.text())", href)
    assert first_attention in exported and "lease contract" not in exported

    await cabin.hang_up()
    await page.locator("cab-wrapup form.wrapup-form").wait_for()
    assert "The citizen hung up." in await laia.text("cab-notices")
    assert laia.errors == [] and montse.errors == []


async def test_sign_in_page(browser: Browser, office: Office) -> None:
    context = await browser.new_context(viewport={"width": 1366, "height": 860}, locale="en-GB")
    page = await context.new_page()
    await page.goto(f"{office.hub.url}/")
    await page.locator("form.signin-form").wait_for()
    await Console(page).shot("signin")
    await page.fill("input[name=username]", "laia")
    await page.fill("input[name=password]", "not-her-password")
    await page.click("form.signin-form button[type=submit]")
    error = page.locator("form.signin-form .form-error")
    await error.wait_for()
    assert await error.inner_text() == "The username or password is not right."
    # The console speaks the languages its agents speak.
    await page.select_option("form.signin-form select[name=language]", "eu")
    await page.locator("form.signin-form button[type=submit]:text('Sartu')").wait_for()
    assert await page.evaluate("document.documentElement.lang") == "eu"


async def test_bad_cases_read_as_plain_messages(
    browser: Browser, office: Office, receipts: tuple[SimulatorHandle, ReceiptPrinter]
) -> None:
    simulator, printer = receipts
    simulator.set_paper(PaperLevel.OUT)
    cabin = CabinPeer(
        office.hub.ws_url,
        office.hub.url,
        office.cabin_token,
        printer=printer,
        has_scanner=False,
        citizen_signs=False,
    )
    await cabin.open()
    sockets: list[WebSocketRoute] = []

    def through(ws: WebSocketRoute) -> None:
        ws.connect_to_server()
        sockets.append(ws)

    laia = await open_console(browser, office, "laia", locale="ca-ES", route=through)
    page = laia.page
    await go_available(laia)

    # The console loses its connection: it says so, reconnects, and is available again.
    await sockets[-1].close(code=4000, reason="network down")
    notice = page.locator("cab-notices .notice[data-key='connection']")
    await notice.wait_for()
    assert "S'ha perdut la connexió amb el hub" in await notice.inner_text()
    await page.locator("cab-notices .notice", has_text="Connectat de nou amb el hub.").wait_for()
    await page.locator("cab-topbar .presence[data-state='available']").wait_for()
    assert len(sockets) == 2

    await cabin.call("padron", "es")
    await page.locator("cab-ring:not([hidden])").wait_for()
    await answer(laia)
    await cabin.expect("call.connected", call_id=cabin.call_id)

    # A scan from a cabin without a scanner, a ticket with no paper, a signature refused.
    await page.click("cab-cabin-tools .tool-scan")
    assert (
        await laia.step_status("scan", "failed") == "Aquesta cabina no té cap escàner disponible."
    )
    await open_tool(laia, "print_receipt")
    await page.fill("cab-cabin-tools textarea[name=ticket-body]", "Hora: 9:30")
    await page.click("cab-cabin-tools .tool-print-receipt")
    message = await laia.step_status("print_receipt", "failed")
    assert message == "La impressora s'ha quedat sense paper."
    await open_tool(laia, "sign")
    await page.set_input_files(
        "cab-cabin-tools input[name=sign-file]",
        files=[{"name": "a.pdf", "mimeType": "application/pdf", "buffer": make_pdf()}],
    )
    await page.click("cab-cabin-tools .tool-sign")
    assert await laia.step_status("sign", "declined") == "El ciutadà ho ha rebutjat"
    notices = await page.locator("cab-notices").inner_text()
    assert "sense paper" in notices and "rebutjat" in notices

    # Another agent tries to answer the call Laia already took.
    nerea = await open_console(browser, office, "nerea", locale="es-ES")
    await go_available(nerea)
    await nerea.page.evaluate(
        "callId => document.querySelector('cab-desk').accept({call_id: callId})", cabin.call_id
    )
    taken = nerea.page.locator("cab-notices .notice-warning")
    await taken.wait_for()
    assert "Otro agente ya ha contestado esa llamada" in await taken.inner_text()

    # The cabin vanishes mid-call: after the hub's grace period the call ends, and says why.
    await cabin.vanish()
    await page.locator("cab-wrapup form.wrapup-form").wait_for(timeout=60_000)
    assert "La cabina s'ha desconnectat" in await page.locator("cab-notices").inner_text()
    assert laia.errors == [] and nerea.errors == []


async def test_console_pages_carry_a_csp_that_blocks_inline_script(
    browser: Browser, office: Office
) -> None:
    laia = await open_console(browser, office, "laia")
    blocked = await laia.page.evaluate(
        """() => { try { document.body.insertAdjacentHTML('beforeend', '<b>x</b>'); return false; }
                   catch (error) { return error.name; } }"""
    )
    assert blocked == "TypeError"  # Trusted Types refuse HTML strings
    async with httpx.AsyncClient(base_url=office.hub.url) as http:
        response = await http.get("/console/")
    assert "require-trusted-types-for 'script'" in response.headers["content-security-policy"]
    # The browser reports the refusal, and nothing else went wrong.
    assert len(laia.errors) == 1 and "TrustedHTML" in laia.errors[0]


async def test_a_call_is_transferred_to_another_queue_with_a_note(
    browser: Browser, office: Office, cabin: CabinPeer
) -> None:
    laia = await open_console(browser, office, "laia", locale="es-ES")
    page = laia.page
    await go_available(laia)
    await cabin.call("padron", "es")
    await answer(laia)
    await cabin.expect("call.connected", call_id=cabin.call_id)
    await page.click("cab-call button:text('Transferir')")
    dialog = page.locator("dialog.transfer-dialog")
    await dialog.locator("select[name=service]").select_option("general")
    await dialog.locator("textarea[name=note]").fill("Pregunta per les ajudes al lloguer.")
    await dialog.locator("button[value=transfer]").click()
    transferred = await cabin.expect("call.transferred", call_id=cabin.call_id)
    assert transferred["service"] == "general"
    await page.locator("cab-wrapup form.wrapup-form").wait_for()
    assert "Llamada transferida." in await page.locator("cab-notices").inner_text()
    assert laia.errors == []


async def test_reloading_the_page_loses_neither_the_call_nor_the_wrap_up(
    browser: Browser, office: Office, cabin: CabinPeer
) -> None:
    laia = await open_console(browser, office, "laia")
    page = laia.page
    await go_available(laia)
    await cabin.call("general", "ca")
    await answer(laia)
    await cabin.expect("call.connected", call_id=cabin.call_id)
    await media_flows_both_ways(laia, cabin)

    await page.reload()
    await page.locator("cab-call:not([hidden]) video.remote").wait_for()
    assert await page.locator("cab-call .call-cabin").inner_text() == "Cabina 1"
    before = cabin.frames_received
    await cabin.offer()  # the cabin sees the agent's video stop and offers again
    stats = await media_flows_both_ways(laia, cabin, frames=before + 30)
    assert stats["framesDecoded"] > 30

    await page.click("cab-call .hangup")
    await page.locator("cab-wrapup form.wrapup-form").wait_for()
    await page.reload()
    form = page.locator(f"cab-wrapup form[data-attention-id='{cabin.attention_id}']")
    await form.wait_for()
    await form.locator("select[name=topic]").select_option("general_info")
    await form.locator("select[name=outcome]").select_option("referred")
    await form.locator("button[type=submit]").click()
    await page.locator("cab-notices .notice", has_text="Attention closed.").wait_for()
    assert await page.locator("cab-wrapup form").count() == 0
    # A page that went away took its agent offline: it comes back away, by choice.
    assert await page.locator("cab-topbar .presence").get_attribute("data-state") == "away"
    await services_of(office.app).event_writer.flush()
    response = office.client.get(
        f"/api/attentions/{cabin.attention_id}", headers=office.headers("montse")
    )
    assert response.json()["outcome"] == "referred"
    assert laia.errors == []
