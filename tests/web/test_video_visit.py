"""The citizen's video call from home (``/cita/v/<token>``), against a real hub.

The citizen uses Debian's headless Chromium with a phone's screen and a fake camera and
microphone; the agent, the real console in a second browser context. axe-core (from npm)
checks each step the citizen sees, in Spanish and in Basque. Screenshots of every step go
where :data:`console.browser.SCREENSHOTS` says.
"""

from __future__ import annotations

import ast
import asyncio
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from console.browser import PASSWORDS, SCREENSHOTS, Console, answer, media_flows_both_ways
from jinja2 import Environment
from jinja2.ext import extract_from_ast
from playwright.async_api import Browser, Page, WebSocket
from web.conftest import DNI, VideoOffice

from contract.signalling import CloseCode
from hub.appointments.models import Appointment
from hub.services import services_of
from hub.web_visits import page as web_page

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "hub" / "web_visits"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def t(message: str, lang: str) -> str:
    return web_page.tr(message, lang)


# The words ------------------------------------------------------------------------------------


def used_ids() -> list[str]:
    """Every message id the page's code and templates use."""
    found = []
    tree = ast.parse((PACKAGE / "page.py").read_text())
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "N_"
            and isinstance(node.args[0], ast.Constant)
        ):
            found.append(str(node.args[0].value))
    environment = Environment(autoescape=True)
    for template in sorted((PACKAGE / "templates").glob("*.html")):
        parsed = environment.parse(template.read_text())
        found += [str(message) for _, _, message in extract_from_ast(parsed, ("_",))]
    return list(dict.fromkeys(found))


@pytest.mark.parametrize("lang", ["es", "ca", "ca@valencia", "eu", "gl"])
def test_every_word_of_the_page_is_translated_with_its_placeholders(lang: str) -> None:
    path = PACKAGE / "locale" / lang / "LC_MESSAGES" / "video_page.po"
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang.split("@")[0])
    used = used_ids()
    assert len(used) > 80
    problems = []
    for message_id in used:
        entry = catalog.get(message_id)
        if entry is None or not entry.string or entry.fuzzy:
            problems.append(f"untranslated: {message_id!r}")
        elif set(re.findall(r"\{\w+\}", message_id)) != set(re.findall(r"\{\w+\}", entry.string)):
            problems.append(f"placeholders differ: {entry.string!r}")
    stale = [entry.id for entry in catalog if entry.id and entry.id not in used]
    assert problems == [] and stale == []


# Links that open no video call ----------------------------------------------------------------


@pytest.mark.slow
def test_the_page_and_its_files_and_every_link_that_opens_no_call(
    video_office: VideoOffice,
) -> None:
    client = video_office.client
    opened = client.get(f"/cita/v/{video_office.token}")
    assert opened.status_code == 200
    assert '<html lang="es" data-lang="es">' in opened.text
    policy = opened.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert "media-src 'self' blob:" in policy and "'unsafe-inline'" not in policy
    assert f"ws://127.0.0.1:{video_office.hub.url.rsplit(':', 1)[1]}" in policy
    assert opened.headers["referrer-policy"] == "no-referrer"
    # The page names the errand and the time, never the citizen.
    assert "Marta" not in opened.text and DNI not in opened.text
    assert t("Send me a code", "es") in opened.text
    basque = client.get(f"/cita/v/{video_office.token}", params={"lang": "eu"})
    assert '<html lang="eu" data-lang="eu">' in basque.text
    assert t("Waiting room", "eu") in basque.text

    for name, kind in (
        ("main.js", "text/javascript"),
        ("contract.js", "text/javascript"),
        ("visit.css", "text/css"),
    ):
        served = client.get(f"/cita/v/static/{name}")
        assert served.status_code == 200 and served.headers["content-type"].startswith(kind)
    assert client.get("/cita/v/static/page.py").status_code == 404
    # The close codes the page obeys are the generated ones, not a copy.
    contract = client.get("/cita/v/static/contract.js").text
    assert contract == (ROOT / "agent_console" / "static" / "js" / "contract.js").read_text()
    assert f"ELSEWHERE: {CloseCode.ELSEWHERE.value}," in contract

    # The management page leads to the call.
    manage = client.get(f"/cita/g/{video_office.token}", params={"lang": "gl"})
    assert f'href="/cita/v/{video_office.token}?lang=gl"' in manage.text

    unknown = client.get("/cita/v/not-a-real-token-0123456789", params={"lang": "gl"})
    assert unknown.status_code == 404
    assert t("This link does not open a video call", "gl") in unknown.text
    assert t(web_page.LINK_INVALID, "gl").split(".")[0] in unknown.text.replace("&#39;", "'")

    # An expired link, then a cancelled appointment, read the same as a link nobody was given:
    # nothing tells that an appointment exists.
    nobody = main_of(client.get("/cita/v/another-unknown-token-987", params={"lang": "es"}).text)
    services = services_of(video_office.app)
    with services.database.transaction() as session:
        row = session.get_one(Appointment, video_office.appointment_id)
        kept, row.token_expires_at = row.token_expires_at, datetime.now(UTC) - timedelta(days=1)
    expired = client.get(f"/cita/v/{video_office.token}")
    assert expired.status_code == 404 and main_of(expired.text) == nobody
    with services.database.transaction() as session:
        session.get_one(Appointment, video_office.appointment_id).token_expires_at = kept
    assert client.get(f"/cita/v/{video_office.token}").status_code == 200
    services.appointments.cancel_by_id(video_office.appointment_id, actor="hub")
    gone = client.get(f"/cita/v/{video_office.token}")
    assert gone.status_code == 404 and main_of(gone.text) == nobody


