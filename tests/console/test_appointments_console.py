"""Appointments in the console, in Debian's Chromium against a real hub: the agenda, booking
(with oneself, for a caller on the phone), a refusal in the agent's language, and the
supervisor's figures. Also writes ``docs/screenshots/console-agenda.png`` (``make
screenshots``).
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from console.browser import PASSWORDS, Console, answer, go_available
from console.cabin_peer import CabinPeer
from console.office import Office
from PIL import Image
from playwright.async_api import Browser, Locator

from contract.appointments import BookedVia, BookingRequest, Citizen
from contract.events import actor_for_user
from hub.appointments.documents import AppointmentDocuments
from hub.appointments.tokens import manage_token
from hub.services import services_of

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MADRID = ZoneInfo("Europe/Madrid")


@dataclass
class Bookable:
    """The office's site with appointments of the padrón (in person) and general (video)."""

    site_id: int
    padron: int
    general: int
    #: Tomorrow at the site: far enough from now for any slot of the day to be bookable.
    day: date

    def at(self, hour: int, minute: int = 0) -> datetime:
        """A wall time of ``day`` at the site."""
        return datetime.combine(self.day, time(hour, minute), tzinfo=MADRID)


def madrid_tomorrow() -> date:
    return datetime.now(UTC).astimezone(MADRID).date() + timedelta(days=1)


@pytest.fixture
def bookable(office: Office) -> Bookable:
    """Offers at the office's site, and Laia and Nerea on shift there all week, all day."""
    admin = office.headers("admin")
    cabin = office.client.get(f"/api/cabins/{office.cabin_id}", headers=admin)
    assert cabin.status_code == 200, cabin.text
    site_id = int(cabin.json()["site_id"])
    offers = {}
    for service, channel in (("padron", "in_person"), ("general", "cabin_video")):
        created = office.client.post(
            "/api/appointment-offers",
            headers=admin,
            json={
                "site_id": site_id,
                "service": service,
                "channel": channel,
                "slot_minutes": 30,
                "capacity": 2,
                "min_notice_minutes": 0,
                "horizon_days": 30,
                "what_to_bring": {"es": "DNI", "en": "Your ID card"},
            },
        )
        assert created.status_code == 201, created.text
        offers[service] = int(created.json()["id"])
    yesterday = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    for username in ("laia", "nerea"):
        user_id = office.user_id(username)
        for weekday in range(7):
            shift = office.client.post(
                "/api/agent-shifts",
                headers=admin,
                json={
                    "user_id": user_id,
                    "site_id": site_id,
                    "weekday": weekday,
                    "start_minute": 8 * 60,
                    "end_minute": 20 * 60,
                    "valid_from": yesterday,
                },
            )
            assert shift.status_code == 201, shift.text
    return Bookable(site_id, offers["padron"], offers["general"], madrid_tomorrow())


def seed(
    office: Office, bookable: Bookable, offer_id: int, at: datetime, name: str, agent: str
) -> tuple[str, str]:
    """A booking made by the hub's service for ``agent``: its reference and id."""
    agent_id = office.user_id(agent)
    booked = services_of(office.app).appointments.book(
        BookingRequest(
            offer_id=offer_id,
            starts_at=at,
            citizen=Citizen(name=name, document="12345678Z", email="citizen@example.org"),
            consent=True,
            agent_id=agent_id,
        ),
        via=BookedVia.CONSOLE,
        actor=actor_for_user(agent_id),
    )
    return booked.appointment.reference, booked.appointment_id


async def open_console(
    browser: Browser, office: Office, username: str, *, locale: str = "en-GB"
) -> Console:
    """A console signed in as ``username``, in a browser whose clock is in Madrid."""
    context = await browser.new_context(
        viewport={"width": 1366, "height": 900}, locale=locale, timezone_id="Europe/Madrid"
    )
    page = await context.new_page()
    console = Console(page)
    await page.goto(f"{office.hub.url}/")
    await page.locator("form.signin-form").wait_for()
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", PASSWORDS[username])
    await page.click("form.signin-form button[type=submit]")
    await page.locator("cab-topbar .brand").wait_for()
    return console


