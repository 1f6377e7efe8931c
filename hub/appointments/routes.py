"""The JSON API of appointments: the public web page's, the cabin's and the console's.

::

    GET  /api/appointments/offers?site_id=&channel=                 anyone
    GET  /api/appointments/offers/{offer_id}/availability?first=&last=
    POST /api/appointments                                          BookingRequest → 201
    GET  /api/appointments/manage/{token}
    POST /api/appointments/manage/{token}/move                      MoveRequest
    POST /api/appointments/manage/{token}/cancel
    GET  /api/cabin/appointments/offers                             a cabin (its site's)
    GET  /api/cabin/appointments/offers/{offer_id}/availability
    POST /api/cabin/appointments                                    BookingRequest → 201
    POST /api/cabin/appointments/check-in?attention_id=             CheckIn
    GET  /api/cabin/appointments/next-slot?service=                 Slot or null
    GET  /api/console/appointments/offers                           agents, supervisors, admins
    GET  /api/console/appointments/offers/{offer_id}/availability
    POST /api/console/appointments                                  BookingRequest → 201
    GET  /api/console/appointments/agenda?day=&agent_id=
    POST /api/console/appointments/{appointment_id}/arrived         in person: at the desk
    GET  /api/console/appointments/feed-url

A refusal is a :class:`contract.appointments.Refusal` (``code``, an English ``message``, and
for a DNI/NIE its ``reason``); each client has the citizen's words for each code. Statuses:
404 ``not_found``, 409 ``slot_taken``/``slot_unavailable``/``already_cancelled``/
``not_changeable``, 410 ``link_expired``, 422 ``invalid_*``/``no_contact``/``no_consent``,
429 ``too_many_attempts``, 503 ``external_unavailable``. Wrong management links and references
count against the caller's address; after ``max_wrong_links`` in the window every link and
reference from it is refused with 429 until the window passes.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Coroutine
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

from contract.appointments import (
    AgendaEntry,
    Appointment,
    Availability,
    BookedVia,
    BookingRequest,
    Channel,
    CheckIn,
    MoveRequest,
    Offer,
    Refusal,
    RefusalCode,
    Slot,
)
from contract.events import actor_for_cabin, actor_for_user
from hub.appointments.limits import address_of, check_booking, record_booking
from hub.appointments.service import AppointmentRefused, Appointments, NotYours
from hub.appointments.tokens import feed_token
from hub.deps import (
    AppointmentsDep,
    CurrentCabin,
    RowId,
    ServicesDep,
    require_role,
)
from hub.models import Role, User
from hub.ratelimit import RateLimited

#: The HTTP status of each refusal.
STATUS: dict[RefusalCode, int] = {
    "slot_taken": 409,
    "slot_unavailable": 409,
    "invalid_document": 422,
    "invalid_email": 422,
    "invalid_phone": 422,
    "no_contact": 422,
    "no_consent": 422,
    "not_found": 404,
    "link_expired": 410,
    "already_cancelled": 409,
    "not_changeable": 409,
    "too_many_attempts": 429,
    "external_unavailable": 503,
}
_MEANINGS = {
    404: "No such offer or appointment (not_found)",
    409: "The slot or the appointment does not allow it (slot_taken, slot_unavailable, "
    "already_cancelled, not_changeable)",
    410: "The management link has expired (link_expired)",
    429: "Too many wrong links or references from this address (too_many_attempts)",
    503: "The council's appointment system did not answer (external_unavailable)",
}
_CITIZEN_FIELDS: dict[str, RefusalCode] = {
    "document": "invalid_document",
    "email": "invalid_email",
    "phone": "invalid_phone",
}
_VALIDATION = {"$ref": "#/components/schemas/HTTPValidationError"}
_BOOKING_ANSWERS: dict[int | str, dict[str, Any]] = {
    404: {"model": Refusal, "description": "No such offer (not_found)"},
    409: {"model": Refusal, "description": "The slot is taken or cannot be booked"},
    422: {
        "description": "A malformed body, or refused data (invalid_document, invalid_email, "
        "invalid_phone, no_contact, no_consent)",
        "content": {"application/json": {"schema": _VALIDATION}},
    },
    503: {"model": Refusal, "description": "The council's system did not answer"},
}
#: The public booking may also be refused for too many bookings from one address.
_PUBLIC_BOOKING_ANSWERS = _BOOKING_ANSWERS | {
    429: {"model": Refusal, "description": "Too many bookings from this address in an hour"}
}
#: Staff who talk to citizens and book for them.
BookerUser = Annotated[User, Depends(require_role(Role.AGENT, Role.SUPERVISOR, Role.ADMIN))]


def answers(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route that may refuse with these statuses."""
    return {code: {"model": Refusal, "description": _MEANINGS[code]} for code in codes}


