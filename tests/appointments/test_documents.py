"""Documents sent ahead of an appointment: by the citizen's private link, read in the console.

The end-to-end test serves a real hub on a loopback port, on SQLite and on PostgreSQL (the
``database`` fixture), with the office of ``conftest.py``, two agents and a supervisor signed
in. The citizen's side is the plain HTML form (``multipart/form-data``), the staff's the JSON
routes the console calls. The files are real: PDFs written by pypdf, images by Pillow.
"""

from __future__ import annotations

import html
import io
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from appointments.conftest import SECRET, Office, booking, madrid, seed_office
from argon2 import PasswordHasher
from PIL import Image
from pypdf import PdfWriter
from sqlalchemy import func, select
from support.clock import FakeClock

from cabina.config import load_settings
from contract.appointments import BookedVia
from hub.app import create_app
from hub.appointments import documents as sent_ahead
from hub.appointments.documents import AppointmentDocuments, DocumentRefused, check_document
from hub.appointments.models import Appointment as AppointmentRow
from hub.appointments.models import AppointmentDocument, DocumentKind
from hub.appointments.pages import tr
from hub.appointments.service import Appointments
from hub.attention_log import AttentionLog
from hub.db import Database
from hub.models import Attention, LogEntry, User
from hub.security import create_session
from hub.server import BackgroundHub
from hub.services import services_of
from hub.settings import HubSettings

TUESDAY = date(2026, 3, 3)
#: A label with a DNI in it: the session's guard fails the test if it reaches a log line.
LABEL = "DNI 12345678Z (por las dos caras)"


def pdf_file(pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def image_file(kind: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, format=kind)
    return out.getvalue()


PDF, JPEG, PNG = pdf_file(), image_file("JPEG"), image_file("PNG")


# The checks of a file, on their own ---------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", "empty"),
        (b"Querida oficina: adjunto mi DNI.\n", "wrong_type"),
        (b"GIF89a" + bytes(64), "wrong_type"),
        (PDF[: len(PDF) // 2], "damaged"),
        (b"%PDF-1.7\n" + bytes(200) + b"\n%%EOF\n", "damaged"),
        (JPEG[: len(JPEG) // 2], "damaged"),
        (PNG[:-20], "damaged"),
        # A PNG's content under a JPEG's magic bytes.
        (b"\xff\xd8\xff" + PNG[3:], "damaged"),
        (b"%PDF-" + bytes(sent_ahead.MAX_BYTES), "too_large"),
    ],
    ids=[
        "empty",
        "text",
        "gif",
        "half-pdf",
        "fake-pdf",
        "half-jpeg",
        "cut-png",
        "png-as-jpeg",
        "too-large",
    ],
)
def test_a_file_is_judged_by_its_content(body: bytes, problem: str) -> None:
    with pytest.raises(DocumentRefused) as refused:
        check_document(body)
    assert refused.value.problem == problem


def test_pdfs_and_images_are_accepted_by_their_content() -> None:
    assert check_document(PDF) is DocumentKind.PDF
    assert check_document(pdf_file(pages=3)) is DocumentKind.PDF
    assert check_document(JPEG) is DocumentKind.JPEG
    assert check_document(PNG) is DocumentKind.PNG


def test_a_sealed_document_opens_only_with_its_key_and_id() -> None:
    sealed = sent_ahead.seal(PDF, SECRET, "doc-1")
    assert PDF[:64] not in sealed
    assert sent_ahead.unseal(sealed, SECRET, "doc-1") == PDF
    for key, document_id in ((SECRET + "x", "doc-1"), (SECRET, "doc-2")):
        with pytest.raises(ValueError, match="does not"):
            sent_ahead.unseal(sealed, key, document_id)


# The served hub -------------------------------------------------------------------------------


@dataclass
class Hub:
    client: httpx.Client
    database: Database
    clock: FakeClock
    office: Office
    appointments: Appointments
    agent: dict[str, str]
    other_agent: dict[str, str]
    supervisor: dict[str, str]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def hub(database: Database, clock: FakeClock, tmp_path: Path) -> Iterator[Hub]:
    """A served hub with the office, its two agents and its supervisor signed in."""
    office = seed_office(database)
    settings = load_settings(
        HubSettings,
        None,
        {
            "data_dir": tmp_path / "data",
            "secret_key": SECRET,
            "cookie_secure": False,
            "host": "127.0.0.1",
            "port": 0,
            "public_url": "https://cita.example.org",
            "appointments": {"sweep_interval_s": 3600},
        },
    )
    hasher = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    app = create_app(settings, database=database, clock=clock, password_hasher=hasher)
    tokens = {}
    with database.transaction() as session:
        for user_id in (*office.agents, office.supervisor):
            user = session.get_one(User, user_id)
            tokens[user_id], _ = create_session(
                session, user, now=clock(), lifetime=timedelta(hours=12)
            )
    with (
        BackgroundHub(settings, app) as served,
        httpx.Client(base_url=served.url, timeout=30) as client,
    ):
        yield Hub(
            client=client,
            database=database,
            clock=clock,
            office=office,
            appointments=services_of(app).appointments,
            agent=_bearer(tokens[office.agents[0]]),
            other_agent=_bearer(tokens[office.agents[1]]),
            supervisor=_bearer(tokens[office.supervisor]),
        )


def _visible(response: httpx.Response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.text)).split())


def _send(
    hub: Hub, token: str, body: bytes, *, name: str, lang: str = "es", label: str = ""
) -> httpx.Response:
    return hub.client.post(
        f"/cita/g/{token}/documents",
        data={"lang": lang, "label": label},
        files={"file": (name, body, "application/octet-stream")},
    )


def _count(hub: Hub, appointment_id: str) -> int:
    with hub.database.session() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(AppointmentDocument)
                .where(AppointmentDocument.appointment_id == appointment_id)
            )
            or 0
        )