async def pick_time(form: Locator, at: datetime) -> Locator:
    """Click the time button of the slot that starts ``at``."""
    buttons = form.locator("button.time")
    await buttons.first.wait_for()
    starts = await buttons.evaluate_all("buttons => buttons.map(b => b.dataset.startsAt)")
    button = buttons.nth([datetime.fromisoformat(value) for value in starts].index(at))
    await button.click()
    return button


async def show_agenda(console: Console, day: date) -> None:
    """Open the agenda page on ``day``."""
    page = console.page
    await page.click("cab-topbar a.nav-agenda")
    await page.locator("cab-agenda input[name=day]").wait_for()
    await page.fill("cab-agenda input[name=day]", day.isoformat())
    await page.locator("cab-agenda .agenda-list h2").wait_for()


async def test_the_agenda_lists_the_agents_appointments_of_the_day(
    browser: Browser, office: Office, bookable: Bookable
) -> None:
    first, first_id = seed(
        office, bookable, bookable.padron, bookable.at(10), "Marta Puig Soler", "laia"
    )
    second, _ = seed(office, bookable, bookable.general, bookable.at(11, 30), "Jordi Vidal", "laia")
    cancelled, cancelled_id = seed(
        office, bookable, bookable.padron, bookable.at(12), "Pere Roca", "laia"
    )
    services_of(office.app).appointments.cancel_by_id(cancelled_id, actor="hub")
    others, _ = seed(office, bookable, bookable.padron, bookable.at(10), "Anna Serra", "nerea")
    laia = await open_console(browser, office, "laia")
    page = laia.page
    await show_agenda(laia, bookable.day)

    row = page.locator(f"tr.agenda-entry[data-reference='{first}']")
    await row.wait_for()
    text = await row.inner_text()
    assert "10:00" in text and "Marta Puig Soler" in text
    assert "In person" in text and "Booked" in text
    assert await row.locator(".agenda-errand").inner_text() != ""
    video = await page.locator(f"tr.agenda-entry[data-reference='{second}']").inner_text()
    assert "11:30" in video and "Video at a cabin" in video
    struck = page.locator(f"tr.agenda-entry[data-reference='{cancelled}']")
    assert await struck.get_attribute("data-status") == "cancelled"
    assert "Cancelled" in await struck.inner_text()
    # Nerea's appointment is not in Laia's agenda; the entries are in order of time.
    assert await page.locator(f"tr.agenda-entry[data-reference='{others}']").count() == 0
    references = await page.locator("tr.agenda-entry").evaluate_all(
        "rows => rows.map(row => row.dataset.reference)"
    )
    assert references == [first, second, cancelled]

    # The day before has nothing; the calendar feed's address is the agent's own.
    await page.click("cab-agenda button.day-back")
    await page.locator("cab-agenda .agenda-empty").wait_for()
    await page.click("cab-agenda button.day-next")
    await row.wait_for()
    await page.click("cab-agenda button.show-feed")
    feed = await page.locator("cab-agenda input.feed-url").input_value()
    assert "/cita/agenda/" in feed and feed.endswith(".ics")
    assert (await page.locator("cab-agenda a.button[href^='webcal:']").count()) == 1
    # For the documentation: the booking form open beside the agenda, a time chosen.
    await page.click("cab-agenda details.agenda-book summary")
    form = page.locator("cab-agenda cab-booking form.booking-form")
    await form.locator("input[name=first]").fill(bookable.day.isoformat())
    await form.locator(f"button.day[data-day='{bookable.day.isoformat()}']").click()
    await pick_time(form, bookable.at(13))
    await form.locator("input[name=name]").fill("Núria Casals Ferrer")
    await page.set_viewport_size({"width": 1366, "height": 1240})
    await page.evaluate("window.scrollTo(0, 0)")
    await laia.shot("agenda")
    assert first_id and laia.errors == []