def main_of(html: str) -> str:
    """What a page says, without its header (whose language links repeat the address)."""
    return html.split("<main>", 1)[1]


# The whole visit in the browser ----------------------------------------------------------------


class Citizen:
    """The citizen's phone browser, and every error it reported (a CSP violation is one)."""

    def __init__(self, page: Page, lang: str) -> None:
        self.page = page
        self.lang = lang
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", self._console)

    def _console(self, message: Any) -> None:
        # A refused request (a wrong code: 403) is reported by the browser; it is expected.
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.errors.append(message.text)

    async def step(self, name: str) -> None:
        """Wait for a step's heading to have the focus (a screen reader reads it)."""
        await self.page.locator(f"#{name}-title:focus").wait_for(timeout=30_000)

    async def check(self, name: str) -> None:
        """axe-core on the page as it is now, and a screenshot."""
        if not await self.page.evaluate("typeof window.axe === 'object'"):
            # Through the DevTools protocol: the page's own policy forbids inline scripts.
            await self.page.evaluate(AXE.read_text())
        result = await self.page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
            ".then(r => r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target).join(' ')))",
            AXE_TAGS,
        )
        assert result == [], f"{name} ({self.lang}): {result}"
        os.makedirs(SCREENSHOTS, exist_ok=True)
        await self.page.screenshot(path=str(SCREENSHOTS / f"video-{name}-{self.lang}.png"))


async def video_width(page: Page, selector: str) -> int:
    """The width of the picture a video element plays, once it plays one (else 0)."""
    for _ in range(150):
        width = int(await page.evaluate(f"document.querySelector({selector!r}).videoWidth"))
        if width > 0:
            return width
        await asyncio.sleep(0.2)
    return 0


async def phone(browser: Browser, lang: str) -> Citizen:
    context = await browser.new_context(
        viewport=PHONE,  # type: ignore[arg-type]
        is_mobile=True,
        has_touch=True,
        locale="es-ES",
        timezone_id="Europe/Madrid",
    )
    return Citizen(await context.new_page(), lang)


async def sign_in_console(browser: Browser, video_office: VideoOffice, username: str) -> Console:
    """The real console in a desktop-sized browser context, signed in as ``username``."""
    context = await browser.new_context(viewport={"width": 1366, "height": 860}, locale="en-GB")
    page = await context.new_page()
    console = Console(page)
    await page.goto(f"{video_office.hub.url}/")
    await page.locator("form.signin-form").wait_for()
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORDS[username])
    await page.click("form.signin-form button[type=submit]")
    await page.locator("cab-topbar .brand").wait_for()
    return console


