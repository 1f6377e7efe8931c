"""The citizen's page of a video appointment from home, ``/cita/v/{token}``.

One server-rendered HTML page in the citizen's language, whose plain ES modules
(``static/``, no build step) take the citizen through five steps: a device check (camera,
microphone, speaker, network), identification with a code sent to the appointment's contacts,
the waiting room, the call, and a closing survey. The page talks only to the hub's web-visit
API (:mod:`hub.web_visits.routes`) and its ``/ws/citizen`` WebSocket.

The page runs under a strict Content-Security-Policy with no inline script: the words the
scripts show are rendered into a ``<script type="application/json">`` block, which is data,
not code. A link that opens no video appointment (unknown, expired, cancelled, or not a video
call from home) answers one plain page that never says which of these it is, and counts
against the address like any wrong management link.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined
from sqlalchemy import select

from agent_console import static_dir
from cabina.i18n import translations
from contract.appointments import VIDEO_PATH, AppointmentStatus, Channel
from contract.languages import CITIZEN_LANGUAGES, Language
from hub.appointments.base import as_utc, row_by_token
from hub.appointments.manage_pages import guarded_by_token
from hub.appointments.models import AppointmentOffer
from hub.appointments.pages import (
    HTML_REFUSALS,
    PAGE,
    Visit,
    day_label,
    negotiate,
    time_label,
    url,
)
from hub.appointments.service import AppointmentRefused
from hub.deps import ServicesDep
from hub.models import Service, Site
from hub.padron.texts import LANGUAGE_NAMES

PACKAGE = "hub.web_visits"
DOMAIN = "video_page"
#: The page's files and the MIME type each is served as; nothing else is served.
STATIC_FILES = {
    "visit.css": "text/css; charset=utf-8",
    "main.js": "text/javascript; charset=utf-8",
    "devices.js": "text/javascript; charset=utf-8",
    "api.js": "text/javascript; charset=utf-8",
    "call.js": "text/javascript; charset=utf-8",
    # The close codes and the protocol version, generated from contract.signalling for the
    # agent's console (`make contract-js`) and served here too, so that they are never
    # typed twice.
    "contract.js": "text/javascript; charset=utf-8",
}
#: Appointments whose video call can still be joined from the page.
OPEN_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN)
CONTRACT = "contract.js"
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


def N_(message: str) -> str:
    """Mark ``message`` for the ``video_page`` catalogs; it is translated when shown."""
    return message


TITLE = N_("Video call with the council")
LINK_INVALID_TITLE = N_("This link does not open a video call")
LINK_INVALID = N_(
    "Check that you opened the whole link from your message. If it still does not work, call "
    "010 or book a new appointment."
)
BOOK_AGAIN = N_("Book an appointment")
#: The words the scripts show, by key (read from the page's JSON block).
SCRIPT_TEXTS = {
    "camera_ok": N_("Your camera works."),
    "camera_denied": N_("The browser did not let this page use the camera or the microphone."),
    "camera_missing": N_("No camera or microphone was found on this device."),
    "audio_only": N_("The agent will hear you but will not see you."),
    "no_media": N_("The agent will not see or hear you; you can still see and hear the agent."),
    "mic_ok": N_("Your microphone works: the bar moves when you speak."),
    "network_checking": N_("Checking the connection…"),
    "network_ok": N_("Your connection works."),
    "network_slow": N_("Your connection is slow: the image may stop now and then."),
    "network_down": N_("There is no connection to the council. Check your Wi-Fi or mobile data."),
    "tone_heard": N_("Your speaker works."),
    "tone_not_heard": N_("Turn up the volume, or use headphones, and try again."),
    "code_sent_email": N_("We have sent a code to your e-mail."),
    "code_sent_sms": N_("We have sent a code by SMS to your mobile."),
    "code_sent_both": N_("We have sent a code to your e-mail and by SMS to your mobile."),
    "sending": N_("Sending…"),
    "link_invalid": LINK_INVALID,
    "too_early": N_("It is too early to join. You can come in from {time}."),
    "too_late": N_("The time to join this video call has passed. Call 010 to book a new one."),
    "no_contact": N_("Your appointment has no e-mail or mobile to send the code to. Call 010."),
    "locked_out": N_("Too many tries. Try again at {time}."),
    "rate_limited": N_("Too many tries. Wait a moment and try again."),
    "not_sent": N_("The code could not be sent just now. Try again in a few minutes."),
    "wrong": N_("The document or the code is not right. Check them and try again."),
    "invalid_document": N_(
        "A DNI has 8 digits and a letter; a NIE has X, Y or Z, 7 digits and a letter."
    ),
    "no_code": N_("Write the 6-digit code."),
    "failed": N_("Something went wrong. Try again in a moment."),
    "position": N_("You are number {position} in the queue."),
    "position_next": N_("You are next."),
    "wait_minutes": N_("Estimated wait: about {minutes} minutes."),
    "wait_soon": N_("An agent will answer you very soon."),
    "connecting": N_("Connecting…"),
    "reconnecting": N_("The connection was lost. Reconnecting…"),
    "connected": N_("You are talking with {name}."),
    "connected_anonymous": N_("You are talking with the council."),
    "elsewhere_title": N_("This video call is already open in another window"),
    "elsewhere": N_("Close this window and go back to the other one."),
    "left_title": N_("You have left the waiting room"),
    "left": N_("You can come back with the same link while your appointment lasts."),
    "ended_agent": N_("The agent has ended the call."),
    "ended_lost": N_("The connection was lost and the call has ended."),
    "ended_other": N_("The call has ended."),
    "ended_unanswered": N_("The call ended before an agent could answer it."),
    "no_visit": N_("Your video call is over, so your answer could not be kept."),
    "not_answered": N_("There is nothing to rate: no agent answered the call."),
    "already_answered": N_("Your answer had already been kept. Thank you."),
    "survey_thanks": N_("Thank you for your answer."),
    "mute": N_("Mute"),
    "unmute": N_("Unmute"),
    "camera_off": N_("Turn camera off"),
    "camera_on": N_("Turn camera on"),
    "session_over": N_("This video call has ended. Open the link again to come back."),
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


def script_texts(lang: str) -> str:
    """The scripts' words in ``lang``, as JSON safe inside a ``<script>`` element."""
    words = {key: tr(message, lang) for key, message in SCRIPT_TEXTS.items()}
    # "<" escaped so that no text can close the element it sits in.
    return json.dumps(words, ensure_ascii=False).replace("<", "\\u003c")


