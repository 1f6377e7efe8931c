"""Benchmark: appointment availability for a month, and citizens racing for 100 places.

1. **Availability**: one office (weekday mornings, Thursday afternoons, Europe/Madrid), one
   errand with 15-minute slots, 50 agents with the skill on weekday shifts and 500 bookings
   already made; the booking service is asked for a month's free slots again and again (what
   ``GET /api/appointments/offers/{id}/availability`` does, without HTTP). Latency p50/p95.
2. **Booking race**, on PostgreSQL: 100 places (10 slots × 10 places, 10 agents) and 1,000
   booking attempts from 32 threads at once, each for a random one of the 10 slots. Bookings
   per second (attempts answered, won or refused, over the wall time), latency p50/p95 of an
   attempt, and the double bookings counted afterwards in the database: places taken beyond a
   slot's capacity, and an agent booked twice at one time. The target is 0.

Without ``--postgres-url`` a throwaway PostgreSQL 15 cluster is started (as the ``postgres``
user) and removed at the end; the availability part runs on SQLite and on PostgreSQL.

Prints one JSON object as its last line.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, text  # noqa: E402

from contract.appointments import BookedVia, BookingRequest, Channel  # noqa: E402
from hub.appointments.models import AgentShift, Appointment, AppointmentOffer  # noqa: E402
from hub.appointments.service import AppointmentRefused, Appointments  # noqa: E402
from hub.attention_log import AttentionLog  # noqa: E402
from hub.db import Database  # noqa: E402
from hub.models import Role, Service, Site, User  # noqa: E402

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SECRET = "bench-appointments-secret-key-0123456789abcdef"
MADRID = ZoneInfo("Europe/Madrid")
NOW = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # Monday 08:00 in Madrid
HOURS = {
    "mon": ["08:30-14:30"],
    "tue": ["08:30-14:30"],
    "wed": ["08:30-14:30"],
    "thu": ["08:30-14:30", "16:00-19:00"],
    "fri": ["08:30-14:30"],
    "holidays": ["2026-03-19"],
}


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A PostgreSQL 15 cluster on a loopback port, run as ``postgres``; its URL."""
    root = Path(tempfile.mkdtemp(prefix="cabina-bench-pg-"))
    shutil.chown(root, "postgres", "postgres")
    port = _free_port()
    data = root / "data"

    def as_postgres(*command: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True, cwd=root
        )

    as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")  # fmt: skip
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=200"
    as_postgres(str(PG_BIN / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(data),
                "-l", str(root / "server.log"), "-o", options)  # fmt: skip
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        as_postgres(str(PG_BIN / "pg_ctl"), "stop", "-m", "immediate", "-D", str(data))
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url


def _fresh(url: str) -> Database:
    """A migrated, empty database at ``url`` (a PostgreSQL one is emptied first)."""
    database = Database(url)
    if database.dialect == "postgresql":
        with database.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    database.upgrade()
    return database


def seed(
    database: Database, *, agents: int, slot_minutes: int, capacity: int
) -> tuple[int, list[int]]:
    """An office, ``agents`` skilled agents on weekday shifts and one offer; its id and agents."""
    with database.transaction() as session:
        site = Site(
            name="Oficina",
            address="Plaza 1",
            timezone="Europe/Madrid",
            opening_hours=HOURS,
            max_concurrent_calls=None,
            created_at=NOW,
        )
        session.add(site)
        session.add(Service(code="padron", names={"es": "Padrón"}, active=True))
        session.flush()
        ids = []
        for number in range(agents):
            user = User(
                username=f"agent{number}",
                display_name=f"Agent {number}",
                password_hash="x",
                role=Role.AGENT,
                active=True,
                languages=["es"],
                services=["padron"],
                max_calls=1,
                site_id=site.id,
                created_at=NOW,
            )
            session.add(user)
            session.flush()
            ids.append(user.id)
            for weekday in range(5):
                for start, end in ((8 * 60 + 30, 14 * 60 + 30), (16 * 60, 19 * 60)):
                    session.add(
                        AgentShift(
                            user_id=user.id, site_id=site.id, weekday=weekday,
                            start_minute=start, end_minute=end, valid_from=date(2026, 1, 1),
                            valid_until=None, created_at=NOW,
                        )
                    )  # fmt: skip
        offer = AppointmentOffer(
            site_id=site.id,
            service="padron",
            channel=Channel.IN_PERSON,
            slot_minutes=slot_minutes,
            capacity=capacity,
            min_notice_minutes=0,
            horizon_days=90,
            reminder_minutes=[1440, 15],
            grace_minutes=10,
            what_to_bring={},
            active=True,
        )
        session.add(offer)
        session.flush()
        return offer.id, ids


def _request(offer_id: int, starts_at: datetime, number: int) -> BookingRequest:
    letters = "TRWAGMYFPDXBNJZSQVHLCKE"
    dni = f"{number % 10**8:08d}"
    return BookingRequest.model_validate(
        {
            "offer_id": offer_id,
            "starts_at": starts_at,
            "citizen": {
                "name": "Bench Citizen",
                "document": dni + letters[int(dni) % 23],
                "email": f"c{number}@example.org",
            },
            "consent": True,
        }
    )


def bench_availability(url: str, rounds: int) -> dict[str, Any]:
    """A month of availability, 50 agents, 500 bookings made."""
    database = _fresh(url)
    try:
        offer_id, _ = seed(database, agents=50, slot_minutes=15, capacity=50)
        clock = lambda: NOW  # noqa: E731
        service = Appointments(
            database, AttentionLog(database, clock=clock), secret_key=SECRET,
            public_url="https://x", clock=clock,
        )  # fmt: skip
        first, last = date(2026, 3, 2), date(2026, 3, 31)
        month = service.availability(offer_id, first, last)
        starts = [slot.starts_at for day in month.days for slot in day.slots]
        chooser = random.Random(7)
        for number in range(500):
            service.book(
                _request(offer_id, chooser.choice(starts), number), via=BookedVia.WEB, actor="hub"
            )
        service.availability(offer_id, first, last)  # warm
        latencies = []
        for _ in range(rounds):
            began = time.perf_counter()
            found = service.availability(offer_id, first, last)
            latencies.append((time.perf_counter() - began) * 1000)
        slots = sum(len(day.slots) for day in found.days)
    finally:
        database.dispose()
    return {
        "p50_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(_percentile(latencies, 0.95), 2),
        "slots": slots,
        "rounds": rounds,
    }


def bench_race(url: str, attempts: int, threads: int) -> dict[str, Any]:
    """``attempts`` bookings from ``threads`` threads for 10 slots × 10 places."""
    database = _fresh(url)
    try:
        offer_id, _ = seed(database, agents=10, slot_minutes=30, capacity=10)
        clock = lambda: NOW  # noqa: E731
        service = Appointments(
            database, AttentionLog(database, clock=clock), secret_key=SECRET,
            public_url="https://x", clock=clock,
        )  # fmt: skip
        day = service.availability(offer_id, date(2026, 3, 3), date(2026, 3, 3)).days[0]
        starts = [slot.starts_at for slot in day.slots[:10]]
        capacity = sum(slot.free for slot in day.slots[:10])
        chooser = random.Random(11)
        plan = [(_request(offer_id, chooser.choice(starts), n), n) for n in range(attempts)]
        ready = threading.Barrier(threads)
        latencies: list[float] = []
        outcomes: dict[str, int] = {}
        lock = threading.Lock()

        def worker(index: int) -> None:
            ready.wait()
            for request, _ in plan[index::threads]:
                began = time.perf_counter()
                try:
                    service.book(request, via=BookedVia.WEB, actor="hub")
                    outcome = "booked"
                except AppointmentRefused as exc:
                    outcome = exc.code
                spent = (time.perf_counter() - began) * 1000
                with lock:
                    latencies.append(spent)
                    outcomes[outcome] = outcomes.get(outcome, 0) + 1

        began = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(worker, range(threads)))
        wall = time.perf_counter() - began
        with database.session() as session:
            live = session.execute(
                select(Appointment.starts_at, func.count())
                .where(Appointment.status == "booked")
                .group_by(Appointment.starts_at)
            ).all()
            over_capacity = sum(max(0, count - 10) for _, count in live)
            twice = session.execute(
                select(Appointment.agent_id, Appointment.starts_at, func.count())
                .where(Appointment.status == "booked")
                .group_by(Appointment.agent_id, Appointment.starts_at)
                .having(func.count() > 1)
            ).all()
            booked = sum(count for _, count in live)
    finally:
        database.dispose()
    return {
        "attempts": attempts,
        "threads": threads,
        "places": capacity,
        "booked": booked,
        "outcomes": outcomes,
        "attempts_per_s": round(attempts / wall, 1),
        "bookings_per_s": round(booked / wall, 1),
        "p50_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(_percentile(latencies, 0.95), 2),
        "double_bookings": over_capacity + len(twice),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer rounds and attempts")
    parser.add_argument("--postgres-url", help="an empty PostgreSQL database to use (emptied)")
    args = parser.parse_args(argv)
    rounds, attempts = (20, 300) if args.quick else (100, 1000)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        results["availability_sqlite"] = bench_availability(f"sqlite:///{folder}/a.db", rounds)
    with _given(args.postgres_url) if args.postgres_url else throwaway_postgres() as url:
        results["availability_postgresql"] = bench_availability(url, rounds)
        results["race_postgresql"] = bench_race(url, attempts, threads=32)
    flat = {
        "availability_p95_ms": results["availability_sqlite"]["p95_ms"],
        "availability_pg_p95_ms": results["availability_postgresql"]["p95_ms"],
        "bookings_per_s": results["race_postgresql"]["bookings_per_s"],
        "attempts_per_s": results["race_postgresql"]["attempts_per_s"],
        "booking_p95_ms": results["race_postgresql"]["p95_ms"],
        "double_bookings": results["race_postgresql"]["double_bookings"],
    }
    print(json.dumps(results, indent=2), file=sys.stderr)
    print(json.dumps(flat))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
