"""The live part of the hub: the switchboard, the event writer and the WebSocket endpoints.

:func:`install` adds them to an application built by :func:`hub.app.create_app`, and runs
them for the application's lifetime.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import select

from cabina.sdnotify import Notifier, feed_watchdog, watchdog_interval
from hub.attention_log import AttentionLog
from hub.db import Database
from hub.directory import DatabaseDirectory
from hub.event_writer import EventWriter
from hub.events import Clock
from hub.models import Site
from hub.routing import RoutingConfig
from hub.settings import HubSettings
from hub.signalling import build_router
from hub.switchboard import Switchboard


def routing_config(settings: HubSettings, database: Database) -> RoutingConfig:
    """The router's tunables from settings, and each site's cap on concurrent calls."""
    with database.session() as session:
        caps = {
            str(site.id): site.max_concurrent_calls
            for site in session.scalars(select(Site)).all()
            if site.max_concurrent_calls is not None
        }
    return RoutingConfig(
        ring_timeout_s=settings.ring_timeout_s,
        missed_rings_before_away=settings.missed_rings_before_away,
        wrapup_s=settings.wrapup_s,
        default_handle_time_s=settings.default_handle_time_s,
        site_max_calls=caps,
    )


def install(
    app: FastAPI, settings: HubSettings, database: Database, log: AttentionLog, clock: Clock
) -> None:
    """Add signalling to ``app``; the switchboard starts after migrations and stops first."""
    writer = EventWriter(log)
    directory = DatabaseDirectory(database, clock)
    holder: dict[str, Switchboard] = {}

    def switchboard() -> Switchboard:
        return holder["switchboard"]

    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: FastAPI) -> AsyncIterator[None]:
        async with inner(application):
            board = Switchboard(
                routing_config(settings, database),
                writer,
                monotonic=time.monotonic,
                wall=clock,
            )
            holder["switchboard"] = board
            application.state.switchboard = board
            application.state.event_writer = writer
            writer.start()
            board.start()
            # Under systemd (Type=notify) the hub says when it serves, and keeps its watchdog fed.
            notifier = Notifier.from_environ()
            watchdog = asyncio.create_task(
                feed_watchdog(notifier, watchdog_interval(pid=os.getpid()))
            )
            notifier.ready("serving")
            try:
                yield
            finally:
                notifier.stopping()
                watchdog.cancel()
                await asyncio.gather(watchdog, return_exceptions=True)
                await board.stop()
                await writer.stop()

    app.router.lifespan_context = lifespan
    app.include_router(build_router(settings, switchboard, directory, wall=clock))
