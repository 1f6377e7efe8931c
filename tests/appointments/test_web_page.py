"""The public appointment pages over HTTP: every step in every language, and every bad input.

A real hub serves on a loopback port (SQLite), seeded with an office whose agent works every
day; its clock stands still on Monday 2 March 2026 at 08:00 in Madrid unless a test moves it.
"""

from __future__ import annotations

import ast
import html
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from appointments.web_fixtures import DNI, NIE, Seeded, manage_token, web_hub
from babel.messages.pofile import read_po
from jinja2 import Environment
from jinja2.ext import extract_from_ast
from support.clock import FakeClock

from contract.appointments import Channel
from hub.appointments import pages, web
from hub.appointments.texts import refusal_text

PACKAGE = Path(web.__file__).parent
TRANSLATED = ("es", "ca", "ca@valencia", "eu", "gl")
LANGUAGES = (*TRANSLATED, "en")
#: Tuesday 3 March 2026, 09:00 and 09:30 in Madrid.
NINE = "2026-03-03T08:00:00+00:00"
HALF_PAST_NINE = "2026-03-03T08:30:00+00:00"
ANA = {"name": "Ana García López", "document": DNI, "email": "ana@example.org", "phone": ""}


class Office:
    """The served hub, a client of it, and what was seeded."""

    def __init__(self, url: str, clock: FakeClock, seeded: Seeded) -> None:
        self.client = httpx.Client(base_url=url, timeout=30)
        self.clock = clock
        self.seeded = seeded

    def offer(self, service: str = "padron", channel: Channel = Channel.IN_PERSON) -> int:
        return self.seeded.offers[(service, channel)]

    def form(self, stage: str, lang: str = "es", at: str = NINE, **fields: Any) -> dict[str, Any]:
        values = {"lang": lang, "offer": self.offer(), "at": at, "language": lang,
                  "consent": "yes", "stage": stage} | ANA  # fmt: skip
        return values | fields

    def post(self, stage: str, lang: str = "es", **fields: Any) -> httpx.Response:
        return self.client.post("/cita", data=self.form(stage, lang, **fields))

    def book(self, lang: str = "es", **fields: Any) -> str:
        """Book and return the management token."""
        response = self.post("confirm", lang, **fields)
        assert response.status_code == 303, response.text
        return manage_token(response)


@pytest.fixture
def office(tmp_path: Path) -> Iterator[Office]:
    clock = FakeClock(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))
    with web_hub(tmp_path / "data", clock) as (hub, _app, seeded):
        office = Office(hub.url, clock, seeded)
        yield office
        office.client.close()


def text_of(response: httpx.Response) -> str:
    """The page's visible words, unescaped, in one line."""
    body = re.sub(r"<[^>]+>", " ", response.text)
    return " ".join(html.unescape(body).split())


def links(response: httpx.Response, pattern: str) -> list[str]:
    return [html.unescape(href) for href in re.findall(r'href="([^"]+)"', response.text)
            if re.search(pattern, html.unescape(href))]  # fmt: skip


def t(message: str, lang: str) -> str:
    return pages.tr(message, lang)


# The catalogs ------------------------------------------------------------------------------


def used_ids() -> list[str]:
    """Every message id of the pages: ``N_`` in their modules, ``_`` in the templates."""
    found: list[str] = []
    modules = ("pages.py", "web.py", "manage_pages.py")
    trees = [ast.parse((PACKAGE / module).read_text()) for module in modules]
    for node in (node for tree in trees for node in ast.walk(tree)):
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


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{[a-z_]+\}", text))


