"""Signing in and out: a session cookie for the console, the same token as a bearer for API use."""

from __future__ import annotations

import functools
import json
import logging
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from uuid import uuid4

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import select, update

from contract.clock import Clock
from contract.events import EventKind, NewEvent, actor_for_user
from hub.attention_log import AttentionLog
from hub.db import Database
from hub.deps import (
    SESSION_COOKIE,
    ClockDep,
    CurrentUser,
    DatabaseDep,
    LogDep,
    LoginLimiterDep,
    PasswordsDep,
    SettingsDep,
    presented_token,
)
from hub.models import User
from hub.ratelimit import RateLimited, RateLimiter
from hub.routes.users import UserOut
from hub.security import (
    Passwords,
    authenticate_user,
    create_session,
    revoke_session,
)
from hub.settings import HubSettings

logger = logging.getLogger(__name__)


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class LoginIn(BaseModel):
    """A username and password, as JSON or as an HTML form."""

    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


class LoginOut(BaseModel):
    """A new session: also set as the ``cabina_session`` cookie."""

    token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth 2 token type, not a secret
    expires_at: datetime
    user: UserOut


async def _read_credentials(request: Request) -> LoginIn:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw: Any
    if content_type in _FORM_TYPES:
        form = await request.form()
        raw = {key: value for key, value in form.items() if isinstance(value, str)}
    else:
        body = await request.body()
        try:
            raw = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise RequestValidationError(
                [{"type": "json_invalid", "loc": ("body",), "msg": f"JSON decode error: {exc}"}]
            ) from exc
    try:
        return LoginIn.model_validate(raw)
    except ValidationError as exc:
        errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        raise RequestValidationError(errors) from exc


def _audit(
    log: AttentionLog, kind: EventKind, actor: str, at: datetime, data: dict[str, Any]
) -> None:
    event = NewEvent(event_id=str(uuid4()), kind=kind, actor=actor, occurred_at=at, data=data)
    log.append(event)


def _sign_in(
    credentials: LoginIn,
    client: str,
    *,
    limiter: RateLimiter,
    database: Database,
    passwords: Passwords,
    log: AttentionLog,
    clock: Clock,
    settings: HubSettings,
) -> tuple[str, datetime, User]:
    username = credentials.username.lower()
    try:
        limiter.check(username, client)
    except RateLimited as exc:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            detail=str(exc),
            headers={"Retry-After": str(exc.retry_after_s)},
        ) from exc
    # The password check is slow on purpose: do it outside the log's write transaction.
    with database.session() as session:
        known = session.scalar(select(User.id).where(User.username == username))
        user = authenticate_user(session, passwords, username, credentials.password)
        # A new hash (parameters changed) is written below, with the session: this session
        # only reads, and is closed without flushing.
        rehashed = user.password_hash if user is not None and session.is_modified(user) else None
    now = clock()
    if user is None:
        limiter.record(username, client)
        data: dict[str, Any] = {"user_id": known} if known is not None else {"unknown_user": True}
        _audit(log, EventKind.AUDIT_LOGIN_FAILED, "hub", now, data)
        logger.info("failed sign-in (%s)", "known user" if known else "unknown user")
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="Expected a valid username and password, but they do not match",
            headers={"WWW-Authenticate": "Bearer"},
        )
    limiter.forget(username, client)
    with log.writing() as session:
        if rehashed is not None:
            session.execute(update(User).where(User.id == user.id).values(password_hash=rehashed))
        token, row = create_session(
            session, user, now=now, lifetime=timedelta(hours=settings.session_hours)
        )
        log.append_in(
            session,
            NewEvent(
                event_id=str(uuid4()),
                kind=EventKind.AUDIT_LOGIN,
                actor=actor_for_user(user.id),
                occurred_at=now,
                data={"session_kind": row.kind.value},
            ),
        )
    logger.info("user %d signed in", user.id)
    return token, row.expires_at, user


def build_router() -> APIRouter:
    """Signing in and out, and who is signed in."""
    router = APIRouter(prefix="/api", tags=["auth"])

    @router.post(
        "/auth/login",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": LoginIn.model_json_schema()},
                    "application/x-www-form-urlencoded": {"schema": LoginIn.model_json_schema()},
                },
            }
        },
        responses={
            401: {"description": "Wrong username or password"},
            422: {
                "description": "The body is not a username and password",
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/HTTPValidationError"}
                    }
                },
            },
            429: {"description": "Too many tries"},
        },
    )
    async def login(
        request: Request,
        response: Response,
        limiter: LoginLimiterDep,
        database: DatabaseDep,
        passwords: PasswordsDep,
        log: LogDep,
        clock: ClockDep,
        settings: SettingsDep,
    ) -> LoginOut:
        """Sign in with a username and password (JSON or form)."""
        credentials = await _read_credentials(request)
        client = request.client.host if request.client else "unknown"
        token, expires_at, user = await run_in_threadpool(
            functools.partial(
                _sign_in,
                credentials,
                client,
                limiter=limiter,
                database=database,
                passwords=passwords,
                log=log,
                clock=clock,
                settings=settings,
            )
        )
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=int(settings.session_hours * 3600),
            httponly=True,
            samesite="strict",
            secure=settings.cookie_secure,
            path="/",
        )
        return LoginOut(token=token, expires_at=expires_at, user=UserOut.model_validate(user))

    @router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
    def logout(
        request: Request,
        response: Response,
        user: CurrentUser,
        database: DatabaseDep,
        clock: ClockDep,
    ) -> None:
        """End the session the request carries."""
        token = presented_token(request)
        if token is not None:
            with database.write_transaction() as session:
                revoke_session(session, token, now=clock())
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
        logger.info("user %d signed out", user.id)

    @router.get("/me")
    def me(user: CurrentUser) -> UserOut:
        """The signed-in person."""
        return UserOut.model_validate(user)

    return router