def _events(hub: Hub, kind: str) -> list[dict[str, Any]]:
    with hub.database.session() as session:
        payloads = session.scalars(select(LogEntry.payload).where(LogEntry.kind == kind)).all()
    return [json.loads(payload) for payload in payloads]


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _problem(problem: sent_ahead.Problem, lang: str) -> str:
    from hub.appointments.manage_pages import problem_words

    return problem_words(problem, lang)


@pytest.mark.slow
def test_a_citizen_sends_documents_ahead_and_the_agent_reads_them(hub: Hub) -> None:
    client = hub.client
    booked = hub.appointments.book(
        booking(hub.office.offer_id, madrid(TUESDAY, 10)), via=BookedVia.WEB, actor="hub"
    )
    token, appointment_id = booked.token, booked.appointment_id
    page = client.get(f"/cita/g/{token}", params={"lang": "ca"})
    assert tr("Documents for the meeting", "ca") in _visible(page)
    assert 'enctype="multipart/form-data"' in page.text

    # Three good files, whatever their names say.
    for body, name in ((PDF, "scan.txt"), (JPEG, "foto.png"), (PNG, "captura")):
        sent = _send(hub, token, body, name=name, label=LABEL, lang="ca")
        assert sent.status_code == 303, sent.text
        assert sent.headers["location"].endswith("done=attached")
    page = client.get(f"/cita/g/{token}", params={"lang": "ca", "done": "attached"})
    words = _visible(page)
    assert tr("The document has been sent.", "ca") in words
    for kind in ("PDF document", "JPEG image", "PNG image"):
        assert tr(kind, "ca") in words
    assert LABEL in words and "scan.txt" not in page.text

    # Bad files are refused in the citizen's language, and nothing is kept.
    refusals: list[tuple[bytes, str, int, sent_ahead.Problem]] = [
        (b"Querida oficina, os mando mi DNI.\n", "carta.pdf", 415, "wrong_type"),
        (PDF[: len(PDF) - 40], "cortado.pdf", 422, "damaged"),
        (b"%PDF-1.7\n" + bytes(sent_ahead.MAX_BYTES), "enorme.pdf", 413, "too_large"),
        (b"", "vacio.pdf", 422, "empty"),
    ]
    for body, name, status, problem in refusals:
        refused = _send(hub, token, body, name=name, lang="eu")
        assert refused.status_code == status, (name, refused.text)
        assert _problem(problem, "eu") in _visible(refused), name
    assert _count(hub, appointment_id) == 3

    # A link that opens nothing is a plain page, and keeps nothing.
    tampered = ("B" if token[0] != "B" else "C") + token[1:]
    assert _send(hub, tampered, PDF, name="a.pdf").status_code == 404

    # The agenda counts them; the agent it is booked with lists and opens them, audited.
    day = {"day": TUESDAY.isoformat()}
    agenda = _ok(client.get("/api/console/appointments/agenda", params=day, headers=hub.agent))
    assert [entry["documents"] for entry in agenda if entry["id"] == appointment_id] == [3]
    base = f"/api/console/appointments/{appointment_id}/documents"
    listed = _ok(client.get(base, headers=hub.agent))
    # (The test's clock stands still: the three were sent at the same instant.)
    listed.sort(key=lambda item: ["pdf", "jpeg", "png"].index(item["kind"]))
    assert [item["kind"] for item in listed] == ["pdf", "jpeg", "png"]
    assert {item["label"] for item in listed} == {LABEL}
    for item, body in zip(listed, (PDF, JPEG, PNG), strict=True):
        opened = client.get(f"{base}/{item['id']}", headers=hub.agent)
        assert opened.status_code == 200 and opened.content == body
        assert opened.headers["content-type"] == item["content_type"]
        assert opened.headers["cache-control"] == "no-store"
    reads = [event for event in _events(hub, "audit.record_read") if event["what"] == "document"]
    assert sorted(event["id"] for event in reads) == sorted(item["id"] for item in listed)
    assert any(e["what"] == "appointment_documents" for e in _events(hub, "audit.record_read"))

    # Another agent may not; a supervisor may; nobody reads another appointment's document.
    assert client.get(base, headers=hub.other_agent).status_code == 403
    assert client.get(f"{base}/{listed[0]['id']}", headers=hub.other_agent).status_code == 403
    assert client.get(f"{base}/{listed[0]['id']}", headers=hub.supervisor).status_code == 200
    other = hub.appointments.book(
        booking(hub.office.offer_id, madrid(TUESDAY, 11)), via=BookedVia.WEB, actor="hub"
    )
    elsewhere = f"/api/console/appointments/{other.appointment_id}/documents/{listed[0]['id']}"
    assert client.get(elsewhere, headers=hub.supervisor).status_code == 404
    assert client.get(f"{base}/{listed[0]['id']}").status_code == 401

    # The citizen takes one back; the log names each document, never its label.
    removed = client.post(f"{base_citizen(token)}/{listed[1]['id']}/remove", data={"lang": "gl"})
    assert removed.status_code == 303 and removed.headers["location"].endswith("done=removed")
    kept = {item["id"] for item in _ok(client.get(base, headers=hub.agent))}
    assert kept == {listed[0]["id"], listed[2]["id"]}
    added = _events(hub, "appointment.document_added")
    named = {"reference", "document_id", "kind", "size", "sha256"}
    assert len(added) == 3 and all(set(event) == named for event in added)
    assert len(_events(hub, "appointment.document_removed")) == 1

    # One past the most an appointment keeps is refused.
    documents = AppointmentDocuments(
        hub.database, hub.appointments.log, hub.clock, secret_key=SECRET
    )
    for _ in range(sent_ahead.MAX_DOCUMENTS - 2):
        documents.attach(token, PNG, "")
    too_many = _send(hub, token, PDF, name="otro.pdf", lang="es")
    assert too_many.status_code == 409
    assert _problem("too_many", "es") in _visible(too_many)
    full = client.get(f"/cita/g/{token}")
    assert 'name="file"' not in full.text

    # Cancelling erases them: they have no purpose left.
    cancelled = client.post(f"/cita/g/{token}", data={"lang": "es", "action": "cancel"})
    assert cancelled.status_code == 303
    assert _count(hub, appointment_id) == 0
    assert client.get(base, headers=hub.agent).json() == []
    assert _send(hub, token, PDF, name="tarde.pdf").status_code == 409

    # Once the link has expired, the page says so and takes nothing.
    hub.clock.advance(days=3)
    other_token = other.token
    assert _send(hub, other_token, PDF, name="a.pdf").status_code == 410