def test_the_extractor_finds_the_words_of_code_and_templates() -> None:
    ids = used_ids()
    assert web.CONSENT in ids and "Confirm the appointment" in ids
    assert len(ids) > 60


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_word_is_in_every_catalog_with_its_placeholders(lang: str) -> None:
    path = PACKAGE / "locale" / lang / "LC_MESSAGES" / "cita_web.po"
    with path.open("rb") as fh:
        catalog = read_po(fh, locale=lang.split("@")[0])
    used = used_ids()
    problems = []
    for message_id in used:
        entry = catalog.get(message_id)
        if entry is None or not entry.string or entry.fuzzy:
            problems.append(f"untranslated: {message_id!r}")
        elif placeholders(message_id) != placeholders(str(entry.string)):
            problems.append(f"placeholders differ: {entry.string!r}")
    stale = [entry.id for entry in catalog if entry.id and entry.id not in used]
    assert problems == [] and stale == []


# Every step, in every language -------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_step_is_in_the_chosen_language(office: Office, lang: str) -> None:
    page = office.client.get("/cita", params={"lang": lang})
    assert page.status_code == 200
    assert f'<html lang="{lang.split("@")[0]}">' in page.text
    assert page.headers["content-language"] == lang.split("@")[0]
    assert t("What is your appointment for?", lang) in text_of(page)

    errand = links(page, r"service=padron")[0]
    page = office.client.get(errand)
    assert t("How do you want to be attended?", lang) in text_of(page)
    assert t("By video call, from home", lang) in text_of(page)

    page = office.client.get(links(page, rf"offer={office.offer()}")[0])
    assert t("Which day?", lang) in text_of(page)
    assert pages.day_label(datetime(2026, 3, 3).date(), lang) in text_of(page)

    page = office.client.get(links(page, r"day=2026-03-03")[0])
    assert t("What time?", lang) in text_of(page)
    assert "09:00" in text_of(page) and "18:30" in text_of(page)
    assert "08:30" not in text_of(page)  # before the shift

    page = office.client.get(links(page, r"at=")[0])
    words = text_of(page)
    assert t("Your details", lang) in words
    assert t(web.CONSENT, lang).format(days=30) in words
    for name in ("name", "document", "email", "phone", "consent", "language"):
        assert f'name="{name}"' in page.text

    page = office.post("identify", lang)
    assert page.status_code == 200
    assert t("Check and confirm", lang) in text_of(page)
    assert "Ana García López" in text_of(page)

    booked = office.post("confirm", lang)
    assert booked.status_code == 303
    receipt = office.client.get(booked.headers["location"])
    words = text_of(receipt)
    assert t("Your appointment is booked", lang) in words
    assert re.search(r"CP-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", words)
    assert t("We are sending you an e-mail with this receipt.", lang) in words
    assert (
        t("We are sending you an SMS with the reference and the link to this page.", lang)
        not in words
    )


def test_every_page_keeps_to_its_strict_policy(office: Office) -> None:
    page = office.client.get("/cita", params={"lang": "es", "offer": office.offer(), "at": NINE})
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "style-src 'self'" in policy
    assert "form-action 'self'" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    assert "<script" not in page.text and "style=" not in page.text and "<style" not in page.text
    style = office.client.get("/cita/static/cita.css")
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")


def test_the_language_is_the_query_then_the_browser_then_spanish(office: Office) -> None:
    basque = office.client.get("/cita", headers={"Accept-Language": "eu-ES,es;q=0.8"})
    assert t("What is your appointment for?", "eu") in text_of(basque)
    valencian = office.client.get("/cita", headers={"Accept-Language": "ca-ES-valencia"})
    assert '<html lang="ca">' in valencian.text
    assert 'aria-current="true">Valencià' in valencian.text
    chosen = office.client.get("/cita?lang=gl", headers={"Accept-Language": "eu"})
    assert t("What is your appointment for?", "gl") in text_of(chosen)
    unknown = office.client.get("/cita?lang=xx", headers={"Accept-Language": "fr"})
    assert t("What is your appointment for?", "es") in text_of(unknown)


def test_the_language_links_keep_the_choices(office: Office) -> None:
    page = office.client.get(
        "/cita", params={"lang": "es", "offer": office.offer(), "day": "2026-03-03"}
    )
    catalan = links(page, r"lang=ca&")
    assert catalan and f"offer={office.offer()}" in catalan[0] and "day=2026-03-03" in catalan[0]


