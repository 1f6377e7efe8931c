"""Who is behind a credential, for the WebSocket endpoints: cabins and agents from the database."""

from __future__ import annotations

import asyncio

from contract.clock import Clock
from hub.db import Database
from hub.models import Cabin, CabinStatus, Role, Site, User
from hub.schedule import OpeningHours
from hub.security import resolve_cabin_token, resolve_session
from hub.switchboard import AgentInfo, CabinInfo


class DatabaseDirectory:
    """Looks credentials up in the hub's database, off the event loop."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self._db = database
        self._clock = clock

    async def cabin_for_token(self, token: str) -> CabinInfo | None:
        """The in-service cabin whose credential is ``token``."""
        return await asyncio.to_thread(self._cabin, token)

    async def agent_for_token(self, token: str) -> AgentInfo | None:
        """The active agent whose session or API token is ``token``."""
        return await asyncio.to_thread(self._agent, token)

    def _cabin(self, token: str) -> CabinInfo | None:
        with self._db.session() as session:
            cabin = resolve_cabin_token(session, token)
            if cabin is None or cabin.status is CabinStatus.RETIRED:
                return None
            site = session.get(Site, cabin.site_id)
            assert site is not None  # a foreign key
            return cabin_info(cabin, site)

    def _agent(self, token: str) -> AgentInfo | None:
        with self._db.session() as session:
            user = resolve_session(session, token, now=self._clock())
            if user is None or user.role not in (Role.AGENT, Role.SUPERVISOR):
                return None
            return agent_info(user)


def cabin_info(cabin: Cabin, site: Site) -> CabinInfo:
    """The switchboard's view of a cabin and its site's opening hours."""
    hours = OpeningHours.parse(site.opening_hours, site.timezone) if site.opening_hours else None
    return CabinInfo(
        id=str(cabin.id),
        name=cabin.name,
        site_id=str(site.id),
        site_name=site.name,
        opening_hours=hours,
    )


def agent_info(user: User) -> AgentInfo:
    """The switchboard's view of an agent."""
    return AgentInfo(
        id=str(user.id),
        name=user.display_name,
        languages=frozenset(user.languages),
        services=frozenset(user.services),
        max_calls=user.max_calls,
        site_id=str(user.site_id) if user.site_id is not None else None,
    )