async def test_an_agent_books_a_follow_up_with_themself_and_sees_it_in_the_agenda(
    browser: Browser, office: Office, bookable: Bookable
) -> None:
    laia = await open_console(browser, office, "laia")
    page = laia.page
    await show_agenda(laia, bookable.day)
    await page.click("cab-agenda details.agenda-book summary")
    form = page.locator("cab-agenda cab-booking form.booking-form")
    await form.wait_for()
    await form.locator("select[name=service]").select_option("padron")
    await form.locator("input[name=first]").fill(bookable.day.isoformat())
    day = form.locator(f"button.day[data-day='{bookable.day.isoformat()}']")
    await day.click()
    slot = await pick_time(form, bookable.at(16, 30))
    assert await slot.inner_text() == "16:30"
    slot = form.locator("button.time.current")
    assert await slot.get_attribute("aria-pressed") == "true"
    await form.locator("input[name=name]").fill("Núria Casals Ferrer")
    await form.locator("input[name=document]").fill("X1234567L")
    await form.locator("input[name=email]").fill("nuria@example.org")
    await form.locator("input[name=phone]").fill("612 345 678")
    await form.locator("select[name=language]").select_option("ca")
    # For a caller on the phone the appointment goes to whoever is free, unless ticked.
    assert not await form.locator("input[name=with_me]").is_checked()
    await form.locator("input[name=with_me]").check()
    # The notice to read says how long the hub keeps the data (its retention_days).
    assert "erased 30 days after" in await form.locator(".booking-notice").inner_text()
    # Without the consent read to the citizen, nothing is sent.
    await form.locator("button.book").click()
    assert (
        "data-protection notice"
        in await page.locator("cab-agenda cab-booking .booking-error").inner_text()
    )
    await form.locator("input[name=consent]").check()
    await form.locator("button.book").click()

    done = page.locator("cab-agenda cab-booking .booking-done")
    await done.wait_for()
    reference = await done.locator(".booking-reference").inner_text()
    assert reference.startswith("CP-")
    text = await done.inner_text()
    assert "e-mail and, by SMS, to the mobile" in text and "in your agenda" in text
    row = page.locator(f"tr.agenda-entry[data-reference='{reference}']")
    await row.wait_for()
    assert "Núria Casals Ferrer" in await row.inner_text()
    assert "16:30" in await row.inner_text()

    # The hub booked it with Laia, through the console.
    laia_id = office.user_id("laia")
    agenda = office.client.get(
        "/api/console/appointments/agenda",
        params={"day": bookable.day.isoformat()},
        headers=office.headers("laia"),
    )
    assert agenda.status_code == 200, agenda.text
    [entry] = [item for item in agenda.json() if item["reference"] == reference]
    assert entry["agent_id"] == laia_id and entry["booked_via"] == "console"

    # Montse, a supervisor, picks Laia and sees it too.
    montse = await open_console(browser, office, "montse")
    await show_agenda(montse, bookable.day)
    await montse.page.locator("cab-agenda select[name=agent]").select_option(str(laia_id))
    await montse.page.locator(f"tr.agenda-entry[data-reference='{reference}']").wait_for()
    assert laia.errors == [] and montse.errors == []


