"""The public verification of certificates: no sign-in, rate-limited per client address.

``GET /verify`` shows a form to type a CSV; ``GET /verify/{csv}`` says whether the certificate
is genuine, revoked or unknown, when and where it was issued (as HTML, or as JSON to a client
that asks for ``application/json``); ``GET /verify/{csv}/pdf`` returns the original PDF of a
genuine certificate. The page is in Spanish, Catalan, Basque, Galician or English, chosen by
``?lang=`` or the browser's Accept-Language.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from hub.deps import PadronDep
from hub.padron import csv_code
from hub.padron.service import Padron
from hub.padron.verify_page import form_page, limited_page, negotiate, verdict_page
from hub.refusals import refused

logger = logging.getLogger(__name__)


#: The verdict's HTTP status: a code that names no certificate is not found.
_STATUS = {"genuine": 200, "revoked": 200, "unknown": 404, "mistyped": 400}
#: A page, or its verdict as JSON when the client asks for JSON.
_PAGE: dict[str, Any] = {"content": {"text/html": {}, "application/json": {}}}
_LIMITED: dict[int | str, dict[str, Any]] = {
    429: {"description": "Too many checks from this client", "content": {"text/html": {}}}
}
_MISTYPED: dict[int | str, dict[str, Any]] = {
    400: {"description": "Not a well-formed code", "content": {"text/html": {}}}
}

_HEADERS = {
    "Cache-Control": "no-store",
    # The address holds the code: never send it on to another site.
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}
LangQuery = Annotated[str | None, Query(max_length=16)]


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _html(text: str, lang: str, status_code: int = 200, **extra: str) -> HTMLResponse:
    headers = _HEADERS | {"Content-Language": lang.split("@")[0]} | extra
    return HTMLResponse(text, status_code=status_code, headers=headers)


def _limited(padron: Padron, request: Request, lang: str) -> HTMLResponse | None:
    wait = padron.verify_limiter.allow(_client(request))
    if wait is None:
        return None
    logger.info("verification checks limited for a client")
    return _html(
        limited_page(lang, padron.settings.council_name),
        lang,
        status.HTTP_429_TOO_MANY_REQUESTS,
        **{"Retry-After": str(int(wait + 0.999))},
    )


def build_router() -> APIRouter:
    """The public verification of certificates by their CSV code."""
    router = APIRouter(prefix="/verify", tags=["verification"])

    @router.get(
        "",
        response_class=HTMLResponse,
        responses={303: {"description": "The typed code's own page"}, **_MISTYPED, **_LIMITED},
    )
    def verify_form(
        request: Request,
        padron: PadronDep,
        lang: LangQuery = None,
        code: Annotated[str | None, Query(max_length=64)] = None,
    ) -> Response:
        """The form to type a code; a typed code is sent on to its own page."""
        language = negotiate(lang, request.headers.get("accept-language"))
        council = padron.settings.council_name
        if code is None or not code.strip():
            return _html(form_page(language, council), language)
        try:
            compact = csv_code.parse(code)
        except csv_code.MalformedCode:
            limited = _limited(padron, request, language)
            if limited is not None:
                return limited
            verdict = padron.verifier.verdict(code)
            page = verdict_page(
                language, council, verdict, typed=code, timezone=padron.hub.timezone
            )
            return _html(page, language, _STATUS["mistyped"])
        return RedirectResponse(
            f"/verify/{compact}?lang={quote(language)}",
            status_code=status.HTTP_303_SEE_OTHER,
            headers={"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"},
        )

    @router.get(
        "/{code}",
        response_class=HTMLResponse,
        responses={
            200: {"description": "Genuine or revoked", **_PAGE},
            400: {"description": "Not a well-formed code", **_PAGE},
            404: {"description": "No certificate has this code", **_PAGE},
            **_LIMITED,
        },
    )
    async def verify_code(
        code: str, request: Request, padron: PadronDep, lang: LangQuery = None
    ) -> Response:
        """Whether the certificate with this CSV is genuine, revoked or unknown."""
        language = negotiate(lang, request.headers.get("accept-language"))
        limited = _limited(padron, request, language)
        if limited is not None:
            return limited
        verdict = await run_in_threadpool(padron.verifier.verdict, code)
        status_code = _STATUS[verdict.status]
        if "application/json" in request.headers.get("accept", ""):
            body: dict[str, Any] = {"status": verdict.status}
            if verdict.issued_at is not None:
                body |= {
                    "issued_at": verdict.issued_at.isoformat(),
                    "site": verdict.site,
                    "kind": verdict.kind,
                    "holder_initials": verdict.holder_initials,
                    "people": verdict.people,
                    "revoked_at": verdict.revoked_at.isoformat() if verdict.revoked_at else None,
                }
            return JSONResponse(body, status_code=status_code, headers=_HEADERS)
        page = verdict_page(
            language,
            padron.settings.council_name,
            verdict,
            typed=code[:64],
            timezone=padron.hub.timezone,
        )
        return _html(page, language, status_code)

    @router.get(
        "/{code}/pdf",
        responses={
            200: {"content": {"application/pdf": {}}},
            **refused(404),
            **_LIMITED,
        },
    )
    async def verify_pdf(code: str, request: Request, padron: PadronDep) -> Response:
        """The original PDF of a genuine certificate."""
        language = negotiate(None, request.headers.get("accept-language"))
        limited = _limited(padron, request, language)
        if limited is not None:
            return limited
        pdf = await run_in_threadpool(padron.verifier.original_pdf, code)
        if pdf is None:
            return JSONResponse(
                {"detail": "Expected the code of a genuine certificate, but got another"},
                status_code=status.HTTP_404_NOT_FOUND,
                headers=_HEADERS,
            )
        return Response(
            pdf,
            media_type="application/pdf",
            # No Content-Security-Policy here: it would keep browsers' PDF viewers from showing it.
            headers={
                key: value for key, value in _HEADERS.items() if key != "Content-Security-Policy"
            }
            | {"Content-Disposition": 'inline; filename="certificate.pdf"'},
        )

    return router