async def wait_for_code(video_office: VideoOffice, already: int) -> str:
    for _ in range(100):
        codes = video_office.codes()
        if len(codes) > already:
            return codes[-1]
        await asyncio.sleep(0.1)
    raise AssertionError("no code arrived by e-mail")


@pytest.mark.slow
@pytest.mark.browser
async def test_a_citizen_joins_from_a_phone_and_an_agent_answers(
    browser: Browser, video_office: VideoOffice
) -> None:
    agent = await sign_in_console(browser, video_office, "laia")

    citizen = await phone(browser, "es")
    page = citizen.page
    offers: list[str] = []

    def watch(socket: WebSocket) -> None:
        socket.on("framesent", lambda frame: offers.append(frame) if '"offer"' in frame else None)

    page.on("websocket", watch)
    await page.goto(video_office.url)
    await citizen.step("check")
    await page.locator("#network-state", has_text=t("Your connection works.", "es")).wait_for()
    await page.locator("#camera-state", has_text=t("Your camera works.", "es")).wait_for()
    assert await video_width(page, "#preview") > 0
    await page.tap("#play-tone")
    await page.tap("#tone-yes")
    await citizen.check("check")
    await page.tap("#check-done")

    await citizen.step("identify")
    await citizen.check("identify")
    await page.tap("#send-code")
    await page.locator(
        "#code-state", has_text=t("We have sent a code to your e-mail.", "es")
    ).wait_for()
    code = await wait_for_code(video_office, 0)
    await page.fill("#document", DNI.lower())
    await page.fill("#code", code)
    async with page.expect_response("**/identify") as identified:
        await page.tap("#identify button[type=submit]")
    attention_id = (await (await identified.value).json())["attention_id"]

    await citizen.step("wait")
    # Nobody is available yet: the citizen is first in the queue, and reads so.
    await page.locator("#position", has_text=t("You are next.", "es")).wait_for()
    await citizen.check("wait")

    # A second window of the same visit is refused, and says so; the first keeps its place.
    second = await page.context.new_page()
    await second.goto(video_office.url)
    await second.locator(
        "#message-title", has_text=t(web_page.SCRIPT_TEXTS["elsewhere_title"], "es")
    ).wait_for()
    await second.close()
    # The link of another appointment, in the same browser: its page does not take this
    # visit for its own, and asks its citizen to check the devices and identify.
    other = await page.context.new_page()
    another = video_office.book_another("Pau Riera", "12345678Z", "pau@example.org")
    await other.goto(f"{video_office.hub.url}/cita/v/{another}")
    await other.locator("#check-title:focus").wait_for()
    await other.close()

    # Laia becomes available: the waiting call rings at once.
    await agent.page.locator("cab-topbar .presence[data-state='away']").wait_for()
    await agent.page.click("cab-topbar .presence-toggle")
    await answer(agent)
    await citizen.step("call")
    # Each end plays the other's picture.
    assert await video_width(page, "#remote") > 0
    assert await video_width(agent.page, "cab-call video.remote") > 0
    await citizen.check("call")

    # The network drops and comes back: a new WebSocket, a new peer connection and a new
    # offer for the same call, and the pictures flow again.
    assert len(offers) == 1
    await page.context.set_offline(True)
    await page.locator(
        "#status", has_text=t("The connection was lost. Reconnecting…", "es")
    ).wait_for()
    await page.context.set_offline(False)
    await page.locator("#status:empty").wait_for(state="attached")
    for _ in range(100):
        if len(offers) > 1:
            break
        await asyncio.sleep(0.1)
    assert len(offers) == 2
    # The console's new peer connection decodes and sends frames (it fails otherwise).
    await media_flows_both_ways(agent)
    assert await video_width(page, "#remote") > 0

    # A reload during the call: the page resumes the visit, asks for its call, hears that it
    # is already connected, goes back to it and sends a new offer; the pictures flow again.
    await page.reload()
    await citizen.step("call")
    for _ in range(100):
        if len(offers) > 2:
            break
        await asyncio.sleep(0.1)
    assert len(offers) == 3
    await media_flows_both_ways(agent)
    assert await video_width(page, "#remote") > 0
    assert await video_width(agent.page, "cab-call video.remote") > 0

    await page.tap("#hang-up")
    await citizen.step("end")
    await citizen.check("end")
    await page.locator("label.option", has_text="5").tap()
    await page.tap("#survey button[type=submit]")
    await page.locator("#survey-state", has_text=t("Thank you for your answer.", "es")).wait_for()
    assert citizen.errors == [] and agent.errors == []

    timeline = video_office.client.get(
        f"/api/attentions/{attention_id}", headers=video_office.headers("montse")
    )
    assert timeline.status_code == 200, timeline.text
    body = timeline.json()
    assert body["channel"] == "web" and body["satisfaction"] == 5
    kinds = [event["kind"] for event in body["timeline"]]
    assert kinds == [
        "attention.started",
        "audit.identification",
        "call.queued",
        "call.offered",
        "call.answered",
        "call.ended",
        "survey.answered",
        "attention.ended",
    ]


