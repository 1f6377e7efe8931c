"""The pages behind an appointment's private management link, ``/cita/g/{token}``.

The page shows the appointment and lets the citizen move it, cancel it, and send documents
ahead of the meeting (:mod:`.documents`) or take one back. Its token is the secret: an HMAC of
the appointment's id, 256 bits, never stored in clear. Its forms (move, cancel, send and
remove a document) carry no CSRF token of their own, on purpose: a forged request from another
site would have to name the token in the address, and whoever knows it can already do all of
this by following the link; the pages set no cookie, so a forged request carries no credential
to abuse. ``Referrer-Policy: no-referrer`` keeps the token from leaking to other sites.

Links that open nothing are counted per address in the hub's ``appointment_limiter`` (with
the JSON routes'): too many, and the page says to wait (429). Documents sent are counted per
address in the ``booking_limiter``, as many an hour as bookings
(``appointments.max_web_bookings``). A document's file name is never read, kept or logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from fastapi import APIRouter, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from contract.appointments import (
    VIDEO_PATH,
    Appointment,
    AppointmentDocument,
    AppointmentStatus,
    Channel,
    MoveRequest,
    RefusalCode,
)
from contract.languages import CITIZEN_LANGUAGES, Language
from hub.appointments import models
from hub.appointments.documents import (
    MAX_BYTES,
    MAX_DOCUMENTS,
    MAX_LABEL,
    AppointmentDocuments,
    DocumentRefused,
    Problem,
    takes_documents,
)
from hub.appointments.pages import (
    BABEL_LOCALES,
    CHANNEL_NAMES,
    DAYS_SHOWN,
    HEADERS,
    HTML_REFUSALS,
    LOOK_AHEAD_DAYS,
    MAX_FIELD,
    N_,
    PAGE,
    SEE_OTHER,
    WRONG_DAY,
    Choice,
    Visit,
    cut,
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
from hub.appointments.service import AppointmentRefused
from hub.appointments.tokens import token_digest
from hub.deps import ServicesDep
from hub.ratelimit import RateLimited

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: The largest request that sends a document: a file a little over the limit still reaches
#: the page, which refuses it in the citizen's words; a far larger one is cut off (413).
UPLOAD_BODY_BYTES = 2 * MAX_BYTES
_UPLOAD_KEY = "appointment-document"

_STATUS_TEXT = {
    AppointmentStatus.CANCELLED: N_("This appointment is cancelled."),
    AppointmentStatus.CHECKED_IN: N_("You have arrived: this appointment is in progress."),
    AppointmentStatus.DONE: N_("This appointment has taken place."),
    AppointmentStatus.NO_SHOW: N_("This appointment has passed without you."),
}
_DONE = {
    "moved": N_("Your appointment has been moved."),
    "cancelled": N_("Your appointment has been cancelled."),
    "attached": N_("The document has been sent."),
    "removed": N_("The document has been removed."),
}
KIND_NAMES = {"pdf": N_("PDF document"), "jpeg": N_("JPEG image"), "png": N_("PNG image")}
SENT_AT = N_("Sent on {day} at {time}")
DOCUMENT_PROBLEMS: dict[Problem, str] = {
    "empty": N_("Choose a file to send."),
    "too_large": N_("The file is too large: each file may have at most {megabytes} MB."),
    "wrong_type": N_("Only PDF, JPEG or PNG files can be sent."),
    "damaged": N_(
        "The file cannot be read: it may be damaged or incomplete. Please send another copy."
    ),
    "too_many": N_("This appointment already has {count} documents, the most it can have."),
    "not_found": N_("That document is no longer here."),
}
#: The HTTP status of a refused document.
PROBLEM_STATUS: dict[Problem, int] = {
    "empty": 422,
    "too_large": 413,
    "wrong_type": 415,
    "damaged": 422,
    "too_many": 409,
    "not_found": 404,
}
_DOCUMENT_REFUSALS: dict[int | str, dict[str, Any]] = {
    # A body far over the limit is cut off before the page is reached: a bare text answer.
    413: {
        "description": "The file is larger than the limit",
        "content": {"text/html": {}, "text/plain": {}},
    },
    415: {"description": "The file is not a PDF, JPEG or PNG", "content": {"text/html": {}}},
}


def _megabytes() -> int:
    return MAX_BYTES // (1024 * 1024)


def problem_words(problem: Problem, lang: str) -> str:
    """What the citizen reads when a document is refused."""
    return tr(DOCUMENT_PROBLEMS[problem], lang).format(megabytes=_megabytes(), count=MAX_DOCUMENTS)


def size_label(size: int, lang: str) -> str:
    """A file's size as people read it: ``340 KB``, ``2,5 MB``."""
    locale = BABEL_LOCALES[lang]
    if size < 1024 * 1024:
        return f"{format_decimal(max(1, round(size / 1024)), locale=locale)} KB"
    return f"{format_decimal(round(size / (1024 * 1024), 1), locale=locale)} MB"


