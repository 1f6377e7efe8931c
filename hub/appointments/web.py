"""The public web pages of booking an appointment, at ``/cita``.

Plain server-rendered HTML under a strict Content-Security-Policy, in the citizen's language
(:mod:`.pages`). Booking goes in steps, and what was chosen travels in the address (errand,
offer, day, time) or, once the citizen types who they are, in the hidden fields of the POSTed
form: the hub keeps no session, and every step checks again everything it receives. Personal
data never goes in an address (it would reach access logs) nor in a log line. A booking answers
with a redirect to its management page (:mod:`.manage_pages`), which shows the receipt once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from contract.appointments import (
    BookedVia,
    BookingRequest,
    Channel,
    Citizen,
    Offer,
    normalise_email,
    normalise_phone,
)
from contract.identity import InvalidDocument, parse_document
from contract.languages import CITIZEN_LANGUAGES, Language
from hub.appointments.limits import check_booking, record_booking
from hub.appointments.pages import (
    CHANNEL_NAMES,
    DAYS_SHOWN,
    HEADERS,
    HTML_REFUSALS,
    LOOK_AHEAD_DAYS,
    N_,
    PACKAGE,
    PAGE,
    SEE_OTHER,
    WRONG_DAY,
    Choice,
    Visit,
    day_label,
    free_times,
    message_page,
    negotiate,
    offer_name,
    parse_day,
    parse_moment,
    read_form,
    read_query,
    refusal_words,
    render,
    time_label,
    tr,
    unless_refused,
    url,
)
from hub.appointments.routes import STATUS
from hub.appointments.service import AppointmentRefused, Appointments
from hub.deps import ServicesDep
from hub.padron.texts import LANGUAGE_NAMES

logger = logging.getLogger(__name__)

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


def _int(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


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


def _booking_from(fields: Mapping[str, str], lang: Language) -> Booking:
    at = parse_moment(fields.get("at", ""))
    return Booking(
        lang=lang,
        service=fields.get("service", "")[:40],
        offer_id=_int(fields.get("offer", "")),
        day=parse_day(fields.get("day", "")),
        at=at,
        first=parse_day(fields.get("first", "")),
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
    times = free_times(service, offer, booking.day)
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
        (Choice(name, url("/cita", lang=lang, service=code)) for code, name in names.items()),
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
            url("/cita", **booking.query(upto="offer"), offer=offer.id),
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
    today = visit.today(booking.offer.timezone)
    first = booking.first if booking.first and booking.first > today else today
    last = first + timedelta(days=LOOK_AHEAD_DAYS - 1)
    found = [day for day in service.availability(booking.offer.id, first, last).days if day.slots]
    booking.day = booking.at = None
    choices = [
        Choice(
            day_label(day.day, booking.lang),
            url("/cita", **booking.query(upto="day"), day=day.day.isoformat()),
            tr(N_("Free times: {count}"), booking.lang).format(count=len(day.slots)),
        )
        for day in found[:DAYS_SHOWN]
    ]
    after = found[DAYS_SHOWN].day if len(found) > DAYS_SHOWN else last + timedelta(days=1)
    later = url("/cita", **booking.query(upto="day"), first=after.isoformat())
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
            url("/cita", **booking.query(upto="at"), at=starts.isoformat()),
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
        back=url("/cita", **booking.query(upto=back_to)) if back_to else None,
        error=error,
        later=later,
        empty=tr(empty, lang) if empty else "",
        grid=grid,
    )


def _consent(visit: Visit, lang: str) -> str:
    days = visit.settings.appointments.retention_days
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
        back=url("/cita", **booking.query(upto="at")),
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
        return RedirectResponse(url("/cita", lang=lang), status.HTTP_303_SEE_OTHER, HEADERS)
    service = visit.appointments
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
        check_booking(visit.services.booking_limiter, visit.address)
        booked = service.book(
            BookingRequest(offer_id=offer.id, starts_at=at, citizen=citizen, consent=True),
            via=BookedVia.WEB,
            actor="hub",
        )
        record_booking(visit.services.booking_limiter, visit.address)
    except AppointmentRefused as refusal:
        logger.info("a web booking was refused: %s", refusal.code)
        words = refusal_words(refusal.code, lang)
        if refusal.code in ("slot_taken", "slot_unavailable"):
            times = free_times(service, offer, booking.day) if booking.day else []
            if times:
                return _pick_time(visit, booking, times, error=words, status_code=409)
            return message_page(visit, lang, N_("Book an appointment"), words, 409, again=True)
        field = {"invalid_document": "document", "invalid_email": "email", "invalid_phone": "phone",
                 "no_contact": "contact", "no_consent": "consent"}.get(refusal.code)  # fmt: skip
        if field is not None:
            return identify_page(visit, booking, details, {field: words}, status_code=422)
        return message_page(
            visit,
            lang,
            N_("Book an appointment"),
            words,
            STATUS.get(refusal.code, 409),
            again=True,
        )
    return RedirectResponse(
        url(f"/cita/g/{booked.token}", lang=lang, booked=1), status.HTTP_303_SEE_OTHER, HEADERS
    )


def build_router() -> APIRouter:
    """The public booking pages at ``/cita``, and the stylesheet of every public page."""
    router = APIRouter(prefix="/cita", tags=["appointments: web pages"])
    stylesheet = resources.files(PACKAGE).joinpath("static", "cita.css").read_bytes()

    @router.get("", response_class=HTMLResponse, responses=PAGE | HTML_REFUSALS)
    def book_page(request: Request, services: ServicesDep) -> Response:
        """Booking, one step at a time: errand and place, day, time, who you are."""
        visit = Visit(request, services)
        fields = read_query(request, ("lang", "service", "offer", "day", "at", "first"))
        lang = negotiate(fields["lang"], visit.accept_language)
        return unless_refused(
            visit,
            lang,
            lambda: booking_step(visit, _booking_from(fields, lang), services.appointments),
        )

    @router.post(
        "",
        response_class=HTMLResponse,
        responses=PAGE | SEE_OTHER | HTML_REFUSALS,
        openapi_extra={"requestBody": {"content": {"application/x-www-form-urlencoded": {}}}},
    )
    async def book_post(request: Request, services: ServicesDep) -> Response:
        """Step 4 sent (checked, then step 5 to confirm), or step 5 confirmed (booked)."""
        fields = await read_form(request, _BOOKING_FIELDS)
        visit = Visit(request, services)
        return await run_in_threadpool(
            unless_refused, visit, fields.get("lang"), lambda: post_booking(visit, fields)
        )

    @router.get("/static/cita.css", responses={200: {"content": {"text/css": {}}}})
    def style() -> Response:
        """The pages' stylesheet."""
        return Response(
            stylesheet,
            media_type="text/css",
            headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    return router
