"""The agent console's files at ``/console/``, with exact MIME types and a strict CSP.

The console is plain static files (:func:`agent_console.static_dir`). They are served here
rather than by a generic static mount so that every response carries the same security
headers and only known file types are ever served: a request for anything else is 404.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path, PurePosixPath

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import RedirectResponse, Response

from agent_console import static_dir

logger = logging.getLogger(__name__)

#: The only file types the console has, with the MIME type each is served as.
MIME_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".wav": "audio/wav",
}

#: No inline script or style, no eval, no plugins, no framing; scripts only from the hub, and
#: DOM sinks only through Trusted Types (the console builds its DOM without HTML strings).
#: ``blob:`` lets the console show the documents it fetched; ``'self'`` covers the hub's
#: WebSocket (same host, ws/wss).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob: data:",
        "media-src 'self' blob:",
        "frame-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
    )
)

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    # The console needs the agent's camera and microphone, and nothing else.
    "Permissions-Policy": "camera=(self), microphone=(self), geolocation=(), usb=(), payment=()",
}


def _resolve(root: Path, path: str) -> Path:
    """The file ``path`` names under ``root``; 404 for anything outside it or unknown."""
    relative = PurePosixPath(path or "index.html")
    if relative.is_absolute() or any(part in ("", ".", "..") for part in relative.parts):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"No console file {path!r}")
    if any(part.startswith(".") for part in relative.parts):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"No console file {path!r}")
    if relative.suffix not in MIME_TYPES:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"No console file {path!r}")
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"No console file {path!r}")
    return candidate


def build_router(root: Path | None = None) -> APIRouter:
    """The routes for ``/`` and ``/console/…``, serving the files under ``root``."""
    base = (root or static_dir()).resolve()
    router = APIRouter(tags=["console"], include_in_schema=False)

    @router.get("/")
    def home() -> RedirectResponse:
        return RedirectResponse("/console/", status.HTTP_307_TEMPORARY_REDIRECT)

    @router.get("/console")
    def console_root() -> RedirectResponse:
        return RedirectResponse("/console/", status.HTTP_308_PERMANENT_REDIRECT)

    @router.api_route("/console/{path:path}", methods=["GET", "HEAD"])
    def console_file(path: str, request: Request) -> Response:
        file = _resolve(base, path)
        body = file.read_bytes()
        etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        headers = {
            **SECURITY_HEADERS,
            "ETag": etag,
            # Always revalidate: after an upgrade every agent gets the new console at once.
            "Cache-Control": "no-cache",
        }
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
        media_type = MIME_TYPES[file.suffix]
        if request.method == "HEAD":
            headers["Content-Length"] = str(len(body))
            return Response(status_code=status.HTTP_200_OK, headers=headers, media_type=media_type)
        return Response(body, headers=headers, media_type=media_type)

    return router