def refusal_response(exc: AppointmentRefused) -> JSONResponse:
    """The HTTP answer to a refusal."""
    return JSONResponse(
        status_code=STATUS[exc.code],
        content=Refusal(code=exc.code, message=exc.detail, reason=exc.reason).model_dump(),
    )


class Refused(HTTPException):
    """A refusal on its way out of a route (answered by :class:`RefusingRoute`)."""

    def __init__(self, refusal: AppointmentRefused) -> None:
        super().__init__(STATUS[refusal.code], detail=refusal.detail)
        self.refusal = refusal


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON schema with its ``$defs`` written in place (OpenAPI has no ``$defs`` here)."""
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(dict(defs[ref.removeprefix("#/$defs/")]))
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


def _body_of(model: type[BaseModel]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _inline(model.model_json_schema())}},
        }
    }


async def _booking(request: Request) -> BookingRequest:
    """The body as a :class:`BookingRequest`; a bad DNI/NIE, e-mail or phone is a refusal.

    Only a JSON body is read: a form another site's page could post (``text/plain``,
    ``application/x-www-form-urlencoded``) is refused like malformed JSON.
    """
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body",), "msg": "Expected a JSON body"}]
        )
    try:
        raw = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body",), "msg": "Expected a JSON body"}]
        ) from None
    try:
        return BookingRequest.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
        for error in errors:
            loc = error["loc"]
            if len(loc) == 2 and loc[0] == "citizen" and loc[1] in _CITIZEN_FIELDS:
                code = _CITIZEN_FIELDS[str(loc[1])]
                reason = None
                if code == "invalid_document":
                    problem = exc.errors()[errors.index(error)].get("ctx", {}).get("error")
                    reason = getattr(problem, "reason", None)
                message = f"Expected a valid {loc[1]}"
                raise Refused(AppointmentRefused(code, message, reason=reason)) from None
        raise RequestValidationError(
            [
                {
                    "type": str(error["type"]),
                    "loc": ("body", *map(str, error["loc"])),
                    "msg": str(error["msg"]),
                }
                for error in errors
            ]
        ) from None


async def _call(service: Appointments, method: str, *args: Any, **kwargs: Any) -> Any:
    try:
        return await run_in_threadpool(functools.partial(getattr(service, method), *args, **kwargs))
    except AppointmentRefused as exc:
        raise Refused(exc) from None


async def _guarded(
    request: Request,
    services: ServicesDep,
    method: str,
    *args: Any,
    counted_as: str | None = None,
    **kwargs: Any,
) -> Any:
    """Call a method that takes a link or reference, counting wrong ones per address (or per
    ``counted_as``: a cabin counts its own, so that cabins behind one address do not share)."""
    limiter = services.appointment_limiter
    address = counted_as or address_of(request)
    try:
        limiter.check("appointment-link", address)
    except RateLimited:
        raise Refused(
            AppointmentRefused("too_many_attempts", "Expected fewer wrong links or references")
        ) from None
    try:
        return await run_in_threadpool(
            functools.partial(getattr(services.appointments, method), *args, **kwargs)
        )
    except AppointmentRefused as exc:
        if exc.code in ("not_found", "link_expired"):
            limiter.record("appointment-link", address)
        raise Refused(exc) from None


def _days(first: date, last: date) -> None:
    if last < first:
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("query", "last"), "msg": "Expected last >= first"}]
        )
    if (last - first).days >= 62:
        raise RequestValidationError(
            [{"type": "value_error", "loc": ("query", "last"), "msg": "Expected at most 62 days"}]
        )


class RefusingRoute(APIRoute):
    """A route that answers :class:`Refused` with its :class:`Refusal` body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except Refused as exc:
                return refusal_response(exc.refusal)

        return answer


class FeedUrl(BaseModel):
    """The private address of an agent's calendar feed."""

    url: str


