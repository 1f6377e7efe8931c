"""The device work of the steps an agent asks for: scan and upload, print, sign, show a page.

Documents travel over HTTP, not the WebSocket: the cabin uploads a scan or a signed PDF to
``POST /api/calls/{call_id}/documents?purpose=scan|signed`` (the raw file as the body) and
downloads what the agent wants printed or signed from ``GET /api/documents/{id}``. Files are
written only to the citizen's folder of the data directory, which the privacy reset erases;
buffers are zeroed as soon as they are sent. The runner tells the agent how the step goes
(``step.update``) and returns a :class:`~kiosk.flow.StepFinished` or
:class:`~kiosk.flow.StepPrepared` for the kiosk to dispatch to the flow; it never shows
anything itself.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import httpx

from hardware.errors import DeviceMissing, HardwareError
from hardware.printer import Align, Ticket, TicketLine
from hardware.scanner.base import ScanMode, ScanOptions
from hub import protocol as p
from kiosk import texts
from kiosk.flow_events import StepFinished, StepPrepared

logger = logging.getLogger(__name__)

_PDF_MAGIC = b"%PDF-"


class StepError(Exception):
    """A step could not be done; ``code`` is what the agent and the flow are told."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class DocumentClient:
    """Uploads and downloads a call's documents at the hub, with the cabin's token."""

    def __init__(self, http: httpx.AsyncClient, *, hub_url: str, token: str) -> None:
        self._http = http
        self._base = hub_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}

    async def upload(
        self,
        call_id: str,
        data: bytes | bytearray,
        *,
        purpose: Literal["scan", "signed"],
        content_type: str,
        source: str | None = None,
    ) -> str:
        """Store ``data`` for the agent of ``call_id``; returns its document id."""
        params = {"purpose": purpose} | ({"source": source} if source else {})
        try:
            response = await self._http.post(
                f"{self._base}/api/calls/{call_id}/documents",
                params=params,
                content=bytes(data),
                headers=self._headers | {"Content-Type": content_type},
            )
        except httpx.HTTPError as exc:
            raise StepError("upload_failed", f"{type(exc).__name__} uploading") from exc
        if response.status_code != 201:
            raise StepError(
                "upload_failed", f"Expected HTTP 201 for the upload, but got {response.status_code}"
            )
        return str(response.json()["document_id"])

    async def download(self, document_id: str) -> bytearray:
        """The bytes of ``document_id``."""
        try:
            response = await self._http.get(
                f"{self._base}/api/documents/{document_id}", headers=self._headers
            )
        except httpx.HTTPError as exc:
            raise StepError("download_failed", f"{type(exc).__name__} downloading") from exc
        if response.status_code != 200:
            raise StepError(
                "download_failed",
                f"Expected HTTP 200 for document {document_id}, but got {response.status_code}",
            )
        return bytearray(response.content)


