"""FastAPI dependencies: each of the hub's services, a database session, and who is calling.

Every service is a field of the app's :class:`hub.services.HubServices`; each has one
dependency here (``SettingsDep``, ``LogDep``, ``SwitchboardDep``…), so that no route reads the
app's state.

A person is identified by the ``cabina_session`` cookie or an ``Authorization: Bearer`` token;
a cabin by its own bearer token. Any failure to identify is 401; a known person without the
role an endpoint needs gets 403.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Depends, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import Field
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from contract.clock import Clock
from hub.appointments.service import Appointments
from hub.attention_log import AttentionLog
from hub.db import Database
from hub.directory import DatabaseDirectory
from hub.documents import DocumentStore
from hub.fleet.service import ActionDispatcher, FleetBoard, board_of
from hub.models import Cabin, Role, User
from hub.padron.service import Padron
from hub.ratelimit import RateLimiter
from hub.security import Passwords, has_role, resolve_cabin_token, resolve_session
from hub.services import HubServices, services_of
from hub.settings import HubSettings
from hub.switchboard import Switchboard
from hub.web_visits.service import WebVisits

#: The cookie that carries a browser's session token.
SESSION_COOKIE = "cabina_session"

#: The largest row id the database stores: ids are ``INTEGER`` columns, 32-bit on PostgreSQL.
MAX_ROW_ID = 2**31 - 1

#: The id of a database row, in a path, a query or a body: an id the database cannot hold is
#: refused with 422 before any query is made.
RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]


def get_services(connection: HTTPConnection) -> HubServices:
    """The hub's services, for a request or a WebSocket."""
    return services_of(connection.app)


ServicesDep = Annotated[HubServices, Depends(get_services)]


def get_settings(services: ServicesDep) -> HubSettings:
    """The hub's settings."""
    return services.settings


def get_database(services: ServicesDep) -> Database:
    """The hub's database."""
    return services.database


def get_session(database: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    """A session for reading in this request.

    Routes write in a separate ``database.write_transaction()`` (or ``log.writing()``): on
    SQLite a transaction that has read cannot start writing once another has committed.
    """
    with database.session() as session:
        yield session


def get_log(services: ServicesDep) -> AttentionLog:
    """The attention log."""
    return services.attention_log


def get_clock(services: ServicesDep) -> Clock:
    """The hub's clock."""
    return services.clock


def get_passwords(services: ServicesDep) -> Passwords:
    """The password hasher."""
    return services.passwords


def get_login_limiter(services: ServicesDep) -> RateLimiter:
    """The failed sign-in counter."""
    return services.login_limiter


def get_enrolment_limiter(services: ServicesDep) -> RateLimiter:
    """The counter of cabins asking for an enrolment code."""
    return services.enrolment_limiter


def get_enrolment_code_limiter(services: ServicesDep) -> RateLimiter:
    """The counter of wrong enrolment codes."""
    return services.enrolment_code_limiter


def get_directory(services: ServicesDep) -> DatabaseDirectory:
    """Who is behind a WebSocket credential."""
    return services.directory


def get_switchboard(services: ServicesDep) -> Switchboard:
    """The switchboard: connected cabins and agents, and live calls."""
    return services.switchboard


def get_board(services: ServicesDep) -> FleetBoard:
    """The switchboard, as the fleet asks it about connected cabins."""
    return board_of(services.switchboard)


def get_documents(services: ServicesDep) -> DocumentStore:
    """The documents of live and recently ended calls."""
    return services.documents


def get_fleet_dispatcher(services: ServicesDep) -> ActionDispatcher:
    """What sends queued remote actions to connected cabins."""
    return services.fleet_dispatcher


def get_padron(services: ServicesDep) -> Padron:
    """The padrón service."""
    return services.padron


def get_appointments(services: ServicesDep) -> Appointments:
    """The booking service of appointments."""
    return services.appointments


def get_web_visits(services: ServicesDep) -> WebVisits:
    """Citizens' video visits from home."""
    return services.web_visits


SettingsDep = Annotated[HubSettings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_database)]
SessionDep = Annotated[Session, Depends(get_session)]
LogDep = Annotated[AttentionLog, Depends(get_log)]
ClockDep = Annotated[Clock, Depends(get_clock)]
PasswordsDep = Annotated[Passwords, Depends(get_passwords)]
LoginLimiterDep = Annotated[RateLimiter, Depends(get_login_limiter)]
EnrolmentLimiterDep = Annotated[RateLimiter, Depends(get_enrolment_limiter)]
EnrolmentCodeLimiterDep = Annotated[RateLimiter, Depends(get_enrolment_code_limiter)]
DirectoryDep = Annotated[DatabaseDirectory, Depends(get_directory)]
SwitchboardDep = Annotated[Switchboard, Depends(get_switchboard)]
BoardDep = Annotated[FleetBoard, Depends(get_board)]
DocumentsDep = Annotated[DocumentStore, Depends(get_documents)]
DispatcherDep = Annotated[ActionDispatcher, Depends(get_fleet_dispatcher)]
PadronDep = Annotated[Padron, Depends(get_padron)]
AppointmentsDep = Annotated[Appointments, Depends(get_appointments)]
WebVisitsDep = Annotated[WebVisits, Depends(get_web_visits)]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


def invalid(loc: tuple[str, ...], message: str) -> RequestValidationError:
    """A 422 for a well-formed value the hub cannot accept, naming where it is, like any 422."""
    return RequestValidationError([{"type": "value_error", "loc": loc, "msg": message}])


def _nul_at(value: object, loc: tuple[str, ...]) -> tuple[str, ...] | None:
    """Where in a parsed JSON value a string holds a NUL character, if anywhere."""
    if isinstance(value, str):
        return loc if "\x00" in value else None
    items: Iterable[tuple[object, object]] = ()
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    for key, inner in items:
        for found in (_nul_at(key, loc), _nul_at(inner, (*loc, str(key)))):
            if found is not None:
                return found
    return None


async def refuse_nul_characters(connection: HTTPConnection) -> None:
    """422 for a NUL character in a path or a JSON or form body: no database text holds one."""
    message = "Expected text without NUL characters, but got one"
    for name, value in connection.path_params.items():
        if "\x00" in str(value):
            raise invalid(("path", name), message)
    if not isinstance(connection, Request):
        return  # a WebSocket: its messages are parsed by the contract
    request = connection
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "application/x-www-form-urlencoded":
        form = parse_qsl((await request.body()).decode("latin-1"), keep_blank_values=True)
        for name, value in form:
            if "\x00" in name + value:
                raise invalid(("body", name), message)
    elif media == "application/json":
        body = await request.body()
        if b"\\u0000" in body:  # the only way JSON text carries a NUL
            try:
                parsed = json.loads(body)
            except ValueError:
                return  # the route answers malformed JSON itself
            where = _nul_at(parsed, ("body",))
            if where is not None:
                raise invalid(where, message)


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


class RoleGuard:
    """A dependency that lets through only people with one of ``roles`` (403 otherwise)."""

    def __init__(self, roles: frozenset[Role]) -> None:
        self.roles = roles
        self.names = " or ".join(sorted(role.value for role in roles))

    def __call__(self, user: CurrentUser) -> User:
        if not has_role(user, self.roles):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"Expected the role {self.names}, but you are {user.role.value}",
            )
        return user


def require_role(*roles: Role) -> RoleGuard:
    """A dependency that lets through only people with one of ``roles`` (403 otherwise)."""
    return RoleGuard(frozenset(roles))


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