def test_the_days_list_only_days_with_free_places(office: Office) -> None:
    page = office.client.get("/cita", params={"lang": "en", "offer": office.offer()})
    days = links(page, r"day=")
    assert len(days) == pages.DAYS_SHOWN
    assert "day=2026-03-02" in days[0]  # today still has afternoon times
    later = office.client.get(links(page, r"first=")[0])
    assert "day=2026-03-14" in links(later, r"day=")[0]


# Bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"document": "12345678A"},
            "document",
            "The letter does not match the numbers. Please check it.",
        ),
        ({"document": "1234"}, "document", web.DOCUMENT_PROBLEMS["wrong_length"]),
        ({"document": "W1234567L"}, "document", "A NIE starts with X, Y or Z."),
        ({"document": ""}, "document", "Write your DNI or NIE."),
        ({"name": "   "}, "name", "Write your name and surnames."),
    ],
)
@pytest.mark.parametrize("lang", ["es", "eu"])
def test_a_wrong_field_is_told_next_to_it_with_what_was_typed(
    office: Office, fields: dict[str, str], field: str, message: str, lang: str
) -> None:
    page = office.post("identify", lang, **fields)
    assert page.status_code == 422
    found = re.search(rf'<p class="error" id="{field}-error">([^<]+)</p>', page.text)
    assert found is not None and html.unescape(found.group(1)) == t(message, lang)
    assert f'value="{html.escape(fields[field])}"' in page.text
    assert 'value="ana@example.org"' in page.text  # the rest is kept too


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"email": "ana@"}, "email", "invalid_email"),
        ({"email": "ana at example.org"}, "email", "invalid_email"),
        ({"phone": "912345678"}, "phone", "invalid_phone"),
        ({"phone": "+34 12"}, "phone", "invalid_phone"),
        ({"email": "", "phone": ""}, "contact", "no_contact"),
        ({"consent": ""}, "consent", "no_consent"),
    ],
)
def test_a_wrong_contact_or_no_consent_gets_a_plain_message(
    office: Office, fields: dict[str, str], field: str, code: str
) -> None:
    page = office.post("identify", "ca", **fields)
    assert page.status_code == 422
    assert refusal_text(code, "ca") in text_of(page)  # type: ignore[arg-type]
    assert f"{field}" in page.text
    assert "Ana García López" in page.text
    if field == "consent":
        assert 'name="consent" type="checkbox" value="yes">' in page.text  # unticked


def test_the_same_checks_hold_when_confirming(office: Office) -> None:
    page = office.post("confirm", "es", document="12345678A")
    assert page.status_code == 422
    assert t("The letter does not match the numbers. Please check it.", "es") in text_of(page)


def test_a_mobile_and_a_nie_are_accepted(office: Office) -> None:
    token = office.book("gl", document=NIE.lower(), email="", phone="612 34 56 78")
    receipt = office.client.get(f"/cita/g/{token}", params={"lang": "gl", "booked": "1"})
    words = text_of(receipt)
    assert (
        t("We are sending you an SMS with the reference and the link to this page.", "gl") in words
    )
    assert t("We are sending you an e-mail with this receipt.", "gl") not in words
    assert "A. G. L." in words or "A. G." in words


def test_a_slot_taken_meanwhile_is_told_with_the_other_times(office: Office) -> None:
    office.book()
    page = office.post("confirm", "es", name="Berta Ruiz", document=NIE)
    assert page.status_code == 409
    words = text_of(page)
    assert (
        refusal_text("slot_taken", "es") in words or refusal_text("slot_unavailable", "es") in words
    )
    assert t("What time?", "es") in words and "09:30" in words
    assert "at=2026-03-03T08%3A00" not in page.text


def test_a_slot_taken_before_step_4_is_told_too(office: Office) -> None:
    office.book()
    page = office.client.get("/cita", params={"lang": "en", "offer": office.offer(), "at": NINE})
    assert refusal_text("slot_unavailable", "en") in text_of(page)
    assert t("What time?", "en") in text_of(page)


