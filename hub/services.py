"""The hub's services, in one typed container that ``create_app`` builds once per app.

:func:`build_services` makes every service up front, so that whoever holds the app may read
them before it starts; :meth:`HubServices.running` starts the ones that work in the background
(the document sweeper, the fleet's dispatcher, the announcement, the event writer, the
switchboard's timer and the sweep of attentions whose cabin is gone) for as long as the app
runs, and stops them in the reverse order. Routes receive each service through its dependency
in :mod:`hub.deps`; anything else that holds the app reads them with :func:`services_of`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from sqlalchemy import select

from contract.clock import Clock, utc_now
from contract.signalling import CloseCode
from hub import mail
from hub.announce import HubAnnouncer, announcement_for
from hub.appointments.external import AppointmentSystem, build_system
from hub.appointments.models import Notice, NoticeChannel, NoticeStatus
from hub.appointments.notices import NoticeSender
from hub.appointments.service import Appointments
from hub.attention_endings import AttentionSweeper
from hub.attention_log import AttentionLog
from hub.db import Database
from hub.directory import DatabaseDirectory
from hub.documents import MAX_AGE_S, RETENTION_S, DocumentStore, sweep_forever
from hub.enrolment import service as enrolment
from hub.event_writer import EventWriter
from hub.fleet.service import ActionDispatcher, board_of
from hub.models import Site
from hub.padron.service import Padron
from hub.padron.service import build as build_padron
from hub.padron.source import PadronSource
from hub.ratelimit import RateLimiter
from hub.routing import RoutingConfig
from hub.security import LOGIN_WINDOW, MAX_LOGIN_FAILURES, Passwords
from hub.settings import HubSettings
from hub.sms import SmsSender, sender_from_settings
from hub.switchboard import Switchboard
from hub.web_visits.service import GONE_REASON, WebVisits

if TYPE_CHECKING:
    from starlette.applications import Starlette

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HubServices:
    """Every service of one hub application."""

    settings: HubSettings
    database: Database
    clock: Clock
    attention_log: AttentionLog
    passwords: Passwords
    #: Failed sign-ins, by username and address.
    login_limiter: RateLimiter
    #: Cabins asking for an enrolment code, by address.
    enrolment_limiter: RateLimiter
    #: Wrong enrolment codes, by technician and address.
    enrolment_code_limiter: RateLimiter
    #: Who is behind a WebSocket credential.
    directory: DatabaseDirectory
    #: Writes the switchboard's attention events to the log.
    event_writer: EventWriter
    switchboard: Switchboard
    documents: DocumentStore
    fleet_dispatcher: ActionDispatcher
    padron: Padron
    #: Appointments: booking, changing, checking in.
    appointments: Appointments
    #: Sends the appointments' due notices (receipts, reminders) from their outbox.
    notice_sender: NoticeSender
    #: Wrong management links and references, by address.
    appointment_limiter: RateLimiter
    #: Bookings made without signing in, by address.
    booking_limiter: RateLimiter
    #: Announces the hub on the local network; ``None`` when it is not announced.
    announcer: HubAnnouncer | None
    #: Ends the attentions of cabins gone mid-visit.
    attention_sweeper: AttentionSweeper
    #: Citizens' video visits from home: identification by link, sessions, endings.
    web_visits: WebVisits

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run the background work (on a migrated database); stop it in the reverse order."""
        await asyncio.to_thread(self.documents.open)
        async with contextlib.AsyncExitStack() as stack:
            sweeper = asyncio.create_task(
                sweep_forever(self.documents, self.clock, self.switchboard),
                name="document-sweeper",
            )
            stack.push_async_callback(_cancel, sweeper)
            self.fleet_dispatcher.start()
            stack.push_async_callback(self.fleet_dispatcher.stop)
            if self.announcer is not None:
                try:
                    await self.announcer.start()
                except Exception as exc:  # no multicast here: cabins are then given the URL by hand
                    logger.warning("cannot announce the hub on the local network: %s", exc)
                else:
                    stack.push_async_callback(self.announcer.stop)
            await self.switchboard.set_site_limits(
                await asyncio.to_thread(site_limits, self.database)
            )
            self.event_writer.start()
            stack.push_async_callback(self.event_writer.stop)
            self.switchboard.start()
            stack.push_async_callback(self.switchboard.stop)
            appointments = asyncio.create_task(sweep_appointments(self), name="appointment-sweeper")
            stack.push_async_callback(_cancel, appointments)
            endings = asyncio.create_task(self.attention_sweeper.run(), name="attention-sweeper")
            stack.push_async_callback(_cancel, endings)
            yield


