"""Documents of a call over the real hub: who may upload what, who may read, how long they stay."""

from __future__ import annotations

import asyncio
import io
import uuid
import zlib
from datetime import timedelta
from pathlib import Path

import httpx
from console.office import Connected, Office, connect_call, make_pdf, upload
from pypdf import PdfReader, PdfWriter

from hardware.scanner.base import PdfImage
from hardware.scanner.postprocess import make_pdf as make_scan_pdf
from hub.documents import RETENTION_S, DocumentStore, detect_type
from hub.routes.documents import MAX_DOCUMENT_BYTES
from hub.services import services_of


async def test_a_scan_from_the_cabin_reaches_the_agent_and_no_one_else(
    office: Office, call: Connected, jpeg: bytes
) -> None:
    response = upload(office, call.call_id, "cabin", "scan", jpeg, **{"Content-Type": "image/jpeg"})
    assert response.status_code == 201, response.text
    stored = response.json()
    assert stored["content_type"] == "image/jpeg"
    assert stored["size"] == len(jpeg)
    url = f"/api/documents/{stored['document_id']}"

    for who in ("laia", "cabin"):
        got = office.client.get(url, headers=office.headers(who))
        assert got.status_code == 200
        assert got.content == jpeg
        assert got.headers["content-type"] == "image/jpeg"
        assert got.headers["cache-control"] == "no-store"
        assert got.headers["x-content-type-options"] == "nosniff"
    for who in ("nerea", "montse", "admin"):
        assert office.client.get(url, headers=office.headers(who)).status_code == 403
    assert office.client.get(url).status_code == 401
    missing = office.client.get("/api/documents/nope", headers=office.headers("laia"))
    assert missing.status_code == 404


async def test_what_the_cabin_hands_over_is_in_the_attention_as_a_reference(
    office: Office, call: Connected, jpeg: bytes, pdf: bytes
) -> None:
    scan = upload(office, call.call_id, "cabin", "scan", jpeg).json()
    signed = office.client.post(
        f"/api/calls/{call.call_id}/documents",
        params={"purpose": "signed", "source": scan["document_id"]},
        content=pdf,
        headers=office.headers("cabin"),
    ).json()
    await services_of(office.app).event_writer.flush()
    timeline = office.client.get(
        f"/api/attentions/{call.attention_id}", headers=office.headers("montse")
    ).json()["timeline"]
    events = {item["kind"]: item for item in timeline}
    assert events["document.scanned"]["data"] == {
        "document_id": scan["document_id"],
        "purpose": "scan",
        "content_type": "image/jpeg",
        "size": len(jpeg),
        "sha256": scan["sha256"],
    }
    assert events["document.scanned"]["actor"] == f"cabin:{office.cabin_id}"
    assert events["document.signed"]["data"]["document_id"] == signed["document_id"]
    assert events["document.signed"]["data"]["source_document_id"] == scan["document_id"]


async def test_the_agent_sends_pdfs_that_the_cabin_fetches(
    office: Office, call: Connected, pdf: bytes
) -> None:
    for purpose in ("print", "sign"):
        sent = upload(
            office, call.call_id, "laia", purpose, pdf, **{"Content-Type": "application/pdf"}
        )
        assert sent.status_code == 201, sent.text
        fetched = office.client.get(
            f"/api/documents/{sent.json()['document_id']}", headers=office.headers("cabin")
        )
        assert fetched.content == pdf
        assert fetched.headers["content-type"] == "application/pdf"


async def test_each_end_uploads_only_its_own_kinds(
    office: Office, call: Connected, jpeg: bytes, pdf: bytes
) -> None:
    assert upload(office, call.call_id, "laia", "scan", jpeg).status_code == 403
    assert upload(office, call.call_id, "laia", "signed", pdf).status_code == 403
    assert upload(office, call.call_id, "cabin", "print", pdf).status_code == 403
    refused = upload(office, call.call_id, "cabin", "sign", pdf)
    assert refused.status_code == 403
    assert "Expected the cabin to upload preview or scan or signed, but got 'sign'" in refused.text
    assert upload(office, call.call_id, "cabin", "shred", pdf).status_code == 422


