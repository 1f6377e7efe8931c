"""The hub's web application: ``create_app(settings)`` builds it, with nothing global.

Everything the routes need lives on ``app.state``: ``settings``, ``database``, ``clock``,
``attention_log``, ``passwords`` and ``login_limiter``. Migrations run at start-up.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from argon2 import PasswordHasher
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from cabina import __version__
from hub import announce, live
from hub.attention_log import AttentionLog
from hub.db import Database
from hub.events import Clock, utc_now
from hub.padron.runtime import install as install_padron
from hub.routes import (
    attentions,
    auth,
    cabins,
    catalog,
    citizens,
    console,
    documents,
    enrolment,
    fleet,
    padron,
    sites,
    supervisor,
    users,
    verify,
)
from hub.security import LoginRateLimiter, Passwords
from hub.settings import HubSettings

logger = logging.getLogger(__name__)

#: The largest HTTP request body the hub reads; a route may set its own ``max_body_size``.
MAX_BODY_BYTES = 1024 * 1024


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 naming each bad field; the rejected input is not echoed (it may be a password)."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "loc": [str(part) for part in error.get("loc", ())],
            "msg": str(error.get("msg", "")),
            "type": str(error.get("type", "")),
        }
        for error in exc.errors()
    ]
    message = "; ".join(f"{'.'.join(error['loc'])}: {error['msg']}" for error in errors)
    return JSONResponse(status_code=422, content={"detail": errors, "message": message})


def create_app(
    settings: HubSettings,
    *,
    database: Database | None = None,
    clock: Clock = utc_now,
    password_hasher: PasswordHasher | None = None,
) -> FastAPI:
    """The hub application; a ``database`` passed in is left open when the app stops."""
    owns_database = database is None
    db = database if database is not None else Database.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        await run_in_threadpool(db.upgrade)
        logger.info("hub ready on %r", db)
        try:
            yield
        finally:
            if owns_database:
                db.dispose()

    app = FastAPI(
        title="Cabina hub",
        summary="Municipal citizen-attention cabins: agents, cabins, attentions and calls.",
        version=__version__,
        lifespan=lifespan,
        max_body_size=MAX_BODY_BYTES,
    )
    app.state.settings = settings
    app.state.database = db
    app.state.clock = clock
    app.state.attention_log = AttentionLog(db, clock=clock)
    app.state.passwords = Passwords(password_hasher)
    app.state.login_limiter = LoginRateLimiter(clock=clock)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for module in (
        auth,
        users,
        sites,
        cabins,
        attentions,
        catalog,
        citizens,
        supervisor,
        padron,
        verify,
    ):
        app.include_router(module.router)
    app.include_router(documents.build_router(settings))
    app.include_router(console.build_router())
    app.include_router(enrolment.build_router())
    app.include_router(fleet.build_router())  # its lifespan runs the remote-action dispatcher
    if settings.announce:
        app.include_router(announce.build_router(settings, certificate=settings.tls_certificate))
    install_padron(app, settings.padron)
    live.install(app, settings, db, app.state.attention_log, clock)
    return app