def page_data(reference: str) -> str:
    """What the scripts must know of the appointment, as JSON safe inside ``<script>``."""
    return json.dumps({"reference": reference}).replace("<", "\\u003c")


def content_security_policy(ws_origin: str | None) -> str:
    """The page's policy: everything from the hub only, media also from ``blob:``."""
    connect = "'self'" + (f" {ws_origin}" if ws_origin else "")
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            "media-src 'self' blob:",
            f"connect-src {connect}",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        )
    )


def ws_origin(request: Request, public_url: str | None) -> str | None:
    """The WebSocket origin of the hub, for browsers whose ``'self'`` does not cover ws:."""
    if public_url:
        scheme, _sep, rest = public_url.partition("://")
        host = rest.split("/")[0]
        secure = scheme == "https"
    else:
        host = request.headers.get("host", "")
        secure = request.url.scheme == "https"
    if not _HOST.match(host):
        return None
    return f"{'wss' if secure else 'ws'}://{host}"


def headers(request: Request, public_url: str | None, lang: str) -> dict[str, str]:
    """The security headers of the page (and of its message pages)."""
    return {
        "Cache-Control": "no-store",
        # The address is the appointment's secret: never send it to another site.
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Robots-Tag": "noindex",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": content_security_policy(ws_origin(request, public_url)),
        "Permissions-Policy": "camera=(self), microphone=(self), geolocation=(), payment=()",
        "Content-Language": lang.split("@")[0],
    }


def _languages(path: str) -> list[tuple[str, str, str]]:
    return [(code, LANGUAGE_NAMES[code], url(path, lang=code)) for code in CITIZEN_LANGUAGES]


def render(template: str, lang: str, visit: Visit, status_code: int, **context: Any) -> Response:
    """A page of the video call in ``lang``."""
    html = _ENV.get_template(template).render(
        _=lambda message: tr(message, lang),
        lang=lang,
        html_lang=lang.split("@")[0],
        languages=_languages(visit.path),
        council=visit.settings.padron.council_name,
        title=tr(TITLE, lang),
        static=f"{VIDEO_PATH}static",
        **context,
    )
    return HTMLResponse(
        html,
        status_code=status_code,
        headers=headers(visit.request, visit.settings.public_url, lang),
    )


