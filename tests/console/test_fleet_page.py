"""The fleet page in Debian's Chromium: a technician watches a real cabin, acts on it, enrols
another one from its QR link and revokes the first; an agent is refused the page.

The cabin is the office's, connected over a real WebSocket, with its receipt printer and
handset on their shipped simulators: its telemetry and self-test are ``hardware.check``'s, and
the fleet's actions are carried out by :class:`provisioning.remote.ActionRunner`, as the kiosk
does.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from console.browser import Console, open_console
from console.office import Office
from PIL import Image, ImageDraw, ImageFont
from playwright.async_api import Browser
from support.peers import Peer, open_peer
from websockets.exceptions import ConnectionClosed

from hardware.check import run_check
from hardware.health import PaperLevel
from hardware.simulation import SimulatedHardware
from provisioning.pinning import trust_hub
from provisioning.remote import ActionRequest, ActionRunner
from provisioning.selftest import run_selftest, telemetry_of

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TECHNICIAN = ("technician", "technician-demo")
HEARTBEAT_S = 2.0


def kiosk_screen() -> bytes:
    """What the cabin's screen shows when nobody uses it, as a PNG."""
    image = Image.new("RGB", (640, 360), (31, 95, 139))
    draw = ImageDraw.Draw(image)
    title = ImageFont.truetype("DejaVuSans-Bold.ttf", 34)
    body = ImageFont.truetype("DejaVuSans.ttf", 20)
    draw.text((320, 110), "Bon dia · Buenos días", font=title, fill="white", anchor="mm")
    draw.text((320, 160), "Egun on · Bos días · Hello", font=body, fill="white", anchor="mm")
    draw.rounded_rectangle((120, 240, 520, 300), radius=12, fill="white")
    draw.text((320, 270), "Toqueu per començar", font=body, fill=(31, 39, 48), anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class FleetCabin:
    """The office's cabin: heartbeats, telemetry, and the fleet's actions done and reported."""

    def __init__(self, office: Office, hardware: SimulatedHardware) -> None:
        self.office = office
        self.hardware = hardware
        self.runner = ActionRunner(
            trust_hub(office.hub.url, None),
            office.cabin_token,
            selftest=lambda: run_selftest(hardware.config),
            screenshot=kiosk_screen,
            restart=lambda: None,
        )
        self.done: list[str] = []
        self.closed_code: int | None = None
        self.peer: Peer | None = None
        self._tasks: list[asyncio.Task[None]] = []

    async def connect(self) -> None:
        """Say who it is and when it started, connect, and report its devices."""
        started = datetime.now(UTC) - timedelta(hours=3, minutes=12)
        status = await asyncio.to_thread(
            self.office.client.post,
            "/api/cabin/status",
            json={"version": "0.1.0", "started_at": started.isoformat()},
            headers=self.office.headers("cabin"),
        )
        assert status.status_code == 204, status.text
        self.peer = await open_peer(self.office.hub.ws_url, "/ws/cabin", self.office.cabin_token)
        self._tasks = [asyncio.create_task(self._beat()), asyncio.create_task(self._serve())]
        await self.report()

    async def report(self) -> None:
        """Check the devices and send what the check found as telemetry."""
        assert self.peer is not None
        results = await asyncio.to_thread(run_check, self.hardware.config)
        await self.peer.send(type="telemetry", devices=telemetry_of(results))

    async def _beat(self) -> None:
        assert self.peer is not None
        with contextlib.suppress(ConnectionClosed):
            while True:
                await self.peer.send(type="ping", ts=1.0)
                await asyncio.sleep(HEARTBEAT_S)

    async def _serve(self) -> None:
        assert self.peer is not None
        try:
            while True:
                message = await self.peer.expect("fleet.action", within=600)
                request = ActionRequest.from_message(message)
                await asyncio.to_thread(self.runner.run, request)
                self.done.append(request.kind)
        except ConnectionClosed as closed:
            self.closed_code = closed.rcvd.code if closed.rcvd is not None else None

    async def close(self) -> None:
        """Stop and disconnect."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await task
        if self.peer is not None:
            await self.peer.close()


@pytest.fixture
def hardware() -> Iterator[SimulatedHardware]:
    """The cabin's receipt printer and handset, on their simulators."""
    with SimulatedHardware(devices=("receipt_printer", "handset")) as sim:
        yield sim


@pytest.fixture
async def cabin(office: Office, hardware: SimulatedHardware) -> AsyncIterator[FleetCabin]:
    """The office's cabin, in service and connected."""
    made_active = await asyncio.to_thread(
        office.client.patch,
        f"/api/cabins/{office.cabin_id}",
        json={"status": "active"},
        headers=office.headers("admin"),
    )
    assert made_active.status_code == 200, made_active.text
    connected = FleetCabin(office, hardware)
    await connected.connect()
    yield connected
    await connected.close()


async def open_as(browser: Browser, office: Office, username: str, password: str) -> Console:
    """A new browser context signed in as ``username``."""
    context = await browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-GB")
    page = await context.new_page()
    console = Console(page)
    await page.goto(f"{office.hub.url}/")
    await page.locator("form.signin-form").wait_for()
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    await page.click("form.signin-form button[type=submit]")
    await page.locator("cab-topbar .brand").wait_for()
    return console


def ask_to_enrol(office: Office) -> dict[str, Any]:
    """A new cabin asks the hub for a code, as its first boot does."""
    response = office.client.post(
        "/api/enrolment/requests",
        json={"serial": "dmi:CAB-0002", "hostname": "cabina-2", "version": "0.1.0"},
    )
    assert response.status_code == 201, response.text
    ticket: dict[str, Any] = response.json()
    return ticket


async def test_a_technician_watches_acts_on_enrols_and_revokes_cabins(
    browser: Browser, office: Office, cabin: FleetCabin, hardware: SimulatedHardware
) -> None:
    ticket = await asyncio.to_thread(ask_to_enrol, office)
    console = await open_as(browser, office, *TECHNICIAN)
    page = console.page
    card = f"cab-fleet-cabin[data-cabin-id='{office.cabin_id}']"

    # A technician lands on the fleet page: the cabin, online, device by device.
    assert await console.text("cab-topbar .nav-fleet.current") == "Fleet"
    await page.locator(f"{card}[data-online='true'][data-health='ok']").wait_for()
    assert await console.text(f"{card} h2") == "Cabina 1"
    printer = f"{card} tr[data-device='receipt_printer']"
    assert await console.text(f"{printer} td:first-child") == "Ticket printer"
    assert await console.text(f"{printer} .device-state") == "Working"
    assert await console.text(f"{card} tr[data-device='handset'] .device-state") == "Working"
    assert "0.1.0" in await console.text(f"{card} .fleet-facts")
    assert await console.text(".fleet-alerts .no-alerts") == (
        "No alerts: every cabin in service is heard from and its devices work."
    )
    assert await console.text(".enrol-waiting tr[data-serial='dmi:CAB-0002'] td:nth-child(2)") == (
        "cabina-2"
    )

    # The printer runs out of paper: an alert at the top, and a count in the navigation.
    assert hardware.receipt_printer is not None
    hardware.receipt_printer.set_paper(PaperLevel.OUT)
    await cabin.report()
    alert = ".fleet-alert[data-kind='device_fault'][data-device='receipt_printer']"
    assert await console.text(f"{alert} .alert-text") == "Ticket printer: out of paper"
    assert await console.text(f"{alert} .alert-cabin") == "Cabina 1"
    assert await console.text("cab-topbar .nav-fleet .nav-badge") == "1"
    await page.locator(f"{card}[data-health='fault']").wait_for()
    assert await console.text(f"{printer} .device-error") == "out of paper"

    # A self-test, carried out at the cabin: its result comes back to the page.
    await page.click(f"{card} button[data-action='self_test']")
    test = f"{card} li.fleet-action[data-kind='self_test'][data-status='failed']"
    assert await console.text(f"{test} .action-detail") == "Ticket printer: out of paper"
    assert await console.text(f"{test} .step-status") == "Failed"
    tested = f"{card} .fleet-selftest[open] tr[data-device='receipt_printer'][data-state='fault']"
    assert "out of paper" in await console.text(tested)
    assert (await console.text(f"{card} .fleet-selftest summary")).startswith(
        "Last self-test: failed"
    )

    # A screenshot of what the cabin's screen shows.
    await page.click(f"{card} button[data-action='screenshot']")
    shot = page.locator(f"{card} li.fleet-action[data-kind='screenshot'][data-status='done'] img")
    await shot.wait_for()
    await page.wait_for_function(
        "img => img.complete && img.naturalWidth === 640", arg=await shot.element_handle()
    )
    assert cabin.done == ["self_test", "screenshot"]
    await page.mouse.move(0, 0)
    await console.shot("fleet", full_page=True)

    # Paper back in: the alert goes.
    hardware.receipt_printer.set_paper(PaperLevel.OK)
    await cabin.report()
    await page.locator(".fleet-alerts .no-alerts").wait_for()
    await page.locator("cab-topbar .nav-fleet .nav-badge").wait_for(state="detached")

    # The new cabin's QR code opens the page with its code filled in.
    await page.goto(ticket["qr_payload"])
    code = page.locator("cab-fleet-enrol input[name=code]")
    await page.locator("cab-fleet-enrol.prefilled").wait_for()
    assert await code.input_value() == ticket["code"]
    await page.select_option("cab-fleet-enrol select[name=site]", label="OAC Sant Andreu")
    await page.fill("cab-fleet-enrol input[name=name]", "Cabina 2")
    await code.fill("ZZZ-ZZZ")  # a code no cabin shows
    await page.click("cab-fleet-enrol button[type=submit]")
    assert await console.text("cab-fleet-enrol .enrol-result .form-error") == (
        "No cabin shows that code. Check it on the cabin's screen."
    )
    await code.fill(ticket["code"])
    await page.click("cab-fleet-enrol button[type=submit]")
    assert await console.text("cab-fleet-enrol .enrol-ok") == (
        "Cabina 2 is enrolled at OAC Sant Andreu: it starts in a moment."
    )
    assert await page.evaluate("location.hash") == "#/fleet"
    new_card = page.locator("cab-fleet-cabin h2", has_text="Cabina 2")
    await new_card.wait_for()
    await page.locator(".enrol-waiting tr[data-serial='dmi:CAB-0002']").wait_for(state="detached")
    progress = await asyncio.to_thread(
        office.client.get,
        f"/api/enrolment/requests/{ticket['request_id']}",
        headers={"Authorization": f"Bearer {ticket['poll_token']}"},
    )
    assert progress.json()["status"] == "completed"  # the new cabin gets its credential

    # Revoking the first cabin disconnects it (4401) and the page shows it offline.
    await page.click(f"{card} button[data-action='revoke']")
    assert "Revoke Cabina 1?" in await console.text(f"{card} .confirm-text")
    await page.click(f"{card} button[data-action='revoke-confirm']")
    await page.locator(f"{card}[data-online='false'][data-health='offline']").wait_for()
    assert await console.text(f"{card} .cabin-status") == "Not in service"
    assert await console.text(f"{card} .fleet-devices") == (
        "Offline: how its devices are is unknown until it connects again."
    )
    for _ in range(100):
        if cabin.closed_code is not None:
            break
        await asyncio.sleep(0.1)
    assert cabin.closed_code == 4401
    refused = await asyncio.to_thread(
        office.client.get, "/api/cabin/config", headers=office.headers("cabin")
    )
    assert refused.status_code == 401

    # Only the wrong code's 404 was logged by the browser.
    assert [error for error in console.errors if "status of 404" not in error] == []
    await page.context.close()


async def test_an_agent_is_refused_the_fleet_page(browser: Browser, office: Office) -> None:
    console = await open_console(browser, office, "laia")
    page = console.page
    assert await page.locator("cab-topbar .nav-fleet").count() == 0
    await page.evaluate("location.hash = '#/fleet'")
    assert await console.text(".no-access") == "The fleet page is for technicians and admins."
    assert await page.locator("cab-fleet").count() == 0
    # Signing in from the cabin's QR link does not open it either.
    await page.evaluate("location.hash = '#/enrol/K7PM4X'")
    assert await console.text(".no-access") == "The fleet page is for technicians and admins."
    await page.evaluate("location.hash = '#/'")
    await page.locator(".no-access").wait_for(state="detached")
    assert console.errors == []
    await page.context.close()
