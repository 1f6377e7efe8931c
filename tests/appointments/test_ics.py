"""Calendar files and the notices' words: parsed back with icalendar, every language complete."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from icalendar import Calendar

from contract.appointments import REFUSAL_CODES, Channel
from contract.languages import CITIZEN_LANGUAGES
from hub.appointments import ics, texts

HERE = Path(texts.__file__).parent
FULL_LANGUAGES = ("es", "ca", "eu", "gl")
URL = "https://cita.ajuntament.example/cita/g/" + "A" * 43
#: 26 October 2026, the day after summer time ends: 10:00 in Madrid is 09:00 UTC.
AUTUMN = datetime(2026, 10, 26, 9, 0, tzinfo=UTC)
#: 23 March 2026, before summer time: 10:00 in Madrid is also 09:00 UTC.
SPRING = datetime(2026, 3, 23, 9, 0, tzinfo=UTC)
#: 30 March 2026, after summer time began: 10:00 in Madrid is 08:00 UTC.
SUMMER = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)


def facts(
    kind: str = "receipt",
    *,
    lang: str = "es",
    channel: Channel = Channel.IN_PERSON,
    starts_at: datetime = SUMMER,
) -> texts.NoticeFacts:
    return texts.NoticeFacts(
        kind=kind,
        lang=lang,
        reference="CP-7K3M-Q9XA",
        citizen_name="Lucía Ficticia Ejemplo",
        errand="Padrón",
        channel=channel,
        site_name="Oficina Centro",
        site_address="Plaza Mayor 1, 01001 Vitoria-Gasteiz",
        timezone="Europe/Madrid",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=20),
        what_to_bring="DNI",
        manage_url=URL,
        book_url="https://cita.ajuntament.example/cita",
        old_starts_at=SPRING if kind == "moved" else None,
    )


def parsed(data: bytes) -> Calendar:
    calendar = Calendar.from_ical(data)
    assert isinstance(calendar, Calendar)
    return calendar


def test_the_calendar_file_of_an_appointment() -> None:
    data = ics.appointment_calendar(
        facts(), appointment_id="a1b2", sequence=3, stamp=SPRING, cancelled=False
    )
    calendar = parsed(data)
    assert (calendar["METHOD"], calendar["VERSION"]) == ("PUBLISH", "2.0")
    assert calendar["PRODID"] == ics.PRODID
    assert calendar.walk("VTIMEZONE") == []
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == "a1b2@appointments.cabina"
    assert event["SEQUENCE"] == 3
    assert event.decoded("DTSTART") == SUMMER and event.decoded("DTSTART").tzinfo is not None
    assert event.decoded("DTEND") == SUMMER + timedelta(minutes=20)
    assert b"DTSTART:20260330T080000Z" in data
    assert str(event["SUMMARY"]) == "Cita: Padrón"
    assert str(event["LOCATION"]) == "Oficina Centro, Plaza Mayor 1, 01001 Vitoria-Gasteiz"
    assert str(event["URL"]) == URL
    assert str(event["STATUS"]) == "CONFIRMED"
    assert "CP-7K3M-Q9XA" in str(event["DESCRIPTION"])


def test_the_uid_is_stable_and_a_cancellation_says_so() -> None:
    first = parsed(ics.appointment_calendar(facts(), appointment_id="a1", sequence=1, stamp=SPRING))
    last = parsed(
        ics.appointment_calendar(
            facts("cancelled"), appointment_id="a1", sequence=2, stamp=SPRING, cancelled=True
        )
    )
    [one], [two] = first.walk("VEVENT"), last.walk("VEVENT")
    assert one["UID"] == two["UID"]
    assert (one["SEQUENCE"], two["SEQUENCE"]) == (1, 2)
    assert str(two["STATUS"]) == "CANCELLED"


def test_a_video_appointment_from_home_is_located_at_its_link() -> None:
    data = ics.appointment_calendar(
        facts(lang="en", channel=Channel.HOME_VIDEO), appointment_id="v", sequence=1, stamp=SPRING
    )
    [event] = parsed(data).walk("VEVENT")
    # The page of the call: the management link's token under /cita/v/.
    assert str(event["LOCATION"]) == f"Video call: {URL.replace('/cita/g/', '/cita/v/')}"
    assert str(event["SUMMARY"]) == "Appointment: Padrón"


@pytest.mark.parametrize(
    ("moment", "clock"), [(SPRING, "10:00"), (SUMMER, "10:00"), (AUTUMN, "10:00")]
)
def test_times_are_written_on_the_sites_clock_across_summer_time(
    moment: datetime, clock: str
) -> None:
    words = texts.email_notice(facts(starts_at=moment))
    assert f"a las {clock}" in words.subject
    [event] = parsed(
        ics.appointment_calendar(
            facts(starts_at=moment), appointment_id="x", sequence=1, stamp=moment
        )
    ).walk("VEVENT")
    assert event.decoded("DTSTART") == moment


def test_dates_are_written_as_each_language_does() -> None:
    assert texts.day_text(SUMMER, "Europe/Madrid", "es") == "lunes, 30 de marzo de 2026"
    assert texts.day_text(SUMMER, "Europe/Madrid", "ca") == "dilluns, 30 de març del 2026"
    assert texts.day_text(SUMMER, "Europe/Madrid", "en") == "Monday, March 30, 2026"
    assert texts.short_day_text(SUMMER, "Europe/Madrid", "eu") == "03/30"
    assert texts.short_day_text(SUMMER, "Europe/Madrid", "gl") == "30/03"
    assert texts.time_text(SUMMER, "Europe/Madrid", "eu") == "10:00"


def test_an_agents_feed_names_the_citizen_by_initials_only() -> None:
    entry = ics.FeedEntry(
        appointment_id="a9",
        version=2,
        reference="CP-7K3M-Q9XA",
        starts_at=SUMMER,
        ends_at=SUMMER + timedelta(minutes=15),
        errand="Padrón",
        initials=texts.initials("Lucía Ficticia Ejemplo"),
        channel=Channel.CABIN_VIDEO,
        site_name="Oficina Centro",
        site_address="Plaza Mayor 1",
    )
    data = ics.agent_feed([entry], name="Agente Uno", lang="es", stamp=SPRING)
    calendar = parsed(data)
    assert str(calendar["X-WR-CALNAME"]) == "Citas de Agente Uno"
    [event] = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == (
        "Padrón · L. F. E. · Por videollamada, desde una cabina de la oficina"
    )
    assert str(event["UID"]) == "a9@agenda.cabina" and event["SEQUENCE"] == 2
    assert b"Luc" not in data and b"Ficticia" not in data


def test_initials_skip_what_is_not_a_word() -> None:
    assert texts.initials("  ana  de la  Prueba ") == "A. D. L. P."
    assert texts.initials("") == ""


@pytest.mark.parametrize("lang", CITIZEN_LANGUAGES)
@pytest.mark.parametrize("kind", ["receipt", "reminder", "moved", "cancelled"])
def test_every_notice_is_written_in_every_language(kind: str, lang: str) -> None:
    for channel in Channel:
        words = texts.email_notice(facts(kind, lang=lang, channel=channel))
        assert "CP-7K3M-Q9XA" in words.subject
        assert "Lucía Ficticia Ejemplo" in words.text and words.html.startswith("<!DOCTYPE html>")
        assert "{" not in words.text + words.subject
        if kind != "cancelled":
            # A video call's reminder leads to the call's page, the others to the management's.
            video = kind == "reminder" and channel is Channel.HOME_VIDEO
            link = URL.replace("/cita/g/", "/cita/v/") if video else URL
            assert link in words.text and f'href="{link}"' in words.html
        sms = texts.sms_notice(facts(kind, lang=lang, channel=channel))
        assert "CP-7K3M-Q9XA" in sms and "{" not in sms
        assert len(sms) <= texts.SMS_LENGTH, sms


def test_html_escapes_what_it_is_given() -> None:
    hostile = dataclasses.replace(facts(), citizen_name="<b>Eve</b> & co")
    words = texts.email_notice(hostile)
    assert "&lt;b&gt;Eve&lt;/b&gt; &amp; co" in words.html and "<b>Eve" not in words.html


@pytest.mark.parametrize("lang", CITIZEN_LANGUAGES)
def test_every_refusal_has_the_citizens_words(lang: str) -> None:
    for code in REFUSAL_CODES:
        words = texts.refusal_text(code, lang)
        assert words and words.endswith(".")
        if lang != "en":
            assert words != texts.REFUSALS[code]


# The catalogs.


def used_ids() -> list[str]:
    found: list[str] = []
    for _line, message, _comments, _context in extract_from_file(
        "python", str(HERE / "texts.py"), keywords={"_": None}
    ):
        if isinstance(message, str) and message not in found:
            found.append(message)
    return found


def catalog(lang: str) -> Catalog:
    path = HERE / "locale" / lang / "LC_MESSAGES" / f"{texts.DOMAIN}.po"
    with path.open("rb") as fh:
        return read_po(fh, locale=lang.split("@")[0])


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{[a-z_]+\}", text))


@pytest.mark.parametrize("lang", FULL_LANGUAGES)
def test_every_message_is_translated_with_its_placeholders(lang: str) -> None:
    entries = catalog(lang)
    problems = []
    for message_id in used_ids():
        entry = entries.get(message_id)
        if entry is None or not entry.string or entry.fuzzy:
            problems.append(f"untranslated: {message_id!r}")
        elif placeholders(message_id) != placeholders(str(entry.string)):
            problems.append(f"placeholders differ: {entry.string!r}")
    assert problems == []


@pytest.mark.parametrize("lang", [*FULL_LANGUAGES, "ca@valencia"])
def test_no_catalog_keeps_messages_the_code_no_longer_uses(lang: str) -> None:
    ids = set(used_ids())
    assert [entry.id for entry in catalog(lang) if entry.id and entry.id not in ids] == []


def test_valencian_differs_where_it_should_and_falls_back_to_catalan() -> None:
    assert texts.tr(texts.MANAGE, "ca@valencia").startswith("Per a canviar")
    assert texts.tr(texts.MANAGE, "ca").startswith("Per canviar")
    assert texts.tr(texts.REFERENCE, "ca@valencia") == texts.tr(texts.REFERENCE, "ca")
    assert texts.tr(texts.REFERENCE, "xx") == texts.tr(texts.REFERENCE, "es")
