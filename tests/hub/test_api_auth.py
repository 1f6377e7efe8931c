"""Signing in and out over HTTP, roles, and the answers to bad requests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import httpx
from argon2 import PasswordHasher
from fastapi import FastAPI
from sqlalchemy import select

from hub.app import MAX_BODY_BYTES, create_app
from hub.db import Database
from hub.models import LogEntry, Role, User
from hub.routes.users import create_user
from hub.services import services_of
from hub.settings import HubSettings

if TYPE_CHECKING:
    from support.clock import FakeClock

    from hub.server import BackgroundHub
    from tests.hub.conftest import Staff


def audit_kinds(database: Database) -> list[str]:
    with database.session() as session:
        kinds = session.scalars(select(LogEntry.kind).order_by(LogEntry.seq))
        return [kind for kind in kinds if kind.startswith("audit.login")]


def test_signing_in_sets_a_strict_http_only_cookie_and_returns_a_token(
    client: httpx.Client, staff: Staff
) -> None:
    response = client.post(
        "/api/auth/login", json={"username": "Agent", "password": "agent-password-1"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["user"]["username"] == "agent"
    assert "password_hash" not in body["user"]
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"cabina_session={body['token']};")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/" in cookie
    assert "Secure" not in cookie  # cookie_secure is off in these tests
    assert client.get("/api/me").json()["username"] == "agent"  # by cookie
    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {body['token']}"}
    assert client.get("/api/me", headers=bearer).json()["id"] == staff.ids["agent"]


def test_an_html_form_signs_in_too(client: httpx.Client, staff: Staff) -> None:
    response = client.post(
        "/api/auth/login", data={"username": "supervisor", "password": "supervisor-password-1"}
    )
    assert response.status_code == 200
    assert response.json()["user"]["role"] == "supervisor"


def test_the_cookie_is_secure_when_the_settings_say_so(
    make_settings: Callable[..., HubSettings],
    database: Database,
    clock: FakeClock,
    serve: Callable[[FastAPI], BackgroundHub],
) -> None:
    app = create_app(make_settings(cookie_secure=True), database=database, clock=clock)
    hub = serve(app)
    create_user(
        services_of(app).attention_log,
        username="ana",
        display_name="Ana",
        password_hash=services_of(app).passwords.hash("ana-password-1"),
        role=Role.AGENT,
        now=clock(),
        actor="hub",
    )
    response = httpx.post(
        f"{hub.url}/api/auth/login", json={"username": "ana", "password": "ana-password-1"}
    )
    assert response.status_code == 200
    assert "Secure" in response.headers["set-cookie"]


def test_wrong_credentials_get_401_and_are_audited(
    client: httpx.Client, staff: Staff, database: Database
) -> None:
    for username, password in (("agent", "not-the-password"), ("nobody", "whatever-it-is")):
        response = client.post("/api/auth/login", json={"username": username, "password": password})
        assert response.status_code == 401
        assert response.json()["detail"] == (
            "Expected a valid username and password, but they do not match"
        )
        assert "set-cookie" not in response.headers
    assert audit_kinds(database)[-2:] == ["audit.login_failed", "audit.login_failed"]


def test_repeated_failures_are_refused_for_a_while(
    client: httpx.Client, staff: Staff, clock: FakeClock
) -> None:
    wrong = {"username": "agent", "password": "not-the-password"}
    right = {"username": "agent", "password": "agent-password-1"}
    for _ in range(5):
        assert client.post("/api/auth/login", json=wrong).status_code == 401
    refused = client.post("/api/auth/login", json=right)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == str(15 * 60)
    assert "Too many failed sign-ins" in refused.json()["detail"]
    # Another address (through the trusted local proxy) and another user are not held up.
    elsewhere = client.post("/api/auth/login", json=right, headers={"X-Forwarded-For": "10.1.2.3"})
    assert elsewhere.status_code == 200
    assert (
        client.post(
            "/api/auth/login", json={**right, "username": "agent2", "password": "agent2-password-1"}
        ).status_code
        == 200
    )
    clock.advance(minutes=15)
    assert client.post("/api/auth/login", json=right).status_code == 200


def test_signing_out_ends_the_session(client: httpx.Client, staff: Staff) -> None:
    headers = staff.headers("agent")
    assert client.post("/api/auth/logout", headers=headers).status_code == 204
    response = client.get("/api/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_sessions_expire(client: httpx.Client, staff: Staff, clock: FakeClock) -> None:
    headers = staff.headers("agent")
    clock.advance(hours=11, minutes=59)
    assert client.get("/api/me", headers=headers).status_code == 200
    clock.advance(minutes=1)
    assert client.get("/api/me", headers=headers).status_code == 401


def test_missing_or_malformed_credentials_get_401(client: httpx.Client, staff: Staff) -> None:
    assert client.get("/api/me").status_code == 401
    assert client.get("/api/me", headers={"Authorization": "Basic YTpi"}).status_code == 401
    assert client.get("/api/me", headers={"Authorization": "Bearer made-up"}).status_code == 401
    assert client.get("/api/sites", headers={"Authorization": "Bearer"}).status_code == 401


def test_roles_are_enforced_with_403(client: httpx.Client, staff: Staff) -> None:
    new_user = {
        "username": "newbie",
        "display_name": "New",
        "password": "newbie-password",
        "role": "agent",
    }
    for username in ("agent", "supervisor", "technician"):
        response = client.post("/api/users", json=new_user, headers=staff.headers(username))
        assert response.status_code == 403, username
        assert response.json()["detail"].startswith("Expected the role admin, but you are")
    admin = staff.headers("admin")
    assert client.post("/api/users", json=new_user, headers=admin).status_code == 201
    assert client.get("/api/attentions", headers=staff.headers("agent")).status_code == 403
    assert client.get("/api/attentions", headers=staff.headers("supervisor")).status_code == 200


def test_validation_errors_name_the_field_and_do_not_echo_input(
    client: httpx.Client, staff: Staff
) -> None:
    response = client.post("/api/auth/login", json={"username": "agent", "password": ""})
    assert response.status_code == 422
    body = response.json()
    assert body["detail"][0]["loc"] == ["body", "password"]
    assert body["message"].startswith("body.password: ")
    assert "input" not in body["detail"][0]
    response = client.post("/api/auth/login", json={"username": "agent"})
    assert response.json()["detail"][0]["loc"] == ["body", "password"]


def test_malformed_json_gets_422(client: httpx.Client, staff: Staff) -> None:
    for path in ("/api/auth/login", "/api/users"):
        response = client.post(
            path,
            content=b'{"username": "agent",',
            headers={"Content-Type": "application/json", **staff.headers("admin")},
        )
        assert response.status_code == 422, path
        assert response.json()["detail"][0]["type"] == "json_invalid"


def test_oversized_bodies_get_413(client: httpx.Client, staff: Staff) -> None:
    blob = b'{"username": "' + b"x" * MAX_BODY_BYTES + b'"}'
    headers = {"Content-Type": "application/json"}
    for path in ("/api/auth/login", "/api/cabin/events", "/api/users"):
        response = client.post(path, content=blob, headers=headers)
        assert response.status_code == 413, path

    def chunks() -> Iterator[bytes]:
        for _ in range(MAX_BODY_BYTES // 4096 + 2):
            yield b"x" * 4096

    # Without a Content-Length the body is counted as it arrives.
    response = client.post("/api/auth/login", content=chunks(), headers=headers)
    assert response.status_code == 413


def test_the_api_documents_itself(client: httpx.Client, app: FastAPI) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/auth/login",
        "/api/users",
        "/api/cabins",
        "/api/cabin/events",
        "/api/catalog",
    ):
        assert path in paths


def test_signing_in_upgrades_an_old_password_hash(
    client: httpx.Client, app: FastAPI, database: Database
) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=4 * 1024, parallelism=1)
    user = create_user(
        services_of(app).attention_log,
        username="old",
        display_name="Old",
        password_hash=weak.hash("old-password-1"),
        role=Role.AGENT,
        now=services_of(app).clock(),
        actor="hub",
    )
    assert user is not None and "m=4096" in user.password_hash
    response = client.post(
        "/api/auth/login", json={"username": "old", "password": "old-password-1"}
    )
    assert response.status_code == 200
    with database.session() as session:
        stored = session.get(User, user.id)
        assert stored is not None and "m=8192" in stored.password_hash
    assert (
        client.post(
            "/api/auth/login", json={"username": "old", "password": "old-password-1"}
        ).status_code
        == 200
    )