async def test_a_refusal_is_shown_in_the_agents_language(
    browser: Browser, office: Office, bookable: Bookable
) -> None:
    nerea = await open_console(browser, office, "nerea", locale="es-ES")
    page = nerea.page
    await show_agenda(nerea, bookable.day)
    await page.click("cab-agenda details.agenda-book summary")
    form = page.locator("cab-agenda cab-booking form.booking-form")
    await form.locator("input[name=first]").fill(bookable.day.isoformat())
    await form.locator(f"button.day[data-day='{bookable.day.isoformat()}']").click()
    await pick_time(form, bookable.at(9))
    await form.locator("input[name=name]").fill("Iker Etxeberria")
    await form.locator("input[name=document]").fill("12345678A")  # the letter is wrong
    await form.locator("input[name=email]").fill("iker@example.org")
    await form.locator("input[name=consent]").check()
    await form.locator("button.book").click()
    error = page.locator("cab-agenda cab-booking .booking-error")
    await error.wait_for()
    assert await error.inner_text() == "El DNI/NIE no es válido: revisa el número y la letra."
    # What was typed is kept, so that the agent corrects only the number.
    assert await form.locator("input[name=name]").input_value() == "Iker Etxeberria"

    # The last place of a slot taken meanwhile: the hub's refusal, then fresh times.
    at = bookable.at(9, 30)
    seed(office, bookable, bookable.padron, at, "Primera", "laia")
    await pick_time(form, at)
    seed(office, bookable, bookable.padron, at, "Segunda", "nerea")
    await form.locator("input[name=document]").fill("12345678Z")
    await form.locator("button.book").click()
    await (
        page.locator("cab-agenda cab-booking .booking-error")
        .filter(has_text="última plaza")
        .wait_for()
    )
    # The browser notes each refused request; nothing else went wrong.
    assert [error for error in nerea.errors if "status of 4" not in error] == []


async def test_the_supervisor_sees_the_appointments_figures(
    browser: Browser, office: Office, bookable: Bookable
) -> None:
    seed(office, bookable, bookable.padron, bookable.at(10), "Marta Puig", "laia")
    seed(office, bookable, bookable.padron, bookable.at(10, 30), "Jordi Vidal", "nerea")
    day = bookable.day.isoformat()
    refused = office.client.get(
        "/api/supervisor/appointments",
        params={"from": day, "to": day},
        headers=office.headers("laia"),
    )
    assert refused.status_code == 403
    backwards = office.client.get(
        "/api/supervisor/appointments",
        params={"from": day, "to": (bookable.day - timedelta(days=1)).isoformat()},
        headers=office.headers("montse"),
    )
    assert backwards.status_code == 422
    for first, last in (("2026-01-01", "2026-12-31"), ("1999-12-31", "2000-01-01")):
        wrong = office.client.get(
            "/api/supervisor/appointments",
            params={"from": first, "to": last},
            headers=office.headers("montse"),
        )
        assert wrong.status_code == 422, wrong.text
    figures = office.client.get(
        "/api/supervisor/appointments",
        params={"from": day, "to": day},
        headers=office.headers("montse"),
    )
    assert figures.status_code == 200, figures.text
    padron = {line["service"]: line for line in figures.json()["services"]}["padron"]
    # Two agents from 8 to 20 h, slots of 30 minutes with 2 places: 48 places.
    assert (padron["bookings"], padron["places_taken"], padron["places_offered"]) == (2, 2, 48)

    montse = await open_console(browser, office, "montse")
    page = montse.page
    await page.goto(f"{office.hub.url}/#/supervisor")
    panel = page.locator("cab-supervisor section.appointment-figures")
    await panel.wait_for()
    await panel.locator("input[name=from]").fill(day)
    await panel.locator("input[name=to]").fill(day)
    row = panel.locator("tr[data-service='padron']")
    await row.locator(".figure-utilisation").filter(has_text="2 of 48 places").wait_for()
    assert (await row.locator(".figure-bookings").inner_text()).strip() == "2"
    assert montse.errors == []


@pytest.fixture
async def cabin(office: Office) -> AsyncIterator[CabinPeer]:
    """The office's cabin, connected."""
    peer = CabinPeer(office.hub.ws_url, office.hub.url, office.cabin_token)
    await peer.open()
    yield peer
    await peer.close()


