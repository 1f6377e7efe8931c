"""An agent's private iCalendar feed: ``GET /cita/agenda/{token}.ics``, for their calendar app.

The token is :func:`hub.appointments.tokens.feed_token` of the agent's user id under the hub's
secret key; the console hands the full URL to the agent. Nothing is stored: the hub keeps, in
memory, the digest of each active member of staff's token, made again when the staff changes,
and finds the agent by the digest of the token presented. An unknown token is 404, and an
address that presents too many unknown tokens is paused (429) for the window of
``[appointments]`` ``max_wrong_links`` / ``wrong_link_window_s`` — the same count as wrong
management links, so that guessing one kind of link does not reset the other.

The feed holds the agent's booked appointments from yesterday to :data:`FEED_WEEKS` weeks
ahead, with the citizen's initials only (see :mod:`hub.appointments.ics`).
"""

from __future__ import annotations

import hmac
import logging
import threading
from datetime import datetime, timedelta

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from contract.appointments import TOKEN_CHARS
from contract.languages import CITIZEN_LANGUAGES
from hub.appointments import ics, texts, tokens
from hub.appointments.models import Appointment, AppointmentOffer
from hub.appointments.service import LIVE
from hub.db import Database
from hub.models import Service, Site, User
from hub.ratelimit import RateLimited
from hub.refusals import refused
from hub.services import services_of

logger = logging.getLogger(__name__)

#: How far ahead the feed reaches.
FEED_WEEKS = 8
_HEADERS = {
    "Cache-Control": "private, no-store",
    # The address holds the token: never send it on to another site.
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex",
}


class FeedIndex:
    """The digests of the active staff's feed tokens, made again when the staff changes."""

    def __init__(self, secret_key: str) -> None:
        self.secret_key = secret_key
        self._users: frozenset[int] = frozenset()
        self._by_digest: dict[str, int] = {}
        self._lock = threading.Lock()

    def user_id(self, database: Database, token: str) -> int | None:
        """The active member of staff whose feed ``token`` opens, or ``None``."""
        with database.session() as session:
            active = frozenset(session.scalars(select(User.id).where(User.active)).all())
        with self._lock:
            if active != self._users:
                self._by_digest = {
                    tokens.token_digest(tokens.feed_token(self.secret_key, user)): user
                    for user in active
                }
                self._users = active
            digest = tokens.token_digest(token)
            for known, user in self._by_digest.items():
                if hmac.compare_digest(known, digest):
                    return user
        return None


def _well_formed(token: str) -> bool:
    return len(token) == TOKEN_CHARS and all(
        char.isascii() and (char.isalnum() or char in "-_") for char in token
    )


def _feed_language(languages: list[str]) -> str:
    return next((lang for lang in languages if lang in CITIZEN_LANGUAGES), texts.DEFAULT_LANGUAGE)


def agent_calendar(database: Database, user_id: int, now: datetime) -> bytes:
    """The ``.ics`` of an agent's appointments around ``now``."""
    with database.session() as session:
        user = session.get_one(User, user_id)
        lang = _feed_language(list(user.languages or []))
        rows = session.execute(
            select(Appointment, AppointmentOffer, Site)
            .join(AppointmentOffer, Appointment.offer_id == AppointmentOffer.id)
            .join(Site, AppointmentOffer.site_id == Site.id)
            .where(
                Appointment.agent_id == user_id,
                Appointment.status.in_(LIVE),
                Appointment.starts_at >= now - timedelta(days=1),
                Appointment.starts_at < now + timedelta(weeks=FEED_WEEKS),
            )
            .order_by(Appointment.starts_at)
        ).all()
        names = {
            service.code: service.names
            for service in session.scalars(
                select(Service).where(Service.code.in_({offer.service for _, offer, _ in rows}))
            )
        }
        entries = [
            ics.FeedEntry(
                appointment_id=appointment.id,
                version=appointment.version,
                reference=appointment.reference,
                starts_at=appointment.starts_at,
                ends_at=appointment.ends_at,
                errand=(names.get(offer.service) or {}).get(lang)
                or (names.get(offer.service) or {}).get(texts.DEFAULT_LANGUAGE)
                or offer.service,
                initials=texts.initials(appointment.citizen_name),
                channel=offer.channel,
                site_name=site.name,
                site_address=site.address,
            )
            for appointment, offer, site in rows
        ]
        return ics.agent_feed(entries, name=user.display_name, lang=lang, stamp=now)


def _index(request: Request) -> FeedIndex:
    state = request.app.state
    index = getattr(state, "appointment_feed_index", None)
    if not isinstance(index, FeedIndex):
        secret = services_of(request.app).settings.secret_key.get_secret_value()
        index = FeedIndex(secret)
        state.appointment_feed_index = index
    return index


def build_router() -> APIRouter:
    """The agents' iCalendar feeds."""
    router = APIRouter(tags=["appointments"])

    @router.get(
        "/cita/agenda/{token}.ics",
        response_class=Response,
        responses={
            200: {"content": {ics.MEDIA_TYPE: {}}, "description": "The agent's calendar"},
            **refused(404, 429),
        },
    )
    def agent_feed(token: str, request: Request) -> Response:
        """An agent's appointments as an iCalendar feed (a private, unguessable URL)."""
        hub = services_of(request.app)
        # The same count as the management links': an address guessing either is paused.
        limiter = hub.appointment_limiter
        client = request.client.host if request.client else "unknown"
        try:
            limiter.check("appointment-link", client)
        except RateLimited as exc:
            logger.info("agenda feed guesses limited for a client")
            return JSONResponse(
                {"detail": "Too many unknown feed links from this address; wait and try again"},
                status_code=status.HTTP_429_TOO_MANY_REQUESTS,
                headers=_HEADERS | {"Retry-After": str(exc.retry_after_s)},
            )
        user_id = _index(request).user_id(hub.database, token) if _well_formed(token) else None
        if user_id is None:
            limiter.record("appointment-link", client)
            return JSONResponse(
                {"detail": "Expected the link of an agent's calendar, but this one opens none"},
                status_code=status.HTTP_404_NOT_FOUND,
                headers=_HEADERS,
            )
        body = agent_calendar(hub.database, user_id, hub.clock())
        return Response(
            body,
            media_type=f"{ics.MEDIA_TYPE}; charset=utf-8",
            headers=_HEADERS | {"Content-Disposition": 'inline; filename="agenda.ics"'},
        )

    return router
