"""A video appointment from home in the demo, to try the citizen's page from a browser.

The demo books one home-video appointment at the first free time of the demo office, for a
made-up citizen with a made-up mobile number. The demo has no mail server and no SMS gateway:
its SMS sender prints each message to the terminal instead, so that whoever runs the demo reads
the one-time code the page asks for (messages name no one: a code, a reference, a link).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from sqlalchemy import select

from contract.appointments import VIDEO_PATH, BookedVia, BookingRequest, Channel, Citizen
from hub.appointments.models import AppointmentOffer
from hub.appointments.service import AppointmentRefused
from hub.models import Site
from hub.services import services_of

#: The made-up citizen of the demo's video appointment (a DNI whose letter matches).
DEMO_DOCUMENT = "00000005M"
DEMO_NAME = "Laura Demo Prova"
DEMO_PHONE = "+34600000005"
DEMO_EMAIL = "laura.demo@example.org"
#: How many days ahead a free time is looked for.
LOOK_AHEAD_DAYS = 7


class PrintingSmsSender:
    """The demo's SMS gateway: prints each message (never the number) instead of sending it."""

    def send(self, number: str, text: str) -> None:
        """Print ``text`` for whoever runs the demo."""
        print(f"demo SMS (not sent): {text}", flush=True)


@dataclass(frozen=True, slots=True)
class DemoVideoVisit:
    """The booked appointment: its page and when it starts."""

    url: str
    starts_at: datetime
    #: The office's time zone, in which the time is shown.
    timezone: str
    document: str = DEMO_DOCUMENT


def book_video_visit(app: FastAPI, site_id: int, base: str, today: date) -> DemoVideoVisit | None:
    """A home-video appointment at the first free time from ``today``, or ``None`` when the
    office has none within :data:`LOOK_AHEAD_DAYS`."""
    services = services_of(app)
    with services.database.session() as session:
        site = session.get_one(Site, site_id)
        timezone = site.timezone
        offer_id = session.scalars(
            select(AppointmentOffer.id)
            .where(
                AppointmentOffer.site_id == site_id,
                AppointmentOffer.channel == Channel.HOME_VIDEO,
                AppointmentOffer.active.is_(True),
            )
            .order_by(AppointmentOffer.id)
        ).first()
    if offer_id is None:
        return None
    last = today + timedelta(days=LOOK_AHEAD_DAYS - 1)
    availability = services.appointments.availability(offer_id, today, last)
    slots = [slot for day in availability.days for slot in day.slots]
    if not slots:
        return None
    try:
        booked = services.appointments.book(
            BookingRequest(
                offer_id=offer_id,
                starts_at=slots[0].starts_at,
                citizen=Citizen(
                    name=DEMO_NAME, document=DEMO_DOCUMENT, email=DEMO_EMAIL, phone=DEMO_PHONE
                ),
                consent=True,
            ),
            via=BookedVia.WEB,
            actor="hub",
        )
    except AppointmentRefused:
        return None
    return DemoVideoVisit(f"{base}{VIDEO_PATH}{booked.token}", slots[0].starts_at, timezone)


def banner_lines(visit: DemoVideoVisit | None) -> list[str]:
    """What the demo's banner says about trying a video call from home."""
    if visit is None:
        return ["  A video call from home: no free time this week at the demo office.", ""]
    local = visit.starts_at.astimezone(ZoneInfo(visit.timezone))
    starts = f"{local:%Y-%m-%d %H:%M} ({visit.timezone})"
    return [
        "  A video call from home, in a browser on this machine:",
        f"    1. open {visit.url}",
        f"       (the appointment is at {starts}; it can be joined from 30 minutes before)",
        "    2. press 'Send me a code': the code is printed here as 'demo SMS'",
        f"    3. type the DNI {visit.document} and the code; an agent answers in the console",
        "",
    ]
