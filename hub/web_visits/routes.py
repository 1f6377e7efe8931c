"""The JSON API of a citizen's video visit from home (``/api/web/...``), for the page at
``/cita/v/<token>``.

No route needs an account: the appointment's private link and a one-time code identify the
citizen, and the ``cabina_visit`` cookie then carries the visit. Every refusal is a
:class:`contract.web_visits.WebRefusal`; a link that opens no video visit is always the same
404 ``link_invalid``, so that the answers never tell whether an appointment exists.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Cookie, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from contract import web_visits as w
from hub.deps import ClockDep, SettingsDep, SwitchboardDep, WebVisitsDep
from hub.ice import ice_servers
from hub.settings import HubSettings
from hub.switchboard import Switchboard
from hub.web_visits.service import LEFT_REASON, VisitView, WebVisitRefused

_MEANINGS = {
    401: "No live visit for this browser (no_visit)",
    403: "The document or the code is wrong (wrong)",
    404: "The link opens no video visit (link_invalid)",
    409: "Not now: too_early (with opens_at), too_late, no_contact, not_answered, already_answered",
    422: "A malformed body, or a malformed DNI/NIE (invalid_document, with its reason)",
    429: "Too many requests or wrong answers (rate_limited, locked_out; retry_after_s)",
    503: "The code could not be sent (not_sent)",
}

#: The path every route of a visit's token starts with.
_LINK_PATH = "/api/web/visits/{token}"


#: A 422 is either a refusal of the document, or FastAPI's answer to a malformed body.
_UNPROCESSABLE = {
    "anyOf": [
        {"$ref": "#/components/schemas/WebRefusal"},
        {"$ref": "#/components/schemas/HTTPValidationError"},
    ]
}


def answers(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route that may refuse with these statuses."""
    declared: dict[int | str, dict[str, Any]] = {
        code: {"model": w.WebRefusal, "description": _MEANINGS[code]} for code in codes
    }
    if 422 in codes:
        declared[422] = {
            "description": _MEANINGS[422],
            "content": {"application/json": {"schema": _UNPROCESSABLE}},
        }
    return declared


def client_of(request: Request) -> str:
    """The address a request came from, as the limits count it."""
    return request.client.host if request.client else "unknown"


def refusal(exc: WebVisitRefused) -> JSONResponse:
    """The HTTP answer to a refusal (with ``Retry-After`` when it says when to try again)."""
    body = w.WebRefusal(code=exc.code, message=exc.message, **exc.extra)
    headers = {}
    if body.retry_after_s is not None:
        headers["Retry-After"] = str(body.retry_after_s)
    return JSONResponse(
        status_code=exc.status,
        content=body.model_dump(mode="json", exclude_none=True),
        headers=headers,
    )


def visit_body(settings: HubSettings, view: VisitView) -> w.Visit:
    """What the page is told of its visit."""
    return w.Visit(
        attention_id=view.attention_id,
        call_id=view.call_id,
        reference=view.reference,
        service=view.service,
        service_name=view.service_name,
        language=view.language,
        starts_at=view.starts_at,
        join_until=view.join_until,
        ice_servers=ice_servers(settings, f"citizen:{view.visit_id}", time.time()),
    )


def live_attentions(switchboard: Switchboard) -> set[str]:
    """The attentions with a call going on (read on the event loop, where the switchboard is):
    their visits are not over, whatever the time."""
    return {call.attention_id for call in switchboard.calls()}


def _no_visit() -> JSONResponse:
    return refusal(WebVisitRefused(401, "no_visit", "Expected a live visit in this browser"))


VisitCookie = Annotated[str | None, Cookie(alias=w.VISIT_COOKIE)]