def guarded_by_token(visit: Visit, call: Callable[[], T]) -> T:
    """``call`` (which opens a management link), counting wrong links per address.

    The same count as the JSON routes': :class:`AppointmentRefused` ``too_many_attempts`` once
    an address has tried too many links that open nothing.
    """
    limiter = visit.services.appointment_limiter
    address = visit.address
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


def documents_of(visit: Visit) -> AppointmentDocuments:
    """The documents sent ahead of appointments, with the hub's database, log and key."""
    return AppointmentDocuments.beside(visit.appointments)


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
    return message_page(
        visit,
        lang,
        N_("Your appointment"),
        refusal_words(code, lang),
        STATUS.get(code, 409),
    )


def _manage_lang(query_lang: str | None, appointment: Appointment) -> Language:
    return next((code for code in CITIZEN_LANGUAGES if code == query_lang), appointment.language)


def _document_rows(
    documents: list[AppointmentDocument], timezone: str, lang: str
) -> list[dict[str, str]]:
    return [
        {
            "id": document.id,
            "kind": tr(KIND_NAMES[document.kind], lang),
            "size": size_label(document.size, lang),
            "sent": tr(SENT_AT, lang).format(
                day=day_label(document.created_at.astimezone(ZoneInfo(timezone)).date(), lang),
                time=time_label(document.created_at, timezone, lang),
            ),
            "label": document.label or "",
        }
        for document in documents
    ]


def manage_page(
    visit: Visit,
    token: str,
    query: Mapping[str, str],
    *,
    error: str = "",
    document_error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    """The appointment behind a management link, and what can be done with it."""
    service = visit.appointments
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
        day = parse_day(query.get("day", ""))
        times = free_times(service, offer, day) if day else []
        if day is not None and times:
            moving = {
                "day": day_label(day, lang),
                "times": [
                    (t.isoformat(), time_label(t, offer.timezone, lang))
                    for t in times
                    if t != appointment.starts_at
                ],
                "back": url(path, lang=lang, do="move"),
            }
        else:
            today = visit.today(offer.timezone)
            first = parse_day(query.get("first", "")) or today
            first = max(first, today)
            last = first + timedelta(days=LOOK_AHEAD_DAYS - 1)
            found = [d for d in service.availability(offer.id, first, last).days if d.slots]
            after = found[DAYS_SHOWN].day if len(found) > DAYS_SHOWN else last + timedelta(days=1)
            moving = {
                "days": [
                    Choice(
                        day_label(d.day, lang),
                        url(path, lang=lang, do="move", day=d.day.isoformat()),
                        tr(N_("Free times: {count}"), lang).format(count=len(d.slots)),
                    )
                    for d in found[:DAYS_SHOWN]
                ],
                "later": url(path, lang=lang, do="move", first=after.isoformat()),
                "error": error or (tr(WRONG_DAY, lang) if day is not None else ""),
            }
            error = ""
    accepts = takes_documents(appointment.status, appointment.ends_at, service.clock())
    attached = documents_of(visit).listed(token) if accepts else []
    notices = _receipt_channels(visit, token) if query.get("booked") == "1" else set()
    status_text = _STATUS_TEXT.get(appointment.status)
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
        done=tr(_DONE[query["done"]], lang) if query.get("done") in _DONE else "",
        video=(
            tr(N_("Your video call starts on {day} at {time}."), lang).format(
                day=day_label(starts.date(), lang), time=time_label(starts, offer.timezone, lang)
            )
            if offer.channel == Channel.HOME_VIDEO and changeable
            else ""
        ),
        # The call's page: the same token under VIDEO_PATH (hub.web_visits.page).
        join_href=(
            url(f"{VIDEO_PATH}{token}", lang=lang)
            if offer.channel == Channel.HOME_VIDEO
            and appointment.status in (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN)
            else ""
        ),
        changeable=changeable,
        do=do,
        moving=moving,
        error=error,
        path=path,
        move_href=url(path, lang=lang, do="move"),
        cancel_href=url(path, lang=lang, do="cancel"),
        home_href=url(path, lang=lang),
        documents=_document_rows(attached, offer.timezone, lang),
        accepts_documents=accepts and not do,
        room_for_documents=len(attached) < MAX_DOCUMENTS,
        documents_hint=tr(
            N_(
                "You can send documents for the staff to look at before the meeting: PDF, "
                "JPEG or PNG files, at most {megabytes} MB each and {count} in all."
            ),
            lang,
        ).format(megabytes=_megabytes(), count=MAX_DOCUMENTS),
        document_error=document_error,
        max_label=MAX_LABEL,
    )


