"""Driving the console in Debian's headless Chromium: sign in, go available, answer."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol

from console.office import Office
from playwright.async_api import Browser, Page

CHROMIUM_ARGS = [
    "--use-fake-device-for-media-stream=fps=30",
    "--use-fake-ui-for-media-stream",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Where screenshots go: ``make screenshots`` points this at docs/screenshots; a plain test
#: run keeps them out of the working tree.
SCREENSHOTS = Path(
    os.environ.get("CABINA_CONSOLE_SCREENSHOTS")
    or Path(tempfile.gettempdir()) / "cabina-console-screenshots"
)
PASSWORDS = {"laia": "laia-password-1", "nerea": "nerea-password-1", "montse": "montse-password-1"}


class FrameCounter(Protocol):
    """A cabin that counts the video frames it receives."""

    call_id: str | None
    frames_received: int


class Console:
    """One agent's or supervisor's page, and what went wrong in it."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", self._console)

    def _console(self, message: Any) -> None:
        # The first /api/me before signing in answers 401 by design.
        if message.type == "error" and "401" not in message.text:
            self.errors.append(message.text)

    async def shot(self, name: str, *, full_page: bool = False) -> None:
        """Save a screenshot for the documentation."""
        os.makedirs(SCREENSHOTS, exist_ok=True)
        path = str(SCREENSHOTS / f"console-{name}.png")
        await self.page.screenshot(path=path, full_page=full_page)

    async def text(self, selector: str, within_s: float = 30) -> str:
        """The visible text of the first match, once it is visible."""
        element = self.page.locator(selector).first
        await element.wait_for(state="visible", timeout=within_s * 1000)
        return await element.inner_text()

    async def step_status(self, kind: str, status: str, within_s: float = 30) -> str:
        """The status line of the latest ``kind`` step once it reaches ``status``."""
        selector = f"li.step[data-kind='{kind}'][data-status='{status}'] .step-status"
        return await self.text(selector, within_s)


async def open_console(
    browser: Browser, office: Office, username: str, *, locale: str = "en-GB", route: Any = None
) -> Console:
    """A new browser context signed in as ``username``."""
    context = await browser.new_context(viewport={"width": 1366, "height": 860}, locale=locale)
    page = await context.new_page()
    if route is not None:
        await page.route_web_socket("**/ws/agent", route)
    console = Console(page)
    await page.goto(f"{office.hub.url}/")
    await page.locator("form.signin-form").wait_for()
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORDS[username])
    await page.click("form.signin-form button[type=submit]")
    await page.locator("cab-topbar .brand").wait_for()
    return console


async def go_available(console: Console) -> None:
    """Click the presence button and wait for the hub to confirm."""
    await console.page.locator("cab-topbar .presence[data-state='away']").wait_for()
    await console.page.click("cab-topbar .presence-toggle")
    await console.page.locator("cab-topbar .presence[data-state='available']").wait_for()


async def media_flows_both_ways(
    console: Console, cabin: FrameCounter | None = None, *, frames: int = 30
) -> dict[str, Any]:
    """getStats of the console once ``frames`` are decoded here and sent (and, when the
    cabin counts them, received there)."""
    stats: dict[str, Any] = {}
    for _ in range(300):
        stats = await console.page.evaluate("document.querySelector('cab-call').stats()") or {}
        if (
            stats.get("framesDecoded", 0) > frames
            and stats.get("framesSent", 0) > frames
            and (cabin is None or cabin.frames_received > frames)
        ):
            return stats
        await asyncio.sleep(0.2)
    got = cabin.frames_received if cabin is not None else "not counted"
    raise AssertionError(f"media did not flow both ways: {stats}, the cabin got {got}")


async def answer(console: Console) -> None:
    """The console rings; one click answers and the call's video appears."""
    await console.page.locator("cab-ring:not([hidden]) button.answer").click()
    await console.page.locator("cab-call:not([hidden]) video.remote").wait_for()


async def open_tool(console: Console, kind: str) -> None:
    """Unfold one of the cabin tools (print_a4, print_receipt, sign, info) by its title."""
    tool = console.page.locator(f"cab-cabin-tools details[data-tool='{kind}']")
    if await tool.get_attribute("open") is None:
        await tool.locator("summary").click()
