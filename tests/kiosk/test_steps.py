"""The agent's steps done with the cabin's devices: the real scanner and printer simulators."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from pypdf import PdfReader
from reportlab.pdfgen import canvas

from contract import signalling as p
from hardware.receipt_printer import ReceiptPrinterConfig, open_receipt_printer
from hardware.receipt_printer.simulator import start_background as start_receipt_simulator
from hardware.scanner import Fault, ScannerConfig, open_scanner
from kiosk.flow import StepFinished, StepPrepared
from kiosk.steps import (
    DocumentClient,
    SiteInformation,
    StepError,
    StepRunner,
    fetch_site,
    information_ticket,
    stamp_signature,
)

CALL = "call-steps-1"


def a_pdf(pages: int = 2) -> bytes:
    out = io.BytesIO()
    pdf = canvas.Canvas(out)
    for number in range(pages):
        pdf.drawString(72, 720, f"Page {number + 1}")
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def a_signature() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (300, 100), (0, 0, 128, 255)).save(out, format="PNG")
    return out.getvalue()


class Devices:
    def __init__(self, **devices: Any) -> None:
        self.scanner = devices.get("scanner")
        self.receipt_printer = devices.get("receipt_printer")
        self.a4_printer = devices.get("a4_printer")


@pytest.fixture
def receipt_printer() -> Iterator[Any]:
    simulator = start_receipt_simulator()
    printer = open_receipt_printer(
        ReceiptPrinterConfig(backend="simulator", host=simulator.host, port=simulator.port)
    )
    printer.simulator = simulator  # type: ignore[attr-defined]
    yield printer
    printer.close()
    simulator.close()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def runner_for(
    hub_double: Any, http: httpx.AsyncClient, tmp_path: Path, sent: list[p.Message], **devices: Any
) -> StepRunner:
    return StepRunner(
        devices=Devices(**devices),
        documents=DocumentClient(http, hub_url=hub_double.url, token="t"),
        send=sent.append,
        work_dir=tmp_path / "citizen",
    )


def statuses(sent: list[p.Message]) -> list[tuple[str, str | None]]:
    return [(m.status, m.error) for m in sent if isinstance(m, p.StepUpdate)]


async def test_a_scan_is_uploaded_and_the_agent_told(
    hub_double: Any, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    sent: list[p.Message] = []
    scanner = open_scanner(ScannerConfig(backend="simulator"))
    try:
        runner = runner_for(hub_double, http, tmp_path, sent, scanner=scanner)
        request = p.StepRequest(call_id=CALL, step_id="s1", kind="scan", params={"mode": "gray"})
        finished = await runner.run(request)
    finally:
        scanner.close()
    assert finished.status == "done" and finished.document_id in hub_double.documents
    assert len(PdfReader(io.BytesIO(hub_double.documents[finished.document_id])).pages) == 1
    assert statuses(sent) == [("progress", None), ("done", None)]
    done = sent[-1]
    assert isinstance(done, p.StepUpdate) and done.document_id == finished.document_id
    assert done.preview_document_id is not None
    assert hub_double.documents[done.preview_document_id].startswith(b"\xff\xd8\xff")
    assert not (tmp_path / "citizen").exists() or not any((tmp_path / "citizen").iterdir())


class PacedScanner:
    """The scanner, holding each sheet's scanning thread until the agent was told of it: the
    order of :attr:`events` then shows whether pages reach the agent while the feeder reads."""

    def __init__(self, scanner: Any, events: list[tuple[str, int]]) -> None:
        self.scanner, self.events = scanner, events
        self.told = threading.Semaphore(0)

    def scan_batch(self, options: Any, on_page: Any = None) -> Any:
        def handed(page: Any) -> None:
            self.events.append(("scanned", len([e for e in self.events if e[0] == "scanned"]) + 1))
            on_page(page)
            assert self.told.acquire(timeout=30), "the agent was not told of the page"

        pages = self.scanner.scan_batch(options, handed if on_page else None)
        self.events.append(("batch ended", len(pages)))
        return pages


async def test_a_feeder_scan_reaches_the_agent_sheet_by_sheet_then_as_one_pdf(
    hub_double: Any, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    events: list[tuple[str, int]] = []
    sent: list[p.Message] = []
    scanner = open_scanner(ScannerConfig(backend="simulator"))
    paced = PacedScanner(scanner, events)

    def send(message: p.Message) -> None:
        sent.append(message)
        if isinstance(message, p.StepUpdate) and message.page is not None:
            events.append(("agent told", message.page))
            paced.told.release()

    try:
        runner = StepRunner(
            devices=Devices(scanner=paced),
            documents=DocumentClient(http, hub_url=hub_double.url, token="t"),
            send=send,
            work_dir=tmp_path / "citizen",
        )
        params = {"mode": "gray", "resolution": 50, "source": "adf"}
        request = p.StepRequest(call_id=CALL, step_id="s1", kind="scan", params=params)
        finished = await runner.run(request)
        bad = {"source": "drawer"}
        refused = await runner.run(
            p.StepRequest(call_id=CALL, step_id="s2", kind="scan", params=bad)
        )
    finally:
        scanner.close()
    # The test device's feeder holds ten sheets: each reaches the agent before the next is
    # handed over, all of them before the batch ends.
    sheets = [event for n in range(1, 11) for event in (("scanned", n), ("agent told", n))]
    assert events == [*sheets, ("batch ended", 10)]
    updates = [m for m in sent if isinstance(m, p.StepUpdate) and m.step_id == "s1"]
    assert [(m.status, m.page) for m in updates] == [("progress", n) for n in range(1, 11)] + [
        ("done", None)
    ]
    for update in updates[:-1]:
        assert update.document_id is not None and update.preview_document_id is not None
        assert len(PdfReader(io.BytesIO(hub_double.documents[update.document_id])).pages) == 1
        assert hub_double.documents[update.preview_document_id].startswith(b"\xff\xd8\xff")
    done = updates[-1]
    assert finished.status == "done" and done.document_id == finished.document_id
    assert done.pages == 10 and done.preview_document_id == updates[0].preview_document_id
    reader = PdfReader(io.BytesIO(hub_double.documents[done.document_id]))
    assert len(reader.pages) == 10
    # Page by page, the batch's PDF holds the very pictures the agent saw one by one.
    for number, update in enumerate(updates[:-1]):
        single = PdfReader(io.BytesIO(hub_double.documents[update.document_id])).pages[0]
        assert reader.pages[number].images[0].data == single.images[0].data
    assert (refused.status, refused.error) == ("failed", "bad_params")
    assert not (tmp_path / "citizen").exists() or not any((tmp_path / "citizen").iterdir())


class StoppingScanner:
    """The scanner, noting each sheet it hands over (``scanned``), refuses to hand over
    (``refused``: the receiver raised) and how the batch ended, and keeping every page it
    handed over to look at afterwards. Each sheet's thread waits until the agent was told of
    it, or until :attr:`gone` says no one will be."""

    def __init__(self, scanner: Any) -> None:
        self.scanner = scanner
        self.events: list[tuple[str, int]] = []
        self.handed: list[Any] = []
        self.told = threading.Semaphore(0)
        self.gone = threading.Event()
        self.ended = threading.Event()

    def scan_batch(self, options: Any, on_page: Any) -> Any:
        def handed(page: Any) -> None:
            self.handed.append(page)
            self.events.append(("scanned", len(self.handed)))
            try:
                on_page(page)
            except Exception:
                self.events.append(("refused", len(self.handed)))
                raise
            while not self.told.acquire(timeout=0.05) and not self.gone.is_set():
                pass

        try:
            pages = self.scanner.scan_batch(options, handed)
        except Exception as exc:
            self.events.append((f"batch failed: {type(exc).__name__}", len(self.handed)))
            raise
        finally:
            self.ended.set()
        self.events.append(("batch ended", len(pages)))
        return pages


class FailingUploads(httpx.AsyncBaseTransport):
    """The way to the hub, lost at the upload of sheet ``fail_at``'s PDF."""

    def __init__(self, fail_at: int, lost: threading.Event) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.fail_at, self.lost = fail_at, lost
        self.scans = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.params.get("purpose") == "scan":
            self.scans += 1
            if self.scans >= self.fail_at:
                self.lost.set()
                raise httpx.ConnectError("the hub went away", request=request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


FEEDER = {"mode": "gray", "resolution": 50, "source": "adf"}


async def test_a_sheet_that_fails_to_upload_stops_the_feeder_and_fails_the_batch(
    hub_double: Any, tmp_path: Path
) -> None:
    sent: list[p.Message] = []
    scanner = open_scanner(ScannerConfig(backend="simulator"))
    stopping = StoppingScanner(scanner)

    def send(message: p.Message) -> None:
        sent.append(message)
        if isinstance(message, p.StepUpdate) and message.page is not None:
            stopping.events.append(("agent told", message.page))
            stopping.told.release()

    transport = FailingUploads(fail_at=3, lost=stopping.gone)
    try:
        async with httpx.AsyncClient(transport=transport) as http:
            runner = StepRunner(
                devices=Devices(scanner=stopping),
                documents=DocumentClient(http, hub_url=hub_double.url, token="t"),
                send=send,
                work_dir=tmp_path / "citizen",
            )
            request = p.StepRequest(call_id=CALL, step_id="s1", kind="scan", params=FEEDER)
            finished = await runner.run(request)
        read = scanner.status().counters["pages"]
    finally:
        scanner.close()
    assert (finished.status, finished.error) == ("failed", "upload_failed")
    events = stopping.events
    told = [("scanned", 1), ("agent told", 1), ("scanned", 2), ("agent told", 2), ("scanned", 3)]
    assert events[:5] == told
    # The next sheet handed over is refused, the batch fails there: the feeder is not emptied.
    # (Sheet 4 may still be handed over while the failure of sheet 3 is being handled.)
    refused = [number for what, number in events if what == "refused"]
    assert len(refused) == 1 and refused[0] in (4, 5)
    assert events[-1] == ("batch failed: _BatchStopped", refused[0])
    assert len(stopping.handed) < 10 and read < 10  # sheets the scanner read
    assert all(page.wiped for page in stopping.handed)
    # The agent saw two sheets, then the batch fail: the console drops what it showed of it.
    updates = [(m.status, m.page, m.error) for m in sent if isinstance(m, p.StepUpdate)]
    assert updates == [
        ("progress", 1, None),
        ("progress", 2, None),
        ("failed", None, "upload_failed"),
    ]
    assert not (tmp_path / "citizen").exists() or not any((tmp_path / "citizen").iterdir())


async def test_a_feeder_step_cancelled_stops_the_feeder_and_wipes_every_page(
    hub_double: Any, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    sent: list[p.Message] = []
    scanner = open_scanner(ScannerConfig(backend="simulator"))
    stopping = StoppingScanner(scanner)
    step: asyncio.Task[StepFinished] | None = None

    def send(message: p.Message) -> None:
        sent.append(message)
        if isinstance(message, p.StepUpdate) and message.page is not None:
            stopping.events.append(("agent told", message.page))
            if message.page == 2:
                # The kiosk closes while the feeder still reads: the step's task ends here.
                assert step is not None
                step.cancel()
            stopping.told.release()

    try:
        runner = StepRunner(
            devices=Devices(scanner=stopping),
            documents=DocumentClient(http, hub_url=hub_double.url, token="t"),
            send=send,
            work_dir=tmp_path / "citizen",
        )
        request = p.StepRequest(call_id=CALL, step_id="s1", kind="scan", params=FEEDER)
        step = asyncio.create_task(runner.run(request))
        with pytest.raises(asyncio.CancelledError):
            await step
        stopping.gone.set()  # sheet 3 will never be told of
        # The scanning thread outlives the task: it stops at the next sheet it hands over.
        assert await asyncio.to_thread(stopping.ended.wait, 30)
        await asyncio.sleep(0)  # what the thread handed over before it ended
        read = scanner.status().counters["pages"]
    finally:
        scanner.close()
    events = stopping.events
    assert events[:4] == [("scanned", 1), ("agent told", 1), ("scanned", 2), ("agent told", 2)]
    # (Sheet 3 may be handed over before the cancellation reaches the step.)
    refused = [number for what, number in events if what == "refused"]
    assert len(refused) == 1 and refused[0] in (3, 4)
    assert events[-1] == ("batch failed: _BatchStopped", refused[0])
    assert ("agent told", 3) not in events and len(stopping.handed) < 10 and read < 10
    assert all(page.wiped for page in stopping.handed)
    assert [m.page for m in sent if isinstance(m, p.StepUpdate)] == [1, 2]


async def test_a_jammed_scanner_fails_the_step_with_its_code(
    hub_double: Any, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    sent: list[p.Message] = []
    scanner = open_scanner(ScannerConfig(backend="simulator", fault=Fault.JAMMED))
    try:
        runner = runner_for(hub_double, http, tmp_path, sent, scanner=scanner)
        finished = await runner.run(p.StepRequest(call_id=CALL, step_id="s2", kind="scan"))
    finally:
        scanner.close()
    assert (finished.status, finished.error) == ("failed", "jammed")
    assert statuses(sent) == [("failed", "jammed")]


async def test_a_step_without_its_device_fails_as_missing(
    hub_double: Any, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    sent: list[p.Message] = []
    runner = runner_for(hub_double, http, tmp_path, sent)
    for kind in ("scan", "print_a4", "print_receipt"):
        request = p.StepRequest(call_id=CALL, step_id=f"m-{kind}", kind=kind, document_id="d")
        assert (await runner.run(request)).error == "missing"


async def test_a_receipt_step_prints_what_the_agent_sent(
    hub_double: Any, http: httpx.AsyncClient, tmp_path: Path, receipt_printer: Any
) -> None:
    sent: list[p.Message] = []
    runner = runner_for(hub_double, http, tmp_path, sent, receipt_printer=receipt_printer)
    params = {"title": "Cita", "text": "Dilluns 16, 9:30\nPlaça d'Orfila, 1", "qr": "https://x"}
    request = p.StepRequest(call_id=CALL, step_id="r1", kind="print_receipt", params=params)
    finished = await runner.run(request)
    assert finished == StepFinished("r1", "done")
    receipt = receipt_printer.simulator.wait_for_receipts(1)[0]
    assert receipt.texts[:3] == ["Cita", "Dilluns 16, 9:30", "Plaça d'Orfila, 1"]
    assert receipt.qr_payloads == ["https://x"]


async def test_a_receipt_step_out_of_paper_fails_as_paper_out(
    hub_double: Any, http: httpx.AsyncClient, tmp_path: Path, receipt_printer: Any
) -> None:
    from hardware.health import PaperLevel

    receipt_printer.simulator.set_paper(PaperLevel.OUT)
    sent: list[p.Message] = []
    runner = runner_for(hub_double, http, tmp_path, sent, receipt_printer=receipt_printer)
    request = p.StepRequest(call_id=CALL, step_id="r2", kind="print_receipt", params={"text": "x"})
    assert (await runner.run(request)).error == "paper_out"
    assert statuses(sent) == [("failed", "paper_out")]


async def test_signing_stamps_the_signature_uploads_and_wipes_it(
    hub_double: Any, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    hub_double.documents["to-sign"] = a_pdf(2)
    sent: list[p.Message] = []
    runner = runner_for(hub_double, http, tmp_path, sent)
    request = p.StepRequest(call_id=CALL, step_id="g1", kind="sign", document_id="to-sign")
    prepared = await runner.prepare(request)
    assert prepared.step_id == "g1" and prepared.preview is not None
    assert prepared.preview.read_bytes().startswith(b"\x89PNG")
    assert prepared.preview.parent == tmp_path / "citizen"
    signature = bytearray(a_signature())
    finished = await runner.run(request, signature)
    assert finished.status == "done" and signature == bytearray(len(signature))
    signed = PdfReader(io.BytesIO(hub_double.documents[finished.document_id or ""]))
    assert len(signed.pages) == 2
    assert "/XObject" in signed.pages[1]["/Resources"]  # type: ignore[operator]  # the signature
    assert "/XObject" not in signed.pages[0]["/Resources"]  # type: ignore[operator]


async def test_a_document_that_is_not_a_pdf_or_is_gone_fails_the_step(
    hub_double: Any, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    hub_double.documents["html"] = b"<html>not a pdf</html>"
    sent: list[p.Message] = []
    runner = runner_for(hub_double, http, tmp_path, sent)
    not_pdf = p.StepRequest(call_id=CALL, step_id="g2", kind="sign", document_id="html")
    assert (await runner.run(not_pdf, bytearray(a_signature()))).error == "not_pdf"
    gone = p.StepRequest(call_id=CALL, step_id="g3", kind="sign", document_id="gone")
    assert (await runner.run(gone, bytearray(a_signature()))).error == "download_failed"
    assert await runner.prepare(gone) == StepPrepared("g3")
    no_doc = p.StepRequest(call_id=CALL, step_id="g4", kind="print_a4")
    assert (await runner.run(no_doc)).error == "no_document"


async def test_a_cancelled_step_does_not_tell_the_agent(
    hub_double: Any, http: httpx.AsyncClient, tmp_path: Path, receipt_printer: Any
) -> None:
    sent: list[p.Message] = []
    runner = runner_for(hub_double, http, tmp_path, sent, receipt_printer=receipt_printer)
    request = p.StepRequest(call_id=CALL, step_id="c1", kind="print_receipt", params={"text": "x"})
    runner.cancel(request)
    assert (await runner.run(request)).status == "done"
    assert sent == []


def test_a_signature_box_outside_the_document_is_refused() -> None:
    with pytest.raises(StepError, match="page from 1 to 2"):
        stamp_signature(a_pdf(2), a_signature(), {"page": 3})
    with pytest.raises(StepError, match="readable PDF"):
        stamp_signature(b"%PDF-1.4 broken", a_signature(), {})


async def test_the_information_ticket_prints_in_the_citizen_language(receipt_printer: Any) -> None:
    site = SiteInformation(
        name="Oficina d'Atenció Ciutadana — Sant Andreu",
        address="Plaça d'Orfila, 1, 08030 Barcelona",
        opening_hours={"mon": ["08:30-14:30"], "thu": ["08:30-14:30", "16:00-19:00"]},
    )
    opens = datetime(2026, 3, 16, 7, 30, tzinfo=UTC)
    receipt_printer.print_ticket(information_ticket(site, "ca", opens))
    texts = receipt_printer.simulator.wait_for_receipts(1)[0].texts
    assert texts[0] == "Horaris i adreces"
    assert "Plaça d'Orfila, 1, 08030 Barcelona" in texts
    assert "Oficina d'Atenció Ciutadana - Sant Andreu" in texts  # no em dash on a receipt
    assert "Dilluns: 08:30-14:30" in texts and "Dimarts: Tancat" in texts
    assert "Obre el dilluns 16 de març, 8:30." in texts
    assert texts[-1] == "Gràcies per la vostra visita."


@pytest.mark.slow
async def test_an_a4_step_prints_the_copies_the_agent_asks_for_on_the_ipp_printer(
    hub_double: Any, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    from hardware.a4_printer import A4PrinterConfig, open_a4_printer
    from hardware.a4_printer.simulator import start_background as start_ipp_simulator

    hub_double.documents["print-me"] = a_pdf(1)
    with start_ipp_simulator(tmp_path / "spool") as simulator:
        printer = open_a4_printer(A4PrinterConfig(backend="simulator", uri=simulator.uri))
        try:
            sent: list[p.Message] = []
            runner = runner_for(hub_double, http, tmp_path, sent, a4_printer=printer)

            def request(step_id: str, **params: Any) -> p.StepRequest:
                return p.StepRequest(
                    call_id=CALL, step_id=step_id, kind="print_a4", document_id="print-me",
                    params=params,
                )  # fmt: skip

            finished = await runner.run(request("a1"))
            three = await runner.run(request("a2", copies=3))
            too_many = await runner.run(request("a3", copies=p.MAX_PRINT_COPIES + 1))
            not_a_number = await runner.run(request("a4", copies="2"))
        finally:
            printer.close()
        assert finished == StepFinished("a1", "done", document_id="print-me")
        assert three == StepFinished("a2", "done", document_id="print-me")
        assert too_many == StepFinished("a3", "failed", error="bad_params")
        assert not_a_number == StepFinished("a4", "failed", error="bad_params")
        assert (
            statuses(sent)
            == [("progress", None), ("done", None)] * 2 + [("failed", "bad_params")] * 2
        )
        first, second = (path.name for path in simulator.spooled())
        assert simulator.copies() == {first: 1, second: 3}


async def test_the_site_comes_from_the_cabin_configuration(
    hub_double: Any, http: httpx.AsyncClient
) -> None:
    with pytest.raises(StepError, match="got 404"):
        await fetch_site(http, hub_url=hub_double.url, token="t")
    hub_double.cabin_config = {
        "cabin": {"id": 1, "name": "Sant Andreu 1"},
        "site": {"id": 1, "name": "OAC Sant Andreu", "timezone": "Europe/Madrid"},
        "hub_version": "0.1.0", "heartbeat_interval_s": 5, "issued_at": "2026-11-22T10:00:00Z",
    }  # fmt: skip
    with pytest.raises(StepError, match="does not fit"):
        await fetch_site(http, hub_url=hub_double.url, token="t")
    hub_double.cabin_config["site"]["opening_hours"] = {"always": True}
    site = await fetch_site(http, hub_url=hub_double.url, token="t")
    assert site == SiteInformation("OAC Sant Andreu", "", "Europe/Madrid", {"always": True})
    ticket = information_ticket(site, "gl")
    assert [line.text for line in ticket.body][:2] == ["Horario", "Luns: Aberto todo o día"]
