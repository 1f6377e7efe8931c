"""What the public appointment pages share: words, dates, addresses, rendering and headers.

The pages are plain server-rendered HTML (Jinja2 templates in ``templates/``, one stylesheet
in ``static/``), with no script, under a strict Content-Security-Policy; words from the
``cita_web`` catalogs in the citizen's language (``?lang=``, else the browser's
Accept-Language, else Spanish). Booking is in :mod:`.web`, the management link's pages in
:mod:`.manage_pages`.

The service's refusals are worded by :func:`hub.appointments.texts.refusal_text` (the notices'
catalogs), so the citizen reads the same words on the page, at the cabin and in a message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined

from cabina.i18n import translations
from contract.appointments import Channel, Offer, RefusalCode
from contract.languages import CITIZEN_LANGUAGES, Language
from hub.appointments.limits import address_of
from hub.appointments.routes import STATUS
from hub.appointments.service import AppointmentRefused, Appointments
from hub.appointments.texts import refusal_text
from hub.padron.texts import LANGUAGE_NAMES
from hub.services import HubServices
from hub.settings import HubSettings

logger = logging.getLogger(__name__)

PACKAGE = "hub.appointments"
DOMAIN = "cita_web"
BABEL_LOCALES = {"es": "es", "ca": "ca", "ca@valencia": "ca", "eu": "eu", "gl": "gl", "en": "en"}
#: How far ahead the day step looks, and how many days with free places it lists at once.
LOOK_AHEAD_DAYS = 42
DAYS_SHOWN = 12
#: The longest value read from a form field or the address; longer ones are cut.
MAX_FIELD = 300

HEADERS = {
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
WRONG_DAY = N_("There are no free times that day. Please choose another day.")

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
    return format_date(day, format="full", locale=BABEL_LOCALES[lang])


def time_label(moment: datetime, timezone: str, lang: str) -> str:
    """The hour and minute of ``moment`` at the site."""
    return format_time(moment.astimezone(ZoneInfo(timezone)), "HH:mm", locale=BABEL_LOCALES[lang])


def offer_name(offer: Offer, lang: str) -> str:
    """The errand's name in ``lang`` (Catalan for Valencian, else Spanish, else its code)."""
    names = offer.names
    return names.get(lang) or names.get(lang.split("@")[0]) or names.get("es") or offer.service


def cut(value: object) -> str:
    """A form or query value as text of at most :data:`MAX_FIELD` characters."""
    return value[:MAX_FIELD] if isinstance(value, str) else ""


#: Days and times outside these years are nonsense here (and near the calendar's ends, adding
#: the look-ahead to them would overflow).
_YEARS = range(2000, 3000)


def parse_day(value: str) -> date | None:
    """A day written ``YYYY-MM-DD``, or ``None``."""
    try:
        day = date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        return None
    return day if day is not None and day.year in _YEARS else None


def parse_moment(value: str) -> datetime | None:
    """An instant with its offset, in ISO 8601, or ``None``."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None and moment.year in _YEARS else None


def url(path: str, **query: object) -> str:
    """``path`` with the query of the values that are not empty."""
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

    @property
    def appointments(self) -> Appointments:
        """The booking service."""
        return self.services.appointments

    @property
    def address(self) -> str:
        """The address the request came from (for the rate limits)."""
        return address_of(self.request)

    @property
    def settings(self) -> HubSettings:
        """The hub's settings."""
        return self.services.settings

    def today(self, timezone: str) -> date:
        """Today's date at a site."""
        return self.services.clock().astimezone(ZoneInfo(timezone)).date()


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
        (code, LANGUAGE_NAMES[code], url(base, **(keep | {"lang": code})))
        for code in CITIZEN_LANGUAGES
    ]
    html = _ENV.get_template(template).render(
        _=lambda message: tr(message, lang),
        lang=lang,
        html_lang=lang.split("@")[0],
        languages=languages,
        council=visit.settings.padron.council_name,
        **context,
    )
    headers = HEADERS | {"Content-Language": lang.split("@")[0]}
    return HTMLResponse(html, status_code=status_code, headers=headers)


@dataclass(frozen=True, slots=True)
class Choice:
    """One large target on a step's list: a link to the next step."""

    label: str
    href: str
    detail: str = ""


def free_times(service: Appointments, offer: Offer, day: date) -> list[datetime]:
    """The free start times of an offer on a day."""
    availability = service.availability(offer.id, day, day)
    return [
        slot.starts_at for found in availability.days if found.day == day for slot in found.slots
    ]


def message_page(
    visit: Visit, lang: str, title: str, text: str, status_code: int, *, again: bool = False
) -> HTMLResponse:
    """A page with a title and one message (a refusal), perhaps a link to start again."""
    return render(
        "message.html", lang, visit, status_code=status_code, switch={},
        title=tr(title, lang), text=text, again=url("/cita", lang=lang) if again else None,
    )  # fmt: skip


async def read_form(request: Request, names: Iterable[str]) -> dict[str, str]:
    """The named fields of a POSTed form, as cut text."""
    form = await request.form()
    return {name: cut(form.get(name)) for name in names}


def read_query(request: Request, names: Iterable[str]) -> dict[str, str]:
    """The named values of the address's query, as cut text."""
    return {name: cut(request.query_params.get(name)) for name in names}


PAGE: dict[int | str, dict[str, Any]] = {200: {"content": {"text/html": {}}}}
SEE_OTHER: dict[int | str, dict[str, Any]] = {303: {"description": "The next page"}}
HTML_REFUSALS: dict[int | str, dict[str, Any]] = {
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


def unless_refused(visit: Visit, lang: str | None, page: Callable[[], Response]) -> Response:
    """``page()``, or the plain page of a refusal it did not expect (the council's system
    down while the days are read, say): never a server error."""
    try:
        return page()
    except AppointmentRefused as refusal:
        logger.info("a page was refused: %s", refusal.code)
        page_lang = negotiate(lang, visit.accept_language)
        return message_page(
            visit,
            page_lang,
            N_("Book an appointment"),
            refusal_words(refusal.code, page_lang),
            STATUS.get(refusal.code, 409),
            again=True,
        )
