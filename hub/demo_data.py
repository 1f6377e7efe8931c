"""A demo office to try Cabina with: a site, its services, staff of every role and one cabin.

The accounts and the cabin token are fixed and public, so a demo kiosk can be configured in
advance: never seed them into a hub that serves citizens. Seeding twice changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.orm import Session

from contract.events import EventKind, NewEvent
from hub.attention_log import AttentionLog
from hub.models import (
    Cabin,
    CabinCredential,
    CabinStatus,
    Outcome,
    Role,
    Service,
    Site,
    Topic,
    User,
)
from hub.security import Passwords, token_digest

logger = logging.getLogger(__name__)

#: The demo cabin's credential (public: demo only).
DEMO_CABIN_TOKEN = "demo-cabin-sant-andreu-1-not-a-secret"  # noqa: S105 - a published demo value
DEMO_CABIN_SERIAL = "DEMO-SA-0001"

SITE_NAME = "Oficina d'Atenció Ciutadana — Sant Andreu"
SITE_ADDRESS = "Plaça d'Orfila, 1, 08030 Barcelona"
#: Weekday mornings, Thursday afternoons too; Barcelona's 2026 public holidays.
OPENING_HOURS: dict[str, Any] = {
    "mon": ["08:30-14:30"],
    "tue": ["08:30-14:30"],
    "wed": ["08:30-14:30"],
    "thu": ["08:30-14:30", "16:00-19:00"],
    "fri": ["08:30-14:30"],
    "sat": [],
    "sun": [],
    "holidays": [
        "2026-01-01",
        "2026-01-06",
        "2026-04-03",
        "2026-04-06",
        "2026-05-01",
        "2026-05-25",
        "2026-06-24",
        "2026-08-15",
        "2026-09-11",
        "2026-09-24",
        "2026-10-12",
        "2026-12-08",
        "2026-12-25",
        "2026-12-26",
    ],
}


#: The hours ``cabina demo`` gives the site, so that whoever tries the demo finds it open.
ALWAYS_OPEN: dict[str, Any] = {"always": True}


def _names(es: str, ca: str, eu: str, gl: str, en: str) -> dict[str, str]:
    return {"es": es, "ca": ca, "eu": eu, "gl": gl, "en": en}


SERVICES: dict[str, dict[str, str]] = {
    "padron": _names(
        "Padrón municipal",
        "Padró municipal",
        "Udal errolda",
        "Padrón municipal",
        "Residents' register",
    ),
    "general": _names(
        "Información general",
        "Informació general",
        "Informazio orokorra",
        "Información xeral",
        "General information",
    ),
    "tributs": _names(
        "Tributos e impuestos", "Tributs i impostos", "Zergak", "Tributos e impostos", "Local taxes"
    ),
}

#: Topic code → (service code, names).
TOPICS: dict[str, tuple[str | None, dict[str, str]]] = {
    "padron_alta": (
        "padron",
        _names(
            "Alta en el padrón",
            "Alta al padró",
            "Erroldan alta ematea",
            "Alta no padrón",
            "Registering",
        ),
    ),
    "padron_domicilio": (
        "padron",
        _names(
            "Cambio de domicilio",
            "Canvi de domicili",
            "Helbide-aldaketa",
            "Cambio de domicilio",
            "Change of address",
        ),
    ),
    "padron_certificado": (
        "padron",
        _names(
            "Certificado de empadronamiento",
            "Certificat d'empadronament",
            "Erroldatze-ziurtagiria",
            "Certificado de empadroamento",
            "Registration certificate",
        ),
    ),
    "tributs_ibi": (
        "tributs",
        _names(
            "Impuesto sobre bienes inmuebles",
            "Impost sobre béns immobles",
            "Ondasun higiezinen gaineko zerga",
            "Imposto sobre bens inmobles",
            "Property tax",
        ),
    ),
    "tributs_pago": (
        "tributs",
        _names(
            "Pago de recibos",
            "Pagament de rebuts",
            "Ordainagiriak ordaintzea",
            "Pagamento de recibos",
            "Paying a bill",
        ),
    ),
    "general_info": (
        None,
        _names(
            "Información y orientación",
            "Informació i orientació",
            "Informazioa eta orientazioa",
            "Información e orientación",
            "Information and guidance",
        ),
    ),
    "general_cita": (
        None,
        _names("Cita previa", "Cita prèvia", "Aurretiko hitzordua", "Cita previa", "Appointment"),
    ),
}

OUTCOMES: dict[str, dict[str, str]] = {
    "resolved": _names("Resuelto", "Resolt", "Konponduta", "Resolto", "Resolved"),
    "appointment": _names(
        "Cita concertada",
        "Cita concertada",
        "Hitzordua emanda",
        "Cita concertada",
        "Appointment booked",
    ),
    "referred": _names(
        "Derivado a otro servicio",
        "Derivat a un altre servei",
        "Beste zerbitzu batera bideratuta",
        "Derivado a outro servizo",
        "Referred elsewhere",
    ),
    "documents_missing": _names(
        "Falta documentación",
        "Falta documentació",
        "Dokumentazioa falta da",
        "Falta documentación",
        "Documents missing",
    ),
    "not_resolved": _names(
        "No resuelto", "No resolt", "Konpondu gabe", "Non resolto", "Not resolved"
    ),
}


@dataclass(frozen=True, slots=True)
class DemoAccount:
    """A demo sign-in."""

    username: str
    password: str
    role: Role
    display_name: str
    languages: tuple[str, ...] = ()
    services: tuple[str, ...] = ()


ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount(
        "agent1", "agent1-demo", Role.AGENT, "Laia Puig", ("ca", "es"), ("padron", "general")
    ),
    DemoAccount(
        "agent2",
        "agent2-demo",
        Role.AGENT,
        "Marcos Ferreiro",
        ("es", "gl", "en"),
        ("general", "tributs"),
    ),
    DemoAccount(
        "agent3",
        "agent3-demo",
        Role.AGENT,
        "Nerea Etxeberria",
        ("es", "eu", "ca"),
        ("padron", "tributs"),
    ),
    DemoAccount("supervisor", "supervisor-demo", Role.SUPERVISOR, "Montse Vidal", ("ca", "es")),
    DemoAccount("admin", "admin-demo-1", Role.ADMIN, "Administració OAC"),
    DemoAccount("technician", "technician-demo", Role.TECHNICIAN, "Servei tècnic"),
)


@dataclass(frozen=True, slots=True)
class DemoSeed:
    """What the demo consists of, to print for whoever runs it."""

    site_id: int
    cabin_id: int
    cabin_token: str
    accounts: tuple[DemoAccount, ...]


def _audit(
    log: AttentionLog, session: Session, kind: EventKind, now: datetime, data: dict[str, Any]
) -> None:
    event = NewEvent(event_id=str(uuid4()), kind=kind, actor="hub", occurred_at=now, data=data)
    log.append_in(session, event)


def _catalogue(session: Session) -> None:
    services: dict[str, Service] = {}
    for code, names in SERVICES.items():
        service = session.scalars(select(Service).where(Service.code == code)).one_or_none()
        if service is None:
            service = Service(code=code, names=names, active=True)
            session.add(service)
        services[code] = service
    session.flush()
    for code, (service_code, names) in TOPICS.items():
        if session.scalars(select(Topic).where(Topic.code == code)).one_or_none() is None:
            service_id = services[service_code].id if service_code else None
            session.add(Topic(code=code, names=names, service_id=service_id, active=True))
    for code, names in OUTCOMES.items():
        if session.scalars(select(Outcome).where(Outcome.code == code)).one_or_none() is None:
            session.add(Outcome(code=code, names=names, active=True))


def seed_demo(
    log: AttentionLog,
    passwords: Passwords,
    *,
    now: datetime,
    opening_hours: dict[str, Any] | None = None,
) -> DemoSeed:
    """Create whatever of the demo is missing; returns it all.

    ``opening_hours`` are set on the site, new or not; without them a new site gets the
    office's real hours (:data:`OPENING_HOURS`) and an existing one keeps its own.
    """
    with log.writing() as session:
        site = session.scalars(select(Site).where(Site.name == SITE_NAME)).one_or_none()
        if site is None:
            site = Site(
                name=SITE_NAME,
                address=SITE_ADDRESS,
                timezone="Europe/Madrid",
                opening_hours=OPENING_HOURS if opening_hours is None else dict(opening_hours),
                max_concurrent_calls=None,
                created_at=now,
            )
            session.add(site)
            session.flush()
        elif opening_hours is not None and site.opening_hours != opening_hours:
            site.opening_hours = dict(opening_hours)
        _catalogue(session)
        for account in ACCOUNTS:
            if session.scalars(select(User).where(User.username == account.username)).first():
                continue
            user = User(
                username=account.username,
                display_name=account.display_name,
                password_hash=passwords.hash(account.password),
                role=account.role,
                active=True,
                languages=list(account.languages),
                services=list(account.services),
                max_calls=1,
                site_id=site.id,
                created_at=now,
            )
            session.add(user)
            session.flush()
            data = {"user_id": user.id, "role": account.role.value}
            _audit(log, session, EventKind.AUDIT_USER_CREATED, now, data)
        cabin = session.scalars(
            select(Cabin).where(Cabin.serial == DEMO_CABIN_SERIAL)
        ).one_or_none()
        if cabin is None:
            cabin = Cabin(
                name="Sant Andreu 1",
                site_id=site.id,
                serial=DEMO_CABIN_SERIAL,
                status=CabinStatus.PENDING,
                created_at=now,
                last_seen_at=None,
            )
            session.add(cabin)
            session.flush()
            _audit(log, session, EventKind.AUDIT_CABIN_CREATED, now, {"cabin_id": cabin.id})
        digest = token_digest(DEMO_CABIN_TOKEN)
        credential = session.scalars(
            select(CabinCredential).where(CabinCredential.token_hash == digest)
        ).one_or_none()
        if credential is None:
            session.add(
                CabinCredential(
                    cabin_id=cabin.id, token_hash=digest, created_at=now, revoked_at=None
                )
            )
        elif credential.revoked_at is not None:
            credential.revoked_at = None  # seeding makes the demo usable again
    logger.info("demo data in place: site %d, cabin %d", site.id, cabin.id)
    return DemoSeed(
        site_id=site.id, cabin_id=cabin.id, cabin_token=DEMO_CABIN_TOKEN, accounts=ACCOUNTS
    )