def post_manage(visit: Visit, token: str, fields: Mapping[str, str]) -> Response:
    """Move or cancel the appointment behind a management link, then show it again."""
    lang = fields.get("lang", "")
    action = fields.get("action", "")
    service = visit.appointments
    path = f"/cita/g/{token}"
    try:
        if action == "move":
            at = parse_moment(fields.get("at", ""))
            if at is None:
                return RedirectResponse(
                    url(path, lang=lang, do="move"), status.HTTP_303_SEE_OTHER, HEADERS
                )
            move = MoveRequest(starts_at=at)
            guarded_by_token(visit, lambda: service.move(token, move))
        elif action == "cancel":
            guarded_by_token(visit, lambda: service.cancel(token, actor="hub"))
        else:
            return RedirectResponse(url(path, lang=lang), status.HTTP_303_SEE_OTHER, HEADERS)
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
    return RedirectResponse(url(path, lang=lang, done=done), status.HTTP_303_SEE_OTHER, HEADERS)


def _document_refused(
    visit: Visit, token: str, lang: str, refusal: AppointmentRefused | DocumentRefused
) -> Response:
    page_lang = negotiate(lang, visit.accept_language)
    if isinstance(refusal, DocumentRefused):
        logger.info("a document sent ahead of an appointment was refused: %s", refusal.problem)
        return manage_page(
            visit, token, {"lang": lang},
            document_error=problem_words(refusal.problem, page_lang),
            status_code=PROBLEM_STATUS[refusal.problem],
        )  # fmt: skip
    logger.info("a document for an appointment was refused: %s", refusal.code)
    if refusal.code in ("not_found", "link_expired", "too_many_attempts"):
        return _refused_page(visit, page_lang, refusal.code)
    return manage_page(
        visit, token, {"lang": lang}, error=refusal_words(refusal.code, page_lang),
        status_code=STATUS.get(refusal.code, 409),
    )  # fmt: skip


def post_document(visit: Visit, token: str, lang: str, body: bytes, label: str) -> Response:
    """Keep a document sent ahead of the appointment behind a management link."""
    limiter = visit.services.booking_limiter
    path = f"/cita/g/{token}"
    try:
        try:
            limiter.check(_UPLOAD_KEY, visit.address)
        except RateLimited:
            raise AppointmentRefused(
                "too_many_attempts", "Expected fewer documents from one address in an hour"
            ) from None
        guarded_by_token(visit, lambda: documents_of(visit).attach(token, body, label))
        limiter.record(_UPLOAD_KEY, visit.address)
    except (AppointmentRefused, DocumentRefused) as refusal:
        return _document_refused(visit, token, lang, refusal)
    return RedirectResponse(
        url(path, lang=lang, done="attached"), status.HTTP_303_SEE_OTHER, HEADERS
    )


