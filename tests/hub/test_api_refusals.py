"""Refused requests get a 4xx that the published schema declares, never a server error."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from hub.deps import MAX_ROW_ID
from hub.refusals import publish_refusals

if TYPE_CHECKING:
    from tests.hub.conftest import Staff

BEYOND = MAX_ROW_ID + 1
TOO_BIG = 2**64


def add_site(client: httpx.Client, admin: dict[str, str]) -> int:
    response = client.post(
        "/api/sites", json={"name": "Gràcia", "address": "Plaça de la Vila, 2"}, headers=admin
    )
    assert response.status_code == 201, response.text
    site_id: int = response.json()["id"]
    return site_id


def named(response: httpx.Response) -> list[list[str]]:
    """Where each problem of a 422 is, after checking it has the shape every 422 has."""
    assert response.status_code == 422, response.text
    body = response.json()
    assert isinstance(body["message"], str)
    return [problem["loc"] for problem in body["detail"]]


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("DELETE", "/api/sites/{id}", "site_id"),
        ("GET", "/api/sites/{id}", "site_id"),
        ("POST", "/api/cabins/{id}/revoke", "cabin_id"),
        ("POST", "/api/cabins/{id}/credentials", "cabin_id"),
        ("GET", "/api/users/{id}", "user_id"),
        ("DELETE", "/api/users/{id}", "user_id"),
        ("GET", "/api/fleet/cabins/{id}", "cabin_id"),
        ("POST", "/api/fleet/cabins/{id}/revoke", "cabin_id"),
        ("DELETE", "/api/enrolment/requests/{id}", "request_id"),
    ],
)
@pytest.mark.parametrize("row_id", [TOO_BIG, 2**63, BEYOND, 0, -1])
def test_an_id_the_database_cannot_hold_is_a_422(
    client: httpx.Client, staff: Staff, method: str, path: str, field: str, row_id: int
) -> None:
    response = client.request(
        method, path.replace("{id}", str(row_id)), headers=staff.headers("admin")
    )
    assert named(response) == [["path", field]]


def test_the_largest_id_is_looked_up_and_not_found(client: httpx.Client, staff: Staff) -> None:
    response = client.delete(f"/api/sites/{MAX_ROW_ID}", headers=staff.headers("admin"))
    assert response.status_code == 404
    assert response.json() == {"detail": f"No site {MAX_ROW_ID}"}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/cabins", {"name": "C1", "site_id": TOO_BIG}),
        ("POST", "/api/users", {
            "username": "nuria", "display_name": "Núria", "password": "long-password-1",
            "role": "agent", "site_id": TOO_BIG,
        }),
        ("POST", "/api/enrolment/approvals", {"code": "ABCD-1234", "site": TOO_BIG, "name": "C"}),
    ],
)  # fmt: skip
def test_an_id_in_a_body_the_database_cannot_hold_is_a_422(
    client: httpx.Client, staff: Staff, method: str, path: str, body: dict[str, Any]
) -> None:
    response = client.request(method, path, json=body, headers=staff.headers("admin"))
    assert response.status_code == 422
    assert any(
        loc[:2] == ["body", "site_id"] or loc[:2] == ["body", "site"] for loc in named(response)
    )


def test_an_id_in_a_query_the_database_cannot_hold_is_a_422(
    client: httpx.Client, staff: Staff
) -> None:
    response = client.get(
        "/api/attentions", params={"site_id": TOO_BIG}, headers=staff.headers("supervisor")
    )
    assert named(response) == [["query", "site_id"]]


@pytest.mark.parametrize("attention_id", ["0", "not-a-uuid", "1" * 37])
def test_closing_an_attention_whose_id_is_not_a_uuid_is_a_422(
    client: httpx.Client, staff: Staff, attention_id: str
) -> None:
    response = client.post(
        f"/api/attentions/{attention_id}/close",
        json={"topic": "padron_alta", "outcome": "resolved"},
        headers=staff.headers("agent"),
    )
    assert named(response) == [["path", "attention_id"]]
    read = client.get(f"/api/attentions/{attention_id}", headers=staff.headers("agent"))
    assert named(read) == [["path", "attention_id"]]


def test_a_site_that_does_not_exist_is_named_like_any_bad_field(
    client: httpx.Client, staff: Staff
) -> None:
    admin = staff.headers("admin")
    response = client.post("/api/cabins", json={"name": "C1", "site_id": 999}, headers=admin)
    assert named(response) == [["body", "site_id"]]
    assert response.json()["detail"][0]["msg"] == (
        "Expected site_id of an existing site, but got 999"
    )
    site_id = add_site(client, admin)
    cabin = client.post("/api/cabins", json={"name": "C1", "site_id": site_id}, headers=admin)
    cabin_id = cabin.json()["cabin"]["id"]
    emptied = client.patch(f"/api/cabins/{cabin_id}", json={"name": None}, headers=admin)
    assert named(emptied) == [["body", "name"]]


def test_a_body_that_is_not_text_is_a_declared_400(client: httpx.Client, staff: Staff) -> None:
    response = client.post(
        "/api/sites",
        content=b"\xff\xfe{",
        headers=staff.headers("admin") | {"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    declared = client.get("/openapi.json").json()["paths"]["/api/sites"]["post"]["responses"]
    assert "400" in declared


def responses_of(client: httpx.Client, method: str, path: str) -> dict[str, Any]:
    schema = client.get("/openapi.json").json()
    responses: dict[str, Any] = schema["paths"][path][method]["responses"]
    return responses


def test_the_schema_declares_what_each_route_may_refuse(client: httpx.Client) -> None:
    delete_site = responses_of(client, "delete", "/api/sites/{site_id}")
    assert sorted(delete_site) == ["204", "401", "403", "404", "409", "422"]
    refusal = {"$ref": "#/components/schemas/Refusal"}
    for code in ("401", "403", "404"):
        assert delete_site[code]["content"]["application/json"]["schema"] == refusal
    assert sorted(responses_of(client, "get", "/api/sites")) == ["200", "401"]
    assert sorted(responses_of(client, "get", "/api/hub")) == ["200"]
    assert sorted(responses_of(client, "get", "/api/cabin/config")) == ["200", "401"]
    assert sorted(responses_of(client, "get", "/verify/{code}")) == [
        "200", "400", "404", "422", "429",
    ]  # fmt: skip


def test_routes_included_inside_another_router_are_refused() -> None:
    outer, inner = APIRouter(), APIRouter()
    inner.add_api_route("/x", lambda: None)
    outer.include_router(inner)
    nested = [route for route in outer.routes if route.__class__.__name__ != "APIRoute"]
    if not nested:
        pytest.skip("this FastAPI copies the routes of an included router")
    with pytest.raises(TypeError, match="Expected an HTTP or WebSocket route"):
        publish_refusals(FastAPI(), [outer])


def test_a_nul_character_in_a_body_is_a_422_naming_where(
    client: httpx.Client, staff: Staff
) -> None:
    admin = staff.headers("admin")
    body = {
        "username": "nuria",
        "display_name": "Nú\x00ria",
        "password": "long-password-1",
        "role": "agent",
        "languages": ["es"],
    }
    response = client.post("/api/users", json=body, headers=admin)
    assert named(response) == [["body", "display_name"]]
    site_id = add_site(client, admin)
    hours = client.patch(
        f"/api/sites/{site_id}", json={"opening_hours": {"mon": ["09:00\x00"]}}, headers=admin
    )
    assert named(hours) == [["body", "opening_hours", "mon", "0"]]
    assert client.get("/api/users", headers=admin).json()[-1]["username"] != "nuria"


@pytest.mark.parametrize("form", [False, True])
def test_a_nul_character_in_a_sign_in_is_a_422(client: httpx.Client, form: bool) -> None:
    credentials = {"username": "ad\x00min", "password": "admin-password-1"}
    response = (
        client.post("/api/auth/login", data=credentials)
        if form
        else client.post("/api/auth/login", json=credentials)
    )
    assert named(response) == [["body", "username"]]


def test_a_nul_character_in_a_path_is_a_422(client: httpx.Client, staff: Staff) -> None:
    response = client.get("/api/padron/certificates/a%00b.pdf", headers=staff.headers("supervisor"))
    assert named(response) == [["path", "certificate_id"]]