def test_a_slot_in_the_past_is_refused(office: Office) -> None:
    office.clock.advance(days=2)
    page = office.post("confirm", "eu")
    assert page.status_code == 409
    assert refusal_text("slot_unavailable", "eu") in text_of(page)


def test_nonsense_in_the_address_or_the_form_starts_again(office: Office) -> None:
    offer = str(office.offer())
    queries: list[dict[str, str]] = [
        {"offer": "999"}, {"offer": "x"}, {"offer": offer, "day": "2026-02-30"},
        {"offer": offer, "at": "noon"}, {"service": "<b>"}, {"offer": offer, "day": "9999-12-31"},
        {"offer": offer, "first": "9999-12-31"},
        {"offer": offer, "at": "9999-12-31T23:59:59+00:00"},
    ]  # fmt: skip
    for query in queries:
        page = office.client.get("/cita", params={"lang": "es", **query})
        assert page.status_code == 200, query
        assert "<b>" not in page.text
    assert office.post("identify", "es", offer="999").status_code == 409
    empty = office.client.post("/cita", data={})
    assert empty.status_code == 303 and empty.headers["location"].startswith("/cita?lang=")


def test_what_is_typed_is_escaped(office: Office) -> None:
    page = office.post("identify", "es", name='<script>alert("x")</script>', email="ana@")
    assert "<script>" not in page.text
    assert "&lt;script&gt;" in page.text