def build_router() -> APIRouter:
    """The public, cabin and console routes of appointments."""
    router = APIRouter(tags=["appointments"], route_class=RefusingRoute)
    booking = _body_of(BookingRequest)

    # Public: the web page ------------------------------------------------------------------

    @router.get("/api/appointments/offers")
    async def public_offers(
        appointments: AppointmentsDep,
        site_id: RowId | None = None,
        channel: Channel | None = None,
    ) -> list[Offer]:
        """The offers that can be booked, by site and channel when given."""
        return await run_in_threadpool(
            functools.partial(
                appointments.offers,
                site_id=site_id,
                channel=channel.value if channel else None,
            )
        )

    @router.get("/api/appointments/offers/{offer_id}/availability", responses=answers(404, 503))
    async def public_availability(
        appointments: AppointmentsDep, offer_id: RowId, first: date, last: date
    ) -> Availability:
        """The free slots of an offer from ``first`` to ``last`` (site dates, inclusive)."""
        _days(first, last)
        result: Availability = await _call(appointments, "availability", offer_id, first, last)
        return result

    @router.post(
        "/api/appointments",
        status_code=status.HTTP_201_CREATED,
        openapi_extra=booking,
        responses=_PUBLIC_BOOKING_ANSWERS,
    )
    async def public_book(request: Request, services: ServicesDep) -> Appointment:
        """Book from the web page (no agent may be chosen); the answer carries the link.

        Each address may book ``max_web_bookings`` times an hour (:mod:`.limits`).
        """
        body = await _booking(request)
        if body.agent_id is not None:
            raise RequestValidationError(
                [{"type": "value_error", "loc": ("body", "agent_id"), "msg": "Expected no agent"}]
            )
        address = address_of(request)
        try:
            check_booking(services.booking_limiter, address)
        except AppointmentRefused as exc:
            raise Refused(exc) from None
        booked = await _call(services.appointments, "book", body, via=BookedVia.WEB, actor="hub")
        record_booking(services.booking_limiter, address)
        result: Appointment = booked.appointment
        return result

    @router.get("/api/appointments/manage/{token}", responses=answers(404, 410, 429))
    async def manage(request: Request, services: ServicesDep, token: str) -> Appointment:
        """The appointment behind a management link."""
        result: Appointment = await _guarded(request, services, "by_token", token)
        return result

    @router.post(
        "/api/appointments/manage/{token}/move", responses=answers(404, 409, 410, 429, 503)
    )
    async def move(
        request: Request, services: ServicesDep, token: str, body: MoveRequest
    ) -> Appointment:
        """Move the appointment to another slot of its offer."""
        result: Appointment = await _guarded(request, services, "move", token, body)
        return result

    @router.post(
        "/api/appointments/manage/{token}/cancel", responses=answers(404, 409, 410, 429, 503)
    )
    async def cancel(request: Request, services: ServicesDep, token: str) -> Appointment:
        """Cancel the appointment; its place is freed."""
        result: Appointment = await _guarded(request, services, "cancel", token)
        return result

    # The cabin -----------------------------------------------------------------------------

    @router.get("/api/cabin/appointments/offers")
    async def cabin_offers(cabin: CurrentCabin, appointments: AppointmentsDep) -> list[Offer]:
        """The offers of the cabin's site."""
        return await run_in_threadpool(
            functools.partial(appointments.offers, site_id=cabin.site_id)
        )

    @router.get(
        "/api/cabin/appointments/offers/{offer_id}/availability", responses=answers(404, 503)
    )
    async def cabin_availability(
        cabin: CurrentCabin, appointments: AppointmentsDep, offer_id: RowId, first: date, last: date
    ) -> Availability:
        """The free slots of an offer of the cabin's site."""
        _days(first, last)
        offer: Offer = await _call(appointments, "offer", offer_id)
        if offer.site_id != cabin.site_id:
            raise Refused(AppointmentRefused("not_found", "Expected an offer at this site"))
        result: Availability = await _call(appointments, "availability", offer_id, first, last)
        return result

    @router.post(
        "/api/cabin/appointments",
        status_code=status.HTTP_201_CREATED,
        openapi_extra=booking,
        responses=_BOOKING_ANSWERS,
    )
    async def cabin_book(
        request: Request, cabin: CurrentCabin, appointments: AppointmentsDep
    ) -> Appointment:
        """Book at the cabin, for an offer of its site; the answer carries the link."""
        body = await _booking(request)
        if body.agent_id is not None:
            raise RequestValidationError(
                [{"type": "value_error", "loc": ("body", "agent_id"), "msg": "Expected no agent"}]
            )
        booked = await _call(
            appointments,
            "book",
            body,
            via=BookedVia.CABIN,
            actor=actor_for_cabin(cabin.id),
            cabin_site=cabin.site_id,
        )
        result: Appointment = booked.appointment
        return result

    @router.post("/api/cabin/appointments/check-in", responses=answers(404, 409, 410, 429))
    async def check_in(
        request: Request,
        services: ServicesDep,
        cabin: CurrentCabin,
        body: CheckIn,
        attention_id: str = Query(min_length=36, max_length=36),
    ) -> Appointment:
        """The citizen at the cabin joins their appointment (QR link, or reference + DNI/NIE)."""
        checked = await _guarded(
            request,
            services,
            "check_in",
            body,
            counted_as=f"cabin:{cabin.id}",
            cabin_id=cabin.id,
            attention_id=attention_id,
        )
        result: Appointment = checked.appointment
        return result

    @router.get("/api/cabin/appointments/next-slot")
    async def next_slot(
        cabin: CurrentCabin,
        appointments: AppointmentsDep,
        service: str = Query(min_length=1, max_length=40),
    ) -> Slot | None:
        """The earliest free slot of an errand at the cabin's site, or ``null``."""
        result: Slot | None = await _call(appointments, "next_slot", cabin.site_id, service)
        return result

    # The console ---------------------------------------------------------------------------

    @router.get("/api/console/appointments/offers")
    async def console_offers(user: BookerUser, appointments: AppointmentsDep) -> list[Offer]:
        """Every offer that can be booked."""
        return await run_in_threadpool(appointments.offers)

    @router.get(
        "/api/console/appointments/offers/{offer_id}/availability", responses=answers(404, 503)
    )
    async def console_availability(
        appointments: AppointmentsDep,
        offer_id: RowId,
        first: date,
        last: date,
        user: BookerUser,
    ) -> Availability:
        """The free slots of an offer."""
        _days(first, last)
        result: Availability = await _call(appointments, "availability", offer_id, first, last)
        return result

    @router.post(
        "/api/console/appointments",
        status_code=status.HTTP_201_CREATED,
        openapi_extra=booking,
        responses=_BOOKING_ANSWERS,
    )
    async def console_book(
        request: Request, appointments: AppointmentsDep, user: BookerUser
    ) -> Appointment:
        """Book for a citizen; an agent may book with themself, a supervisor with anyone."""
        body = await _booking(request)
        if body.agent_id is not None and body.agent_id != user.id and user.role is Role.AGENT:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, detail="Expected your own id as agent_id"
            )
        booked = await _call(
            appointments, "book", body, via=BookedVia.CONSOLE, actor=actor_for_user(user.id)
        )
        result: Appointment = booked.appointment
        return result

    @router.get("/api/console/appointments/agenda")
    async def agenda(
        appointments: AppointmentsDep,
        user: BookerUser,
        day: date,
        agent_id: RowId | None = None,
    ) -> list[AgendaEntry]:
        """An agent's appointments on a day: an agent sees their own."""
        whose = user.id if agent_id is None else agent_id
        if whose != user.id and user.role is Role.AGENT:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="Expected your own agenda")
        return await run_in_threadpool(appointments.agenda, whose, day)

    @router.post(
        "/api/console/appointments/{appointment_id}/arrived",
        responses=answers(404, 409)
        | {403: {"description": "An agent's appointment booked with someone else"}},
    )
    async def arrived(
        appointments: AppointmentsDep,
        user: BookerUser,
        appointment_id: str = Path(min_length=36, max_length=36),
    ) -> AgendaEntry:
        """The citizen of an in-person appointment arrived at the desk: it is checked in.

        The agent it is booked with, or a supervisor, marks it from the agenda; from half an
        hour before the start until the grace time ends (``not_changeable`` otherwise).
        """
        try:
            result: AgendaEntry = await _call(
                appointments,
                "mark_arrived",
                appointment_id,
                user_id=user.id,
                only_own=user.role is Role.AGENT,
            )
        except NotYours:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, detail="Expected an appointment booked with you"
            ) from None
        return result

    @router.get("/api/console/appointments/feed-url")
    async def feed_url(services: ServicesDep, user: BookerUser) -> FeedUrl:
        """The private address of the agent's calendar feed (``.ics``)."""
        appointments = services.appointments
        token = feed_token(appointments.secret_key, user.id)
        return FeedUrl(url=f"{appointments.public_url}/cita/agenda/{token}.ics")

    return router
