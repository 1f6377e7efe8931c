"""The hub's web application: ``create_app(settings)`` builds it, with nothing global.

Its services (settings, database, clock, attention log, switchboard…) are built once, up front,
into a :class:`hub.services.HubServices` that routes receive through :mod:`hub.deps`; each
route module's ``build_router()`` is included here. At start-up migrations run, then the
services' background work starts.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from argon2 import PasswordHasher
from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from cabina import __version__
from cabina.sdnotify import Notifier, feed_watchdog, watchdog_interval
from contract.clock import Clock, utc_now
from hub import signalling
from hub.announce import HubAnnouncer
from hub.appointments import admin_routes as appointment_admin
from hub.appointments import document_routes as appointment_documents
from hub.appointments import feed as appointment_feed
from hub.appointments import manage_pages as appointment_manage_pages
from hub.appointments import routes as appointment_api
from hub.appointments import web as appointment_web
from hub.db import Database
from hub.deps import refuse_nul_characters
from hub.enrolment import routes as enrolment
from hub.fleet import alert_routes
from hub.fleet import routes as fleet
from hub.padron.source import PadronSource
from hub.refusals import publish_refusals
from hub.routes import (
    attentions,
    auth,
    cabin_api,
    cabins,
    catalog,
    citizens,
    console,
    documents,
    padron,
    sites,
    supervisor,
    users,
    verify,
)
from hub.services import attach, build_services
from hub.settings import HubSettings
from hub.sms import SmsSender
from hub.web_visits import page as web_visit_page
from hub.web_visits import routes as web_visits

logger = logging.getLogger(__name__)

#: The largest HTTP request body the hub reads; a route may set its own ``max_body_size``.
MAX_BODY_BYTES = 1024 * 1024

#: Route modules in the order their routers are included.
_ROUTES = (
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
    documents,
    console,
    cabin_api,
    enrolment,
    fleet,
    alert_routes,
    signalling,
    appointment_feed,
    appointment_web,
    appointment_manage_pages,
    appointment_api,
    appointment_admin,
    appointment_documents,
    web_visit_page,
    web_visits,
)


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


@asynccontextmanager
async def _serving_under_systemd() -> AsyncIterator[None]:
    """Under systemd (Type=notify) the hub says when it serves, and keeps its watchdog fed."""
    notifier = Notifier.from_environ()
    watchdog = asyncio.create_task(feed_watchdog(notifier, watchdog_interval(pid=os.getpid())))
    notifier.ready("serving")
    try:
        yield
    finally:
        notifier.stopping()
        watchdog.cancel()
        await asyncio.gather(watchdog, return_exceptions=True)


def create_app(
    settings: HubSettings,
    *,
    database: Database | None = None,
    clock: Clock = utc_now,
    password_hasher: PasswordHasher | None = None,
    padron_source: PadronSource | None = None,
    sms_sender: SmsSender | None = None,
    announcer: HubAnnouncer | None = None,
) -> FastAPI:
    """The hub application; a ``database`` passed in is left open when the app stops.

    ``padron_source`` and ``sms_sender`` replace the padrón's configured ones, and
    ``announcer`` the announcement ``settings.announce`` asks for.
    """
    services = build_services(
        settings,
        database=database,
        clock=clock,
        password_hasher=password_hasher,
        padron_source=padron_source,
        sms_sender=sms_sender,
        announcer=announcer,
    )
    db = services.database

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        await run_in_threadpool(db.upgrade)
        logger.info("hub ready on %r", db)
        try:
            async with services.running(), _serving_under_systemd():
                yield
        finally:
            if database is None:
                db.dispose()

    app = FastAPI(
        title="Cabina hub",
        summary="Municipal citizen-attention cabins: agents, cabins, attentions and calls.",
        version=__version__,
        lifespan=lifespan,
        max_body_size=MAX_BODY_BYTES,
        dependencies=[Depends(refuse_nul_characters)],
    )
    attach(app, services)
    app.add_exception_handler(RequestValidationError, _validation_error)
    routers = [module.build_router() for module in _ROUTES]
    for router in routers:
        app.include_router(router)
    publish_refusals(app, routers)
    return app