def invalid_page(visit: Visit, lang: Language, status_code: int) -> Response:
    """The one page for every link that opens no video call: what to do, and nothing more."""
    return render(
        "invalid.html", lang, visit, status_code,
        heading=tr(LINK_INVALID_TITLE, lang), text=tr(LINK_INVALID, lang),
        book_href=url("/cita", lang=lang), book=tr(BOOK_AGAIN, lang),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Opened:
    """What the page shows of the appointment: never who it is for."""

    language: str
    #: The appointment's reference: the page resumes a visit only if it is this one's.
    reference: str
    service_names: dict[str, str]
    timezone: str
    starts_at: datetime

    def service(self, lang: str) -> str:
        """The errand's name in ``lang`` (Catalan for Valencian, else Spanish)."""
        names = self.service_names
        return names.get(lang) or names.get(lang.split("@")[0]) or names.get("es") or ""


def _appointment(visit: Visit, token: str) -> Opened:
    """The open home-video appointment behind ``token``, refused ``not_found`` for any link
    that opens none."""
    services = visit.services
    with services.database.session() as session:
        row = row_by_token(session, token, services.clock())
        offer = session.get(AppointmentOffer, row.offer_id)
        if offer is None or offer.channel != Channel.HOME_VIDEO or row.status not in OPEN_STATUSES:
            raise AppointmentRefused("not_found", "Expected an open video appointment from home")
        site = session.get(Site, offer.site_id)
        service = session.scalars(select(Service).where(Service.code == offer.service)).first()
        return Opened(
            language=row.language,
            reference=row.reference,
            service_names=dict(service.names) if service is not None else {},
            timezone=site.timezone if site is not None else "Europe/Madrid",
            starts_at=as_utc(row.starts_at),
        )


def visit_page(visit: Visit, token: str, query_lang: str | None) -> Response:
    """The page, or the plain page of a link that opens no video call."""
    try:
        opened = guarded_by_token(visit, lambda: _appointment(visit, token))
    except AppointmentRefused as refusal:
        lang = negotiate(query_lang, visit.accept_language)
        code = status.HTTP_429_TOO_MANY_REQUESTS if refusal.code == "too_many_attempts" else 404
        return invalid_page(visit, lang, code)
    lang = _page_language(query_lang, opened.language, visit.accept_language)
    local = opened.starts_at.astimezone(ZoneInfo(opened.timezone))
    return render(
        "visit.html", lang, visit, 200,
        texts=script_texts(lang), service=opened.service(lang),
        page_data=page_data(opened.reference),
        day=day_label(local.date(), lang), time=time_label(local, opened.timezone, lang),
    )  # fmt: skip


def _page_language(query_lang: str | None, booked: str, accept_language: str | None) -> Language:
    """``?lang=`` if offered, else the appointment's language, else the browser's."""
    for wanted in (query_lang, booked):
        for code in CITIZEN_LANGUAGES:
            if code == wanted:
                return code
    return negotiate(None, accept_language)


def build_router() -> APIRouter:
    """``GET /cita/v/{token}`` and the page's files under ``/cita/v/static/``."""
    router = APIRouter(prefix=VIDEO_PATH.rstrip("/"), tags=["web visits: page"])
    files = resources.files(PACKAGE).joinpath("static")
    bodies = {name: files.joinpath(name).read_bytes() for name in STATIC_FILES if name != CONTRACT}
    bodies[CONTRACT] = (static_dir() / "js" / CONTRACT).read_bytes()

    @router.get("/static/{name}", include_in_schema=False)
    def static_file(name: str) -> Response:
        """One of the page's scripts or its stylesheet; 404 for anything else."""
        if name not in bodies:
            return Response(status_code=status.HTTP_404_NOT_FOUND)
        return Response(
            bodies[name],
            media_type=STATIC_FILES[name],
            headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
        )

    @router.get(
        "/{token}",
        response_class=HTMLResponse,
        # A link that opens no call, and too many of them from one address.
        responses=PAGE | {code: HTML_REFUSALS[code] for code in (404, 429)},
    )
    async def page(token: str, request: Request, services: ServicesDep) -> Response:
        """The citizen's page of a video appointment from home."""
        visit = Visit(request, services)
        lang = request.query_params.get("lang")
        return await run_in_threadpool(visit_page, visit, token[:200], lang)

    return router
