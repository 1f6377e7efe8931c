"""A feeder batch in the console's Documents panel, in a real browser against a real hub: each
sheet's preview in the list as it comes, the viewer left on the sheet the agent chose, and a
batch that fails left with what it sent, no longer waiting for the rest."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from console.browser import answer, go_available, open_console
from console.cabin_peer import CabinPeer, scanned_page
from console.office import Office, make_pdf
from playwright.async_api import Browser

pytestmark = [pytest.mark.browser, pytest.mark.slow]


class FeederCabin(CabinPeer):
    """A cabin whose feeder the test turns: a scan step is accepted, and each sheet goes to
    the agent when :meth:`sheet` says so."""

    async def _run_step(self, request: dict[str, Any]) -> None:
        if request["kind"] != "scan":
            await super()._run_step(request)
            return
        await self._update(request, "accepted")

    async def sheet(self, request: dict[str, Any], page: int) -> str:
        """Send sheet ``page`` of the batch as the kiosk does: its PDF, its preview, a
        ``progress`` update naming the page. Returns the sheet's document id."""
        pdf_id = await self._upload("scan", make_pdf(f"Full {page}"), "application/pdf")
        preview_id = await self._upload("preview", scanned_page(), "image/jpeg", source=pdf_id)
        await self._update(
            request, "progress", document_id=pdf_id, preview_document_id=preview_id, page=page
        )
        return pdf_id


@pytest.fixture
async def feeder_cabin(office: Office) -> AsyncIterator[FeederCabin]:
    peer = FeederCabin(office.hub.ws_url, office.hub.url, office.cabin_token)
    await peer.open()
    yield peer
    await peer.close()


async def test_new_sheets_leave_the_agent_on_the_sheet_they_chose_and_a_failed_batch_says_so(
    browser: Browser, office: Office, feeder_cabin: FeederCabin
) -> None:
    laia = await open_console(browser, office, "laia")
    page = laia.page
    await go_available(laia)
    await feeder_cabin.call("padron", "es")
    await answer(laia)
    await page.locator("cab-cabin-tools input[name=scan-feeder]").set_checked(True)
    await page.click("cab-cabin-tools .tool-scan")
    request = await feeder_cabin.expect("step.request")
    assert (request["kind"], request["params"]["source"]) == ("scan", "adf")
    viewer = page.locator("cab-documents .viewer")

    def thumb(number: int) -> Any:
        return page.locator(f"cab-documents .doc-list img.sheet-thumb[data-page='{number}']")

    async def shown_in_list(number: int) -> None:
        await thumb(number).wait_for()
        await page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=await thumb(number).element_handle()
        )

    # Nobody chose anything: each sheet opens as it comes, its preview also in the list.
    first = await feeder_cabin.sheet(request, 1)
    await viewer.locator(".doc-part[data-page='1']").wait_for()
    await shown_in_list(1)
    await feeder_cabin.sheet(request, 2)
    await viewer.locator(".doc-part[data-page='2']").wait_for()
    await shown_in_list(2)

    # The agent goes back to page 1: the sheets that come next stay in the list.
    await page.click(f"cab-documents .doc-list button[data-document-id='{first}']")
    await page.locator(f"cab-documents .viewer[data-document-id='{first}']").wait_for()
    await feeder_cabin.sheet(request, 3)
    await shown_in_list(3)
    current = page.locator("cab-documents .doc-list button.current")
    assert await current.get_attribute("data-document-id") == first
    assert await viewer.get_attribute("data-document-id") == first
    assert await viewer.locator(".doc-part").get_attribute("data-page") == "1"

    # The upload of sheet 4 fails at the cabin: the step fails, the three sheets stay, each
    # saying the batch stopped, and none waits for "…" any more.
    await feeder_cabin._update(request, "failed", error="upload_failed")
    await laia.step_status("scan", "failed")
    entries = page.locator("cab-documents .doc-list button[data-kind='scan']")
    await page.wait_for_function(
        "() => [...document.querySelectorAll('cab-documents .doc-list button')]"
        ".every(b => b.textContent.includes('the batch stopped'))"
    )
    assert await entries.all_inner_texts() == [
        f"Scan · Page {n}, the batch stopped" for n in (1, 2, 3)
    ]
    assert await viewer.locator(".doc-part").inner_text() == "Page 1, the batch stopped"
    assert "…" not in await page.locator("cab-documents").inner_text()
