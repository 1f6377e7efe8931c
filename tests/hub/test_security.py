"""Passwords, sessions, cabin credentials and the login rate limiter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from hub.db import Database
from hub.models import ApiToken, Cabin, CabinCredential, CabinStatus, Role, Site, User
from hub.ratelimit import RateLimited, RateLimiter
from hub.security import (
    Passwords,
    authenticate_user,
    create_cabin_credential,
    create_session,
    resolve_cabin_token,
    resolve_session,
    revoke_cabin_credentials,
    revoke_session,
    revoke_user_sessions,
    token_digest,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def passwords(fast_hasher: PasswordHasher) -> Passwords:
    return Passwords(fast_hasher)


def add_user(database: Database, passwords: Passwords, *, active: bool = True) -> int:
    with database.transaction() as session:
        user = User(
            username="mgarcia",
            display_name="M. García",
            password_hash=passwords.hash("correct horse battery"),
            role=Role.AGENT,
            active=active,
            languages=[],
            services=[],
            max_calls=1,
            site_id=None,
            created_at=T0,
        )
        session.add(user)
        session.flush()
        return user.id


def test_passwords_are_argon2_and_verify(passwords: Passwords) -> None:
    stored = passwords.hash("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert passwords.verify(stored, "correct horse battery") == (True, None)
    assert passwords.verify(stored, "wrong horse battery") == (False, None)
    assert passwords.verify(None, "correct horse battery") == (False, None)
    assert passwords.verify("not a hash", "correct horse battery") == (False, None)


@pytest.mark.parametrize("password", ["short", "x" * 257])
def test_unreasonable_passwords_are_refused(passwords: Passwords, password: str) -> None:
    with pytest.raises(ValueError, match="Expected a password of 10 to 256 characters"):
        passwords.hash(password)


def test_an_old_hash_is_replaced_on_sign_in(
    database: Database, fast_hasher: PasswordHasher
) -> None:
    weaker = Passwords(PasswordHasher(time_cost=1, memory_cost=4 * 1024, parallelism=1))
    user_id = add_user(database, weaker)
    with database.transaction() as session:
        user = authenticate_user(
            session, Passwords(fast_hasher), "MGarcia", "correct horse battery"
        )
        assert user is not None and user.id == user_id
    with database.session() as session:
        stored = session.get(User, user_id)
        assert stored is not None
        assert "m=8192" in stored.password_hash


def test_wrong_passwords_and_inactive_users_do_not_authenticate(
    database: Database, passwords: Passwords
) -> None:
    add_user(database, passwords, active=False)
    with database.session() as session:
        assert authenticate_user(session, passwords, "mgarcia", "correct horse battery") is None
        assert authenticate_user(session, passwords, "mgarcia", "wrong horse battery") is None
        assert authenticate_user(session, passwords, "nobody", "correct horse battery") is None


def test_sessions_resolve_until_they_expire_or_are_revoked(
    database: Database, passwords: Passwords
) -> None:
    user_id = add_user(database, passwords)
    with database.transaction() as session:
        user = session.get(User, user_id)
        assert user is not None
        token, _ = create_session(session, user, now=T0, lifetime=timedelta(hours=12))
        other, _ = create_session(session, user, now=T0, lifetime=timedelta(hours=12))
    with database.session() as session:
        stored = session.scalars(select(ApiToken.token_hash)).all()
        assert token not in stored and token_digest(token) in stored
        found = resolve_session(session, token, now=T0 + timedelta(hours=11))
        assert found is not None and found.id == user_id
        assert resolve_session(session, token, now=T0 + timedelta(hours=12)) is None
        assert resolve_session(session, "made-up", now=T0) is None
    with database.transaction() as session:
        assert revoke_session(session, token, now=T0)
        assert not revoke_session(session, token, now=T0)
    with database.transaction() as session:
        assert resolve_session(session, token, now=T0) is None
        assert resolve_session(session, other, now=T0) is not None
        revoke_user_sessions(session, user_id, now=T0)
    with database.session() as session:
        assert resolve_session(session, other, now=T0) is None


def test_cabin_tokens_resolve_until_revoked_or_retired(database: Database) -> None:
    with database.transaction() as session:
        site = Site(
            name="s", address="a", timezone="Europe/Madrid", opening_hours={},
            max_concurrent_calls=None, created_at=T0,
        )  # fmt: skip
        session.add(site)
        session.flush()
        cabin = Cabin(
            name="c", site_id=site.id, serial=None, status=CabinStatus.ACTIVE, created_at=T0
        )
        session.add(cabin)
        session.flush()
        token = create_cabin_credential(session, cabin, now=T0)
        cabin_id = cabin.id
    with database.session() as session:
        assert session.scalars(select(CabinCredential.token_hash)).all() == [token_digest(token)]
        found = resolve_cabin_token(session, token)
        assert found is not None and found.id == cabin_id
    with database.transaction() as session:
        retired = session.get(Cabin, cabin_id)
        assert retired is not None
        retired.status = CabinStatus.RETIRED
    with database.transaction() as session:
        assert resolve_cabin_token(session, token) is None
        back = session.get(Cabin, cabin_id)
        assert back is not None
        back.status = CabinStatus.ACTIVE
    with database.transaction() as session:
        assert revoke_cabin_credentials(session, cabin_id, now=T0) == 1
        assert revoke_cabin_credentials(session, cabin_id, now=T0) == 0
    with database.session() as session:
        assert resolve_cabin_token(session, token) is None


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def test_the_rate_limiter_counts_failures_per_user_and_address() -> None:
    clock = Clock()
    limiter = RateLimiter(limit=3, window=timedelta(minutes=10), clock=clock)
    for _ in range(3):
        limiter.check("ana", "10.0.0.1")
        limiter.record("ANA", "10.0.0.1")
        clock.now += timedelta(minutes=1)
    with pytest.raises(RateLimited) as caught:
        limiter.check("ana", "10.0.0.1")
    # The first failure (at T0) leaves the window at T0 + 10 min; it is now T0 + 3 min.
    assert caught.value.retry_after_s == 7 * 60
    assert "try again in 420 s" in str(caught.value)
    limiter.check("ana", "10.0.0.2")
    limiter.check("bob", "10.0.0.1")
    clock.now = T0 + timedelta(minutes=10)
    limiter.check("ana", "10.0.0.1")


def test_a_successful_sign_in_clears_the_count() -> None:
    limiter = RateLimiter(limit=2, window=timedelta(minutes=15), clock=Clock())
    limiter.record("ana", "h")
    limiter.forget("ana", "h")
    limiter.record("ana", "h")
    limiter.check("ana", "h")


def test_the_rate_limiter_stays_within_its_memory_bound() -> None:
    clock = Clock()
    limiter = RateLimiter(limit=1, window=timedelta(minutes=15), clock=clock, max_keys=100)
    for i in range(1000):
        limiter.record(f"user{i}", "h")
        clock.now += timedelta(seconds=1)
    assert len(limiter._events) <= 100
    with pytest.raises(RateLimited):
        limiter.check("user999", "h")