async def sweep_appointments(services: HubServices) -> None:
    """Every ``sweep_interval_s``: send due notices, mark no-shows and appointments done, erase
    expired data."""
    interval = services.settings.appointments.sweep_interval_s
    while True:
        await asyncio.to_thread(sweep_appointments_once, services)
        # Read on the event loop, where the switchboard lives: a visit in a call is not over.
        live = {call.attention_id for call in services.switchboard.calls()}
        try:
            ended = await asyncio.to_thread(services.web_visits.end_expired, services.clock(), live)
            for visit_id in ended:
                # Its browser is told the visit is over, and can no longer ask for a call.
                await services.switchboard.web_visit_left(
                    visit_id, GONE_REASON, close_code=CloseCode.UNAUTHORIZED
                )
        except Exception:  # the next round retries
            logger.exception("ending the video visits past their time failed")
        await asyncio.sleep(interval)


def sweep_appointments_once(services: HubServices) -> None:
    """One round of the appointment sweeper; a failure is logged and the next round retries."""
    now = services.clock()
    # Idle rounds only read: the notice sender's claim takes the database's write lock.
    with services.database.session() as session:
        due = session.scalar(
            select(Notice.id)
            .where(Notice.status == NoticeStatus.PENDING, Notice.due_at <= now)
            .limit(1)
        )
    for name, work in (
        ("notices", services.notice_sender.deliver_due if due is not None else _nothing),
        ("no-shows", services.appointments.mark_no_shows),
        ("done", services.appointments.mark_done),
        ("retention", services.appointments.forget_expired),
    ):
        try:
            work(now)
        except Exception:  # the sweeper must outlive one bad round (a database restart)
            logger.exception("appointment sweep (%s) failed", name)


def _nothing(now: datetime) -> int:
    return 0


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def routing_config(settings: HubSettings) -> RoutingConfig:
    """The router's tunables from settings (each site's cap is given when the hub starts,
    then by the sites route whenever an admin changes it)."""
    return RoutingConfig(
        ring_timeout_s=settings.ring_timeout_s,
        missed_rings_before_away=settings.missed_rings_before_away,
        wrapup_s=settings.wrapup_s,
        default_handle_time_s=settings.default_handle_time_s,
    )


def appointment_lookup(
    appointments: Appointments,
) -> Callable[[str, int], tuple[int | None, str] | None]:
    """The switchboard's view of the booking service: a checked-in appointment's agent and
    service, by reference and cabin."""

    def lookup(reference: str, cabin_id: int) -> tuple[int | None, str] | None:
        details = appointments.call_details(reference, cabin_id=cabin_id)
        return None if details is None else (details.agent_id, details.service)

    return lookup


def site_limits(database: Database) -> dict[str, int | None]:
    """Each capped site's limit on concurrent calls, by site id."""
    with database.session() as session:
        return {
            str(site.id): site.max_concurrent_calls
            for site in session.scalars(select(Site)).all()
            if site.max_concurrent_calls is not None
        }


def notice_channels(settings: HubSettings, sms: SmsSender | None) -> frozenset[NoticeChannel]:
    """How this hub can send appointment notices: e-mail with an SMTP server and a sender
    address, SMS with a gateway (``sms``, ``None`` without one)."""
    channels = set()
    if settings.padron.smtp_host and settings.padron.smtp_from:
        channels.add(NoticeChannel.EMAIL)
    if sms is not None:
        channels.add(NoticeChannel.SMS)
    return frozenset(channels)


