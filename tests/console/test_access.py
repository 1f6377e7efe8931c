"""Who may do what from the console: each role meets the routes it should not use."""

from __future__ import annotations

import pytest
from console.office import Office

NEW_USER = {
    "username": "jordi",
    "display_name": "Jordi",
    "password": "jordi-password-1",
    "role": "agent",
    "languages": ["ca"],
    "services": ["padron"],
}


@pytest.mark.parametrize("who", ["laia", "montse", "cabin"])
def test_only_admins_manage_users(office: Office, who: str) -> None:
    refused = office.client.post("/api/users", json=NEW_USER, headers=office.headers(who))
    assert refused.status_code in (401, 403)
    assert office.client.get("/api/users", headers=office.headers(who)).status_code in (401, 403)


def test_an_admin_manages_users(office: Office) -> None:
    created = office.client.post("/api/users", json=NEW_USER, headers=office.headers("admin"))
    assert created.status_code in (200, 201), created.text


@pytest.mark.parametrize(("who", "allowed"), [("laia", False), ("montse", True), ("admin", True)])
def test_only_supervisors_see_figures_and_export(office: Office, who: str, allowed: bool) -> None:
    board = office.client.get("/api/supervisor/overview", headers=office.headers(who))
    export = office.client.get(
        "/api/attentions.csv",
        params={"from": "2026-03-02", "to": "2026-03-02"},
        headers=office.headers(who),
    )
    assert (board.status_code == 200) is allowed
    assert (export.status_code == 200) is allowed
    if not allowed:
        assert board.status_code == export.status_code == 403


def test_an_agent_signed_in_by_cookie_gets_the_console_and_its_catalogue(office: Office) -> None:
    login = office.client.post(
        "/api/auth/login", json={"username": "laia", "password": "laia-password-1"}
    )
    assert login.status_code == 200
    assert "cabina_session" in office.client.cookies
    assert office.client.get("/console/").status_code == 200
    catalog = office.client.get("/api/catalog").json()
    assert {"padron", "general"} <= {service["code"] for service in catalog["services"]}
    assert office.client.get("/api/supervisor/overview").status_code == 403
    office.client.cookies.clear()
