"""Admins manage staff accounts, sites and cabins."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest
from sqlalchemy import select

from hub.db import Database
from hub.models import LogEntry

if TYPE_CHECKING:
    from tests.hub.conftest import Staff

HOURS = {"mon": ["09:00-14:00", "16:00-19:00"], "fri": ["09:00-14:00"], "holidays": ["2026-12-25"]}


def audit_data(database: Database, kind: str) -> list[str]:
    with database.session() as session:
        return list(
            session.scalars(
                select(LogEntry.payload).where(LogEntry.kind == kind).order_by(LogEntry.seq)
            )
        )


def add_site(client: httpx.Client, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {"name": "Sant Andreu", "address": "Plaça d'Orfila, 1", "opening_hours": HOURS} | fields
    response = client.post("/api/sites", json=body, headers=headers)
    assert response.status_code == 201, response.text
    site: dict[str, Any] = response.json()
    return site


# --- users --------------------------------------------------------------------------------


def test_admins_create_read_change_and_deactivate_users(
    client: httpx.Client, staff: Staff, database: Database
) -> None:
    admin = staff.headers("admin")
    created = client.post(
        "/api/users",
        json={
            "username": "jserra",
            "display_name": "Jordi Serra",
            "password": "jordi-password",
            "role": "agent",
            "languages": ["en", "ca", "es", "ca"],
            "services": ["padron", "tributs"],
            "max_calls": 2,
        },
        headers=admin,
    )
    assert created.status_code == 201
    user = created.json()
    assert user["languages"] == ["es", "ca", "en"]
    assert '"role":"agent"' in audit_data(database, "audit.user_created")[-1]
    assert client.get(f"/api/users/{user['id']}", headers=admin).json() == user
    assert "jserra" in [u["username"] for u in client.get("/api/users", headers=admin).json()]

    login = {"username": "jserra", "password": "jordi-password"}
    session = {
        "Authorization": f"Bearer {client.post('/api/auth/login', json=login).json()['token']}"
    }
    client.cookies.clear()
    changed = client.patch(
        f"/api/users/{user['id']}",
        json={"display_name": "Jordi S.", "password": "a-new-password"},
        headers=admin,
    )
    assert changed.json()["display_name"] == "Jordi S."
    assert client.get("/api/me", headers=session).status_code == 401  # signed out by the change
    assert client.post("/api/auth/login", json=login).status_code == 401
    login["password"] = "a-new-password"
    assert client.post("/api/auth/login", json=login).status_code == 200

    assert client.delete(f"/api/users/{user['id']}", headers=admin).status_code == 204
    assert client.get(f"/api/users/{user['id']}", headers=admin).json()["active"] is False
    assert client.post("/api/auth/login", json=login).status_code == 401


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"username": "Bad Name"}, "username"),
        ({"password": "short"}, "password"),
        ({"role": "mayor"}, "role"),
        ({"languages": ["fr"]}, "languages"),
        ({"services": ["Not A Code"]}, "services"),
        ({"max_calls": 0}, "max_calls"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_bad_user_fields_get_422_naming_them(
    client: httpx.Client, staff: Staff, fields: dict[str, Any], field: str
) -> None:
    body = {"username": "ok", "display_name": "Ok", "password": "ok-password-1", "role": "agent"}
    response = client.post("/api/users", json=body | fields, headers=staff.headers("admin"))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:2] == ["body", field]


def test_usernames_are_unique_and_sites_must_exist(client: httpx.Client, staff: Staff) -> None:
    admin = staff.headers("admin")
    body = {"username": "agent", "display_name": "A", "password": "ok-password-1", "role": "agent"}
    taken = client.post("/api/users", json=body, headers=admin)
    assert taken.status_code == 409
    assert taken.json()["detail"] == "Expected a new username, but 'agent' exists"
    missing_site = client.post(
        "/api/users", json=body | {"username": "x1", "site_id": 999}, headers=admin
    )
    assert missing_site.status_code == 422
    assert client.get("/api/users/999", headers=admin).status_code == 404
    assert client.patch("/api/users/999", json={}, headers=admin).status_code == 404


def test_the_last_admin_cannot_be_removed(client: httpx.Client, staff: Staff) -> None:
    admin = staff.headers("admin")
    admin_id = staff.ids["admin"]
    for method, body in (
        ("DELETE", None),
        ("PATCH", {"role": "agent"}),
        ("PATCH", {"active": False}),
    ):
        response = client.request(method, f"/api/users/{admin_id}", json=body, headers=admin)
        assert response.status_code == 409
        assert "last one" in response.json()["detail"]
    promoted = client.patch(
        f"/api/users/{staff.ids['supervisor']}", json={"role": "admin"}, headers=admin
    )
    assert promoted.status_code == 200
    assert client.delete(f"/api/users/{admin_id}", headers=admin).status_code == 204


# --- sites --------------------------------------------------------------------------------


def test_admins_manage_sites_and_everyone_signed_in_lists_them(
    client: httpx.Client, staff: Staff
) -> None:
    admin = staff.headers("admin")
    site = add_site(client, admin, max_concurrent_calls=4)
    assert site["timezone"] == "Europe/Madrid"
    assert site["opening_hours"] == HOURS
    listed = client.get("/api/sites", headers=staff.headers("agent"))
    assert [s["name"] for s in listed.json()] == ["Sant Andreu"]
    changed = client.patch(
        f"/api/sites/{site['id']}",
        json={"max_concurrent_calls": None, "timezone": "Atlantic/Canary"},
        headers=admin,
    )
    assert changed.status_code == 200
    assert (changed.json()["max_concurrent_calls"], changed.json()["timezone"]) == (
        None,
        "Atlantic/Canary",
    )
    assert (
        client.post(
            "/api/sites", json={"name": "x", "address": "y"}, headers=staff.headers("agent")
        ).status_code
        == 403
    )
    duplicate = client.post(
        "/api/sites", json={"name": "Sant Andreu", "address": "y"}, headers=admin
    )
    assert duplicate.status_code == 409
    assert client.delete(f"/api/sites/{site['id']}", headers=admin).status_code == 204
    assert client.get(f"/api/sites/{site['id']}", headers=admin).status_code == 404


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"timezone": "Europe/Atlantis"}, "timezone"),
        ({"opening_hours": {"mon": ["25:00-26:00"]}}, "opening_hours"),
        ({"opening_hours": {"mon": ["14:00-09:00"]}}, "opening_hours"),
        ({"opening_hours": {"someday": ["09:00-14:00"]}}, "opening_hours"),
        ({"opening_hours": {"holidays": ["2026-02-30"]}}, "opening_hours"),
        ({"max_concurrent_calls": 0}, "max_concurrent_calls"),
    ],
)
def test_bad_site_fields_get_422_naming_them(
    client: httpx.Client, staff: Staff, fields: dict[str, Any], field: str
) -> None:
    body = {"name": "S", "address": "A"} | fields
    response = client.post("/api/sites", json=body, headers=staff.headers("admin"))
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][:2] == ["body", field]


def test_bad_opening_hours_are_refused_on_change_too(client: httpx.Client, staff: Staff) -> None:
    admin = staff.headers("admin")
    site = add_site(client, admin)
    response = client.patch(
        f"/api/sites/{site['id']}", json={"opening_hours": {"tue": ["9-14"]}}, headers=admin
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "opening_hours"]


def test_a_site_with_cabins_cannot_be_deleted(client: httpx.Client, staff: Staff) -> None:
    admin = staff.headers("admin")
    site = add_site(client, admin)
    client.post("/api/cabins", json={"name": "C1", "site_id": site["id"]}, headers=admin)
    response = client.delete(f"/api/sites/{site['id']}", headers=admin)
    assert response.status_code == 409
    assert "without cabins" in response.json()["detail"]


# --- cabins -------------------------------------------------------------------------------


def upload(client: httpx.Client, token: str) -> httpx.Response:
    return client.post(
        "/api/cabin/events",
        json={"events": [{
            "event_id": "0b6f6f0e-2f1a-4c1e-9d7a-1a2b3c4d5e6f",
            "kind": "attention.started",
            "attention_id": "5a0c1e3e-6b1d-4f7a-8e2c-0d9e8f7a6b5c",
            "actor": "cabin:1",
            "occurred_at": "2026-03-02T09:00:00Z",
        }]},
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip


def test_a_cabin_gets_its_token_once_and_loses_it_when_revoked(
    client: httpx.Client, staff: Staff, database: Database
) -> None:
    admin = staff.headers("admin")
    site = add_site(client, admin)
    created = client.post(
        "/api/cabins",
        json={"name": "Cabina 1", "site_id": site["id"], "serial": "SN-001"},
        headers=admin,
    )
    assert created.status_code == 201
    cabin, token = created.json()["cabin"], created.json()["token"]
    assert (cabin["id"], cabin["status"], cabin["last_seen_at"]) == (1, "pending", None)
    assert "token" not in client.get(f"/api/cabins/{cabin['id']}", headers=admin).json()
    assert audit_data(database, "audit.cabin_created") == ['{"cabin_id":1}']

    assert upload(client, token).status_code == 200
    seen = client.get(f"/api/cabins/{cabin['id']}", headers=staff.headers("technician")).json()
    assert seen["status"] == "active"
    assert seen["last_seen_at"] is not None

    revoked = client.post(f"/api/cabins/{cabin['id']}/revoke", headers=admin)
    assert revoked.json() == {"revoked": 1}
    refused = upload(client, token)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "Expected a valid cabin token, but it is unknown or revoked"
    assert audit_data(database, "audit.credential_revoked") == [
        '{"cabin_id":1,"revoked":1,"via":"admin"}'
    ]

    reissued = client.post(f"/api/cabins/{cabin['id']}/credentials", headers=admin)
    assert reissued.status_code == 201
    assert upload(client, reissued.json()["token"]).status_code == 200
    assert upload(client, token).status_code == 401


def test_cabin_management_is_for_admins(client: httpx.Client, staff: Staff) -> None:
    admin = staff.headers("admin")
    site = add_site(client, admin)
    body = {"name": "C", "site_id": site["id"]}
    assert (
        client.post("/api/cabins", json=body, headers=staff.headers("technician")).status_code
        == 403
    )
    cabin = client.post("/api/cabins", json=body, headers=admin).json()["cabin"]
    assert (
        client.post(
            f"/api/cabins/{cabin['id']}/revoke", headers=staff.headers("supervisor")
        ).status_code
        == 403
    )
    assert client.get("/api/cabins", headers=staff.headers("agent")).status_code == 403
    assert len(client.get("/api/cabins", headers=staff.headers("supervisor")).json()) == 1


def test_cabin_serials_are_unique_and_sites_must_exist(client: httpx.Client, staff: Staff) -> None:
    admin = staff.headers("admin")
    site = add_site(client, admin)
    body = {"name": "C", "site_id": site["id"], "serial": "SN-1"}
    assert client.post("/api/cabins", json=body, headers=admin).status_code == 201
    assert client.post("/api/cabins", json=body, headers=admin).status_code == 409
    assert (
        client.post(
            "/api/cabins", json=body | {"site_id": 99, "serial": None}, headers=admin
        ).status_code
        == 422
    )
    other = client.post("/api/cabins", json=body | {"serial": "SN-2"}, headers=admin).json()[
        "cabin"
    ]
    clash = client.patch(f"/api/cabins/{other['id']}", json={"serial": "SN-1"}, headers=admin)
    assert clash.status_code == 409
    retired = client.patch(
        f"/api/cabins/{other['id']}", json={"status": "retired", "name": "Old"}, headers=admin
    )
    assert (retired.json()["status"], retired.json()["name"]) == ("retired", "Old")
    assert client.post("/api/cabins/99/revoke", headers=admin).status_code == 404


def test_a_site_may_be_always_open(client: httpx.Client, staff: Staff) -> None:
    site = add_site(client, staff.headers("admin"), opening_hours={"always": True})
    assert site["opening_hours"] == {"always": True}
