"""Who is being served: identity checks, the citizen reference, and their earlier attentions."""

from __future__ import annotations

import pytest
from console.office import Connected, Office, connect_call, upload

from contract.events import looks_like_identity_number
from hub.citizens import citizen_ref, normalise_number
from hub.routes.citizens import MAX_CHECKS_PER_ATTENTION
from hub.services import services_of

DNI = "12345678Z"
OTHER_DNI = "87654321X"


def identify(office: Office, call_id: str, who: str = "laia", **body: str) -> object:
    values = {"method": "document_on_camera", "document_type": "dni", "document_number": DNI}
    return office.client.post(
        f"/api/calls/{call_id}/identity", json=values | body, headers=office.headers(who)
    )


def citizen(office: Office, call_id: str, who: str = "laia") -> object:
    return office.client.get(f"/api/calls/{call_id}/citizen", headers=office.headers(who))


@pytest.mark.parametrize(
    ("kind", "number", "canonical"),
    [
        ("dni", "12345678Z", "12345678Z"),
        ("dni", "12.345.678-z", "12345678Z"),
        ("dni", "1234567L", "01234567L"),
        ("nie", "X1234567L", "X1234567L"),
        ("nie", "y 0000000 z", "Y0000000Z"),
        ("passport", "paa123456", "PAA123456"),
    ],
)
def test_valid_numbers_are_put_in_one_form(kind: str, number: str, canonical: str) -> None:
    assert normalise_number(kind, number) == canonical


@pytest.mark.parametrize(
    ("kind", "number"),
    [
        ("dni", "12345678A"),
        ("dni", "1234567"),
        ("dni", "ABCDEFGHZ"),
        ("dni", "123456789Z"),
        ("nie", "X1234567A"),
        ("nie", "A1234567L"),
        ("nie", "12345678Z"),
        ("passport", "P-1"),
        ("passport", "ÑÑÑÑÑÑ"),
    ],
)
def test_invalid_numbers_are_refused_without_repeating_them(kind: str, number: str) -> None:
    with pytest.raises(ValueError, match="Expected") as caught:
        normalise_number(kind, number)
    assert number not in str(caught.value)


def test_the_citizen_reference_is_stable_opaque_and_keyed() -> None:
    ref = citizen_ref("secret-one" * 4, "dni", DNI)
    assert ref == citizen_ref("secret-one" * 4, "dni", "12.345.678-z")
    assert ref != citizen_ref("secret-two" * 4, "dni", DNI)
    assert ref != citizen_ref("secret-one" * 4, "nie", "X1234567L")
    assert ref.startswith("c1-") and len(ref) == 67
    assert DNI not in ref.upper() and not looks_like_identity_number(ref)


async def test_the_agent_records_how_identity_was_checked(office: Office, call: Connected) -> None:
    assert citizen(office, call.call_id).json() == {"identity": None, "attentions": []}
    recorded = identify(office, call.call_id)
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["verified_by"] == "agent"
    seen = citizen(office, call.call_id).json()
    assert seen["identity"]["method"] == "document_on_camera"
    assert seen["identity"]["document_type"] == "dni"
    assert seen["attentions"] == []


async def test_the_cabin_vouches_only_for_what_it_can_check(
    office: Office, call: Connected
) -> None:
    by_cabin = identify(office, call.call_id, "cabin", method="electronic_id")
    assert by_cabin.status_code == 201, by_cabin.text
    assert by_cabin.json()["verified_by"] == "cabin"
    assert identify(office, call.call_id, "cabin", method="known_to_agent").status_code == 403
    # The cabin records, but reading the citizen's history is for the agent.
    assert (
        office.client.get(
            f"/api/calls/{call.call_id}/citizen", headers=office.headers("cabin")
        ).status_code
        == 401
    )
    assert citizen(office, call.call_id).json()["identity"]["verified_by"] == "cabin"


async def test_earlier_attentions_of_the_same_person_are_shown(office: Office, jpeg: bytes) -> None:
    first = await connect_call(office)
    assert identify(office, first.call_id).status_code == 201
    scan = upload(office, first.call_id, "cabin", "scan", jpeg).json()
    await first.agent.send(type="call.end", call_id=first.call_id)
    await first.agent.expect("call.ended")
    closed = office.client.post(
        f"/api/attentions/{first.attention_id}/close",
        json={"topic": "padron_domicilio", "outcome": "resolved", "notes": "Canvi fet."},
        headers=office.headers("laia"),
    )
    assert closed.status_code == 200, closed.text
    await first.agent.send(type="wrapup.done")
    await first.agent.close()
    await first.cabin.close()
    await services_of(office.app).event_writer.flush()

    # Someone else, then the same person again, this time with Nerea.
    other = await connect_call(office, "laia")
    assert identify(office, other.call_id, document_number=OTHER_DNI).status_code == 201
    assert citizen(office, other.call_id).json()["attentions"] == []
    await other.agent.send(type="call.end", call_id=other.call_id)
    await other.agent.close()
    await other.cabin.close()

    again = await connect_call(office, "nerea")
    assert (
        identify(office, again.call_id, "nerea", document_number="12.345.678-z").status_code == 201
    )
    history = citizen(office, again.call_id, "nerea").json()["attentions"]
    assert [item["id"] for item in history] == [first.attention_id]
    assert history[0]["topic"] == "padron_domicilio"
    assert history[0]["outcome"] == "resolved"
    assert history[0]["notes"] == "Canvi fet."
    assert history[0]["documents"] == [
        {"document_id": scan["document_id"], "kind": "scan", "content_type": "image/jpeg"}
    ]
    # Laia served the first attention, but is not serving this citizen now.
    assert citizen(office, again.call_id, "laia").status_code == 403
    await again.agent.close()
    await again.cabin.close()


async def test_only_the_agent_in_the_call_reads_the_history(
    office: Office, call: Connected
) -> None:
    identify(office, call.call_id)
    assert citizen(office, call.call_id, "nerea").status_code == 403
    assert citizen(office, call.call_id, "montse").status_code == 403
    assert citizen(office, call.call_id, "admin").status_code == 403
    assert office.client.get(f"/api/calls/{call.call_id}/citizen").status_code == 401
    assert citizen(office, "no-such-call").status_code == 404
    await call.agent.send(type="call.end", call_id=call.call_id)
    await call.agent.expect("call.ended")
    assert citizen(office, call.call_id).status_code == 404


async def test_bad_numbers_count_towards_the_limit(office: Office, call: Connected) -> None:
    wrong = identify(office, call.call_id, document_number="12345678A")
    assert wrong.status_code == 422
    assert "12345678A" not in wrong.text
    for _ in range(MAX_CHECKS_PER_ATTENTION - 1):
        assert identify(office, call.call_id).status_code == 201
    assert identify(office, call.call_id).status_code == 429
    assert identify(office, call.call_id, "nerea").status_code == 403


async def test_no_document_number_is_ever_stored(office: Office, call: Connected) -> None:
    identify(office, call.call_id)
    identify(office, call.call_id, document_type="nie", document_number="X1234567L")
    await services_of(office.app).event_writer.flush()
    with services_of(office.app).database.session() as session:
        from sqlalchemy import text

        rows = session.execute(text("SELECT payload FROM log_entries")).scalars().all()
        attentions = session.execute(text("SELECT citizen_ref FROM attentions")).scalars().all()
    stored = " ".join(rows) + " ".join(ref or "" for ref in attentions)
    for number in ("12345678", "1234567L", "X1234567"):
        assert number not in stored
    assert any(ref and ref.startswith("c1-") for ref in attentions)