def build_router() -> APIRouter:
    """The router of the video visits' JSON API."""
    router = APIRouter(tags=["web visits"])

    @router.get("/api/web/ping", responses=answers(429))
    async def ping(request: Request, visits: WebVisitsDep, clock: ClockDep) -> Any:
        """The hub's clock: the page's check that it reaches the hub."""
        try:
            visits.allow(client_of(request))
        except WebVisitRefused as exc:
            return refusal(exc)
        return w.ServerTime(server_time=clock())

    @router.post(
        f"{_LINK_PATH}/code",
        status_code=202,
        response_model=w.CodeSent,
        responses=answers(404, 409, 429, 503),
    )
    async def send_code(
        token: str, request: Request, visits: WebVisitsDep, body: w.CodeRequest | None = None
    ) -> Any:
        """Send a one-time code to the appointment's e-mail and phone."""
        try:
            visits.allow(client_of(request), token)
            channels = await run_in_threadpool(
                visits.send_code, token, body.language if body else None
            )
        except WebVisitRefused as exc:
            return refusal(exc)
        return JSONResponse(status_code=202, content={"channels": channels})

    @router.post(
        f"{_LINK_PATH}/identify",
        response_model=w.Visit,
        responses=answers(403, 404, 409, 422, 429),
    )
    async def identify(
        token: str,
        body: w.Identification,
        request: Request,
        visits: WebVisitsDep,
        settings: SettingsDep,
        clock: ClockDep,
        switchboard: SwitchboardDep,
    ) -> Any:
        """The citizen's DNI/NIE and code: the visit, and its cookie."""
        try:
            visits.allow(client_of(request), token)
            view, cookie = await run_in_threadpool(visits.identify, token, body.document, body.code)
        except WebVisitRefused as exc:
            return refusal(exc)
        # Identified again on another device: this one takes the visit over, the older
        # browser (whose cookie no longer opens it) is closed with 4409.
        await switchboard.web_visit_replaced(view.visit_id)
        response = JSONResponse(
            content=visit_body(settings, view).model_dump(mode="json", exclude_none=True)
        )
        response.set_cookie(
            w.VISIT_COOKIE,
            cookie,
            # An age, not a date: the browser's clock may differ from the hub's.
            max_age=max(1, int((view.session_until - clock()).total_seconds())),
            httponly=True,
            samesite="strict",
            secure=settings.cookie_secure or request.url.scheme == "https",
            path="/",
        )
        return response

    @router.get("/api/web/visits/current", response_model=w.Visit, responses=answers(401, 429))
    async def current(
        request: Request,
        visits: WebVisitsDep,
        settings: SettingsDep,
        switchboard: SwitchboardDep,
        cookie: VisitCookie = None,
    ) -> Any:
        """The visit of this browser, to resume after a reload."""
        try:
            visits.allow(client_of(request))
        except WebVisitRefused as exc:
            return refusal(exc)
        view = await run_in_threadpool(visits.current, cookie, live_attentions(switchboard))
        if view is None:
            return _no_visit()
        return visit_body(settings, view)

    @router.post(
        "/api/web/visits/current/survey", status_code=204, responses=answers(401, 409, 429)
    )
    async def survey(
        body: w.SurveyAnswer,
        request: Request,
        visits: WebVisitsDep,
        switchboard: SwitchboardDep,
        cookie: VisitCookie = None,
    ) -> Response:
        """The citizen rates the call they had."""
        try:
            visits.allow(client_of(request))
            view = await run_in_threadpool(visits.current, cookie, live_attentions(switchboard))
            if view is None:
                return _no_visit()
            await run_in_threadpool(visits.answer_survey, view, body.satisfaction)
        except WebVisitRefused as exc:
            return refusal(exc)
        return Response(status_code=204)

    @router.post("/api/web/visits/current/leave", status_code=204, responses=answers(401, 429))
    async def leave(
        request: Request,
        visits: WebVisitsDep,
        switchboard: SwitchboardDep,
        cookie: VisitCookie = None,
    ) -> Response:
        """The citizen leaves: the call (if any) ends, the visit and its cookie too."""
        try:
            visits.allow(client_of(request))
        except WebVisitRefused as exc:
            return refusal(exc)
        view = await run_in_threadpool(visits.current, cookie, live_attentions(switchboard))
        if view is None:
            return _no_visit()
        await switchboard.web_visit_left(view.visit_id, LEFT_REASON)
        await run_in_threadpool(visits.end, view.visit_id, LEFT_REASON)
        response = Response(status_code=204)
        response.delete_cookie(w.VISIT_COOKIE, path="/", httponly=True, samesite="strict")
        return response

    return router