def base_citizen(token: str) -> str:
    """Where the management page's document forms post."""
    return f"/cita/g/{token}/documents"


def test_the_serving_agent_reads_them_and_they_go_with_the_personal_data(
    database: Database, clock: FakeClock, log: AttentionLog, appointments: Appointments
) -> None:
    office = seed_office(database)
    booked = appointments.book(
        booking(office.offer_id, madrid(TUESDAY, 10)), via=BookedVia.WEB, actor="hub"
    )
    documents = AppointmentDocuments(database, log, clock, secret_key=SECRET)
    sent = documents.attach(booked.token, PDF, LABEL)
    with database.session() as session:
        stored = session.scalars(select(AppointmentDocument)).one()
        assert PDF[:64] not in stored.sealed and stored.size == len(PDF)
        row = session.get_one(AppointmentRow, booked.appointment_id)
        booked_with = session.get_one(User, row.agent_id)
        other = next(
            session.get_one(User, agent) for agent in office.agents if agent != row.agent_id
        )
    assert documents.open_for_staff(booked.appointment_id, sent.id, booked_with).body == PDF
    with pytest.raises(PermissionError):
        documents.for_staff(booked.appointment_id, other)
    # The citizen joined a call the other agent answered: they serve it, and may read them.
    with database.transaction() as session:
        visit = Attention(id=str(uuid.uuid4()), agent_id=other.id, consent_recording=False)
        session.add(visit)
        session.get_one(AppointmentRow, booked.appointment_id).joined_attention_id = visit.id
    assert [item.id for item in documents.for_staff(booked.appointment_id, other)] == [sent.id]
    # Not before the retention has passed ...
    clock.advance(days=2)
    assert appointments.forget_expired(clock()) == 0
    assert len(documents.listed(booked.token)) == 1
    # ... and then with the name, the document number and the contacts.
    clock.advance(days=appointments.settings.retention_days)
    assert appointments.forget_expired(clock()) == 1
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(AppointmentDocument)) == 0
