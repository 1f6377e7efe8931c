"""A demo office to try Cabina with: a site, its services, staff of every role and one cabin.

With ``appointments=True`` it also gets appointment offers (every errand by cabin video, video
from home and in person), the agents' weekday shifts, and a day of appointments for today, so
that the console's agenda is not empty (:func:`seed_demo_appointments`).

The accounts and the cabin token are fixed and public, so a demo kiosk can be configured in
advance: never seed them into a hub that serves citizens. Seeding twice changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from contract.appointments import AppointmentStatus, BookedVia, Channel
from contract.events import EventKind, NewEvent
from hub.appointments.models import AgentShift, Appointment, AppointmentOffer, SlotCount
from hub.appointments.service import new_reference
from hub.appointments.tokens import token_digest as appointment_token_digest
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
    appointments: bool = False,
) -> DemoSeed:
    """Create whatever of the demo is missing; returns it all.

    ``opening_hours`` are set on the site, new or not; without them a new site gets the
    office's real hours (:data:`OPENING_HOURS`) and an existing one keeps its own. With
    ``appointments``, the appointments of :func:`seed_demo_appointments` too.
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
    if appointments:
        seed_demo_appointments(log, site_id=site.id, now=now)
    logger.info("demo data in place: site %d, cabin %d", site.id, cabin.id)
    return DemoSeed(
        site_id=site.id, cabin_id=cabin.id, cabin_token=DEMO_CABIN_TOKEN, accounts=ACCOUNTS
    )


#: What the demo office's agenda holds: a citizen per agent and hour of today (fictitious).
DEMO_CITIZENS = (
    ("Anna Soler Puig", "00000000T"),
    ("Jordi Martí Roca", "00000001R"),
    ("Carmen Ruiz Vega", "00000002W"),
    ("Iker Goikoetxea", "00000003A"),
    ("Lucía Méndez Otero", "00000004G"),
)
#: The weekday hours of the demo agents' shifts (wall-clock minutes).
DEMO_SHIFT = (8 * 60 + 30, 14 * 60 + 30)
DEMO_WHAT_TO_BRING = {
    "es": "DNI o NIE original",
    "ca": "DNI o NIE original",
    "ca@valencia": "DNI o NIE original",
    "eu": "NAN edo AIZ originala",
    "gl": "DNI ou NIE orixinal",
    "en": "Your original DNI or NIE",
}


def seed_demo_appointments(log: AttentionLog, *, site_id: int, now: datetime) -> int:
    """Offers, shifts and a day of appointments for today at the demo site; how many were made.

    Offers and shifts are added where missing, and today's appointments only if the site has
    none today, so seeding twice changes nothing. The appointments are demo rows without
    contacts (no notice is sent) nor log events; those before ``now`` are ``done``.
    """
    made = 0
    with log.writing() as session:
        site = session.get_one(Site, site_id)
        zone = ZoneInfo(site.timezone)
        offers: dict[tuple[str, Channel], AppointmentOffer] = {}
        for code in SERVICES:
            for channel in Channel:
                offer = session.scalars(
                    select(AppointmentOffer).where(
                        AppointmentOffer.site_id == site_id,
                        AppointmentOffer.service == code,
                        AppointmentOffer.channel == channel,
                    )
                ).one_or_none()
                if offer is None:
                    offer = AppointmentOffer(
                        site_id=site_id,
                        service=code,
                        channel=channel,
                        slot_minutes=20,
                        capacity=2,
                        min_notice_minutes=30,
                        horizon_days=60,
                        reminder_minutes=[1440, 15],
                        grace_minutes=10,
                        what_to_bring=dict(DEMO_WHAT_TO_BRING),
                        active=True,
                    )
                    session.add(offer)
                offers[(code, channel)] = offer
        session.flush()
        agents = session.scalars(
            select(User).where(User.role == Role.AGENT, User.site_id == site_id).order_by(User.id)
        ).all()
        for agent in agents:
            if session.scalars(select(AgentShift).where(AgentShift.user_id == agent.id)).first():
                continue
            for weekday in range(5):
                session.add(
                    AgentShift(
                        user_id=agent.id,
                        site_id=site_id,
                        weekday=weekday,
                        start_minute=DEMO_SHIFT[0],
                        end_minute=DEMO_SHIFT[1],
                        valid_from=date(2020, 1, 1),
                        valid_until=None,
                        created_at=now,
                    )
                )
        today = now.astimezone(zone).date()
        start = datetime.combine(today, time(0), tzinfo=zone)
        site_offers = [offer.id for offer in offers.values()]
        if session.scalars(
            select(Appointment.id).where(
                Appointment.offer_id.in_(site_offers),
                Appointment.starts_at >= start,
                Appointment.starts_at < start + timedelta(days=1),
            )
        ).first():
            return 0
        channels = list(Channel)
        for index, agent in enumerate(agents):
            skills = [code for code in SERVICES if code in (agent.services or [])]
            if not skills:
                continue
            for hour in range(9, 14):
                offer = offers[(skills[hour % len(skills)], channels[(hour + index) % 3])]
                starts_at = datetime.combine(today, time(hour, 20 * (index % 3)), tzinfo=zone)
                name, document = DEMO_CITIZENS[(hour + index) % len(DEMO_CITIZENS)]
                appointment_id = str(uuid4())
                past = starts_at < now
                session.add(
                    Appointment(
                        id=appointment_id,
                        reference=new_reference(),
                        offer_id=offer.id,
                        starts_at=starts_at,
                        ends_at=starts_at + timedelta(minutes=offer.slot_minutes),
                        agent_id=agent.id,
                        status=AppointmentStatus.DONE if past else AppointmentStatus.BOOKED,
                        booked_via=(BookedVia.WEB, BookedVia.CABIN, BookedVia.CONSOLE)[hour % 3],
                        booked_by="web",
                        attention_id=str(uuid4()),
                        citizen_name=name,
                        citizen_document=document,
                        email=None,
                        phone=None,
                        language="es",
                        citizen_ref=f"demo-{document[-4:]}",
                        token_hash=appointment_token_digest(appointment_id),
                        token_expires_at=starts_at + timedelta(days=1),
                        version=1,
                        external_id=None,
                        created_at=now,
                        cancelled_at=None,
                        checked_in_at=None,
                        joined_attention_id=None,
                        forgotten_at=None,
                    )
                )
                count = session.get(SlotCount, (offer.id, starts_at.astimezone(UTC)))
                if count is None:
                    session.add(SlotCount(offer_id=offer.id, starts_at=starts_at, taken=1))
                else:
                    count.taken += 1
                session.flush()
                made += 1
    logger.info("%d demo appointments for today", made)
    return made
