"""The public web pages of appointments: book at ``/cita``, manage at ``/cita/g/{token}``.

Plain server-rendered HTML (Jinja2 templates in ``templates/``, one stylesheet in ``static/``),
with no script, under a strict Content-Security-Policy; words from the ``cita_web`` catalogs in
the citizen's language (``?lang=``, else the browser's Accept-Language, else Spanish).

Booking goes in steps, and what was chosen travels in the address (errand, offer, day, time)
or, once the citizen types who they are, in the hidden fields of the POSTed form: the hub keeps
no session, and every step checks again everything it receives. Personal data never goes in an
address (it would reach access logs) nor in a log line. A booking answers with a redirect to
its management page, which shows the receipt once.

The management page is reached by the link in the receipt. Its token is the secret: an HMAC
of the appointment's id, 256 bits, never stored in clear. Its forms (move, cancel) carry no
CSRF token of their own, on purpose: a forged request from another site would have to name
the token in the address, and whoever knows it can already move or cancel the appointment by
following the link; the pages set no cookie, so a forged request carries no credential to
abuse. ``Referrer-Policy: no-referrer`` keeps the token from leaking to other sites. Links
that open nothing are counted per address in the hub's ``appointment_limiter`` (with the JSON
routes'): too many, and the page says to wait (429).

The service's refusals are worded by :func:`hub.appointments.texts.refusal_text` (the notices'
catalogs), so the citizen reads the same words on the page, at the cabin and in a message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib import resources
from typing import Any, TypeVar
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from fastapi import APIRouter, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined
from pydantic import ValidationError
from sqlalchemy import select

from cabina.i18n import translations
from contract.appointments import (
    Appointment,
    AppointmentStatus,
    BookedVia,
    BookingRequest,
    Channel,
    Citizen,
    MoveRequest,
    Offer,
    RefusalCode,
    normalise_email,
    normalise_phone,
)
from contract.identity import InvalidDocument, parse_document
from contract.languages import CITIZEN_LANGUAGES, Language
from hub.appointments import models
from hub.appointments.limits import address_of, check_booking, record_booking
from hub.appointments.routes import STATUS
from hub.appointments.service import AppointmentRefused, Appointments
from hub.appointments.texts import refusal_text
from hub.appointments.tokens import token_digest
from hub.deps import ServicesDep
from hub.padron.texts import LANGUAGE_NAMES
from hub.ratelimit import RateLimited
from hub.services import HubServices
from hub.settings import HubSettings

logger = logging.getLogger(__name__)
T = TypeVar("T")

PACKAGE = "hub.appointments"
DOMAIN = "cita_web"
_BABEL = {"es": "es", "ca": "ca", "ca@valencia": "ca", "eu": "eu", "gl": "gl", "en": "en"}
#: How far ahead the day step looks, and how many days with free places it lists at once.
LOOK_AHEAD_DAYS = 42
DAYS_SHOWN = 12
#: The longest value read from a form field or the address; longer ones are cut.
_MAX_FIELD = 300

_HEADERS = {
    "Cache-Control": "no-store",
    # The management page's address is its secret: never send it to another site.
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}


def N_(message: str) -> str:
    """Mark ``message`` for the ``cita_web`` catalogs; it is translated when shown.

    ``N_``, not ``_``: the package's other catalog (the notices') is extracted from ``_``.
    """
    return message


CHANNEL_NAMES = {
    Channel.IN_PERSON: N_("In person, at the office"),
    Channel.CABIN_VIDEO: N_("By video, from a cabin at the office"),
    Channel.HOME_VIDEO: N_("By video call, from home"),
}
DOCUMENT_PROBLEMS = {
    "empty": N_("Write your DNI or NIE."),
    "wrong_length": N_(
        "A DNI has 8 digits and a letter; a NIE has X, Y or Z, 7 digits and a letter."
    ),
    "non_digits": N_(
        "A DNI has 8 digits and a letter; a NIE has X, Y or Z, 7 digits and a letter."
    ),
    "wrong_nie_prefix": N_("A NIE starts with X, Y or Z."),
    "no_letter": N_("The DNI or NIE ends with a letter."),
    "wrong_letter": N_("The letter does not match the numbers. Please check it."),
}
NO_NAME = N_("Write your name and surnames.")
NO_OFFER = N_("This errand cannot be booked any more. Please start again.")
WRONG_DAY = N_("There are no free times that day. Please choose another day.")
_STATUS_TEXT = {
    AppointmentStatus.CANCELLED: N_("This appointment is cancelled."),
    AppointmentStatus.CHECKED_IN: N_("You have arrived: this appointment is in progress."),
    AppointmentStatus.DONE: N_("This appointment has taken place."),
    AppointmentStatus.NO_SHOW: N_("This appointment has passed without you."),
}

_ENV = Environment(
    loader=PackageLoader(PACKAGE, "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def tr(message: str, lang: str) -> str:
    """``message`` in ``lang``."""
    return translations(PACKAGE, DOMAIN, lang).gettext(message)


def refusal_words(code: RefusalCode, lang: str) -> str:
    """What the citizen reads when the service refuses with ``code`` (the notices' words)."""
    return refusal_text(code, lang)


def negotiate(query_lang: str | None, accept_language: str | None) -> Language:
    """The page's language: ``?lang=`` if offered, else the best of Accept-Language, else es."""
    for code in CITIZEN_LANGUAGES:
        if query_lang == code:
            return code
    ranked: list[tuple[float, int, Language]] = []
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _sep, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        parts = tag.strip().lower().split("-")
        wanted = "ca@valencia" if parts[0] == "ca" and "valencia" in parts else parts[0]
        for code in CITIZEN_LANGUAGES:
            if code == wanted and quality > 0:
                ranked.append((-quality, position, code))
    return min(ranked)[2] if ranked else "es"


def day_label(day: date, lang: str) -> str:
    """A day as its readers write it in full: ``martes, 8 de diciembre de 2026``."""
    return format_date(day, format="full", locale=_BABEL[lang])


def time_label(moment: datetime, timezone: str, lang: str) -> str:
    """The hour and minute of ``moment`` at the site."""
    return format_time(moment.astimezone(ZoneInfo(timezone)), "HH:mm", locale=_BABEL[lang])


def offer_name(offer: Offer, lang: str) -> str:
    """The errand's name in ``lang`` (Catalan for Valencian, else Spanish, else its code)."""
    names = offer.names
    return names.get(lang) or names.get(lang.split("@")[0]) or names.get("es") or offer.service


def _cut(value: object) -> str:
    return value[:_MAX_FIELD] if isinstance(value, str) else ""


def _int(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


#: Days and times outside these years are nonsense here (and near the calendar's ends, adding
#: the look-ahead to them would overflow).
_YEARS = range(2000, 3000)


def _day(value: str) -> date | None:
    try:
        day = date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        return None
    return day if day is not None and day.year in _YEARS else None


def _moment(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None and moment.year in _YEARS else None


def _url(path: str, **query: object) -> str:
    pairs = {key: str(value) for key, value in query.items() if value not in (None, "")}
    return f"{path}?{urlencode(pairs)}" if pairs else path


@dataclass(frozen=True, slots=True)
class Visit:
    """One request to the pages, with the hub's services (from :data:`hub.deps.ServicesDep`)."""

    request: Request
    services: HubServices

    @property
    def path(self) -> str:
        """The page's path, for its language links."""
        return self.request.url.path

    @property
    def accept_language(self) -> str | None:
        """What the browser says it reads."""
        return self.request.headers.get("accept-language")


def _service(visit: Visit) -> Appointments:
    return visit.services.appointments


def _address(visit: Visit) -> str:
    return address_of(visit.request)


def guarded_by_token(visit: Visit, call: Callable[[], T]) -> T:
    """``call`` (which opens a management link), counting wrong links per address.

    The same count as the JSON routes': :class:`AppointmentRefused` ``too_many_attempts`` once
    an address has tried too many links that open nothing.
    """
    limiter = visit.services.appointment_limiter
    address = _address(visit)
    try:
        limiter.check("appointment-link", address)
    except RateLimited:
        raise AppointmentRefused("too_many_attempts", "Expected fewer wrong links") from None
    try:
        return call()
    except AppointmentRefused as refusal:
        if refusal.code in ("not_found", "link_expired"):
            limiter.record("appointment-link", address)
        raise


def _settings(visit: Visit) -> HubSettings:
    return visit.services.settings


def _today(visit: Visit, timezone: str) -> date:
    return visit.services.clock().astimezone(ZoneInfo(timezone)).date()


def render(
    template: str,
    lang: str,
    visit: Visit,
    *,
    status_code: int = 200,
    switch: Mapping[str, object] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page in ``lang``; ``switch`` is the address's query that the language links keep."""
    base = visit.path
    keep = dict(switch or {})
    languages = [
        (code, LANGUAGE_NAMES[code], _url(base, **(keep | {"lang": code})))
        for code in CITIZEN_LANGUAGES
    ]
    html = _ENV.get_template(template).render(
        _=lambda message: tr(message, lang),
        lang=lang,
        html_lang=lang.split("@")[0],
        languages=languages,
        council=_settings(visit).padron.council_name,
        **context,
    )
    headers = _HEADERS | {"Content-Language": lang.split("@")[0]}
    return HTMLResponse(html, status_code=status_code, headers=headers)


@dataclass(frozen=True, slots=True)
class Choice:
    """One large target on a step's list: a link to the next step."""

    label: str
    href: str
    detail: str = ""


@dataclass
class Booking:
    """What a booking page has received, checked step by step."""

    lang: Language
    service: str = ""
    offer_id: int | None = None
    offer: Offer | None = None
    day: date | None = None
    at: datetime | None = None
    first: date | None = None

    def query(self, *, upto: str = "") -> dict[str, object]:
        """The address's query of the choices made before step ``upto`` (all by default)."""
        order = ("service", "offer", "day", "at")
        values: dict[str, object] = {
            "service": self.service,
            "offer": self.offer_id,
            "day": self.day.isoformat() if self.day else None,
            "at": self.at.isoformat() if self.at else None,
        }
        kept = order[: order.index(upto)] if upto in order else order
        return {"lang": self.lang} | {key: values[key] for key in kept}

    def summary(self) -> list[tuple[str, str]]:
        """The choices so far, as label and value, for the box atop each step."""
        lang, offer, rows = self.lang, self.offer, []
        if offer is not None:
            rows.append((tr(N_("Errand"), lang), offer_name(offer, lang)))
            rows.append((tr(N_("How"), lang), tr(CHANNEL_NAMES[offer.channel], lang)))
            if offer.channel != Channel.HOME_VIDEO:
                rows.append((tr(N_("Where"), lang), f"{offer.site_name}, {offer.site_address}"))
            if self.day is not None:
                rows.append((tr(N_("Day"), lang), day_label(self.day, lang)))
            if self.at is not None:
                rows.append((tr(N_("Time"), lang), time_label(self.at, offer.timezone, lang)))
        return rows


@dataclass
class Details:
    """Who the appointment is for, as typed in step 4 (kept to show it again)."""

    name: str = ""
    document: str = ""
    email: str = ""
    phone: str = ""
    language: str = ""
    consent: bool = False

    @classmethod
    def read(cls, fields: Mapping[str, str]) -> Details:
        """The details in a POSTed form."""
        return cls(
            name=fields.get("name", ""),
            document=fields.get("document", ""),
            email=fields.get("email", ""),
            phone=fields.get("phone", ""),
            language=fields.get("language", ""),
            consent=fields.get("consent", "") == "yes",
        )

    def check(self, page_lang: Language) -> tuple[Citizen | None, dict[str, str]]:
        """The citizen, or what is wrong with each field, in the page's language."""
        lang, errors = page_lang, {}
        if not " ".join(self.name.split()) or len(self.name) > 200:
            errors["name"] = tr(NO_NAME, lang)
        try:
            parse_document(self.document)
        except InvalidDocument as exc:
            errors["document"] = tr(DOCUMENT_PROBLEMS[exc.reason], lang)
        if self.email.strip():
            try:
                normalise_email(self.email)
            except ValueError:
                errors["email"] = refusal_words("invalid_email", lang)
        if self.phone.strip():
            try:
                normalise_phone(self.phone)
            except ValueError:
                errors["phone"] = refusal_words("invalid_phone", lang)
        if not self.email.strip() and not self.phone.strip():
            errors["contact"] = refusal_words("no_contact", lang)
        if not self.consent:
            errors["consent"] = refusal_words("no_consent", lang)
        if errors:
            return None, errors
        language = next((code for code in CITIZEN_LANGUAGES if code == self.language), page_lang)
        try:
            citizen = Citizen(
                name=self.name,
                document=self.document,
                email=self.email.strip() or None,
                phone=self.phone.strip() or None,
                language=language,
            )
        except ValidationError:  # every field was checked above; a last guard
            return None, {"name": tr(NO_NAME, lang)}
        return citizen, {}


def _free_times(service: Appointments, offer: Offer, day: date) -> list[datetime]:
    availability = service.availability(offer.id, day, day)
    return [
        slot.starts_at for found in availability.days if found.day == day for slot in found.slots
    ]


def _booking_from(fields: Mapping[str, str], lang: Language) -> Booking:
    at = _moment(fields.get("at", ""))
    return Booking(
        lang=lang,
        service=fields.get("service", "")[:40],
        offer_id=_int(fields.get("offer", "")),
        day=_day(fields.get("day", "")),
        at=at,
        first=_day(fields.get("first", "")),
    )


def booking_step(visit: Visit, booking: Booking, service: Appointments) -> HTMLResponse:
    """The first step whose choice is missing or no longer valid; step 4 once all are made."""
    lang = booking.lang
    offers = service.offers()
    if booking.offer_id is not None:
        booking.offer = next((offer for offer in offers if offer.id == booking.offer_id), None)
        if booking.offer is None:
            return _pick_errand(visit, booking, offers, error=tr(NO_OFFER, lang))
        booking.service = booking.offer.service
    if not any(offer.service == booking.service for offer in offers):
        return _pick_errand(visit, booking, offers)
    if booking.offer is None:
        return _pick_offer(visit, booking, [o for o in offers if o.service == booking.service])
    offer = booking.offer
    if booking.at is not None and booking.day is None:
        booking.day = booking.at.astimezone(ZoneInfo(offer.timezone)).date()
    if booking.day is None:
        return _pick_day(visit, booking, service)
    times = _free_times(service, offer, booking.day)
    if not times:
        return _pick_day(visit, booking, service, error=tr(WRONG_DAY, lang))
    if booking.at is None:
        return _pick_time(visit, booking, times)
    if booking.at not in times:
        return _pick_time(visit, booking, times, error=refusal_words("slot_unavailable", lang))
    return identify_page(visit, booking, Details(language=lang), {})


def _pick_errand(
    visit: Visit, booking: Booking, offers: Iterable[Offer], *, error: str = ""
) -> HTMLResponse:
    lang = booking.lang
    names = {offer.service: offer_name(offer, lang) for offer in offers}
    choices = sorted(
        (Choice(name, _url("/cita", lang=lang, service=code)) for code, name in names.items()),
        key=lambda choice: choice.label.casefold(),
    )
    booking.service, booking.offer_id, booking.offer, booking.day, booking.at = (
        "",
        None,
        None,
        None,
        None,
    )
    return _step(
        visit, booking, 1, N_("What is your appointment for?"), choices, None, error=error,
        empty=N_("No errand can be booked right now."),
    )  # fmt: skip


def _pick_offer(visit: Visit, booking: Booking, offers: list[Offer]) -> HTMLResponse:
    lang = booking.lang
    choices = [
        Choice(
            tr(CHANNEL_NAMES[offer.channel], lang),
            _url("/cita", **booking.query(upto="offer"), offer=offer.id),
            ""
            if offer.channel == Channel.HOME_VIDEO
            else f"{offer.site_name}, {offer.site_address}",
        )
        for offer in offers
    ]
    return _step(visit, booking, 1, N_("How do you want to be attended?"), choices, "service")


def _pick_day(
    visit: Visit, booking: Booking, service: Appointments, *, error: str = ""
) -> HTMLResponse:
    assert booking.offer is not None
    today = _today(visit, booking.offer.timezone)
    first = booking.first if booking.first and booking.first > today else today
    last = first + timedelta(days=LOOK_AHEAD_DAYS - 1)
    found = [day for day in service.availability(booking.offer.id, first, last).days if day.slots]
    booking.day = booking.at = None
    choices = [
        Choice(
            day_label(day.day, booking.lang),
            _url("/cita", **booking.query(upto="day"), day=day.day.isoformat()),
            tr(N_("Free times: {count}"), booking.lang).format(count=len(day.slots)),
        )
        for day in found[:DAYS_SHOWN]
    ]
    after = found[DAYS_SHOWN].day if len(found) > DAYS_SHOWN else last + timedelta(days=1)
    later = _url("/cita", **booking.query(upto="day"), first=after.isoformat())
    return _step(
        visit, booking, 2, N_("Which day?"), choices, "offer", error=error, later=later,
        empty=N_("There are no free days in these weeks."),
    )  # fmt: skip


def _pick_time(
    visit: Visit,
    booking: Booking,
    times: list[datetime],
    *,
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    assert booking.offer is not None
    timezone = booking.offer.timezone
    booking.at = None
    choices = [
        Choice(
            time_label(starts, timezone, booking.lang),
            _url("/cita", **booking.query(upto="at"), at=starts.isoformat()),
        )
        for starts in times
    ]
    return _step(
        visit, booking, 3, N_("What time?"), choices, "day", error=error, grid=True,
        status_code=status_code,
    )  # fmt: skip


def _step(
    visit: Visit,
    booking: Booking,
    number: int,
    title: str,
    choices: list[Choice],
    back_to: str | None,
    *,
    error: str = "",
    later: str | None = None,
    empty: str = "",
    grid: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    lang = booking.lang
    return render(
        "choose.html",
        lang,
        visit,
        status_code=status_code,
        switch=booking.query(),
        number=number,
        title=tr(title, lang),
        choices=choices,
        summary=booking.summary(),
        back=_url("/cita", **booking.query(upto=back_to)) if back_to else None,
        error=error,
        later=later,
        empty=tr(empty, lang) if empty else "",
        grid=grid,
    )


def _consent(visit: Visit, lang: str) -> str:
    days = _settings(visit).appointments.retention_days
    if days == 0:
        return tr(CONSENT_SAME_DAY, lang)
    return tr(CONSENT, lang).format(days=days)


CONSENT = N_(
    "I agree that the council keeps my name, DNI/NIE, e-mail and mobile number to manage this "
    "appointment and to send me its receipt, reminders and changes, and for nothing else. They "
    "are erased {days} days after the appointment; after that, the council's records of "
    "attention keep only a code, without my name or contacts."
)
CONSENT_SAME_DAY = N_(
    "I agree that the council keeps my name, DNI/NIE, e-mail and mobile number to manage this "
    "appointment and to send me its receipt, reminders and changes, and for nothing else. They "
    "are erased once the appointment is over; after that, the council's records of attention "
    "keep only a code, without my name or contacts."
)


def identify_page(
    visit: Visit,
    booking: Booking,
    details: Details,
    errors: Mapping[str, str],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """Step 4: who the appointment is for, how to reach them, and their consent."""
    lang = booking.lang
    return render(
        "identify.html",
        lang,
        visit,
        status_code=status_code,
        switch=booking.query(),
        number=4,
        summary=booking.summary(),
        back=_url("/cita", **booking.query(upto="at")),
        hidden={
            "lang": lang,
            "offer": booking.offer_id,
            "at": booking.at.isoformat() if booking.at else "",
        },
        details=details,
        errors=errors,
        language_choices=[(code, LANGUAGE_NAMES[code]) for code in CITIZEN_LANGUAGES],
        consent=_consent(visit, lang),
    )


def _confirm_page(
    visit: Visit, booking: Booking, citizen: Citizen, details: Details
) -> HTMLResponse:
    lang = booking.lang
    contact = [citizen.email or "", citizen.phone or ""]
    return render(
        "confirm.html",
        lang,
        visit,
        switch=booking.query(),
        number=5,
        summary=booking.summary(),
        hidden={
            "lang": lang,
            "offer": booking.offer_id,
            "at": booking.at.isoformat() if booking.at else "",
            "name": details.name,
            "document": details.document,
            "email": details.email,
            "phone": details.phone,
            "language": citizen.language,
            "consent": "yes",
        },
        who=[
            (tr(N_("Name and surnames"), lang), citizen.name),
            (tr(N_("DNI or NIE"), lang), citizen.document),
            (tr(N_("E-mail and mobile"), lang), " · ".join(value for value in contact if value)),
            (tr(N_("Language of the messages"), lang), LANGUAGE_NAMES[citizen.language]),
        ],
    )


_BOOKING_FIELDS = ("lang", "stage", "offer", "at", "name", "document", "email", "phone",
                   "language", "consent")  # fmt: skip


def post_booking(visit: Visit, fields: Mapping[str, str]) -> Response:
    """Step 4 sent (check it, then show step 5), or step 5 confirmed (book)."""
    lang = negotiate(fields.get("lang"), visit.accept_language)
    booking = _booking_from(fields, lang)
    if booking.offer_id is None or booking.at is None:
        return RedirectResponse(_url("/cita", lang=lang), status.HTTP_303_SEE_OTHER, _HEADERS)
    service = _service(visit)
    stage = fields.get("stage", "")
    at = booking.at
    offer = next((offer for offer in service.offers() if offer.id == booking.offer_id), None)
    if stage == "confirm" and offer is not None:
        # The service checks the time itself, and tells a place just taken from a time past.
        booking.offer, booking.service = offer, offer.service
        booking.day = at.astimezone(ZoneInfo(offer.timezone)).date()
    else:
        checked = booking_step(visit, booking, service)
        if booking.offer is None or booking.at is None:  # a choice is no longer valid
            checked.status_code = status.HTTP_409_CONFLICT
            return checked
        offer = booking.offer
    details = Details.read(fields)
    citizen, errors = details.check(lang)
    if citizen is None or stage == "edit":
        code = 422 if errors else status.HTTP_200_OK
        return identify_page(visit, booking, details, errors, status_code=code)
    if stage != "confirm":
        return _confirm_page(visit, booking, citizen, details)
    try:
        check_booking(visit.services.booking_limiter, _address(visit))
        booked = service.book(
            BookingRequest(offer_id=offer.id, starts_at=at, citizen=citizen, consent=True),
            via=BookedVia.WEB,
            actor="hub",
        )
        record_booking(visit.services.booking_limiter, _address(visit))
    except AppointmentRefused as refusal:
        logger.info("a web booking was refused: %s", refusal.code)
        words = refusal_words(refusal.code, lang)
        if refusal.code in ("slot_taken", "slot_unavailable"):
            times = _free_times(service, offer, booking.day) if booking.day else []
            if times:
                return _pick_time(visit, booking, times, error=words, status_code=409)
            return _message(visit, lang, N_("Book an appointment"), words, 409, again=True)
        field = {"invalid_document": "document", "invalid_email": "email", "invalid_phone": "phone",
                 "no_contact": "contact", "no_consent": "consent"}.get(refusal.code)  # fmt: skip
        if field is not None:
            return identify_page(visit, booking, details, {field: words}, status_code=422)
        return _message(
            visit,
            lang,
            N_("Book an appointment"),
            words,
            STATUS.get(refusal.code, 409),
            again=True,
        )
    return RedirectResponse(
        _url(f"/cita/g/{booked.token}", lang=lang, booked=1), status.HTTP_303_SEE_OTHER, _HEADERS
    )


def _message(
    visit: Visit, lang: str, title: str, text: str, status_code: int, *, again: bool = False
) -> HTMLResponse:
    return render(
        "message.html", lang, visit, status_code=status_code, switch={},
        title=tr(title, lang), text=text, again=_url("/cita", lang=lang) if again else None,
    )  # fmt: skip


def _receipt_channels(visit: Visit, token: str) -> set[str]:
    """How the receipt of the appointment behind ``token`` is being sent (e-mail, SMS)."""
    database = visit.services.database
    live = (models.NoticeStatus.PENDING, models.NoticeStatus.SENT)
    with database.session() as session:
        channels = session.scalars(
            select(models.Notice.channel)
            .join(models.Appointment, models.Notice.appointment_id == models.Appointment.id)
            .where(
                models.Appointment.token_hash == token_digest(token),
                models.Notice.kind == models.NoticeKind.RECEIPT,
                models.Notice.status.in_(live),
            )
        ).all()
    return {str(channel) for channel in channels}


def _refused_page(visit: Visit, lang: str, code: RefusalCode) -> HTMLResponse:
    return _message(
        visit,
        lang,
        N_("Your appointment"),
        refusal_words(code, lang),
        STATUS.get(code, 409),
    )


def _manage_lang(query_lang: str | None, appointment: Appointment) -> Language:
    return next((code for code in CITIZEN_LANGUAGES if code == query_lang), appointment.language)


def manage_page(
    visit: Visit,
    token: str,
    query: Mapping[str, str],
    *,
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    """The appointment behind a management link, and what can be done with it."""
    service = _service(visit)
    fallback = negotiate(query.get("lang"), visit.accept_language)
    try:
        appointment = guarded_by_token(visit, lambda: service.by_token(token))
    except AppointmentRefused as refusal:
        return _refused_page(visit, fallback, refusal.code)
    lang = _manage_lang(query.get("lang"), appointment)
    offer = appointment.offer
    zone = ZoneInfo(offer.timezone)
    starts = appointment.starts_at.astimezone(zone)
    changeable = appointment.status == AppointmentStatus.BOOKED
    do = query.get("do", "") if changeable else ""
    path = f"/cita/g/{token}"
    moving: dict[str, Any] | None = None
    if do == "move":
        day = _day(query.get("day", ""))
        times = _free_times(service, offer, day) if day else []
        if day is not None and times:
            moving = {
                "day": day_label(day, lang),
                "times": [
                    (t.isoformat(), time_label(t, offer.timezone, lang))
                    for t in times
                    if t != appointment.starts_at
                ],
                "back": _url(path, lang=lang, do="move"),
            }
        else:
            today = _today(visit, offer.timezone)
            first = _day(query.get("first", "")) or today
            first = max(first, today)
            last = first + timedelta(days=LOOK_AHEAD_DAYS - 1)
            found = [d for d in service.availability(offer.id, first, last).days if d.slots]
            after = found[DAYS_SHOWN].day if len(found) > DAYS_SHOWN else last + timedelta(days=1)
            moving = {
                "days": [
                    Choice(
                        day_label(d.day, lang),
                        _url(path, lang=lang, do="move", day=d.day.isoformat()),
                        tr(N_("Free times: {count}"), lang).format(count=len(d.slots)),
                    )
                    for d in found[:DAYS_SHOWN]
                ],
                "later": _url(path, lang=lang, do="move", first=after.isoformat()),
                "error": error or (tr(WRONG_DAY, lang) if day is not None else ""),
            }
            error = ""
    notices = _receipt_channels(visit, token) if query.get("booked") == "1" else set()
    status_text = _STATUS_TEXT.get(appointment.status)
    done = {
        "moved": N_("Your appointment has been moved."),
        "cancelled": N_("Your appointment has been cancelled."),
    }
    rows = [
        (tr(N_("Reference"), lang), appointment.reference),
        (tr(N_("Errand"), lang), offer_name(offer, lang)),
        (tr(N_("Day"), lang), day_label(starts.date(), lang)),
        (tr(N_("Time"), lang), time_label(starts, offer.timezone, lang)),
        (tr(N_("How"), lang), tr(CHANNEL_NAMES[offer.channel], lang)),
    ]
    if offer.channel != Channel.HOME_VIDEO:
        rows.append((tr(N_("Where"), lang), f"{offer.site_name}, {offer.site_address}"))
    rows.append((tr(N_("For"), lang), appointment.citizen_initials))
    return render(
        "manage.html",
        lang,
        visit,
        status_code=status_code,
        switch={key: value for key, value in query.items() if key in ("do", "day", "first")},
        appointment=appointment,
        rows=rows,
        booked=query.get("booked") == "1",
        sent_email=models.NoticeChannel.EMAIL.value in notices,
        sent_sms=models.NoticeChannel.SMS.value in notices,
        status_text=tr(status_text, lang) if status_text else "",
        done=tr(done[query["done"]], lang) if query.get("done") in done else "",
        video=(
            tr(N_("Your video call starts on {day} at {time}."), lang).format(
                day=day_label(starts.date(), lang), time=time_label(starts, offer.timezone, lang)
            )
            if offer.channel == Channel.HOME_VIDEO and changeable
            else ""
        ),
        changeable=changeable,
        do=do,
        moving=moving,
        error=error,
        path=path,
        move_href=_url(path, lang=lang, do="move"),
        cancel_href=_url(path, lang=lang, do="cancel"),
        home_href=_url(path, lang=lang),
    )


def post_manage(visit: Visit, token: str, fields: Mapping[str, str]) -> Response:
    """Move or cancel the appointment behind a management link, then show it again."""
    lang = fields.get("lang", "")
    action = fields.get("action", "")
    service = _service(visit)
    path = f"/cita/g/{token}"
    try:
        if action == "move":
            at = _moment(fields.get("at", ""))
            if at is None:
                return RedirectResponse(
                    _url(path, lang=lang, do="move"), status.HTTP_303_SEE_OTHER, _HEADERS
                )
            move = MoveRequest(starts_at=at)
            guarded_by_token(visit, lambda: service.move(token, move))
        elif action == "cancel":
            guarded_by_token(visit, lambda: service.cancel(token, actor="hub"))
        else:
            return RedirectResponse(_url(path, lang=lang), status.HTTP_303_SEE_OTHER, _HEADERS)
    except AppointmentRefused as refusal:
        logger.info("a change of an appointment on the web was refused: %s", refusal.code)
        page_lang = negotiate(lang, visit.accept_language)
        if refusal.code in ("not_found", "link_expired", "too_many_attempts"):
            return _refused_page(visit, page_lang, refusal.code)
        query = {"lang": lang, "do": "move" if refusal.code.startswith("slot") else ""}
        return manage_page(
            visit, token, query, error=refusal_words(refusal.code, page_lang),
            status_code=STATUS.get(refusal.code, 409),
        )  # fmt: skip
    done = "moved" if action == "move" else "cancelled"
    return RedirectResponse(_url(path, lang=lang, done=done), status.HTTP_303_SEE_OTHER, _HEADERS)


async def _form(request: Request, names: Iterable[str]) -> dict[str, str]:
    form = await request.form()
    return {name: _cut(form.get(name)) for name in names}


def _query(request: Request, names: Iterable[str]) -> dict[str, str]:
    return {name: _cut(request.query_params.get(name)) for name in names}


_PAGE: dict[int | str, dict[str, Any]] = {200: {"content": {"text/html": {}}}}
_SEE_OTHER: dict[int | str, dict[str, Any]] = {303: {"description": "The next page"}}
_HTML_REFUSALS: dict[int | str, dict[str, Any]] = {
    # A body with a NUL character is refused before any page (422, as JSON).
    code: {"description": description, "content": {"text/html": {}, "application/json": {}}}
    for code, description in (
        (404, "No appointment has this link"),
        (409, "The time or the appointment changed meanwhile"),
        (410, "The link has expired"),
        (422, "A field is wrong: the form again, with what is wrong"),
        (429, "Too many wrong links, or bookings, from this address"),
        (503, "The council's appointment system did not answer"),
    )
}


def _unless_refused(visit: Visit, lang: str | None, page: Callable[[], Response]) -> Response:
    """``page()``, or the plain page of a refusal it did not expect (the council's system
    down while the days are read, say): never a server error."""
    try:
        return page()
    except AppointmentRefused as refusal:
        logger.info("a page was refused: %s", refusal.code)
        return _message(
            visit,
            negotiate(lang, visit.accept_language),
            N_("Book an appointment"),
            refusal_words(refusal.code, negotiate(lang, visit.accept_language)),
            STATUS.get(refusal.code, 409),
            again=True,
        )


def build_router() -> APIRouter:
    """The public pages: book at ``/cita``, manage at ``/cita/g/{token}``, and their style."""
    router = APIRouter(prefix="/cita", tags=["appointments: web pages"])
    stylesheet = resources.files(PACKAGE).joinpath("static", "cita.css").read_bytes()

    @router.get("", response_class=HTMLResponse, responses=_PAGE | _HTML_REFUSALS)
    def book_page(request: Request, services: ServicesDep) -> Response:
        """Booking, one step at a time: errand and place, day, time, who you are."""
        visit = Visit(request, services)
        fields = _query(request, ("lang", "service", "offer", "day", "at", "first"))
        lang = negotiate(fields["lang"], visit.accept_language)
        return _unless_refused(
            visit,
            lang,
            lambda: booking_step(visit, _booking_from(fields, lang), services.appointments),
        )

    @router.post(
        "",
        response_class=HTMLResponse,
        responses=_PAGE | _SEE_OTHER | _HTML_REFUSALS,
        openapi_extra={"requestBody": {"content": {"application/x-www-form-urlencoded": {}}}},
    )
    async def book_post(request: Request, services: ServicesDep) -> Response:
        """Step 4 sent (checked, then step 5 to confirm), or step 5 confirmed (booked)."""
        fields = await _form(request, _BOOKING_FIELDS)
        visit = Visit(request, services)
        return await run_in_threadpool(
            _unless_refused, visit, fields.get("lang"), lambda: post_booking(visit, fields)
        )

    @router.get("/static/cita.css", responses={200: {"content": {"text/css": {}}}})
    def style() -> Response:
        """The pages' stylesheet."""
        return Response(
            stylesheet,
            media_type="text/css",
            headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    @router.get("/g/{token}", response_class=HTMLResponse, responses=_PAGE | _HTML_REFUSALS)
    def manage(token: str, request: Request, services: ServicesDep) -> Response:
        """An appointment behind its private link: see it, move it, cancel it."""
        query = _query(request, ("lang", "booked", "do", "day", "first", "done"))
        visit = Visit(request, services)
        return _unless_refused(
            visit, query.get("lang"), lambda: manage_page(visit, token[:_MAX_FIELD], query)
        )

    @router.post(
        "/g/{token}",
        response_class=HTMLResponse,
        responses=_PAGE | _SEE_OTHER | _HTML_REFUSALS,
        openapi_extra={"requestBody": {"content": {"application/x-www-form-urlencoded": {}}}},
    )
    async def manage_post(token: str, request: Request, services: ServicesDep) -> Response:
        """Move (``action=move``, ``at``) or cancel (``action=cancel``) the appointment."""
        fields = await _form(request, ("lang", "action", "at"))
        visit = Visit(request, services)
        return await run_in_threadpool(
            _unless_refused,
            visit,
            fields.get("lang"),
            lambda: post_manage(visit, token[:_MAX_FIELD], fields),
        )

    return router