class StepRunner:
    """Carries out ``RunStep``, ``PrepareStep`` and ``CancelStep`` with the cabin's devices."""

    def __init__(
        self,
        *,
        devices: Any,
        documents: DocumentClient,
        send: Callable[[p.Message], None],
        work_dir: Path,
    ) -> None:
        self._devices = devices
        self._documents = documents
        self._send = send
        self._work_dir = work_dir
        self._cancelled: set[str] = set()

    def cancel(self, request: p.StepRequest) -> None:
        """Drop the result of ``request`` (device work already started runs to its end)."""
        self._cancelled.add(request.step_id)

    async def prepare(self, request: p.StepRequest) -> StepPrepared:
        """Fetch the document a ``sign`` or ``show_info`` step shows and draw its first page."""
        if request.document_id is None:
            return StepPrepared(request.step_id)
        try:
            pdf = await self._pdf(request.document_id)
            path = self._new_file(request.step_id, "pdf")
            await asyncio.to_thread(_write_private, path, pdf)
            pdf[:] = bytes(len(pdf))
            preview = await render_page(path, page=1, out=path.with_suffix(""))
        except StepError as exc:
            logger.warning("step %s: could not prepare (%s)", request.step_id, exc.code)
            return StepPrepared(request.step_id)
        return StepPrepared(request.step_id, preview)

    async def run(self, request: p.StepRequest, signature: bytearray | None = None) -> StepFinished:
        """Do the step's device work, tell the agent how it went, and return the outcome."""
        document_id: str | None = None
        try:
            if request.kind == "scan":
                document_id = await self._scan(request)
            elif request.kind == "print_a4":
                document_id = await self._print_a4(request)
            elif request.kind == "print_receipt":
                await self._print_receipt(request)
            elif request.kind == "sign":
                document_id = await self._sign(request, signature)
        except HardwareError as exc:
            return self._finish(request, "failed", error=exc.code)
        except StepError as exc:
            logger.warning("step %s (%s) failed: %s", request.step_id, request.kind, exc)
            return self._finish(request, "failed", error=exc.code)
        finally:
            if signature is not None:
                signature[:] = bytes(len(signature))
        return self._finish(request, "done", document_id=document_id)

    def _finish(
        self,
        request: p.StepRequest,
        status: Literal["done", "failed"],
        *,
        error: str | None = None,
        document_id: str | None = None,
    ) -> StepFinished:
        if request.step_id in self._cancelled:
            self._cancelled.discard(request.step_id)
        else:
            self._update(request, status, error=error, document_id=document_id)
        return StepFinished(request.step_id, status, error=error, document_id=document_id)

    def _update(self, request: p.StepRequest, status: p.StepStatus, **fields: Any) -> None:
        update = p.StepUpdate(
            call_id=request.call_id, step_id=request.step_id, status=status, **fields
        )
        self._send(update)

    # --- the kinds of step ------------------------------------------------------------------

    async def _scan(self, request: p.StepRequest) -> str:
        scanner = self._device("scanner")
        options = ScanOptions(
            mode=ScanMode(str(request.params.get("mode", "color"))),
            resolution=int(request.params.get("resolution", 200)),
        )
        result = await asyncio.to_thread(scanner.scan, options)
        try:
            self._update(request, "progress", progress=0.5)
            return await self._documents.upload(
                request.call_id, result.jpeg, purpose="scan", content_type="image/jpeg"
            )
        finally:
            result.wipe()

    async def _print_a4(self, request: p.StepRequest) -> str | None:
        document_id = self._document_id(request)
        printer = self._device("a4_printer")
        pdf = await self._pdf(document_id)
        try:
            self._update(request, "progress", progress=0.3)
            await asyncio.to_thread(
                printer.print_pdf, bytes(pdf), title=f"cabina-{request.step_id}"
            )
        finally:
            pdf[:] = bytes(len(pdf))
        return request.document_id

    async def _print_receipt(self, request: p.StepRequest) -> None:
        printer = self._device("receipt_printer")
        params = request.params
        ticket = Ticket(
            header=(_line(str(params.get("title", "")), bold=True, align=Align.CENTER),),
            body=tuple(_line(line) for line in str(params.get("text", "")).splitlines()),
            qr=str(params["qr"]) if params.get("qr") else None,
        )
        await asyncio.to_thread(printer.print_ticket, ticket)

    async def _sign(self, request: p.StepRequest, signature: bytearray | None) -> str:
        if signature is None:
            raise StepError("no_signature", "Expected the citizen's signature, but got none")
        pdf = await self._pdf(self._document_id(request))
        try:
            signed = await asyncio.to_thread(stamp_signature, pdf, signature, request.params)
            return await self._documents.upload(
                request.call_id,
                signed,
                purpose="signed",
                content_type="application/pdf",
                source=request.document_id,
            )
        finally:
            pdf[:] = bytes(len(pdf))

    # --- helpers ----------------------------------------------------------------------------

    def _device(self, name: str) -> Any:
        device = getattr(self._devices, name, None)
        if device is None:
            raise DeviceMissing(f"Expected a {name} in this cabin, but it has none", device=name)
        return device

    @staticmethod
    def _document_id(request: p.StepRequest) -> str:
        if request.document_id is None:
            raise StepError("no_document", f"Expected a document for a {request.kind} step")
        return request.document_id

    async def _pdf(self, document_id: str) -> bytearray:
        data = await self._documents.download(document_id)
        if not data.startswith(_PDF_MAGIC):
            data[:] = bytes(len(data))
            raise StepError("not_pdf", f"Expected document {document_id} to be a PDF")
        return data

    def _new_file(self, step_id: str, suffix: str) -> Path:
        self._work_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self._work_dir / f"{step_id}-{uuid.uuid4().hex[:8]}.{suffix}"


def _write_private(path: Path, data: bytes | bytearray) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


