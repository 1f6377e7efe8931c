"""The privacy reset: after a full attention nothing of the citizen remains, on disk or in memory.

A test citizen goes through a call with a scan (the real SANE test scanner), a document to sign
that carries their name and DNI, a signature and a typed comment; the hub's document and event
endpoints are played by a small HTTP server. After the reset every byte of the data directory
(the outbox database and its WAL included) and the session are searched for them.
"""

from __future__ import annotations

import io
import itertools
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from reportlab.pdfgen import canvas

from contract import signalling as p
from hardware.scanner import ScannerConfig, open_scanner
from kiosk.effects.outbox import Outbox, OutboxSender
from kiosk.flow import (
    AnswerConsent,
    AnswerSurvey,
    ChooseEntry,
    ChooseLanguage,
    ChooseService,
    ConfirmStep,
    EraseCitizenData,
    Flow,
    FlowConfig,
    HangUp,
    HomeEntry,
    PrepareStep,
    RecordEvent,
    RunStep,
    State,
    SubmitSignature,
    Tick,
    TouchScreen,
)
from kiosk.privacy import privacy_reset, redact, shred_tree, wipe_session
from kiosk.session import Session
from kiosk.steps import DocumentClient, StepRunner

DNI = "12345678Z"
NAME = "Mireia Puigdomènech Arrizabalaga"
TOKEN = "privacy-test-token"


def document_to_sign() -> bytes:
    """A one-page PDF naming the citizen, uncompressed so the name is in its bytes."""
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pageCompression=0)
    pdf.drawString(72, 720, f"Sol·licitud de {NAME}, DNI {DNI}")
    pdf.save()
    return out.getvalue()


def signature_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (300, 100), (0, 0, 0, 0)).save(out, format="PNG")
    return out.getvalue()


class Devices:
    def __init__(self, scanner: Any) -> None:
        self.scanner = scanner


def traces(data: bytes) -> list[str]:
    """Which of the citizen's identifiers ``data`` holds, in any usual encoding."""
    found = []
    for needle in (DNI, NAME, "Puigdom", "Arrizabalaga"):
        for encoding in ("utf-8", "utf-16-le", "latin-1"):
            with_encoding = needle.encode(encoding, "ignore")
            if with_encoding and with_encoding in data:
                found.append(f"{needle} ({encoding})")
    return found


