"""Staff accounts: admins create, change and deactivate them."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated
from uuid import uuid4

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from contract.events import CODE_PATTERN, EventKind, NewEvent, actor_for_user
from contract.languages import CITIZEN_LANGUAGES
from hub.attention_log import AttentionLog
from hub.audit import audit_in
from hub.deps import (
    AdminUser,
    ClockDep,
    LogDep,
    PasswordsDep,
    RowId,
    SessionDep,
    invalid,
)
from hub.models import Role, Site, User
from hub.refusals import refused
from hub.security import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, revoke_user_sessions

logger = logging.getLogger(__name__)


Username = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{1,63}$", examples=["mgarcia"])]
DisplayName = Annotated[str, Field(min_length=1, max_length=200)]
Password = Annotated[str, Field(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH)]
ServiceCode = Annotated[str, Field(pattern=CODE_PATTERN)]
MaxCalls = Annotated[int, Field(ge=1, le=10)]


def _known_languages(languages: list[str]) -> list[str]:
    for language in languages:
        if language not in CITIZEN_LANGUAGES:
            raise ValueError(f"Expected languages among {CITIZEN_LANGUAGES}, but got {language!r}")
    return sorted(set(languages), key=CITIZEN_LANGUAGES.index)


class UserOut(BaseModel):
    """A staff account as the API shows it (never its password hash)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    display_name: str
    role: Role
    active: bool
    languages: list[str]
    services: list[str]
    max_calls: int
    site_id: int | None
    created_at: datetime


class UserCreate(BaseModel):
    """A new staff account."""

    model_config = ConfigDict(extra="forbid")

    username: Username
    display_name: DisplayName
    password: Password
    role: Role
    languages: list[str] = Field(default_factory=list)
    services: list[ServiceCode] = Field(default_factory=list)
    max_calls: MaxCalls = 1
    site_id: RowId | None = None

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        return _known_languages(value)


class UserUpdate(BaseModel):
    """Changes to a staff account; fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    display_name: DisplayName | None = None
    password: Password | None = None
    role: Role | None = None
    active: bool | None = None
    languages: list[str] | None = None
    services: list[ServiceCode] | None = None
    max_calls: MaxCalls | None = None
    site_id: RowId | None = None

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _known_languages(value)


def _check_site(session: Session, site_id: int | None) -> None:
    if site_id is not None and session.get(Site, site_id) is None:
        raise invalid(
            ("body", "site_id"), f"Expected site_id of an existing site, but got {site_id}"
        )


def _get(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"No user {user_id}")
    return user


def _keep_an_admin(session: Session, user_id: int) -> None:
    others = session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN, User.active.is_(True), User.id != user_id)
    )
    if not others:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail="Expected another active admin to remain, but this is the last one",
        )


def create_user(
    log: AttentionLog,
    *,
    username: str,
    display_name: str,
    password_hash: str,
    role: Role,
    now: datetime,
    actor: str,
    languages: list[str] | None = None,
    services: list[str] | None = None,
    max_calls: int = 1,
    site_id: int | None = None,
) -> User | None:
    """Create an account and its audit event together; ``None`` if the username is taken."""
    with log.writing() as session:
        if session.scalars(select(User).where(User.username == username)).first() is not None:
            return None
        user = User(
            username=username,
            display_name=display_name,
            password_hash=password_hash,
            role=role,
            active=True,
            languages=languages or [],
            services=services or [],
            max_calls=max_calls,
            site_id=site_id,
            created_at=now,
        )
        session.add(user)
        session.flush()
        log.append_in(
            session,
            NewEvent(
                event_id=str(uuid4()),
                kind=EventKind.AUDIT_USER_CREATED,
                actor=actor,
                occurred_at=now,
                data={"user_id": user.id, "role": role.value},
            ),
        )
    logger.info("user %d created with role %s", user.id, role.value)
    return user


def build_router() -> APIRouter:
    """The staff accounts, for admins."""
    router = APIRouter(prefix="/api/users", tags=["users"])

    @router.get("")
    def list_users(session: SessionDep, _admin: AdminUser) -> list[UserOut]:
        """Every staff account."""
        users = session.scalars(select(User).order_by(User.username))
        return [UserOut.model_validate(user) for user in users]

    @router.post("", status_code=status.HTTP_201_CREATED, responses=refused(409))
    def add_user(
        body: UserCreate,
        session: SessionDep,
        admin: AdminUser,
        log: LogDep,
        passwords: PasswordsDep,
        clock: ClockDep,
    ) -> UserOut:
        """Create a staff account."""
        _check_site(session, body.site_id)
        user = create_user(
            log,
            username=body.username,
            display_name=body.display_name,
            password_hash=passwords.hash(body.password),
            role=body.role,
            now=clock(),
            actor=actor_for_user(admin.id),
            languages=body.languages,
            services=body.services,
            max_calls=body.max_calls,
            site_id=body.site_id,
        )
        if user is None:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                detail=f"Expected a new username, but {body.username!r} exists",
            )
        return UserOut.model_validate(user)

    @router.get("/{user_id}")
    def get_user(user_id: RowId, session: SessionDep, _admin: AdminUser) -> UserOut:
        """One staff account."""
        return UserOut.model_validate(_get(session, user_id))

    @router.patch("/{user_id}", responses=refused(409))
    def update_user(
        user_id: RowId,
        body: UserUpdate,
        log: LogDep,
        admin: AdminUser,
        passwords: PasswordsDep,
        clock: ClockDep,
    ) -> UserOut:
        """Change a staff account; deactivating it or changing its password signs it out."""
        changes = body.model_dump(exclude_unset=True)
        for field in ("display_name", "role", "active", "languages", "services", "max_calls"):
            if field in changes and changes[field] is None:
                raise invalid(("body", field), f"Expected a value for {field}")
        new_hash = passwords.hash(body.password) if body.password is not None else None
        now = clock()
        with log.writing() as session:
            user = _get(session, user_id)
            if "site_id" in changes:
                _check_site(session, body.site_id)
            losing_admin = user.role is Role.ADMIN and (
                changes.get("role", Role.ADMIN) is not Role.ADMIN or changes.get("active") is False
            )
            if losing_admin:
                _keep_an_admin(session, user.id)
            for field, value in changes.items():
                if field != "password":
                    setattr(user, field, value)
            if new_hash is not None:
                user.password_hash = new_hash
            if new_hash is not None or changes.get("active") is False:
                revoke_user_sessions(session, user.id, now=now)
            # The fields changed, never their values: a password, a name.
            audit_in(
                log,
                session,
                EventKind.AUDIT_USER_CHANGED,
                actor=actor_for_user(admin.id),
                now=now,
                data={"user_id": user.id, "fields": sorted(changes)},
            )
        logger.info("user %d changed by user %d: %s", user.id, admin.id, sorted(changes))
        return UserOut.model_validate(user)

    @router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT, responses=refused(409))
    def deactivate_user(user_id: RowId, log: LogDep, admin: AdminUser, clock: ClockDep) -> None:
        """Deactivate an account (it stays, as attentions refer to it) and sign it out."""
        now = clock()
        with log.writing() as session:
            user = _get(session, user_id)
            if user.role is Role.ADMIN:
                _keep_an_admin(session, user.id)
            user.active = False
            revoke_user_sessions(session, user.id, now=now)
            audit_in(
                log,
                session,
                EventKind.AUDIT_USER_CHANGED,
                actor=actor_for_user(admin.id),
                now=now,
                data={"user_id": user.id, "fields": ["active"]},
            )
        logger.info("user %d deactivated by user %d", user_id, admin.id)

    return router