async def test_content_is_checked_by_its_bytes_not_its_label(
    office: Office, call: Connected, jpeg: bytes, pdf: bytes
) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(64)
    assert upload(office, call.call_id, "cabin", "scan", png).status_code == 415
    # A signature must come back as a PDF, not a photo of one.
    assert upload(office, call.call_id, "cabin", "signed", jpeg).status_code == 415
    # A PDF cut short in transit has no end-of-file marker.
    assert upload(office, call.call_id, "laia", "print", pdf[: len(pdf) // 2]).status_code == 415
    mislabelled = upload(
        office, call.call_id, "laia", "print", pdf, **{"Content-Type": "image/jpeg"}
    )
    assert mislabelled.status_code == 415
    assert "Expected Content-Type application/pdf" in mislabelled.text
    assert upload(office, call.call_id, "laia", "print", b"").status_code == 422
    html = b"<html><script>alert(1)</script></html>"
    assert upload(office, call.call_id, "laia", "print", html).status_code == 415


def _pdf_of(size: int, *, page_points: int = 72) -> bytes:
    """A real one-page PDF of ``size`` bytes, most of them one image's (undecoded) data."""
    padding = size - len(_pdf_with(0, page_points))
    body = _pdf_with(padding, page_points)
    # Longer lengths and offsets take a few more digits: take them off the padding.
    return _pdf_with(padding - (len(body) - size), page_points)


def _pdf_with(padding: int, page_points: int) -> bytes:
    image = PdfImage(bytearray(padding), "FlateDecode", "DeviceGray", 8, page_points, 1, 72)
    return bytes(make_scan_pdf([image]))


async def test_a_document_too_large_is_refused(office: Office, call: Connected) -> None:
    response = upload(office, call.call_id, "laia", "print", _pdf_of(MAX_DOCUMENT_BYTES + 1))
    assert response.status_code == 413
    # Just under the limit is fine.
    body = _pdf_of(MAX_DOCUMENT_BYTES)
    assert len(body) == MAX_DOCUMENT_BYTES
    assert upload(office, call.call_id, "laia", "print", body).status_code == 201


async def test_a_pdf_that_does_not_open_is_refused_with_what_is_wrong(
    office: Office, call: Connected
) -> None:
    def refusal(body: bytes, who: str = "cabin", purpose: str = "scan") -> str:
        response = upload(office, call.call_id, who, purpose, body)
        assert response.status_code == 415, response.text
        return str(response.json()["detail"])

    # The right first and last bytes around nothing a reader can use.
    garbage = b"%PDF-1.7\n" + b"Nom: Laia Puig\n" * 50 + b"%%EOF\n"
    detail = refusal(garbage)
    assert detail.startswith("Expected a PDF that opens, but it cannot be read")
    assert "Laia" not in detail  # what is wrong, never what the file says
    no_pages = io.BytesIO()
    PdfWriter().write(no_pages)
    assert refusal(no_pages.getvalue(), "laia", "print").endswith("it has no pages")
    # A page 50 m wide is a malformed or hostile file, not paper.
    assert refusal(_pdf_of(2000, page_points=144_000)).endswith("a page has no sensible size")
    locked = PdfWriter(clone_from=io.BytesIO(make_pdf()))
    locked.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    encrypted = io.BytesIO()
    locked.write(encrypted)
    assert refusal(encrypted.getvalue(), "laia", "print").endswith("needs a password to open")


async def test_a_scan_comes_as_a_pdf_with_a_preview_beside_it(
    office: Office, call: Connected, jpeg: bytes, pdf: bytes
) -> None:
    scan = upload(office, call.call_id, "cabin", "scan", pdf, **{"Content-Type": "application/pdf"})
    assert scan.status_code == 201, scan.text
    scan_id = scan.json()["document_id"]
    preview = office.client.post(
        f"/api/calls/{call.call_id}/documents",
        params={"purpose": "preview", "source": scan_id},
        content=jpeg,
        headers=office.headers("cabin") | {"Content-Type": "image/jpeg"},
    )
    assert preview.status_code == 201, preview.text
    got = office.client.get(
        f"/api/documents/{preview.json()['document_id']}", headers=office.headers("laia")
    )
    assert (got.status_code, got.headers["content-type"]) == (200, "image/jpeg")
    # A preview belongs to a scan of this call; only the cabin sends one; it is a JPEG.
    assert upload(office, call.call_id, "cabin", "preview", jpeg).status_code == 422
    printed = upload(office, call.call_id, "laia", "print", pdf).json()["document_id"]
    not_a_scan = office.client.post(
        f"/api/calls/{call.call_id}/documents",
        params={"purpose": "preview", "source": printed},
        content=jpeg,
        headers=office.headers("cabin"),
    )
    assert not_a_scan.status_code == 422
    assert "Expected source to name a scan" in not_a_scan.text
    assert upload(office, call.call_id, "laia", "preview", jpeg).status_code == 403
    # The preview is a copy of a scan already in the attention: it is not logged again.
    await services_of(office.app).event_writer.flush()
    timeline = office.client.get(
        f"/api/attentions/{call.attention_id}", headers=office.headers("montse")
    ).json()["timeline"]
    scanned = [item for item in timeline if item["kind"] == "document.scanned"]
    assert [item["data"]["document_id"] for item in scanned] == [scan_id]


def _sheet(shade: int) -> bytes:
    """A scanned sheet as the cabin sends it: a one-page PDF of a grey picture."""
    picture = bytearray(zlib.compress(bytes([shade]) * 80 * 60))
    return bytes(make_scan_pdf([PdfImage(picture, "FlateDecode", "DeviceGray", 8, 80, 60, 25)]))


async def test_a_feeder_batch_is_joined_from_the_sheets_the_cabin_sent(
    office: Office, call: Connected, jpeg: bytes
) -> None:
    sheets = [
        upload(office, call.call_id, "cabin", "scan", _sheet(shade)).json()["document_id"]
        for shade in (40, 120, 200)
    ]
    batch_url = f"/api/calls/{call.call_id}/documents/batch"
    joined = office.client.post(batch_url, json={"pages": sheets}, headers=office.headers("cabin"))
    assert joined.status_code == 201, joined.text
    assert (joined.json()["purpose"], joined.json()["content_type"]) == ("scan", "application/pdf")
    got = office.client.get(
        f"/api/documents/{joined.json()['document_id']}", headers=office.headers("laia")
    )
    pages = PdfReader(io.BytesIO(got.content), strict=True).pages
    # Every sheet, in the order the cabin named them, with its picture as it was sent.
    assert [page.images[0].data for page in pages] == [
        PdfReader(io.BytesIO(_sheet(shade))).pages[0].images[0].data for shade in (40, 120, 200)
    ]
    await services_of(office.app).event_writer.flush()
    timeline = office.client.get(
        f"/api/attentions/{call.attention_id}", headers=office.headers("montse")
    ).json()["timeline"]
    scanned = {
        item["data"]["document_id"]: item["data"]
        for item in timeline
        if item["kind"] == "document.scanned"
    }
    assert scanned[joined.json()["document_id"]]["page_document_ids"] == sheets

    def join(who: str, pages: list[str]) -> httpx.Response:
        return office.client.post(batch_url, json={"pages": pages}, headers=office.headers(who))

    # Only the cabin joins its scans; only scans (PDFs) of this call, each once, two or more.
    assert join("laia", sheets).status_code == 403
    preview = office.client.post(
        f"/api/calls/{call.call_id}/documents",
        params={"purpose": "preview", "source": sheets[0]},
        content=jpeg,
        headers=office.headers("cabin"),
    ).json()["document_id"]
    photo = upload(office, call.call_id, "cabin", "scan", jpeg).json()["document_id"]
    for pages, where in (
        ([sheets[0], preview], "1"),
        ([photo, sheets[0]], "0"),
        ([sheets[0], str(uuid.uuid4())], "1"),
        ([sheets[0], sheets[0]], None),
    ):
        refused = join("cabin", pages)
        assert refused.status_code == 422, pages
        if where is not None:
            assert refused.json()["detail"][0]["loc"] == ["body", "pages", where]
    assert join("cabin", sheets[:1]).status_code == 422
    assert join("cabin", ["../../etc/passwd", sheets[0]]).status_code == 422
    # Sheets that together outgrow one document are refused before they are read.
    half = _pdf_of(MAX_DOCUMENT_BYTES // 2 + 1)
    large = [
        upload(office, call.call_id, "cabin", "scan", half).json()["document_id"] for _ in "ab"
    ]
    assert join("cabin", large).status_code == 413


async def test_only_the_parties_of_a_connected_call_may_upload(
    office: Office, call: Connected, pdf: bytes, jpeg: bytes
) -> None:
    assert upload(office, "no-such-call", "laia", "print", pdf).status_code == 404
    assert upload(office, call.call_id, "nerea", "print", pdf).status_code == 403
    assert upload(office, call.call_id, "montse", "print", pdf).status_code == 403
    _, other_token = office.place.cabin(office.place.site("OAC Gràcia"), "Gràcia 1")
    foreign = office.client.post(
        f"/api/calls/{call.call_id}/documents",
        params={"purpose": "scan"},
        content=jpeg,
        headers={"Authorization": f"Bearer {other_token}"},
    )
    assert foreign.status_code == 403
    assert (
        office.client.post(
            f"/api/calls/{call.call_id}/documents", params={"purpose": "scan"}, content=jpeg
        ).status_code
        == 401
    )


async def test_no_upload_while_the_citizen_is_still_waiting(office: Office, jpeg: bytes) -> None:
    from support.peers import open_peer

    cabin = await open_peer(office.hub.ws_url, "/ws/cabin", office.cabin_token)
    await cabin.send(
        type="call.request",
        call_id="call-waiting-1",
        attention_id="6b1f0c2e-1d7a-4c55-9a0e-3f0f2b1c9d10",
        service="padron",
        language="es",
    )
    await cabin.expect("queue.update")
    refused = upload(office, "call-waiting-1", "cabin", "scan", jpeg)
    assert refused.status_code == 409
    assert "still waiting" in refused.text
    await cabin.close()


async def test_documents_outlive_their_call_only_by_the_retention(
    office: Office, call: Connected, jpeg: bytes
) -> None:
    document_id = upload(office, call.call_id, "cabin", "scan", jpeg).json()["document_id"]
    services = services_of(office.app)
    store = services.documents
    board = services.switchboard
    now = services.clock()
    # While the call goes on, nothing is deleted however long it lasts.
    assert store.sweep(now + timedelta(hours=2), board.call) == 0
    await call.agent.send(type="call.end", call_id=call.call_id)
    await call.agent.expect("call.ended", call_id=call.call_id)
    # During wrap-up the agent can still open it...
    url = f"/api/documents/{document_id}"
    assert office.client.get(url, headers=office.headers("laia")).status_code == 200
    later = now + timedelta(hours=2)
    assert store.sweep(later, board.call) == 0
    # ...until the retention has passed since the call was last seen.
    gone = later + timedelta(seconds=RETENTION_S + 1)
    assert store.sweep(gone, board.call) == 1
    assert document_id not in store.ids()
    assert office.client.get(url, headers=office.headers("laia")).status_code == 404
    assert list(store.directory.iterdir()) == []


async def test_no_document_outlives_the_maximum_age(tmp_path: Path, office: Office) -> None:
    store = DocumentStore(tmp_path / "docs", retention_s=60, max_age_s=3600)
    store.open()
    connected = await connect_call(office, "nerea")
    board = services_of(office.app).switchboard
    live = board.call(connected.call_id)
    now = services_of(office.app).clock()
    document = store.save(
        make_pdf(), call=live, purpose="print", content_type="application/pdf", created_at=now
    )
    assert store.get(document.document_id, now + timedelta(minutes=59)) is not None
    assert store.get(document.document_id, now + timedelta(minutes=61)) is None
    assert store.sweep(now + timedelta(minutes=61), board.call) == 1
    await connected.cabin.close()
    await connected.agent.close()


def test_a_restarted_store_starts_empty(tmp_path: Path) -> None:
    directory = tmp_path / "docs"
    directory.mkdir()
    (directory / "left-over.bin").write_bytes(b"someone's passport")
    store = DocumentStore(directory, retention_s=60, max_age_s=3600)
    store.open()
    assert list(directory.iterdir()) == []
    assert store.ids() == set()
    assert oct(directory.stat().st_mode & 0o777) == "0o700"


def test_types_are_told_by_magic_bytes() -> None:
    assert detect_type(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert detect_type(make_pdf()) == "application/pdf"
    assert detect_type(b"%PDF-1.7 but never finished") is None
    assert detect_type(b"GIF89a") is None
    assert detect_type(b"") is None


async def test_uploads_run_alongside_signalling(
    office: Office, call: Connected, jpeg: bytes
) -> None:
    # The cabin keeps talking to the hub while a scan uploads: both are answered.
    results = await asyncio.gather(
        asyncio.to_thread(upload, office, call.call_id, "cabin", "scan", jpeg),
        call.cabin.send(type="ping"),
    )
    assert results[0].status_code == 201
    await call.cabin.expect("pong")
