"""Certificates: issued only after identification, PDF with the resident's data, a CSV and a
QR code that, read back from the rendered page, opens a verification page saying "genuine".
"""

from __future__ import annotations

import io
import json
import logging
import subprocess
from pathlib import Path
from typing import Any

import cv2
import httpx
import pytest
from padron.office import Office
from pypdf import PdfReader
from sqlalchemy import select

from hardware.camera.qr import QrReader
from hub.attention_log import AttentionLog
from hub.models import LogEntry
from hub.padron import csv_code
from hub.padron.models import PadronCertificate

ANA = {"document": "99990001P", "birth_date": "1984-03-14"}


def identified(http: httpx.Client, office: Office, attention: str, **extra: Any) -> str:
    headers = extra.pop("headers", None) or office.cabin_headers()
    body = {"attention_id": attention, **ANA} | extra
    response = http.post("/api/padron/identify", json=body, headers=headers)
    assert response.status_code == 200, response.text
    identification: str = response.json()["identification_id"]
    return identification


def issue(
    http: httpx.Client,
    office: Office,
    identification: str,
    kind: str = "individual",
    language: str = "es",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return http.post(
        "/api/padron/certificates",
        json={"identification_id": identification, "kind": kind, "language": language},
        headers=headers or office.cabin_headers(),
    )


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def read_qr(pdf: bytes, tmp_path: Path) -> str:
    """Render the first page as a PNG with pdftoppm and read its QR code with OpenCV."""
    source = tmp_path / "certificate.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "150",
            "-f",
            "1",
            "-l",
            "1",
            str(source),
            str(tmp_path / "page"),
        ],
        check=True,
    )
    [image_path] = sorted(tmp_path.glob("page*.png"))
    image = cv2.imread(str(image_path))
    assert image is not None, f"pdftoppm wrote no readable image at {image_path}"
    text = QrReader()(image)
    assert text is not None, "no QR code found on the page"
    return text


