"""The console disables the cabin tools whose device is down, as the cabin's telemetry says.

A real browser (Debian's Chromium) and a real hub; the cabin is :class:`cabin_peer.CabinPeer`,
which reports its scanner missing and, later, plugged back in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from console.browser import answer, go_available, open_console
from console.cabin_peer import CabinPeer
from console.office import Office
from playwright.async_api import Browser

from contract import signalling as p

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _telemetry(scanner: str) -> p.Telemetry:
    error = None if scanner == "ok" else "missing"
    return p.Telemetry(
        devices=[
            {"device": "scanner", "backend": "sane", "state": scanner, "last_error": error},
            {"device": "receipt_printer", "backend": "network", "state": "ok", "paper": "ok"},
        ]
    )


@pytest.fixture
async def cabin(office: Office) -> AsyncIterator[CabinPeer]:
    """The office's cabin, connected."""
    peer = CabinPeer(office.hub.ws_url, office.hub.url, office.cabin_token)
    await peer.open()
    yield peer
    await peer.close()


async def test_the_scan_button_follows_the_cabins_scanner(
    browser: Browser, office: Office, cabin: CabinPeer
) -> None:
    laia = await open_console(browser, office, "laia")
    page = laia.page
    await cabin.send(_telemetry("missing"))
    await go_available(laia)
    await cabin.call("padron", "es")
    await answer(laia)
    scan = page.locator("cab-cabin-tools button.tool-scan")
    await page.locator("cab-cabin-tools button.tool-scan[disabled]").wait_for()
    assert await scan.get_attribute("title") == "Not available now: missing"
    assert await page.locator("cab-cabin-tools button.tool-print-receipt[disabled]").count() == 0

    await cabin.send(_telemetry("ok"))
    await page.locator("cab-cabin-tools button.tool-scan:not([disabled])").wait_for()
    await scan.click()
    request = await cabin.expect("step.request", call_id=cabin.call_id)
    assert request["kind"] == "scan"
    assert laia.errors == []
