"""Booking on the public page in Debian's headless Chromium, on a phone, in two languages.

A real hub serves on a loopback port, seeded with an office whose agent works every day; its
clock stands still on Monday 2 March 2026 at 08:00 in Madrid. The citizen books, follows the
management link of the receipt, moves the appointment and cancels it, touching only what a
person would touch. Screenshots go where :data:`console.browser.SCREENSHOTS` says (``make
screenshots`` puts them in docs/screenshots).
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from appointments.web_fixtures import DNI, NIE, web_hub
from console.browser import CHROMIUM_ARGS, SCREENSHOTS
from playwright.async_api import Browser, Page, ViewportSize, async_playwright
from support.clock import FakeClock

from hub.appointments import pages
from hub.appointments.texts import refusal_text
from hub.server import BackgroundHub

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: A phone's screen, in CSS pixels.
PHONE: ViewportSize = {"width": 390, "height": 844}
REFERENCE = re.compile(r"CP-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}")


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[BackgroundHub]:
    clock = FakeClock(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))
    with web_hub(tmp_path / "data", clock) as (served, _app, _seeded):
        yield served


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium, as the console's tests run it."""
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


class Citizen:
    """One person's phone browser, and every error it reported (a CSP violation is one)."""

    def __init__(self, page: Page, lang: str) -> None:
        self.page = page
        self.lang = lang
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", lambda message: self._console(message.type, message.text))

    def _console(self, kind: str, text: str) -> None:
        # A page answered with 404 or 422 on purpose (and the browser's own /favicon.ico) is
        # reported as a resource that failed to load; a blocked style or script is not.
        if kind == "error" and not text.startswith("Failed to load resource"):
            self.errors.append(text)

    async def styled(self) -> bool:
        """Whether the stylesheet applies (the header is the council's blue)."""
        colour = await self.page.locator("header.top").evaluate(
            "element => getComputedStyle(element).backgroundColor"
        )
        return bool(colour == "rgb(10, 79, 143)")

    def t(self, message: str) -> str:
        return pages.tr(message, self.lang)

    async def tap(self, text: str) -> None:
        """Touch the link or button that says ``text`` and wait for the next page."""
        target = self.page.get_by_role("link", name=text, exact=True).or_(
            self.page.get_by_role("button", name=text, exact=True)
        )
        async with self.page.expect_navigation():
            await target.first.click()

    async def tap_first(self, selector: str, *, saying: str | None = None) -> None:
        """Touch the first ``selector`` (that says ``saying``)."""
        async with self.page.expect_navigation():
            await self.page.locator(selector).filter(has_text=saying).first.click()

    async def heading(self) -> str:
        return await self.page.locator("h1").inner_text()

    async def words(self) -> str:
        return " ".join((await self.page.locator("main").inner_text()).split())

    async def shot(self, name: str) -> None:
        os.makedirs(SCREENSHOTS, exist_ok=True)
        await self.page.screenshot(path=str(SCREENSHOTS / f"cita-{name}.png"), full_page=True)


async def open_page(browser: Browser, hub: BackgroundHub, lang: str, locale: str) -> Citizen:
    context = await browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale=locale
    )
    citizen = Citizen(await context.new_page(), lang)
    await citizen.page.goto(f"{hub.url}/cita")
    return citizen