@pytest.mark.slow
async def test_nothing_of_the_citizen_remains_after_the_reset(
    tmp_path: Path, hub_double: Any, make_flow: Any, clock: Any
) -> None:
    hub_double.documents["doc-to-sign"] = document_to_sign()
    data_dir = tmp_path / "kiosk"
    citizen_dir, tmp_dir = data_dir / "citizen", data_dir / "tmp"
    outbox = Outbox(data_dir / "outbox.sqlite3", actor="cabin:1")
    flow: Flow = make_flow(FlowConfig(services=("general",)))
    sent_to_hub: list[p.Message] = []
    scanner = open_scanner(ScannerConfig(backend="simulator"))
    erased: list[Session] = []
    async with httpx.AsyncClient() as http:
        documents = DocumentClient(http, hub_url=hub_double.url, token=TOKEN)
        runner = StepRunner(
            devices=Devices(scanner), documents=documents, send=sent_to_hub.append,
            work_dir=citizen_dir,
        )  # fmt: skip
        sender = OutboxSender(outbox, hub_url=hub_double.url, token=TOKEN, http=http)

        async def run(event: Any) -> None:
            for command in flow.dispatch(event):
                if isinstance(command, RecordEvent):
                    outbox.add(command)
                elif isinstance(command, PrepareStep):
                    await run(await runner.prepare(command.request))
                elif isinstance(command, RunStep):
                    await run(await runner.run(command.request, command.signature))
                elif isinstance(command, EraseCitizenData):
                    privacy_reset(command.session, [citizen_dir, tmp_dir])
                    erased.append(command.session)

        for event in (
            TouchScreen(), ChooseLanguage("ca"), ChooseEntry(HomeEntry.TALK_TO_AGENT),
            ChooseService("general"), AnswerConsent(recording=True),
        ):  # fmt: skip
            await run(event)
        call_id, attention_id = flow.session.call_id or "", flow.session.attention_id
        agent = p.Party(id="7", name="Agent")
        await run(
            p.CallConnected(call_id=call_id, attention_id=attention_id, peer=agent, you_offer=True)
        )

        await run(p.StepRequest(call_id=call_id, step_id="scan-1", kind="scan"))
        await run(ConfirmStep())
        assert flow.state is State.CALL and flow.notice is None

        await run(
            p.StepRequest(call_id=call_id, step_id="sign-1", kind="sign", document_id="doc-to-sign")
        )
        assert flow.session.step_preview is not None and flow.session.step_preview.exists()
        # A temporary file some library left with the citizen's name in it.
        tmp_dir.mkdir(parents=True, exist_ok=True)
        (tmp_dir / "leftover.txt").write_text(f"{NAME} {DNI}", encoding="utf-8")
        await run(SubmitSignature(signature_png()))
        assert flow.state is State.CALL and flow.notice is None
        assert any(traces(doc) for doc in hub_double.documents.values() if doc)
        assert any(traces(f.read_bytes()) for f in citizen_dir.rglob("*") if f.is_file())

        await run(HangUp())
        await run(AnswerSurvey(5, f"Sóc {NAME}, DNI {DNI}. Molt bé!"))
        await sender.send_pending()
        clock.advance(flow.config.goodbye_s)
        await run(Tick())
        await sender.send_pending()

    assert flow.state is State.ATTRACT and len(erased) == 1
    assert outbox.count() == 0 and len(hub_double.events) >= 5
    outbox.close()
    scanner.close()

    leftovers = [
        f"{path.relative_to(data_dir)}: {found}"
        for path in data_dir.rglob("*")
        if path.is_file() and (found := traces(path.read_bytes()))
    ]
    assert leftovers == []
    assert [f for f in citizen_dir.rglob("*") if f.is_file()] == []
    for session in (flow.session, erased[0]):
        state = repr(vars(session)) if not hasattr(session, "__slots__") else repr(session)
        assert traces(state.encode()) == [], state
        assert session.files == [] and session.buffers == [] and session.texts == []
    assert DNI not in str(hub_double.events)


def test_wiping_a_session_zeroes_its_buffers_and_forgets_everything(tmp_path: Path) -> None:
    session = Session(language="eu", attention_id=str(uuid.uuid4()), service="general")
    buffer = session.keep_bytes(DNI.encode())
    session.texts.append(NAME)
    session.keep_file(tmp_path / "scan.jpg")
    session.large_text = True
    wipe_session(session)
    assert buffer == bytearray(len(DNI))
    assert session == session and vars(session) == vars(Session(language="eu"))


def test_shredding_overwrites_then_removes_files_and_folders(tmp_path: Path) -> None:
    folder = tmp_path / "citizen"
    (folder / "deep" / "er").mkdir(parents=True)
    for name, content in zip(("a.jpg", "deep/b.pdf", "deep/er/c.png"), itertools.repeat(DNI)):
        (folder / name).write_text(content)
    (folder / "link").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "elsewhere").write_text("not the citizen's")
    assert shred_tree(folder) == 4
    assert folder.is_dir() and list(folder.iterdir()) == []
    assert (tmp_path / "elsewhere").read_text() == "not the citizen's"
    assert shred_tree(tmp_path / "missing") == 0


@pytest.mark.parametrize(
    ("text", "kept", "gone"),
    [
        ("Mi DNI es 12345678Z", "Mi DNI es", "12345678"),
        ("NIE X-1234567-L gracias", "gracias", "1234567"),
        ("dni 12.345.678-Z", "dni", "345"),
        ("llamadme al +34 612 34 56 78", "llamadme al", "612"),
        ("escribid a mireia.p@example.cat", "escribid a", "example"),
        ("Atenció molt bona, 10 de 10", "Atenció molt bona, 10 de 10", "[…]"),
    ],
)
def test_redaction_cuts_identifiers_and_keeps_the_rest(text: str, kept: str, gone: str) -> None:
    redacted = redact(text)
    assert kept in redacted and gone not in redacted
