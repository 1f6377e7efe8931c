"""The device work of the steps an agent asks for: scan and upload, print, sign, show a page.

:class:`StepRunner` carries out the flow's ``RunStep``, ``PrepareStep`` and ``CancelStep``
with the cabin's devices, moving documents through :class:`~kiosk.steps.documents.DocumentClient`
and :mod:`kiosk.steps.pdf`. Files are written only to the citizen's folder of the data
directory, which the privacy reset erases; buffers are zeroed as soon as they are sent. The
runner tells the agent how the step goes (``step.update``) and returns a
:class:`~kiosk.flow.StepFinished` or :class:`~kiosk.flow.StepPrepared` for the kiosk to
dispatch to the flow; it never shows anything itself.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from contract import signalling as p
from hardware.errors import DeviceMissing, HardwareError
from hardware.receipt_printer import Align, Ticket
from hardware.scanner.base import ScanMode, ScanOptions, ScanResult, ScanSource
from hardware.scanner.postprocess import document_pdf
from kiosk.flow.events import StepFinished, StepPrepared
from kiosk.steps.documents import DocumentClient
from kiosk.steps.errors import StepError
from kiosk.steps.information import receipt_line
from kiosk.steps.pdf import render_page, stamp_signature

__all__ = ["StepRunner"]

logger = logging.getLogger(__name__)

_PDF_MAGIC = b"%PDF-"


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
        preview_id: str | None = None
        pages: int | None = None
        try:
            if request.kind == "scan":
                document_id, preview_id, pages = await self._scan(request)
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
        return self._finish(
            request, "done", document_id=document_id, preview_id=preview_id, pages=pages
        )

    def _finish(
        self,
        request: p.StepRequest,
        status: Literal["done", "failed"],
        *,
        error: str | None = None,
        document_id: str | None = None,
        preview_id: str | None = None,
        pages: int | None = None,
    ) -> StepFinished:
        if request.step_id in self._cancelled:
            self._cancelled.discard(request.step_id)
        else:
            self._update(
                request,
                status,
                error=error,
                document_id=document_id,
                preview_document_id=preview_id,
                pages=pages,
            )
        return StepFinished(request.step_id, status, error=error, document_id=document_id)

    def _update(self, request: p.StepRequest, status: p.StepStatus, **fields: Any) -> None:
        update = p.StepUpdate(
            call_id=request.call_id, step_id=request.step_id, status=status, **fields
        )
        self._send(update)

    # --- the kinds of step ------------------------------------------------------------------

    async def _scan(self, request: p.StepRequest) -> tuple[str, str, int | None]:
        """Scan, upload the document as one PDF and its preview: their document ids, and how
        many sheets came from the feeder.

        From the feeder, each sheet goes to the agent as soon as it is processed (its own
        one-page PDF and preview, in a ``progress`` update naming the page), while the next
        sheets are read; when the feeder is empty, the hub joins those sheets into the PDF of
        the whole batch.
        """
        scanner = self._device("scanner")
        params = request.params
        try:
            options = ScanOptions(
                mode=ScanMode(str(params.get("mode", "color"))),
                resolution=int(params.get("resolution", 200)),
                source=ScanSource(str(params.get("source", "flatbed"))),
            )
        except (TypeError, ValueError) as exc:
            raise StepError("bad_params", f"Expected scan options the cabin knows ({exc})") from exc
        if options.source is ScanSource.ADF:
            return await self._scan_feeder(request, scanner, options)
        pages = await asyncio.to_thread(scanner.scan_batch, options)
        try:
            self._update(request, "progress", progress=0.5)
            return *await self._upload_scan(request.call_id, pages), None
        finally:
            for page in pages:
                page.wipe()

    async def _scan_feeder(
        self, request: p.StepRequest, scanner: Any, options: ScanOptions
    ) -> tuple[str, str, int]:
        loop = asyncio.get_running_loop()
        ready: asyncio.Queue[ScanResult | None] = asyncio.Queue()
        received: list[ScanResult] = []
        sent: list[tuple[str, str]] = []  # each page's PDF and preview ids
        # Set once nobody sends pages any more (a sheet failed to upload, or the step was
        # cancelled): the next sheet stops the feeder, and a page still on its way is wiped.
        closed = threading.Event()

        def deliver(page: ScanResult) -> None:  # in the event loop
            if closed.is_set():
                page.wipe()
            else:
                ready.put_nowait(page)

        def on_page(page: ScanResult) -> None:  # in a scanning thread
            if closed.is_set():
                raise _BatchStopped("Expected a sender for the page, but the batch stopped")
            loop.call_soon_threadsafe(deliver, page)

        async def send_pages() -> None:
            try:
                while (page := await ready.get()) is not None:
                    received.append(page)
                    ids = await self._upload_scan(request.call_id, [page])
                    page.wipe()  # the hub has it, and joins the batch's PDF from what it has
                    sent.append(ids)
                    self._update(
                        request, "progress", document_id=ids[0], preview_document_id=ids[1],
                        page=len(sent),
                    )  # fmt: skip
            finally:
                closed.set()

        sender = asyncio.create_task(send_pages())
        try:
            try:
                await asyncio.to_thread(scanner.scan_batch, options, on_page)
            except _BatchStopped:
                pass  # the sender stopped the feeder: awaiting it raises why
            finally:
                # Every page handed over is queued before scan_batch returns or raises.
                ready.put_nowait(None)
            await sender
            if len(received) == 1:
                return *sent[0], 1  # one sheet: its PDF is the document
            # The hub joins the sheets it already has: none is sent a second time.
            pdf_id = await self._documents.join(request.call_id, [ids[0] for ids in sent])
            return pdf_id, sent[0][1], len(received)
        finally:
            closed.set()
            if not sender.done():
                sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
            while not ready.empty():
                if (page := ready.get_nowait()) is not None:
                    received.append(page)
            for page in received:
                page.wipe()

    async def _upload_scan(self, call_id: str, pages: list[ScanResult]) -> tuple[str, str]:
        """Upload ``pages`` as one PDF, then the first page's preview; their document ids."""
        pdf = bytearray()
        try:
            pdf = await asyncio.to_thread(document_pdf, pages)
            document_id = await self._documents.upload(
                call_id, pdf, purpose="scan", content_type="application/pdf"
            )
        finally:
            pdf[:] = bytes(len(pdf))
        preview_id = await self._documents.upload(
            call_id, pages[0].jpeg, purpose="preview", content_type="image/jpeg", source=document_id
        )
        return document_id, preview_id

    async def _print_a4(self, request: p.StepRequest) -> str | None:
        copies = _copies(request.params.get("copies", 1))
        document_id = self._document_id(request)
        printer = self._device("a4_printer")
        pdf = await self._pdf(document_id)
        try:
            self._update(request, "progress", progress=0.3)
            await asyncio.to_thread(
                printer.print_pdf, bytes(pdf), title=f"cabina-{request.step_id}", copies=copies
            )
        finally:
            pdf[:] = bytes(len(pdf))
        return request.document_id

    async def _print_receipt(self, request: p.StepRequest) -> None:
        printer = self._device("receipt_printer")
        params = request.params
        ticket = Ticket(
            header=(receipt_line(str(params.get("title", "")), bold=True, align=Align.CENTER),),
            body=tuple(receipt_line(line) for line in str(params.get("text", "")).splitlines()),
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


class _BatchStopped(Exception):
    """A feeder page came when nobody sends pages any more: the feeder stops there."""


def _copies(value: object) -> int:
    """The copies a print step asks for; ``bad_params`` outside 1 to ``MAX_PRINT_COPIES``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise StepError("bad_params", f"Expected a whole number of copies, but got {value!r}")
    if not 1 <= value <= p.MAX_PRINT_COPIES:
        raise StepError("bad_params", f"Expected 1 to {p.MAX_PRINT_COPIES} copies, but got {value}")
    return value


def _write_private(path: Path, data: bytes | bytearray) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