def test_a_certificate_is_issued_and_verified_through_its_qr_code(
    http: httpx.Client, office: Office, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    attention = office.start_attention()
    with caplog.at_level(logging.DEBUG):
        identification = identified(http, office, attention)
        response = issue(http, office, identification)
        assert response.status_code == 201, response.text
        issued = response.json()
        pdf = http.get(issued["pdf_url"], headers=office.cabin_headers())
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["cache-control"] == "no-store"
    text = pdf_text(pdf.content)
    for expected in (
        "Certificado de empadronamiento individual",
        "Ajuntament de Prova",
        "Padrón Municipal de Habitantes",
        "Ana Prueba Ejemplo",
        "99990001P",
        "14/03/1984",
        "01/09/2016",
        "Carrer de la Demostració, 1, 2n 1a",
        "08030 Barcelona",
        "Expedido en Oficina d'Atenció Ciutadana — Sant Andreu el 2 de marzo de 2026 a las 10:00.",
        issued["csv"],
    ):
        assert expected in text, expected
    assert "Jordi" not in text  # an individual certificate lists only its holder
    url = read_qr(pdf.content, tmp_path)
    assert url == issued["verify_url"] == f"{office.url}/verify/{issued['csv'].replace('-', '')}"
    page = httpx.get(url, headers={"Accept-Language": "es-ES,es;q=0.9"})
    assert page.status_code == 200
    assert "Certificado auténtico" in page.text
    assert "A. P. E." in page.text and "Ana" not in page.text and "99990001" not in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    original = httpx.get(url + "/pdf")
    assert original.status_code == 200 and original.content == pdf.content
    for personal in ("99990001", "Ana", "Prueba", "1984", "Demostració"):
        assert personal not in caplog.text


def test_issuing_writes_one_event_in_the_attentions_log(http: httpx.Client, office: Office) -> None:
    attention = office.start_attention()
    issued = issue(http, office, identified(http, office, attention), "collective").json()
    with office.database.session() as session:
        [entry] = session.scalars(
            select(LogEntry).where(
                LogEntry.attention_id == attention, LogEntry.kind == "certificate.issued"
            )
        ).all()
        row = session.get(PadronCertificate, issued["certificate_id"])
    data = json.loads(entry.payload)
    assert entry.actor == f"cabin:{office.seed.cabin_id}"
    assert data["certificate_id"] == issued["certificate_id"]
    assert (data["kind"], data["language"], data["channel"], data["people"]) == (
        "collective", "es", "cabin", 3
    )  # fmt: skip
    assert data["registration_ref"].startswith("r1-")
    assert "DEMO-BCN" not in entry.payload and "99990001" not in entry.payload
    assert row is not None
    assert row.csv_hash == csv_code.lookup_hash(issued["csv"].replace("-", ""))
    assert issued["csv"].replace("-", "") not in row.csv_hash
    assert b"Ana" not in row.pdf_sealed and b"%PDF" not in row.pdf_sealed
    assert AttentionLog(office.database).verify().ok


def test_a_collective_certificate_lists_everyone_at_the_address(
    http: httpx.Client, office: Office
) -> None:
    attention = office.start_attention()
    issued = issue(http, office, identified(http, office, attention), "collective", "ca").json()
    assert issued["people"] == 3
    pdf = http.get(issued["pdf_url"], headers=office.cabin_headers()).content
    text = pdf_text(pdf)
    assert "Certificat d'empadronament col·lectiu" in text
    for name in ("Ana Prueba Ejemplo", "Jordi Exemple Mostra", "Pau Exemple Prueba"):
        assert name in text


@pytest.mark.parametrize(
    ("language", "title"),
    [
        ("eu", "Banakako erroldatze ziurtagiria"),
        ("gl", "Certificado de empadroamento individual"),
        ("en", "Individual certificate of registration"),
        ("ca@valencia", "Certificat d'empadronament individual"),
    ],
)
def test_certificates_are_printed_in_the_citizens_language(
    http: httpx.Client, office: Office, language: str, title: str
) -> None:
    attention = office.start_attention()
    issued = issue(http, office, identified(http, office, attention), language=language).json()
    assert title in pdf_text(http.get(issued["pdf_url"], headers=office.cabin_headers()).content)


def test_no_certificate_without_an_identification(http: httpx.Client, office: Office) -> None:
    response = issue(http, office, "made-up-identification")
    assert response.status_code == 410
    assert response.json()["code"] == "identification_invalid"
    assert response.json()["message"] == "Ha pasado demasiado tiempo. Vuelva a identificarse."
    with office.database.session() as session:
        assert session.scalars(select(PadronCertificate)).all() == []


def test_an_identification_expires_and_is_used_up(http: httpx.Client, office: Office) -> None:
    attention = office.start_attention()
    identification = identified(http, office, attention)
    for _ in range(3):
        assert issue(http, office, identification).status_code == 201
    used_up = issue(http, office, identification)
    assert used_up.status_code == 410
    assert "they are used up" in used_up.json()["detail"]
    late = identified(http, office, attention)
    office.clock.advance(seconds=301)
    assert issue(http, office, late).status_code == 410


def test_another_cabin_cannot_use_the_identification_or_read_the_pdf(
    http: httpx.Client, office: Office
) -> None:
    attention = office.start_attention()
    identification = identified(http, office, attention)
    other = office.cabin_headers(other=True)
    refused = issue(http, office, identification, headers=other)
    assert refused.status_code == 403
    issued = issue(http, office, identification).json()
    assert http.get(issued["pdf_url"], headers=other).status_code == 403
    assert http.get(issued["pdf_url"]).status_code == 401
    assert http.get("/api/padron/certificates/nope.pdf", headers=other).status_code == 404
    office.clock.advance(seconds=1801)
    late = http.get(issued["pdf_url"], headers=office.cabin_headers())
    assert late.status_code == 403
    assert "within 1800 s of its issue" in late.json()["detail"]


def test_the_agent_serving_the_call_issues_from_the_console(
    http: httpx.Client, office: Office
) -> None:
    attention = office.start_attention()
    identification = identified(http, office, attention)  # the citizen, at the cabin
    agent = office.user_headers("agent1")
    assert issue(http, office, identification, headers=agent).status_code == 403
    office.answer(attention, "agent1")
    response = issue(http, office, identification, "collective", headers=agent)
    assert response.status_code == 201, response.text
    issued = response.json()
    assert http.get(issued["pdf_url"], headers=agent).status_code == 200
    # The cabin of the attention may print what the agent issued; another agent may not.
    assert http.get(issued["pdf_url"], headers=office.cabin_headers()).status_code == 200
    assert http.get(issued["pdf_url"], headers=office.user_headers("agent2")).status_code == 403
    with office.database.session() as session:
        entry = session.scalars(select(LogEntry).where(LogEntry.kind == "certificate.issued")).one()
    assert entry.actor == f"user:{office.user_id('agent1')}"
    assert json.loads(entry.payload)["channel"] == "agent"


def test_a_revoked_certificate_says_so(http: httpx.Client, office: Office) -> None:
    attention = office.start_attention()
    issued = issue(http, office, identified(http, office, attention)).json()
    certificate = issued["certificate_id"]
    agent = office.user_headers("agent1")
    reason = {"reason": "Issued to the wrong person"}
    refused = http.post(
        f"/api/padron/certificates/{certificate}/revoke", json=reason, headers=agent
    )
    assert refused.status_code == 403
    supervisor = office.user_headers("supervisor")
    revoked = http.post(
        f"/api/padron/certificates/{certificate}/revoke", json=reason, headers=supervisor
    )
    assert revoked.status_code == 200
    assert revoked.json()["reason"] == "Issued to the wrong person"
    page = httpx.get(issued["verify_url"] + "?lang=es")
    assert page.status_code == 200
    assert "Certificado revocado" in page.text
    assert "se revocó el 2 de marzo de 2026. Ya no es válido." in page.text
    assert "/pdf" not in page.text
    assert httpx.get(issued["verify_url"] + "/pdf").status_code == 404
    as_json = httpx.get(issued["verify_url"], headers={"Accept": "application/json"}).json()
    assert as_json["status"] == "revoked"
    missing = http.post("/api/padron/certificates/no-such/revoke", json=reason, headers=supervisor)
    assert missing.status_code == 404


def test_a_source_that_fails_gives_the_citizen_a_plain_message(
    make_office: Any, tmp_path: Path
) -> None:
    office: Office = make_office(source="rest", rest_url="http://127.0.0.1:9", rest_timeout_s=1)
    attention = office.start_attention()
    with httpx.Client(base_url=office.url) as http:
        response = http.post(
            "/api/padron/identify",
            json={"attention_id": attention, **ANA, "language": "gl"},
            headers=office.cabin_headers(),
        )
    assert response.status_code == 503
    assert response.json()["code"] == "source_unavailable"
    assert response.json()["message"].startswith("Agora non podemos consultar o padrón.")
