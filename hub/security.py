"""Passwords, sessions and cabin credentials.

Passwords are argon2 hashes (rehashed on login when the parameters change); session tokens and
cabin tokens are random, handed out once, and stored only as SHA-256 digests, so a copy of the
database lets no one sign in.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hub.models import ApiToken, Cabin, CabinCredential, CabinStatus, TokenKind, User
from hub.models import Role as Role

logger = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
#: Failed sign-ins allowed per username and address in :data:`LOGIN_WINDOW`.
MAX_LOGIN_FAILURES = 5
LOGIN_WINDOW = timedelta(minutes=15)


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
