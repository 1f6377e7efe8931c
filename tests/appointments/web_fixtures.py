"""A hub to book on through the public web pages: one office, its errands, a skilled agent.

:func:`seed_office` writes the rows an admin would enter: a site open every day, the errands
``padron`` and ``general``, an agent with both skills on shift every day from 09:00 to 14:00
and from 16:00 to 19:00, and offers of one place per half-hour slot (in person, at a cabin,
from home). :func:`web_hub` serves such a hub on a loopback port.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from cabina.config import load_settings
from contract.appointments import Channel
from contract.clock import Clock
from hub.app import create_app
from hub.appointments.models import AgentShift, AppointmentOffer
from hub.attention_log import AttentionLog
from hub.models import Role, Service, Site, User
from hub.server import BackgroundHub
from hub.services import services_of
from hub.settings import HubSettings
from hub.sms import LoggingSmsSender

SECRET = "appointments-web-secret-key-0123456789abcdef"
SITE_NAME = "Oficina de Atención Ciudadana"
SITE_ADDRESS = "Plaza Mayor 1"
ALWAYS_OPEN = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
BRING = {
    "es": "Tu DNI o NIE.",
    "ca": "El teu DNI o NIE.",
    "eu": "Zure NAN edo AIZ.",
    "gl": "O teu DNI ou NIE.",
    "en": "Your DNI or NIE.",
}
#: A valid DNI and NIE (their control letters match).
DNI = "12345678Z"
NIE = "X1234567L"


@dataclass(frozen=True)
class Seeded:
    """The rows :func:`seed_office` wrote."""

    site_id: int
    agent_id: int
    #: Offer ids by ``(service, channel)``.
    offers: dict[tuple[str, Channel], int]


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def make_settings(data_dir: Path, **overrides: object) -> HubSettings:
    """Settings of a test hub on plain HTTP, on a free port, its public URL its own."""
    port = free_port()
    values: dict[str, object] = {
        "data_dir": data_dir,
        "secret_key": SECRET,
        "cookie_secure": False,
        "host": "127.0.0.1",
        "port": port,
        "public_url": f"http://127.0.0.1:{port}",
        # A mail server nobody listens on: receipts are queued and wait for one.
        "padron": {"smtp_host": "127.0.0.1", "smtp_port": 9, "smtp_from": "cita@example.org"},
    }
    return load_settings(HubSettings, None, values | overrides)


def seed_office(log: AttentionLog, now: datetime, *, capacity: int = 1) -> Seeded:
    """The site, errands, agent, shifts and offers described in the module's docstring."""
    with log.writing() as session:
        site = Site(
            name=SITE_NAME,
            address=SITE_ADDRESS,
            timezone="Europe/Madrid",
            opening_hours=ALWAYS_OPEN,
            max_concurrent_calls=None,
            created_at=now,
        )
        session.add(site)
        names = {
            "padron": {"es": "Padrón", "ca": "Padró", "eu": "Erroldak", "gl": "Padrón",
                       "en": "Register of inhabitants"},
            "general": {"es": "Información general", "ca": "Informació general",
                        "eu": "Informazio orokorra", "gl": "Información xeral",
                        "en": "General information"},
        }  # fmt: skip
        for code, by_language in names.items():
            if session.scalars(select(Service).where(Service.code == code)).first() is None:
                session.add(Service(code=code, names=by_language, active=True))
        agent = User(
            username="laia",
            display_name="Laia Puig",
            password_hash="not-a-password",
            role=Role.AGENT,
            active=True,
            languages=["es", "ca"],
            services=["padron", "general"],
            max_calls=1,
            site_id=None,
            created_at=now,
        )
        session.add(agent)
        session.flush()
        for weekday in range(7):
            for start, end in ((9 * 60, 14 * 60), (16 * 60, 19 * 60)):
                session.add(
                    AgentShift(
                        user_id=agent.id,
                        site_id=site.id,
                        weekday=weekday,
                        start_minute=start,
                        end_minute=end,
                        valid_from=date(2020, 1, 1),
                        valid_until=None,
                        created_at=now,
                    )
                )
        offers: dict[tuple[str, Channel], AppointmentOffer] = {}
        for service, channel in (
            ("padron", Channel.IN_PERSON),
            ("padron", Channel.HOME_VIDEO),
            ("padron", Channel.CABIN_VIDEO),
            ("general", Channel.IN_PERSON),
        ):
            offer = AppointmentOffer(
                site_id=site.id,
                service=service,
                channel=channel,
                slot_minutes=30,
                capacity=capacity,
                min_notice_minutes=60,
                horizon_days=30,
                reminder_minutes=[1440, 15],
                grace_minutes=10,
                what_to_bring=BRING,
                active=True,
            )
            session.add(offer)
            offers[(service, channel)] = offer
        session.flush()
        return Seeded(site.id, agent.id, {key: offer.id for key, offer in offers.items()})


@contextmanager
def web_hub(
    data_dir: Path, clock: Clock, **overrides: object
) -> Iterator[tuple[BackgroundHub, FastAPI, Seeded]]:
    """A seeded hub on SQLite serving on a loopback port."""
    settings = make_settings(data_dir, **overrides)
    # An SMS gateway of the test's own, so that receipts are queued by SMS too.
    app = create_app(settings, clock=clock, sms_sender=LoggingSmsSender())
    with BackgroundHub(settings, app) as hub:
        services = services_of(app)
        yield hub, app, seed_office(services.attention_log, clock())


def manage_token(response: httpx.Response) -> str:
    """The management token a booking's redirect leads to."""
    location = response.headers["location"]
    found = re.search(r"/cita/g/([A-Za-z0-9_-]+)", location)
    assert found is not None, location
    return found.group(1)
