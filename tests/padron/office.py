"""Helpers of the padrón tests: a fake clock, a served office, an SMTP mailbox."""

from __future__ import annotations

import socket
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from argon2 import PasswordHasher
from fastapi import FastAPI
from sqlalchemy import select
from support.clock import FakeClock

from cabina.config import load_settings
from contract.events import EventKind, NewEvent, actor_for_cabin
from hub.app import create_app
from hub.attention_log import AttentionLog
from hub.db import Database
from hub.demo_data import DemoSeed
from hub.models import User
from hub.padron.settings import PadronSettings
from hub.security import create_session
from hub.server import BackgroundHub
from hub.settings import HubSettings

SECRET = "padron-test-secret-key-0123456789-abcdefghij"


@dataclass
class Office:
    """A served hub with the demo office: its URL, app, cabins and agents."""

    hub: BackgroundHub
    app: FastAPI
    database: Database
    log: AttentionLog
    clock: FakeClock
    seed: DemoSeed
    other_cabin_id: int
    other_cabin_token: str

    @property
    def url(self) -> str:
        """The hub's base URL."""
        return self.hub.url

    def cabin_headers(self, *, other: bool = False) -> dict[str, str]:
        """Bearer headers of the demo cabin (or of a second cabin)."""
        token = self.other_cabin_token if other else self.seed.cabin_token
        return {"Authorization": f"Bearer {token}"}

    def user_headers(self, username: str) -> dict[str, str]:
        """Bearer headers of a fresh session of a demo account."""
        with self.database.transaction() as session:
            user = session.scalars(select(User).where(User.username == username)).one()
            token, _ = create_session(session, user, now=self.clock(), lifetime=timedelta(hours=1))
        return {"Authorization": f"Bearer {token}"}

    def user_id(self, username: str) -> int:
        """The id of a demo account."""
        with self.database.session() as session:
            return session.scalars(select(User.id).where(User.username == username)).one()

    def start_attention(self, *, cabin_id: int | None = None) -> str:
        """A new attention at the demo cabin (or another), as its outbox would upload it."""
        attention_id = str(uuid.uuid4())
        self.log.append(
            NewEvent(
                event_id=str(uuid.uuid4()),
                kind=EventKind.ATTENTION_STARTED,
                attention_id=attention_id,
                actor=actor_for_cabin(cabin_id or self.seed.cabin_id),
                occurred_at=self.clock(),
                data={"service": "padron"},
            )
        )
        return attention_id

    def answer(self, attention_id: str, agent: str) -> None:
        """Record that ``agent`` answered the call of this attention."""
        self.log.append(
            NewEvent(
                event_id=str(uuid.uuid4()),
                kind=EventKind.CALL_ANSWERED,
                attention_id=attention_id,
                actor="hub",
                occurred_at=self.clock(),
                data={"agent_id": self.user_id(agent)},
            )
        )


def padron_app(
    hub_settings: HubSettings, database: Database, clock: FakeClock, **padron: Any
) -> FastAPI:
    """The hub app with its padrón service set up for the test."""
    sms = padron.pop("sms_sender_object", None)
    source = padron.pop("source_object", None)
    settings = hub_settings.model_copy(
        update={"padron": load_settings(PadronSettings, None, padron)}
    )
    return create_app(
        settings,
        database=database,
        clock=clock,
        password_hasher=PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1),
        padron_source=source,
        sms_sender=sms,
    )


class Mailbox:
    """What an SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