async def book(citizen: Citizen, *, errand: str, day: str, time: str, shots: bool) -> str:
    """Book by touching through every step; the reference on the receipt."""
    t = citizen.t
    assert await citizen.heading() == t("What is your appointment for?")
    assert await citizen.styled()
    if shots:
        await citizen.shot(citizen.lang)
    await citizen.tap(errand)
    assert await citizen.heading() == t("How do you want to be attended?")
    await citizen.tap_first("a.choice", saying=t("In person, at the office"))
    assert await citizen.heading() == t("Which day?")
    await citizen.tap_first("a.choice", saying=day)
    assert await citizen.heading() == t("What time?")
    if shots:
        await citizen.shot(f"{citizen.lang}-hora")
    await citizen.tap(time)
    assert await citizen.heading() == t("Your details")

    page = citizen.page
    await page.get_by_label(t("Name and surnames")).fill("Ana García López")
    await page.get_by_label(t("DNI or NIE"), exact=True).fill("12345678A")
    await page.get_by_label(t("E-mail"), exact=True).fill("ana@example")
    await citizen.tap(t("Continue"))
    words = await citizen.words()
    assert t("The letter does not match the numbers. Please check it.") in words
    assert refusal_text("invalid_email", citizen.lang) in words
    assert refusal_text("no_consent", citizen.lang) in words
    assert await page.get_by_label(t("Name and surnames")).input_value() == "Ana García López"
    if shots:
        await citizen.shot(f"{citizen.lang}-datos")

    await page.get_by_label(t("DNI or NIE"), exact=True).fill(DNI)
    await page.get_by_label(t("E-mail"), exact=True).fill("ana@example.org")
    await page.locator("#consent").check()
    await citizen.tap(t("Continue"))
    assert await citizen.heading() == t("Check and confirm")
    assert "ana@example.org" in await citizen.words()
    await citizen.tap(t("Confirm the appointment"))

    assert await citizen.heading() == t("Your appointment is booked")
    words = await citizen.words()
    assert day in words and time in words
    assert t("We are sending you an e-mail with this receipt.") in words
    if shots:
        await citizen.shot(f"{citizen.lang}-justificante")
    found = REFERENCE.search(words)
    assert found is not None
    return found.group(0)


async def move_then_cancel(citizen: Citizen, *, reference: str, to: str) -> None:
    """Follow the receipt's management link; move the appointment, then cancel it."""
    t = citizen.t
    await citizen.page.goto(citizen.page.url.split("?")[0])  # the link as it is sent
    assert reference in await citizen.words()
    await citizen.tap(t("Change the day or time"))
    await citizen.tap_first("a.choice")
    await citizen.tap(to)
    words = await citizen.words()
    assert t("Your appointment has been moved.") in words and to in words

    await citizen.tap(t("Cancel the appointment"))
    assert t("Cancel the appointment?") in await citizen.words()
    await citizen.tap(t("Yes, cancel it"))
    words = await citizen.words()
    assert t("Your appointment has been cancelled.") in words
    assert t("This appointment is cancelled.") in words
    assert await citizen.page.get_by_role("link", name=t("Change the day or time")).count() == 0


async def test_a_citizen_books_moves_and_cancels_in_spanish(
    browser: Browser, hub: BackgroundHub
) -> None:
    citizen = await open_page(browser, hub, "es", "es-ES")
    day = pages.day_label(datetime(2026, 3, 3).date(), "es")
    reference = await book(citizen, errand="Padrón", day=day, time="09:00", shots=True)
    await move_then_cancel(citizen, reference=reference, to="10:00")
    assert citizen.errors == []


async def test_a_citizen_books_moves_and_cancels_in_catalan(
    browser: Browser, hub: BackgroundHub
) -> None:
    citizen = await open_page(browser, hub, "es", "es-ES")
    await citizen.tap("Català")  # the language links at the top of every page
    citizen.lang = "ca"
    day = pages.day_label(datetime(2026, 3, 4).date(), "ca")
    reference = await book(citizen, errand="Padró", day=day, time="17:30", shots=True)
    await move_then_cancel(citizen, reference=reference, to="18:00")
    assert citizen.errors == []


async def test_an_unknown_link_reads_as_a_plain_page(browser: Browser, hub: BackgroundHub) -> None:
    citizen = await open_page(browser, hub, "eu", "eu-ES")
    await citizen.page.goto(f"{hub.url}/cita/g/{NIE}")
    assert refusal_text("not_found", "eu") in await citizen.words()
    assert citizen.errors == [] or all("404" in error for error in citizen.errors)