def build_services(
    settings: HubSettings,
    *,
    database: Database | None = None,
    clock: Clock = utc_now,
    password_hasher: PasswordHasher | None = None,
    padron_source: PadronSource | None = None,
    sms_sender: SmsSender | None = None,
    announcer: HubAnnouncer | None = None,
    appointment_system: AppointmentSystem | None = None,
) -> HubServices:
    """The services of a hub with these settings; none of them runs yet.

    Without a ``database``, one is opened from the settings; without an ``announcer``, the hub
    is announced when ``settings.announce`` says so; without an ``sms_sender``, SMS go through
    the gateway ``padron.sms_sender`` names (or none).
    """
    database = database if database is not None else Database.from_settings(settings)
    if sms_sender is None:
        sms_sender = sender_from_settings(settings.padron)
    log = AttentionLog(database, clock=clock)
    writer = EventWriter(log)
    secret = settings.secret_key.get_secret_value()
    public_url = (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")
    appointments = Appointments(
        database,
        log,
        secret_key=secret,
        public_url=public_url,
        settings=settings.appointments,
        system=appointment_system or build_system(settings.appointments),
        clock=clock,
        timezone=settings.timezone,
        notice_channels=notice_channels(settings, sms_sender),
    )
    channels = notice_channels(settings, sms_sender)
    web_visits = WebVisits(
        database,
        log,
        secret_key=secret,
        mailer=mail.Mailer(mail.SmtpSettings.from_padron(settings.padron), clock=clock)
        if NoticeChannel.EMAIL in channels
        else None,
        sms=sms_sender,
        clock=clock,
        council_name=settings.padron.council_name,
    )
    switchboard = Switchboard(
        routing_config(settings),
        writer,
        monotonic=time.monotonic,
        wall=clock,
        appointment_lookup=appointment_lookup(appointments),
        event_lookup=log.event,
        attention_owner=log.attention_cabin,
    )
    if announcer is None and settings.announce:
        announcer = HubAnnouncer(announcement_for(settings, certificate=settings.tls_certificate))
    return HubServices(
        settings=settings,
        database=database,
        clock=clock,
        attention_log=log,
        passwords=Passwords(password_hasher),
        login_limiter=RateLimiter(limit=MAX_LOGIN_FAILURES, window=LOGIN_WINDOW, clock=clock),
        enrolment_limiter=RateLimiter(
            limit=enrolment.MAX_REQUESTS, window=enrolment.LIMIT_WINDOW, clock=clock
        ),
        enrolment_code_limiter=RateLimiter(
            limit=enrolment.MAX_WRONG_CODES, window=enrolment.LIMIT_WINDOW, clock=clock
        ),
        directory=DatabaseDirectory(database, clock),
        event_writer=writer,
        switchboard=switchboard,
        documents=DocumentStore(
            settings.data_dir / "documents", retention_s=RETENTION_S, max_age_s=MAX_AGE_S
        ),
        fleet_dispatcher=ActionDispatcher(database, board_of(switchboard), clock),
        padron=build_padron(
            settings.padron, settings, log, clock=clock, source=padron_source, sms=sms_sender
        ),
        appointments=appointments,
        notice_sender=NoticeSender(
            database,
            log,
            settings.appointments,
            mailer=mail.Mailer(mail.SmtpSettings.from_padron(settings.padron), clock=clock),
            sms=sms_sender,
            secret_key=secret,
            public_url=public_url,
            clock=clock,
        ),
        appointment_limiter=RateLimiter(
            limit=settings.appointments.max_wrong_links,
            window=timedelta(seconds=settings.appointments.wrong_link_window_s),
            clock=clock,
        ),
        booking_limiter=RateLimiter(
            limit=settings.appointments.max_web_bookings, window=timedelta(hours=1), clock=clock
        ),
        announcer=announcer,
        attention_sweeper=AttentionSweeper(
            log,
            clock=clock,
            grace_s=settings.attention_grace_s,
            interval_s=settings.attention_sweep_s,
            online=switchboard.connected_cabins,
            live=lambda: [call.attention_id for call in switchboard.calls()],
        ),
        web_visits=web_visits,
    )


def attach(app: Starlette, services: HubServices) -> None:
    """Keep ``services`` on ``app``, where :func:`services_of` finds them."""
    app.state.services = services


def services_of(app: Starlette) -> HubServices:
    """The services of an app made by :func:`hub.app.create_app`."""
    services = getattr(app.state, "services", None)
    if not isinstance(services, HubServices):
        raise TypeError(f"Expected an app made by create_app, but {app!r} has no hub services")
    return services
