"""FastAPI dependencies: the database session, the log, the clock, and who is calling.

A person is identified by the ``cabina_session`` cookie or an ``Authorization: Bearer`` token;
a cabin by its own bearer token. Any failure to identify is 401; a known person without the
role an endpoint needs gets 403.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.orm import Session

from hub.attention_log import AttentionLog
from hub.db import Database
from hub.events import Clock
from hub.models import Cabin, Role, User
from hub.security import LoginRateLimiter, Passwords, has_role, resolve_cabin_token, resolve_session
from hub.settings import HubSettings

#: The cookie that carries a browser's session token.
SESSION_COOKIE = "cabina_session"


def get_settings(request: Request) -> HubSettings:
    """The hub's settings."""
    settings: HubSettings = request.app.state.settings
    return settings


def get_database(request: Request) -> Database:
    """The hub's database."""
    database: Database = request.app.state.database
    return database


def get_session(request: Request) -> Iterator[Session]:
    """A session for reading in this request.

    Routes write in a separate ``database.write_transaction()`` (or ``log.writing()``): on
    SQLite a transaction that has read cannot start writing once another has committed.
    """
    with get_database(request).session() as session:
        yield session


def get_log(request: Request) -> AttentionLog:
    """The attention log."""
    log: AttentionLog = request.app.state.attention_log
    return log


def get_clock(request: Request) -> Clock:
    """The hub's clock."""
    clock: Clock = request.app.state.clock
    return clock


def get_passwords(request: Request) -> Passwords:
    """The password hasher."""
    passwords: Passwords = request.app.state.passwords
    return passwords


def get_login_limiter(request: Request) -> LoginRateLimiter:
    """The failed-login counter."""
    limiter: LoginRateLimiter = request.app.state.login_limiter
    return limiter


SettingsDep = Annotated[HubSettings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]
SessionDep = Annotated[Session, Depends(get_session)]
LogDep = Annotated[AttentionLog, Depends(get_log)]
ClockDep = Annotated[Clock, Depends(get_clock)]
PasswordsDep = Annotated[Passwords, Depends(get_passwords)]
LimiterDep = Annotated[LoginRateLimiter, Depends(get_login_limiter)]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer`` header, if there is one."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("Expected 'Authorization: Bearer <token>', but got another scheme")
    return token.strip()


def presented_token(request: Request) -> str | None:
    """The token a person's request carries: the bearer header first, then the cookie."""
    return bearer_token(request) or request.cookies.get(SESSION_COOKIE)


def now(clock: ClockDep) -> datetime:
    """The current time by the hub's clock."""
    return clock()


NowDep = Annotated[datetime, Depends(now)]


def current_user(request: Request, session: SessionDep, at: NowDep) -> User:
    """The signed-in person, or 401."""
    token = presented_token(request)
    if token is None:
        raise _unauthorized("Expected a session cookie or a bearer token, but got neither")
    user = resolve_session(session, token, now=at)
    if user is None:
        raise _unauthorized("Expected a valid session, but it is unknown, expired or revoked")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require_role(*roles: Role) -> Callable[[User], User]:
    """A dependency that lets through only people with one of ``roles`` (403 otherwise)."""
    allowed = frozenset(roles)
    names = " or ".join(sorted(role.value for role in allowed))

    def dependency(user: CurrentUser) -> User:
        if not has_role(user, allowed):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"Expected the role {names}, but you are {user.role.value}",
            )
        return user

    return dependency


AdminUser = Annotated[User, Depends(require_role(Role.ADMIN))]
SupervisorUser = Annotated[User, Depends(require_role(Role.SUPERVISOR, Role.ADMIN))]
StaffUser = Annotated[User, Depends(require_role(Role.ADMIN, Role.SUPERVISOR, Role.TECHNICIAN))]


def current_cabin(request: Request, session: SessionDep) -> Cabin:
    """The cabin whose bearer token the request carries, or 401."""
    token = bearer_token(request)
    if token is None:
        raise _unauthorized("Expected a cabin's bearer token, but got none")
    cabin = resolve_cabin_token(session, token)
    if cabin is None:
        raise _unauthorized("Expected a valid cabin token, but it is unknown or revoked")
    return cabin


CurrentCabin = Annotated[Cabin, Depends(current_cabin)]


def user_or_cabin(request: Request, session: SessionDep, at: NowDep) -> User | Cabin:
    """A signed-in person or a cabin, or 401."""
    token = presented_token(request)
    if token is None:
        raise _unauthorized("Expected a session cookie or a bearer token, but got neither")
    principal: User | Cabin | None = resolve_session(session, token, now=at)
    if principal is None:
        principal = resolve_cabin_token(session, token)
    if principal is None:
        raise _unauthorized("Expected a valid session or cabin token, but got neither")
    return principal


UserOrCabin = Annotated[User | Cabin, Depends(user_or_cabin)]
