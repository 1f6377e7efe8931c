"""The supervisors' appointment figures, counted from seeded rows on SQLite and PostgreSQL
(the ``database`` fixture of ``conftest.py``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest
from sqlalchemy.orm import Session

from contract.appointments import AppointmentStatus, BookedVia, Channel
from hub.appointments.figures import AppointmentFigures, ServiceFigures, appointment_figures
from hub.appointments.models import (
    AgentShift,
    Appointment,
    AppointmentOffer,
    CalendarBlock,
    SlotCount,
)
from hub.db import Database
from hub.models import Site, User
from hub.roles import Role

MADRID = "Europe/Madrid"
# A week of March 2026 before the clocks change (Madrid is UTC+1): Monday 2 to Sunday 8.
MONDAY = date(2026, 3, 2)
TUESDAY = date(2026, 3, 3)
CREATED = datetime(2026, 2, 1, tzinfo=UTC)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """A wall time in Madrid that week, as an instant (UTC)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - timedelta(hours=1)


class Seed:
    """Rows of one office, added through one session."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.count = 0

    def site(self, hours: dict[str, object]) -> Site:
        site = Site(
            name=f"OAC {uuid4().hex[:6]}",
            address="Plaça 1",
            timezone=MADRID,
            opening_hours=hours,
            max_concurrent_calls=None,
            created_at=CREATED,
        )
        self.session.add(site)
        self.session.flush()
        return site

    def agent(self, services: list[str], site: Site) -> User:
        user = User(
            username=f"agent-{uuid4().hex[:8]}",
            display_name="Agent",
            password_hash="x",
            role=Role.AGENT,
            active=True,
            languages=["es"],
            services=services,
            max_calls=1,
            site_id=site.id,
            created_at=CREATED,
        )
        self.session.add(user)
        self.session.flush()
        return user

    def shift(self, user: User, site: Site, weekday: int, start: str, end: str) -> None:
        def minutes(text: str) -> int:
            hours, mins = text.split(":")
            return int(hours) * 60 + int(mins)

        self.session.add(
            AgentShift(
                user_id=user.id,
                site_id=site.id,
                weekday=weekday,
                start_minute=minutes(start),
                end_minute=minutes(end),
                valid_from=date(2026, 1, 1),
                valid_until=None,
                created_at=CREATED,
            )
        )

    def offer(self, site: Site, service: str, channel: Channel, slot: int, capacity: int) -> int:
        offer = AppointmentOffer(
            site_id=site.id,
            service=service,
            channel=channel,
            slot_minutes=slot,
            capacity=capacity,
            min_notice_minutes=60,
            horizon_days=30,
            reminder_minutes=[1440],
            grace_minutes=10,
            what_to_bring={},
            active=True,
        )
        self.session.add(offer)
        self.session.flush()
        return offer.id

    def appointment(
        self,
        offer_id: int,
        starts_at: datetime,
        status: AppointmentStatus,
        *,
        created_at: datetime,
        minutes: int = 30,
    ) -> None:
        self.count += 1
        self.session.add(
            Appointment(
                id=str(uuid4()),
                reference=f"CP-TEST-{self.count:04d}",
                offer_id=offer_id,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=minutes),
                agent_id=None,
                status=status,
                booked_via=BookedVia.WEB,
                booked_by="web",
                attention_id=str(uuid4()),
                citizen_name="Ciudadana de prueba",
                citizen_document="12345678Z",
                email="citizen@example.org",
                phone=None,
                language="es",
                citizen_ref=f"ref-{self.count}",
                token_hash=uuid4().hex + uuid4().hex,
                token_expires_at=starts_at + timedelta(days=1),
                version=1,
                external_id=None,
                created_at=created_at,
                cancelled_at=created_at if status is AppointmentStatus.CANCELLED else None,
                checked_in_at=None,
                joined_attention_id=None,
                forgotten_at=None,
            )
        )

    def taken(self, offer_id: int, starts_at: datetime, count: int) -> None:
        self.session.add(SlotCount(offer_id=offer_id, starts_at=starts_at, taken=count))


@pytest.fixture
def week_office(database: Database) -> dict[str, int]:
    """An office open 9 to 14 on weekdays (Wednesday a holiday), with two offers.

    *padrón* in person, 30-minute slots of 2 places: Ana works Monday and Tuesday 9 to 14,
    Bea Monday 9 to 11; Tuesday 9 to 10 is blocked for the padrón. So Monday offers 4 slots
    of 2 places and 6 of 1 (14), Tuesday 8 of 1 (8): 22 places on the two days.

    *general* from home, 60-minute slots of 1 place: Carles works Monday 9 to 14 (5 places).
    """
    with database.session() as session:
        seed = Seed(session)
        week = {day: ["09:00-14:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
        site = seed.site({**week, "holidays": ["2026-03-04"]})
        ana = seed.agent(["padron"], site)
        bea = seed.agent(["padron"], site)
        carles = seed.agent(["general"], site)
        for weekday in (0, 1, 2, 3):
            seed.shift(ana, site, weekday, "09:00", "14:00")
        seed.shift(bea, site, 0, "09:00", "11:00")
        seed.shift(carles, site, 0, "09:00", "14:00")
        padron = seed.offer(site, "padron", Channel.IN_PERSON, 30, 2)
        general = seed.offer(site, "general", Channel.HOME_VIDEO, 60, 1)
        session.add_all(
            [
                CalendarBlock(
                    site_id=site.id,
                    service="padron",
                    starts_at=local(TUESDAY, 9),
                    ends_at=local(TUESDAY, 10),
                    reason="Formación",
                    created_by=None,
                    created_at=CREATED,
                ),
                # Another errand's block takes nothing from the padrón.
                CalendarBlock(
                    site_id=site.id,
                    service="general",
                    starts_at=local(TUESDAY, 11),
                    ends_at=local(TUESDAY, 12),
                    reason="Reunión",
                    created_by=None,
                    created_at=CREATED,
                ),
            ]
        )
        monday_9 = local(MONDAY, 9)
        # Booked a day ahead and attended; booked an hour ahead and missed; one cancelled.
        seed.appointment(
            padron, monday_9, AppointmentStatus.DONE, created_at=monday_9 - timedelta(days=1)
        )
        seed.appointment(
            padron, monday_9, AppointmentStatus.NO_SHOW, created_at=monday_9 - timedelta(hours=1)
        )
        seed.appointment(
            padron,
            local(MONDAY, 10),
            AppointmentStatus.CANCELLED,
            created_at=monday_9 - timedelta(days=2),
        )
        tuesday_12 = local(TUESDAY, 12)
        seed.appointment(
            padron, tuesday_12, AppointmentStatus.BOOKED, created_at=tuesday_12 - timedelta(days=1)
        )
        # Just after midnight on Wednesday in Madrid (still Tuesday in UTC): not in the range.
        seed.appointment(
            padron,
            local(date(2026, 3, 4), 0, 30),
            AppointmentStatus.BOOKED,
            created_at=CREATED,
        )
        seed.taken(padron, monday_9, 2)
        seed.taken(padron, local(MONDAY, 10), 0)
        seed.taken(padron, tuesday_12, 1)
        seed.taken(padron, local(date(2026, 3, 5), 9), 1)
        monday_10 = local(MONDAY, 10)
        seed.appointment(
            general,
            monday_10,
            AppointmentStatus.BOOKED,
            created_at=monday_10 - timedelta(days=3),
            minutes=60,
        )
        seed.taken(general, monday_10, 1)
        session.commit()
        return {"padron": padron, "general": general}


def figures_of(database: Database, first: date, last: date) -> AppointmentFigures:
    with database.session() as session:
        return appointment_figures(session, first, last, MADRID)


def by_service(figures: AppointmentFigures) -> dict[str, ServiceFigures]:
    return {line.service: line for line in figures.services}


def test_figures_count_bookings_no_shows_lead_time_and_utilisation(
    database: Database, week_office: dict[str, int]
) -> None:
    figures = figures_of(database, MONDAY, TUESDAY)
    lines = by_service(figures)
    assert set(lines) == {"padron", "general"}

    padron = lines["padron"]
    assert (padron.bookings, padron.cancelled, padron.no_shows) == (3, 1, 1)
    assert padron.lead_time_median_s == 86400.0
    assert padron.lead_time_avg_s == pytest.approx((86400 * 2 + 3600) / 3, abs=0.1)
    assert (padron.places_taken, padron.places_offered) == (3, 22)
    assert padron.utilisation == pytest.approx(3 / 22, abs=1e-4)

    general = lines["general"]
    assert (general.bookings, general.cancelled, general.no_shows) == (1, 0, 0)
    assert general.lead_time_median_s == 3 * 86400.0
    assert (general.places_taken, general.places_offered) == (1, 5)
    assert general.utilisation == pytest.approx(0.2)

    total = figures.total
    assert (total.bookings, total.cancelled, total.no_shows) == (4, 1, 1)
    assert (total.places_taken, total.places_offered) == (4, 27)
    assert total.lead_time_median_s == 86400.0


def test_a_holiday_offers_nothing_and_a_later_day_counts_its_own(
    database: Database, week_office: dict[str, int]
) -> None:
    wednesday = date(2026, 3, 4)
    lines = by_service(figures_of(database, wednesday, wednesday))
    # The holiday offers no place; the appointment just after its midnight still counts.
    assert lines["padron"].places_offered == 0
    assert lines["padron"].utilisation is None
    assert lines["padron"].bookings == 1
    assert lines["general"].places_offered == 0

    thursday = date(2026, 3, 5)
    padron = by_service(figures_of(database, thursday, thursday))["padron"]
    # Ana alone on Thursday: 10 slots of 1 place, one of them taken.
    assert (padron.places_taken, padron.places_offered, padron.bookings) == (1, 10, 0)
    assert padron.lead_time_median_s is None


def test_an_empty_range_has_the_offers_and_nothing_booked(database: Database) -> None:
    figures = figures_of(database, MONDAY, MONDAY)
    assert figures.services == []
    assert figures.total.bookings == 0 and figures.total.utilisation is None


def test_a_range_that_ends_before_it_starts_or_leaves_the_calendar_is_refused(
    database: Database,
) -> None:
    with pytest.raises(ValueError, match="last day on or after the first"):
        figures_of(database, TUESDAY, MONDAY)
    with pytest.raises(ValueError, match="Expected days from"):
        figures_of(database, date.min, date(2000, 1, 1))
    with pytest.raises(ValueError, match="Expected days from"):
        figures_of(database, date(2999, 12, 31), date.max)


def test_figures_hold_no_personal_data(database: Database, week_office: dict[str, int]) -> None:
    text = figures_of(database, MONDAY, TUESDAY).model_dump_json()
    assert "Ciudadana" not in text and "12345678Z" not in text and "example.org" not in text