async def render_page(pdf: Path, *, page: int, out: Path, dpi: int = 60) -> Path | None:
    """Draw ``page`` of ``pdf`` as ``<out>.png`` with poppler's ``pdftoppm``; None on failure."""
    try:
        process = await asyncio.create_subprocess_exec(
            "pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page),
            "-singlefile", str(pdf), str(out),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
    except FileNotFoundError:
        logger.warning("pdftoppm is not installed: no preview of the document")
        return None
    if await process.wait() != 0:
        return None
    png = out.with_name(out.name + ".png")
    return png if png.exists() else None


def stamp_signature(
    pdf: bytes | bytearray, signature_png: bytes | bytearray, params: dict[str, Any]
) -> bytearray:
    """``pdf`` with the signature drawn in a box (``page``, ``x_mm``, ``y_mm``, ``width_mm``)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import PdfReadError
    from reportlab.lib.units import mm
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    try:
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(bytes(pdf))))
        pages = len(writer.pages)
    except (PdfReadError, ValueError) as exc:
        raise StepError("not_pdf", "Expected a readable PDF to sign") from exc
    index = int(params.get("page", pages)) - 1
    if not 0 <= index < pages:
        raise StepError("bad_page", f"Expected a page from 1 to {pages}, but got {index + 1}")
    page = writer.pages[index]
    page_w, page_h = float(page.mediabox.width), float(page.mediabox.height)
    box_w = float(params.get("width_mm", 60)) * mm
    x = float(params.get("x_mm", page_w / mm - 80)) * mm
    y = float(params.get("y_mm", 25)) * mm
    overlay = io.BytesIO()
    drawing = canvas.Canvas(overlay, pagesize=(page_w, page_h))
    image = ImageReader(io.BytesIO(bytes(signature_png)))
    drawing.drawImage(
        image, x, y, width=box_w, height=box_w / 3, mask="auto", preserveAspectRatio=True
    )
    drawing.save()
    page.merge_page(PdfReader(overlay).pages[0])
    out = io.BytesIO()
    writer.write(out)
    return bytearray(out.getvalue())


@dataclass(frozen=True, slots=True)
class SiteInformation:
    """The cabin's office as the hub describes it: what the information screen and ticket say."""

    name: str
    address: str
    timezone: str = "Europe/Madrid"
    #: As the hub stores them: ``{"mon": ["09:00-14:00"], …}`` or ``{"always": true}``.
    opening_hours: Mapping[str, Any] = field(default_factory=dict)


async def fetch_site(http: httpx.AsyncClient, *, hub_url: str, token: str) -> SiteInformation:
    """The cabin's site, from ``GET /api/cabin/config``; :class:`StepError` if unavailable."""
    try:
        response = await http.get(
            hub_url.rstrip("/") + "/api/cabin/config",
            headers={"Authorization": f"Bearer {token}"},
        )
        data = response.json() if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError) as exc:
        raise StepError("information_failed", f"{type(exc).__name__} asking the hub") from exc
    site = data.get("site") if isinstance(data, dict) else None
    if not isinstance(site, dict):
        raise StepError(
            "information_failed",
            f"Expected HTTP 200 with the cabin's site, but got {response.status_code}",
        )
    return SiteInformation(
        name=str(site.get("name", "")),
        address=str(site.get("address", "")),
        timezone=str(site.get("timezone", "Europe/Madrid")),
        opening_hours=dict(site.get("opening_hours") or {}),
    )


#: Typography that receipt printers' code pages lack, and what to print instead.
_PLAIN = str.maketrans({"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "..."})


def _line(text: str, **style: Any) -> TicketLine:
    return TicketLine(text.translate(_PLAIN), **style)


def information_ticket(
    site: SiteInformation, lang: str, opens_at: datetime | None = None
) -> Ticket:
    """The ticket a citizen takes away: the office, its address and hours, in ``lang``."""
    body = []
    if site.address:
        body += [_line(texts.tr(texts.ADDRESS, lang), bold=True), _line(site.address)]
    body.append(_line(texts.tr(texts.OPENING_HOURS, lang), bold=True))
    body += [_line(line) for line in texts.opening_hours_lines(site.opening_hours, lang)]
    if opens_at is not None:
        body.append(_line(texts.opens_text(opens_at, lang, site.timezone), bold=True))
    return Ticket(
        header=(
            _line(texts.tr(texts.TICKET_TITLE, lang), bold=True, align=Align.CENTER),
            _line(site.name, align=Align.CENTER),
        ),
        body=tuple(body),
        footer=(_line(texts.tr(texts.TICKET_THANKS, lang), align=Align.CENTER),),
    )