async def test_during_a_call_the_agent_books_the_citizen_a_follow_up_with_themself(
    browser: Browser, office: Office, bookable: Bookable, cabin: CabinPeer
) -> None:
    laia = await open_console(browser, office, "laia")
    page = laia.page
    await go_available(laia)
    # Reading the agenda while available: a call brings the desk back.
    await show_agenda(laia, bookable.day)
    await cabin.call("general", "ca")
    await page.locator("cab-ring:not([hidden])").wait_for(state="visible")
    assert await page.evaluate("location.hash") == "#/"
    assert await page.locator("cab-agenda").count() == 0
    await answer(laia)

    # The form under the cabin tools starts from the call's errand, office and language.
    follow_up = page.locator("cab-desk details.follow-up")
    await follow_up.locator("summary").click()
    form = follow_up.locator("form.booking-form")
    await form.wait_for()
    assert await form.locator("select[name=service]").input_value() == "general"
    assert await form.locator("select[name=offer]").input_value() == str(bookable.general)
    assert await form.locator("select[name=language]").input_value() == "ca"
    assert await form.locator("input[name=with_me]").is_checked()
    await form.locator("input[name=first]").fill(bookable.day.isoformat())
    await form.locator(f"button.day[data-day='{bookable.day.isoformat()}']").click()
    await pick_time(form, bookable.at(9, 30))
    await form.locator("input[name=name]").fill("Montserrat Pujol")
    await form.locator("input[name=document]").fill("Y2345678Z")
    await form.locator("input[name=phone]").fill("+34 699 111 222")
    await form.locator("input[name=consent]").check()
    await form.locator("button.book").click()
    done = follow_up.locator(".booking-done")
    await done.wait_for()
    reference = await done.locator(".booking-reference").inner_text()
    assert "by SMS to the mobile" in await done.inner_text()

    # It is in Laia's agenda, booked with her.
    agenda = office.client.get(
        "/api/console/appointments/agenda",
        params={"day": bookable.day.isoformat()},
        headers=office.headers("laia"),
    )
    assert agenda.status_code == 200, agenda.text
    [entry] = [item for item in agenda.json() if item["reference"] == reference]
    assert entry["service"] == "general" and entry["citizen_name"] == "Montserrat Pujol"
    assert entry["agent_id"] == office.user_id("laia")
    assert [error for error in laia.errors if "status of 4" not in error] == []


def _png_file() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 60)).save(out, format="PNG")
    return out.getvalue()


async def test_the_agenda_counts_and_opens_the_documents_sent_ahead(
    browser: Browser, office: Office, bookable: Bookable
) -> None:
    reference, appointment_id = seed(
        office, bookable, bookable.padron, bookable.at(10), "Marta Puig Soler", "laia"
    )
    bare, _ = seed(office, bookable, bookable.padron, bookable.at(11), "Jordi Vidal", "laia")
    service = services_of(office.app).appointments
    # The citizen's link, made again from the appointment's id as the notices make it.
    token = manage_token(service.secret_key, appointment_id)
    documents = AppointmentDocuments(
        service.database, service.log, service.clock, secret_key=service.secret_key
    )
    sent = documents.attach(token, _png_file(), "Factura de la luz")

    laia = await open_console(browser, office, "laia")
    page = laia.page
    await show_agenda(laia, bookable.day)
    row = page.locator(f"tr.agenda-entry[data-reference='{reference}']")
    await row.wait_for()
    assert (
        "—"
        in await page.locator(
            f"tr.agenda-entry[data-reference='{bare}'] td.agenda-documents"
        ).inner_text()
    )
    await row.locator("button.show-documents").click()
    link = row.locator(f"a[data-document-id='{sent.id}']")
    await link.wait_for()
    assert "Factura de la luz" in await link.inner_text()
    href = await link.get_attribute("href")
    assert href is not None
    # The link opens the document with the console's session (its cookie).
    opened = await page.evaluate(
        "async (href) => { const r = await fetch(href, {credentials: 'same-origin'});"
        " return [r.status, r.headers.get('content-type'), (await r.arrayBuffer()).byteLength]; }",
        href,
    )
    assert opened == [200, "image/png", sent.size]
    assert laia.errors == []