@pytest.mark.slow
@pytest.mark.browser
async def test_in_basque_each_step_reads_well_and_too_many_wrong_codes_lock_out(
    browser: Browser, video_office: VideoOffice
) -> None:
    citizen = await phone(browser, "eu")
    page = citizen.page
    await page.goto(f"{video_office.url}?lang=eu")
    await citizen.step("check")
    await page.locator("#network-state:not(:empty)").wait_for()
    await citizen.check("check")
    await page.tap("#check-done")
    await citizen.step("identify")
    await citizen.check("identify")
    await page.fill("#document", DNI)
    wrong = t(web_page.SCRIPT_TEXTS["wrong"], "eu")
    for attempt in range(5):
        await page.fill("#code", f"00000{attempt}")
        await page.tap("#identify button[type=submit]")
        await page.locator("#identify-error", has_text=wrong).wait_for()
        await page.evaluate("document.getElementById('identify-error').textContent = ''")
    await page.fill("#code", "000009")
    await page.tap("#identify button[type=submit]")
    locked = t(web_page.SCRIPT_TEXTS["locked_out"], "eu").split("{time}")[0]
    await page.locator("#identify-error", has_text=locked).wait_for()
    await citizen.check("locked")
    assert citizen.errors == []


@pytest.mark.slow
@pytest.mark.browser
async def test_a_call_lost_for_longer_than_the_hub_waits_says_so_when_the_link_is_opened_again(
    browser: Browser, video_office: VideoOffice
) -> None:
    switchboard = services_of(video_office.app).switchboard
    # The hub lets a lost citizen's call go at once, rather than after its usual grace time.
    switchboard._grace_s = 0.3
    agent = await sign_in_console(browser, video_office, "laia")
    await agent.page.locator("cab-topbar .presence[data-state='away']").wait_for()
    await agent.page.click("cab-topbar .presence-toggle")

    citizen = await phone(browser, "es")
    page = citizen.page
    await page.goto(video_office.url)
    await citizen.step("check")
    await page.locator("#network-state:not(:empty)").wait_for()
    await page.tap("#check-done")
    await citizen.step("identify")
    await page.tap("#send-code")
    code = await wait_for_code(video_office, 0)
    await page.fill("#document", DNI)
    await page.fill("#code", code)
    await page.tap("#identify button[type=submit]")
    await answer(agent)
    await citizen.step("call")
    [call] = switchboard.calls()

    # The phone's browser is closed in the middle of the call, and the hub lets the call go.
    context = page.context
    await page.close()
    for _ in range(100):
        if switchboard.call(call.call_id) is None:
            break
        await asyncio.sleep(0.1)
    assert switchboard.call(call.call_id) is None

    # The citizen opens the link again: the visit is still theirs, its call is over, and the
    # page says so instead of waiting for an agent for ever.
    again = await context.new_page()
    await again.goto(video_office.url)
    await again.locator(
        "#end-reason", has_text=t("The connection was lost and the call has ended.", "es")
    ).wait_for()
    assert await again.locator("#end-title:focus").count() == 1
    assert citizen.errors == [] and agent.errors == []