def test_no_personal_data_reaches_the_logs(
    office: Office, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    office.post("identify", "es", email="ana@")
    token = office.book(phone="612345678")
    office.client.post(f"/cita/g/{token}", data={"lang": "es", "action": "cancel"})
    # What the hub logs. The test's HTTP client logs the addresses it asks for, and uvicorn's
    # access log is off in the hub (hub.server.uvicorn_config), whatever pytest makes of it.
    client = ("httpx", "httpcore", "uvicorn.access")
    hub = [r for r in caplog.records if not r.name.startswith(client)]
    assert hub, "expected the hub to log the booking"
    logged = "\n".join(record.getMessage() for record in hub)
    for secret in ("Ana", "García", DNI, "ana@example.org", "612345678", token):
        assert secret not in logged


# The management page -----------------------------------------------------------------------


def test_the_management_page_shows_initials_and_moves_and_cancels(office: Office) -> None:
    token = office.book("ca")
    page = office.client.get(f"/cita/g/{token}")
    words = text_of(page)
    assert t("Your appointment", "ca") in words  # the appointment's language by default
    assert "A. G." in words and "Ana García" not in words and DNI not in words
    assert "El teu DNI o NIE." in words

    moving = office.client.get(
        f"/cita/g/{token}", params={"lang": "ca", "do": "move", "day": "2026-03-03"}
    )
    assert 'value="2026-03-03T08:30:00+00:00"' in moving.text
    moved = office.client.post(
        f"/cita/g/{token}", data={"lang": "ca", "action": "move", "at": HALF_PAST_NINE}
    )
    assert moved.status_code == 303
    page = office.client.get(moved.headers["location"])
    assert t("Your appointment has been moved.", "ca") in text_of(page)
    assert "09:30" in text_of(page)

    asking = office.client.get(f"/cita/g/{token}", params={"lang": "ca", "do": "cancel"})
    assert t("Cancel the appointment?", "ca") in text_of(asking)
    cancelled = office.client.post(f"/cita/g/{token}", data={"lang": "ca", "action": "cancel"})
    page = office.client.get(cancelled.headers["location"])
    assert t("Your appointment has been cancelled.", "ca") in text_of(page)
    assert t("Change the day or time", "ca") not in text_of(page)

    again = office.client.post(f"/cita/g/{token}", data={"lang": "ca", "action": "cancel"})
    assert again.status_code == 409
    assert refusal_text("already_cancelled", "ca") in text_of(again)


def test_moving_to_a_taken_time_says_so(office: Office) -> None:
    office.book(name="Berta Ruiz", document=NIE, at=HALF_PAST_NINE)
    token = office.book()
    page = office.client.post(
        f"/cita/g/{token}", data={"lang": "es", "action": "move", "at": HALF_PAST_NINE}
    )
    assert page.status_code == 409
    assert refusal_text("slot_unavailable", "es") in text_of(page) or refusal_text(
        "slot_taken", "es"
    ) in text_of(page)


def test_a_video_appointment_says_when_the_call_starts(office: Office) -> None:
    token = office.book("es", offer=office.offer("padron", Channel.HOME_VIDEO))
    words = text_of(office.client.get(f"/cita/g/{token}"))
    day = pages.day_label(datetime(2026, 3, 3).date(), "es")
    assert (
        t("Your video call starts on {day} at {time}.", "es").format(day=day, time="09:00") in words
    )
    # Nothing to press yet but the documents' form: the call is joined later, from a cabin.
    page = office.client.get(f"/cita/g/{token}").text
    assert "<button" not in page.split('<section class="documents"')[0]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_unknown_link_is_a_plain_page(office: Office, lang: str) -> None:
    page = office.client.get("/cita/g/" + "A" * 43, params={"lang": lang})
    assert page.status_code == 404
    assert refusal_text("not_found", lang) in text_of(page)
    assert office.client.get("/cita/g/short").status_code == 404


def test_an_expired_link_is_gone(office: Office) -> None:
    token = office.book()
    office.clock.advance(days=40)
    page = office.client.get(f"/cita/g/{token}", params={"lang": "gl"})
    assert page.status_code in (404, 410)


def test_guessing_links_is_limited(office: Office) -> None:
    statuses = [office.client.get(f"/cita/g/{'B' * 42}{n}").status_code for n in range(12)]
    assert statuses[0] == 404 and statuses[-1] == 429
    limited = office.client.get(f"/cita/g/{'C' * 43}", params={"lang": "eu"})
    assert refusal_text("too_many_attempts", "eu") in text_of(limited)


def test_nonsense_on_the_management_page_shows_the_days_again(office: Office) -> None:
    token = office.book()
    for query in ({"do": "move", "day": "9999-12-31"}, {"do": "move", "first": "9999-12-31"},
                  {"do": "move", "day": "2026-02-01"}, {"do": "dance"}):  # fmt: skip
        page = office.client.get(f"/cita/g/{token}", params={"lang": "es", **query})
        assert page.status_code == 200, query
    for form in ({"action": "move", "at": "soon"}, {"action": "dance"}, {}):
        answer = office.client.post(f"/cita/g/{token}", data=form)
        assert answer.status_code == 303, form
    assert "09:00" in text_of(office.client.get(f"/cita/g/{token}"))


def test_the_council_s_system_down_is_a_plain_page_not_a_server_error(tmp_path: Path) -> None:
    from appointments.municipal import closed_port_url

    from hub.appointments.texts import refusal_text

    clock = FakeClock(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))
    council = {"system": "rest", "rest": {"url": closed_port_url(), "timeout_s": 1}}
    with web_hub(tmp_path / "data", clock, appointments=council) as (hub, _app, seeded):
        offer = seeded.offers[("padron", Channel.IN_PERSON)]
        with httpx.Client(base_url=hub.url, timeout=30) as client:
            days = client.get("/cita", params={"lang": "ca", "offer": offer})
            assert days.status_code == 503
            assert refusal_text("external_unavailable", "ca") in text_of(days)
            booked = client.post(
                "/cita",
                data={
                    "lang": "ca",
                    "offer": offer,
                    "at": NINE,
                    "language": "ca",
                    "consent": "yes",
                    "stage": "confirm",
                }
                | ANA,
            )
            assert booked.status_code == 503
            assert refusal_text("external_unavailable", "ca") in text_of(booked)
