"""Enrolment at the hub, over its HTTP API: codes, approval, collection once, refusals logged."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from hub.enrolment import service as enrolment
from hub.models import Cabin, CabinCredential, CabinStatus


def ask(client: httpx.Client, serial: str = "dmi:SN-0001", **extra: Any) -> dict[str, Any]:
    response = client.post("/api/enrolment/requests", json={"serial": serial, **extra})
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def poll(client: httpx.Client, ticket: dict[str, Any]) -> httpx.Response:
    return client.get(
        f"/api/enrolment/requests/{ticket['request_id']}",
        headers={"Authorization": f"Bearer {ticket['poll_token']}"},
    )


def approve(
    client: httpx.Client, headers: dict[str, str], code: str, site: Any, name: str = "Cabina 1"
) -> httpx.Response:
    return client.post(
        "/api/enrolment/approvals",
        headers=headers,
        json={"code": code, "site": site, "name": name},
    )


def refusals(hub: Any) -> list[dict[str, Any]]:
    return [
        json.loads(payload)
        for kind, payload in hub.audit_kinds()
        if kind == "audit.login_failed" and "enrolment_code" in payload
    ]


def test_codes_use_an_alphabet_without_look_alikes() -> None:
    codes = {enrolment.new_code() for _ in range(200)}
    assert all(len(code) == 6 and set(code) <= set(enrolment.CODE_ALPHABET) for code in codes)
    assert not set("IO01") & set(enrolment.CODE_ALPHABET)
    assert enrolment.normalise_code(" abc-def ") == "ABCDEF"
    assert enrolment.format_code("ABCDEF") == "ABC-DEF"
    for bad in ("ABCDE", "ABCDEFG", "ABCDE0", "ABC?EF", ""):
        with pytest.raises(ValueError, match="Expected a code of 6 characters"):
            enrolment.normalise_code(bad)


def test_hub_says_who_it_is(hub: Any) -> None:
    with hub.client() as client:
        data = client.get("/api/hub").json()
    assert data["service"] == "cabina-hub"
    assert data["public_url"] == hub.url


def test_approved_cabin_collects_its_credential_once(hub: Any) -> None:
    with hub.client() as client:
        ticket = ask(client, hostname="cabina-01", version="0.1.0")
        assert len(ticket["code"]) == 7 and ticket["code"][3] == "-"
        assert ticket["qr_payload"].endswith(f"/console/#/enrol/{ticket['code'].replace('-', '')}")
        assert poll(client, ticket).json()["status"] == "pending"

        answer = approve(client, hub.headers("technician"), ticket["code"], hub.site_id)
        assert answer.status_code == 201, answer.text
        assert answer.json()["created"] is True

        first = poll(client, ticket).json()
        assert first["status"] == "completed"
        credential = first["credential"]
        assert credential["cabin_id"] == answer.json()["cabin_id"]
        second = poll(client, ticket).json()
        assert second["status"] == "completed" and second["credential"] is None

        config = client.get(
            "/api/cabin/config", headers={"Authorization": f"Bearer {credential['token']}"}
        )
    assert config.status_code == 200
    body = config.json()
    assert body["cabin"] == {"id": credential["cabin_id"], "name": "Cabina 1"}
    assert body["site"]["name"] == "OAC Sant Andreu"
    with hub.database.session() as session:
        cabin = session.get(Cabin, credential["cabin_id"])
        assert cabin is not None
        assert (cabin.serial, cabin.status) == ("dmi:SN-0001", CabinStatus.ACTIVE)
    kinds = [kind for kind, _ in hub.audit_kinds()]
    assert "audit.cabin_created" in kinds and "audit.credential_issued" in kinds


def test_re_enrolling_a_re_imaged_cabin_updates_it(hub: Any) -> None:
    with hub.client() as client:
        first = ask(client, "dmi:SAME")
        approve(client, hub.headers("technician"), first["code"], hub.site_id, "Old name")
        old_token = poll(client, first).json()["credential"]["token"]

        again = ask(client, "dmi:SAME")
        answer = approve(client, hub.headers("admin"), again["code"], "OAC Sant Andreu", "New")
        assert answer.status_code == 201 and answer.json()["created"] is False
        new = poll(client, again).json()["credential"]
        refused = client.get("/api/cabin/config", headers={"Authorization": f"Bearer {old_token}"})
        accepted = client.get(
            "/api/cabin/config", headers={"Authorization": f"Bearer {new['token']}"}
        )
    assert refused.status_code == 401
    assert accepted.json()["cabin"]["name"] == "New"
    with hub.database.session() as session:
        cabins = session.scalars(select(Cabin)).all()
        assert [(c.serial, c.name) for c in cabins] == [("dmi:SAME", "New")]
        live = session.scalars(
            select(CabinCredential).where(CabinCredential.revoked_at.is_(None))
        ).all()
        assert len(live) == 1


def test_unknown_used_expired_and_replaced_codes_are_refused_and_logged(hub: Any) -> None:
    headers = hub.headers("technician")
    with hub.client() as client:
        unknown = approve(client, headers, "ZZZ-ZZZ", hub.site_id)
        assert unknown.status_code == 404
        assert "no cabin shows ZZZ-ZZZ" in unknown.json()["detail"]

        used = ask(client, "dmi:A")
        assert approve(client, headers, used["code"], hub.site_id).status_code == 201
        again = approve(client, headers, used["code"], hub.site_id)
        assert again.status_code == 409 and "already been used" in again.json()["detail"]

        replaced = ask(client, "dmi:B")
        ask(client, "dmi:B")  # the cabin asked again: the first code is void
        superseded = approve(client, headers, replaced["code"], hub.site_id)
        assert superseded.status_code == 409 and "replaced" in superseded.json()["detail"]

        late = ask(client, "dmi:C")
        hub.clock.advance(minutes=16)
        expired = approve(client, headers, late["code"], hub.site_id)
        assert expired.status_code == 410 and "expired" in expired.json()["detail"]
        assert poll(client, late).json()["status"] == "expired"
    reasons = [entry["reason"] for entry in refusals(hub)]
    assert reasons == ["unknown", "used", "superseded", "expired"]


def test_guessing_codes_is_rate_limited(hub: Any) -> None:
    headers = hub.headers("technician")
    with hub.client() as client:
        ticket = ask(client)
        answers = [approve(client, headers, "XXX-XXX", hub.site_id) for _ in range(10)]
        assert {a.status_code for a in answers} == {404}
        blocked = approve(client, headers, ticket["code"], hub.site_id)
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0


def test_approval_needs_a_technician_or_admin_and_a_real_site(hub: Any) -> None:
    with hub.client() as client:
        ticket = ask(client)
        anonymous = approve(client, {}, ticket["code"], hub.site_id)
        agent = approve(client, hub.headers("agent"), ticket["code"], hub.site_id)
        no_site = approve(client, hub.headers("technician"), ticket["code"], "Nowhere")
        bad_code = approve(client, hub.headers("technician"), "not a code", hub.site_id)
        still = poll(client, ticket).json()
    assert (anonymous.status_code, agent.status_code) == (401, 403)
    assert no_site.status_code == 422 and "Nowhere" in no_site.json()["message"]
    assert no_site.json()["detail"][0]["loc"][-1] == "site"
    assert bad_code.status_code == 422
    assert still["status"] == "pending"


def test_polling_needs_the_request_token(hub: Any) -> None:
    with hub.client() as client:
        ticket = ask(client)
        wrong = client.get(
            f"/api/enrolment/requests/{ticket['request_id']}",
            headers={"Authorization": "Bearer not-the-token"},
        )
        missing = client.get(f"/api/enrolment/requests/{ticket['request_id']}")
        other = client.get(
            f"/api/enrolment/requests/{ticket['request_id'] + 1}",
            headers={"Authorization": f"Bearer {ticket['poll_token']}"},
        )
    assert (wrong.status_code, missing.status_code, other.status_code) == (404, 401, 404)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"serial": ""},
        {"serial": "has spaces"},
        {"serial": "x" * 129},
        {"serial": "ok", "hostname": "bad host"},
        {"serial": "ok", "extra": 1},
    ],
)
def test_malformed_requests_are_refused(hub: Any, body: dict[str, Any]) -> None:
    with hub.client() as client:
        response = client.post("/api/enrolment/requests", json=body)
    assert response.status_code == 422


def test_technicians_see_waiting_requests_without_their_codes(hub: Any) -> None:
    with hub.client() as client:
        ticket = ask(client, "dmi:WAITING", hostname="cabina-07")
        listed = client.get("/api/enrolment/requests", headers=hub.headers("technician"))
        refused = client.delete(
            f"/api/enrolment/requests/{ticket['request_id']}", headers=hub.headers("technician")
        )
        twice = client.delete(
            f"/api/enrolment/requests/{ticket['request_id']}", headers=hub.headers("technician")
        )
        after = poll(client, ticket).json()
        code_after = approve(client, hub.headers("technician"), ticket["code"], hub.site_id)
    [row] = listed.json()
    assert (row["serial"], row["hostname"]) == ("dmi:WAITING", "cabina-07")
    assert ticket["code"].replace("-", "") not in json.dumps(row)
    assert (refused.status_code, twice.status_code, after["status"]) == (204, 404, "refused")
    assert code_after.status_code == 410


def test_config_needs_a_cabin_credential(hub: Any) -> None:
    with hub.client() as client:
        assert client.get("/api/cabin/config").status_code == 401
        staff = client.get("/api/cabin/config", headers=hub.headers("technician"))
    assert staff.status_code == 401


@pytest.mark.postgres
def test_enrolment_on_postgresql(start_hub: Callable[..., Any], postgres_url: str) -> None:
    hub = start_hub(database_url=postgres_url)
    with hub.client() as client:
        ticket = ask(client, "dmi:PG")
        assert (
            approve(client, hub.headers("technician"), ticket["code"], hub.site_id).status_code
            == 201
        )
        credential = poll(client, ticket).json()["credential"]
        assert (
            approve(client, hub.headers("technician"), ticket["code"], hub.site_id).status_code
            == 409
        )
    assert credential["token"]
    assert [r["reason"] for r in refusals(hub)] == ["used"]