def post_removal(visit: Visit, token: str, document_id: str, lang: str) -> Response:
    """Delete one document of the appointment behind a management link."""
    path = f"/cita/g/{token}"
    try:
        guarded_by_token(visit, lambda: documents_of(visit).remove(token, document_id))
    except (AppointmentRefused, DocumentRefused) as refusal:
        return _document_refused(visit, token, lang, refusal)
    return RedirectResponse(
        url(path, lang=lang, done="removed"), status.HTTP_303_SEE_OTHER, HEADERS
    )


async def _read_upload(request: Request) -> tuple[dict[str, str], bytes]:
    """The fields and the file's bytes of a document's form (at most one byte past the
    limit, enough to tell it is too large); no file, or no multipart body, is no bytes."""
    try:
        form = await request.form(max_files=1, max_fields=4, max_part_size=MAX_FIELD * 4)
    except MultiPartException:
        return {}, b""
    try:
        fields = {name: cut(form.get(name)) for name in ("lang", "label")}
        upload = form.get("file")
        body = await upload.read(MAX_BYTES + 1) if isinstance(upload, UploadFile) else b""
    finally:
        await form.close()
    return fields, body


def build_router() -> APIRouter:
    """The management link's pages, under ``/cita/g/{token}``."""
    router = APIRouter(prefix="/cita", tags=["appointments: web pages"])

    @router.get("/g/{token}", response_class=HTMLResponse, responses=PAGE | HTML_REFUSALS)
    def manage(token: str, request: Request, services: ServicesDep) -> Response:
        """An appointment behind its private link: see it, move it, cancel it, send documents."""
        query = read_query(request, ("lang", "booked", "do", "day", "first", "done"))
        visit = Visit(request, services)
        return unless_refused(
            visit, query.get("lang"), lambda: manage_page(visit, token[:MAX_FIELD], query)
        )

    @router.post(
        "/g/{token}",
        response_class=HTMLResponse,
        responses=PAGE | SEE_OTHER | HTML_REFUSALS,
        openapi_extra={"requestBody": {"content": {"application/x-www-form-urlencoded": {}}}},
    )
    async def manage_post(token: str, request: Request, services: ServicesDep) -> Response:
        """Move (``action=move``, ``at``) or cancel (``action=cancel``) the appointment."""
        fields = await read_form(request, ("lang", "action", "at"))
        visit = Visit(request, services)
        return await run_in_threadpool(
            unless_refused,
            visit,
            fields.get("lang"),
            lambda: post_manage(visit, token[:MAX_FIELD], fields),
        )

    @router.post(
        "/g/{token}/documents",
        response_class=HTMLResponse,
        max_body_size=UPLOAD_BODY_BYTES,
        responses=PAGE | SEE_OTHER | HTML_REFUSALS | _DOCUMENT_REFUSALS,
        openapi_extra={"requestBody": {"content": {"multipart/form-data": {}}}},
    )
    async def attach_document(token: str, request: Request, services: ServicesDep) -> Response:
        """Send a document ahead of the appointment: ``file`` (PDF, JPEG or PNG), ``label``
        (what it is, optional) and ``lang``, as ``multipart/form-data``."""
        fields, body = await _read_upload(request)
        visit = Visit(request, services)
        lang = fields.get("lang", "")
        return await run_in_threadpool(
            unless_refused,
            visit,
            lang,
            lambda: post_document(visit, token[:MAX_FIELD], lang, body, fields.get("label", "")),
        )

    @router.post(
        "/g/{token}/documents/{document_id}/remove",
        response_class=HTMLResponse,
        responses=PAGE | SEE_OTHER | HTML_REFUSALS,
        openapi_extra={"requestBody": {"content": {"application/x-www-form-urlencoded": {}}}},
    )
    async def remove_document(
        token: str, document_id: str, request: Request, services: ServicesDep
    ) -> Response:
        """Take back a document sent ahead of the appointment."""
        fields = await read_form(request, ("lang",))
        visit = Visit(request, services)
        lang = fields.get("lang", "")
        return await run_in_threadpool(
            unless_refused,
            visit,
            lang,
            lambda: post_removal(visit, token[:MAX_FIELD], document_id[:MAX_FIELD], lang),
        )

    return router
