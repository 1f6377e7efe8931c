"""Passwords, sessions, cabin credentials and login rate limiting.

Passwords are argon2 hashes (rehashed on login when the parameters change); session tokens and
cabin tokens are random, handed out once, and stored only as SHA-256 digests, so a copy of the
database lets no one sign in.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections import deque
from collections.abc import Iterable
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hub.events import Clock, utc_now
from hub.models import ApiToken, Cabin, CabinCredential, CabinStatus, TokenKind, User
from hub.models import Role as Role

logger = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256


def new_token() -> str:
    """A new random token: 32 bytes, URL-safe."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """The SHA-256 digest under which a token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


class Passwords:
    """argon2 hashing of staff passwords."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher()
        # Verifying against this when the user does not exist takes as long as a real check,
        # so response times do not tell which usernames exist.
        self._decoy = self.hasher.hash(new_token())

    def hash(self, password: str) -> str:
        """A hash to store for ``password``."""
        check_password(password)
        return self.hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> tuple[bool, str | None]:
        """Whether ``password`` matches, and a new hash to store if the parameters changed."""
        try:
            self.hasher.verify(stored_hash or self._decoy, password)
        except VerifyMismatchError:
            return False, None
        except (VerificationError, InvalidHashError):
            logger.warning("a stored password hash is not a valid argon2 hash")
            return False, None
        if stored_hash is None:
            return False, None
        if self.hasher.check_needs_rehash(stored_hash):
            return True, self.hasher.hash(password)
        return True, None


def check_password(password: str) -> None:
    """Refuse passwords that are too short or absurdly long."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise ValueError(
            f"Expected a password of {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters, "
            f"but got {len(password)}"
        )


def has_role(user: User, roles: Iterable[Role]) -> bool:
    """Whether ``user`` has one of ``roles``."""
    return user.role in set(roles)


def authenticate_user(
    session: Session, passwords: Passwords, username: str, password: str
) -> User | None:
    """The active user with this username and password, or ``None``."""
    user = session.scalars(select(User).where(User.username == username.lower())).one_or_none()
    ok, new_hash = passwords.verify(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        return None
    if new_hash is not None:
        user.password_hash = new_hash
    return user


def create_session(
    session: Session,
    user: User,
    *,
    now: datetime,
    lifetime: timedelta,
    kind: TokenKind = TokenKind.SESSION,
) -> tuple[str, ApiToken]:
    """A new token for ``user``; the token itself is returned once and never stored."""
    token = new_token()
    row = ApiToken(
        token_hash=token_digest(token),
        user_id=user.id,
        kind=kind,
        created_at=now,
        expires_at=now + lifetime,
        revoked_at=None,
    )
    session.add(row)
    return token, row


def resolve_session(session: Session, token: str, *, now: datetime) -> User | None:
    """The active user a live, unrevoked token belongs to, or ``None``."""
    row = session.scalars(
        select(ApiToken).where(ApiToken.token_hash == token_digest(token))
    ).one_or_none()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.active else None


def revoke_session(session: Session, token: str, *, now: datetime) -> bool:
    """Revoke one token; whether it was live."""
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.token_hash == token_digest(token), ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


def revoke_user_sessions(session: Session, user_id: int, *, now: datetime) -> None:
    """Revoke every token of a user (deactivated, or password changed)."""
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def create_cabin_credential(session: Session, cabin: Cabin, *, now: datetime) -> str:
    """A new secret token for ``cabin``; shown once, stored as a digest."""
    token = new_token()
    session.add(
        CabinCredential(
            cabin_id=cabin.id, token_hash=token_digest(token), created_at=now, revoked_at=None
        )
    )
    return token


def resolve_cabin_token(session: Session, token: str) -> Cabin | None:
    """The cabin an unrevoked token belongs to, unless the cabin is retired."""
    row = session.scalars(
        select(CabinCredential).where(CabinCredential.token_hash == token_digest(token))
    ).one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    cabin = session.get(Cabin, row.cabin_id)
    return cabin if cabin is not None and cabin.status is not CabinStatus.RETIRED else None


def revoke_cabin_credentials(session: Session, cabin_id: int, *, now: datetime) -> int:
    """Revoke every live credential of a cabin; how many there were."""
    result = session.execute(
        update(CabinCredential)
        .where(CabinCredential.cabin_id == cabin_id, CabinCredential.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0))


class RateLimited(Exception):
    """Too many failed logins for this username from this address."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"Too many failed sign-ins; try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


class LoginRateLimiter:
    """Counts failed logins per (username, client address) in a sliding window, in memory.

    Each hub replica counts on its own: behind a load balancer an attacker gets at most
    ``max_failures`` tries per replica per window.
    """

    def __init__(
        self,
        *,
        max_failures: int = 5,
        window: timedelta = timedelta(minutes=15),
        clock: Clock = utc_now,
        max_keys: int = 10_000,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.clock = clock
        self.max_keys = max_keys
        self._failures: dict[tuple[str, str], deque[datetime]] = {}

    def _recent(self, key: tuple[str, str], now: datetime) -> deque[datetime]:
        failures = self._failures.get(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def check(self, username: str, client: str) -> None:
        """Raise :class:`RateLimited` if this pair has used up its attempts."""
        now = self.clock()
        key = (username.lower(), client)
        failures = self._recent(key, now)
        if not failures:
            self._failures.pop(key, None)
        if len(failures) >= self.max_failures:
            wait = failures[0] + self.window - now
            raise RateLimited(max(1, int(wait.total_seconds() + 0.999)))

    def failed(self, username: str, client: str) -> None:
        """Count a failed attempt."""
        now = self.clock()
        key = (username.lower(), client)
        failures = self._failures.get(key)
        if failures is None:
            if len(self._failures) >= self.max_keys:
                self._prune(now)
            failures = self._failures[key] = deque()
        self._recent(key, now).append(now)

    def succeeded(self, username: str, client: str) -> None:
        """Forget the failures of a pair that has just signed in."""
        self._failures.pop((username.lower(), client), None)

    def _prune(self, now: datetime) -> None:
        for key in list(self._failures):
            if not self._recent(key, now):
                del self._failures[key]
        while len(self._failures) >= self.max_keys:
            # Still full of live entries: forget the oldest pair rather than grow without end.
            oldest = min(self._failures, key=lambda k: self._failures[k][-1])
            del self._failures[oldest]
