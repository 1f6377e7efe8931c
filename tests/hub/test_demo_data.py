"""The demo office: complete, usable, and the same however many times it is seeded."""

from __future__ import annotations

from datetime import UTC, datetime

from argon2 import PasswordHasher
from sqlalchemy import func, select

from hub.attention_log import AttentionLog
from hub.db import Database
from hub.demo_data import ACCOUNTS, DEMO_CABIN_TOKEN, OPENING_HOURS, seed_demo
from hub.models import Base, CabinCredential, Role, Site, Topic
from hub.security import Passwords, authenticate_user, resolve_cabin_token

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def counts(database: Database) -> dict[str, int]:
    with database.session() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


def test_seeding_twice_changes_nothing(database: Database, fast_hasher: PasswordHasher) -> None:
    log = AttentionLog(database)
    passwords = Passwords(fast_hasher)
    first = seed_demo(log, passwords, now=NOW)
    before = counts(database)
    assert seed_demo(log, passwords, now=NOW) == first
    assert counts(database) == before
    assert before["users"] == 6
    assert before["services"] == 3
    assert before["cabins"] == 1
    assert log.verify().ok


def test_every_role_can_sign_in_and_the_cabin_token_works(
    database: Database, fast_hasher: PasswordHasher
) -> None:
    passwords = Passwords(fast_hasher)
    seed = seed_demo(AttentionLog(database), passwords, now=NOW)
    assert {account.role for account in ACCOUNTS} == set(Role)
    assert sum(account.role is Role.AGENT for account in ACCOUNTS) == 3
    with database.session() as session:
        for account in ACCOUNTS:
            user = authenticate_user(session, passwords, account.username, account.password)
            assert user is not None and user.role is account.role
        cabin = resolve_cabin_token(session, DEMO_CABIN_TOKEN)
        assert cabin is not None and cabin.id == seed.cabin_id
        site = session.get(Site, seed.site_id)
        assert site is not None and site.opening_hours == OPENING_HOURS
        assert session.scalar(select(func.count()).select_from(Topic)) == 7


def test_seeding_restores_a_revoked_demo_token(
    database: Database, fast_hasher: PasswordHasher
) -> None:
    log = AttentionLog(database)
    seed_demo(log, Passwords(fast_hasher), now=NOW)
    with database.transaction() as session:
        for credential in session.scalars(select(CabinCredential)):
            credential.revoked_at = NOW
    with database.session() as session:
        assert resolve_cabin_token(session, DEMO_CABIN_TOKEN) is None
    seed_demo(log, Passwords(fast_hasher), now=NOW)
    with database.session() as session:
        assert resolve_cabin_token(session, DEMO_CABIN_TOKEN) is not None


def test_the_demo_opening_hours_are_valid() -> None:
    from hub.schedule import OpeningHours

    hours = OpeningHours.parse(OPENING_HOURS, "Europe/Madrid")
    thursday_evening = datetime(2026, 3, 5, 17, 0, tzinfo=UTC)  # 18:00 in Barcelona
    assert hours.is_open(thursday_evening)
    assert not hours.is_open(datetime(2026, 12, 25, 10, 0, tzinfo=UTC))
