"""Documents of a call: scans and signed PDFs from the cabin, PDFs to print or sign from the agent.

``POST /api/calls/{call_id}/documents?purpose=…`` takes the raw file as the request body:

=========  ============  ==============================================
purpose    who uploads   accepted content (checked by magic bytes)
=========  ============  ==============================================
scan       the cabin     PDF (a scan, every page of a feeder batch) or JPEG
preview    the cabin     JPEG (a scan's first page, small; ``source`` names the scan)
signed     the cabin     PDF
print      the agent     PDF
sign       the agent     PDF
show       the agent     PDF (a page the cabin shows the citizen)
=========  ============  ==============================================

A feeder batch reaches the agent sheet by sheet: the cabin uploads each sheet as a scan of
its own as soon as it is scanned, then asks ``POST /api/calls/{call_id}/documents/batch``
(``{"pages": [scan ids]}``) for the batch's PDF, which the hub joins from those scans, so
that no page crosses the cabin's link twice.

A PDF is parsed for real (:func:`hub.documents.pdf_problem`) before it is stored. Only the
two parties of a connected call may upload, and only they may read
(``GET /api/documents/{document_id}``). How long documents are kept, and what of them goes in
the attention's log, is :mod:`hub.documents`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from contract.events import EventKind
from hub.audit import actor_of, audit
from hub.deps import ClockDep, DocumentsDep, LogDep, SwitchboardDep, UserOrCabin, invalid
from hub.documents import (
    JPEG,
    MAX_PDF_PAGES,
    PDF,
    DocumentStore,
    LiveCall,
    LiveCalls,
    StoredDocument,
    detect_type,
    join_pdfs,
    party_of,
    pdf_problem,
    record_upload,
)
from hub.models import Cabin, User
from hub.refusals import refused

logger = logging.getLogger(__name__)

#: The largest document accepted: hundreds of A4 text pages scanned at 300 dpi (about 60 KB
#: each), or a dozen and more colour photographs (about 0.5 to 1.5 MB each).
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024

Purpose = Literal["scan", "preview", "signed", "print", "sign", "show"]
_ACCEPTED: dict[str, dict[str, frozenset[str]]] = {
    "cabin": {
        "scan": frozenset({JPEG, PDF}),
        "preview": frozenset({JPEG}),
        "signed": frozenset({PDF}),
    },
    "agent": {"print": frozenset({PDF}), "sign": frozenset({PDF}), "show": frozenset({PDF})},
}


_DOCUMENT_ID = r"^[0-9a-f-]{36}$"


class ScanBatchIn(BaseModel):
    """The sheets of a feeder batch, each already uploaded as a scan, in the feeder's order."""

    model_config = ConfigDict(extra="forbid")

    pages: Annotated[
        list[Annotated[str, Field(pattern=_DOCUMENT_ID)]],
        Field(min_length=2, max_length=MAX_PDF_PAGES),
    ]


class DocumentOut(BaseModel):
    """A stored document, as its uploader is told."""

    document_id: str
    call_id: str
    purpose: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime


def _out(document: StoredDocument) -> DocumentOut:
    return DocumentOut(
        document_id=document.document_id,
        call_id=document.call_id,
        purpose=document.purpose,
        content_type=document.content_type,
        size=document.size,
        sha256=document.sha256,
        created_at=document.created_at,
    )


def _connected_call(
    calls: LiveCalls, call_id: str, principal: User | Cabin
) -> tuple[LiveCall, str]:
    """The connected call ``call_id`` and which of its parties ``principal`` is."""
    call = calls.call(call_id)
    if call is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"No current call {call_id!r}")
    party = party_of(call.cabin_id, call.agent_id, principal)
    if party is None:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"Expected the cabin or the agent of call {call_id}, but got neither",
        )
    if call.answered_at is None:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"Expected call {call_id} to be connected, but it is still waiting",
        )
    return call, party


def _batch_pages(
    documents: DocumentStore, call: LiveCall, pages: list[str], now: datetime
) -> list[bytes]:
    """The PDFs of a batch's sheets: scans of ``call`` this store still keeps, each once, read
    from the disk only when together they fit in one document."""
    if len(set(pages)) != len(pages):
        raise invalid(("body", "pages"), "Expected each sheet once, but a scan is named twice")
    total = 0
    for index, document_id in enumerate(pages):
        facts = documents.facts(document_id, now)
        if (
            facts is None
            or facts.call_id != call.call_id
            or facts.purpose != "scan"
            or facts.content_type != PDF
        ):
            raise invalid(
                ("body", "pages", str(index)),
                f"Expected a PDF scan of call {call.call_id}, but got {document_id!r}",
            )
        total += facts.size
    if total > MAX_DOCUMENT_BYTES:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            detail=f"Expected sheets of at most {MAX_DOCUMENT_BYTES} bytes in all, but got {total}",
        )
    bodies = []
    for index, document_id in enumerate(pages):
        found = documents.get(document_id, now)
        if found is None:  # swept since it was looked at
            raise invalid(("body", "pages", str(index)), f"No document {document_id!r} any more")
        bodies.append(found[1])
    return bodies


def _accepted(party: str, purpose: str) -> frozenset[str]:
    allowed = _ACCEPTED[party]
    if purpose not in allowed:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"Expected the {party} to upload {' or '.join(sorted(allowed))}, "
            f"but got {purpose!r}",
        )
    return allowed[purpose]


def _check_content(body: bytes, declared: str | None, accepted: frozenset[str]) -> str:
    if not body:
        raise invalid(("body",), "Expected a document in the request body, but it is empty")
    detected = detect_type(body)
    if detected is None or detected not in accepted:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail=f"Expected {' or '.join(sorted(accepted))}, "
            f"but the content is {detected or 'of an unknown type'}",
        )
    media = (declared or "").split(";")[0].strip().lower()
    if media and media not in (detected, "application/octet-stream"):
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail=f"Expected Content-Type {detected} for this content, but got {media}",
        )
    return detected


def _check_preview_of(
    documents: DocumentStore, call: LiveCall, source: str | None, now: datetime
) -> None:
    # A preview belongs to a scan of the same call, which the console shows it beside.
    scan = documents.facts(source, now) if source is not None else None
    if scan is None or scan.call_id != call.call_id or scan.purpose != "scan":
        raise invalid(
            ("query", "source"),
            f"Expected source to name a scan of call {call.call_id} for a preview, "
            f"but got {source!r}",
        )


def build_router() -> APIRouter:
    """The document routes; the store is the hub's (:class:`hub.documents.DocumentStore`)."""
    router = APIRouter(prefix="/api", tags=["documents"])

    @router.post(
        "/calls/{call_id}/documents",
        status_code=status.HTTP_201_CREATED,
        max_body_size=MAX_DOCUMENT_BYTES,
        responses=refused(403, 409, 413, 415),
    )
    async def upload(
        call_id: str,
        request: Request,
        principal: UserOrCabin,
        log: LogDep,
        clock: ClockDep,
        documents: DocumentsDep,
        switchboard: SwitchboardDep,
        purpose: Annotated[Purpose, Query()],
        source: Annotated[str | None, Query(max_length=64, pattern=r"^[0-9a-f-]{36}$")] = None,
    ) -> DocumentOut:
        """Store a document of a connected call, sent as the raw request body."""
        call, party = _connected_call(switchboard, call_id, principal)
        accepted = _accepted(party, purpose)
        # The route's max_body_size answers 413 to a larger body before it is read in full.
        body = await request.body()
        content_type = _check_content(body, request.headers.get("content-type"), accepted)
        if content_type == PDF:
            problem = await run_in_threadpool(pdf_problem, body)
            if problem is not None:
                raise HTTPException(
                    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                    detail=f"Expected a PDF that opens, but {problem}",
                )
        if purpose == "preview":
            _check_preview_of(documents, call, source, clock())
        document = await run_in_threadpool(
            documents.save,
            body,
            call=call,
            purpose=purpose,
            content_type=content_type,
            created_at=clock(),
        )
        await run_in_threadpool(record_upload, log, document, principal, source)
        logger.info("document %s (%s) stored for call %s", document.document_id, purpose, call_id)
        return _out(document)

    @router.post(
        "/calls/{call_id}/documents/batch",
        status_code=status.HTTP_201_CREATED,
        responses=refused(403, 409, 413),
    )
    async def join_batch(
        call_id: str,
        batch: ScanBatchIn,
        principal: UserOrCabin,
        log: LogDep,
        clock: ClockDep,
        documents: DocumentsDep,
        switchboard: SwitchboardDep,
    ) -> DocumentOut:
        """The PDF of a feeder batch, joined from the scans of its sheets the cabin sent."""
        call, party = _connected_call(switchboard, call_id, principal)
        if party != "cabin":
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"Expected the cabin of call {call_id} to send its scans, but got the agent",
            )
        bodies = await run_in_threadpool(_batch_pages, documents, call, batch.pages, clock())
        joined = await run_in_threadpool(join_pdfs, bodies)
        if len(joined) > MAX_DOCUMENT_BYTES:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE,
                detail=f"Expected a batch of at most {MAX_DOCUMENT_BYTES} bytes, "
                f"but its PDF has {len(joined)}",
            )
        problem = await run_in_threadpool(pdf_problem, joined)
        if problem is not None:
            raise invalid(("body", "pages"), f"Expected sheets that make one PDF, but {problem}")
        document = await run_in_threadpool(
            documents.save, joined, call=call, purpose="scan", content_type=PDF, created_at=clock()
        )
        await run_in_threadpool(record_upload, log, document, principal, None, batch.pages)
        logger.info(
            "batch %s of %d sheets joined for call %s",
            document.document_id,
            len(batch.pages),
            call_id,
        )
        return _out(document)

    @router.get(
        "/documents/{document_id}",
        response_class=Response,
        responses={200: {"content": {PDF: {}, JPEG: {}}}, **refused(403)},
    )
    def download(
        document_id: str,
        principal: UserOrCabin,
        clock: ClockDep,
        documents: DocumentsDep,
        log: LogDep,
    ) -> Response:
        """A document, for the cabin and the agent of its call only; each read is audited."""
        found = documents.get(document_id, clock())
        if found is None:
            raise HTTPException(
                status.HTTP_404_NOT_FOUND,
                detail=f"No document {document_id!r} (unknown, or no longer kept)",
            )
        document, body = found
        if party_of(document.cabin_id, document.agent_id, principal) is None:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"Expected the cabin or the agent of call {document.call_id}, "
                "but got neither",
            )
        audit(
            log,
            EventKind.AUDIT_RECORD_READ,
            actor=actor_of(principal),
            now=clock(),
            data={"what": "document", "id": document.document_id, "call_id": document.call_id},
        )
        extension = "pdf" if document.content_type == PDF else "jpg"
        return Response(
            body,
            media_type=document.content_type,
            headers={
                # Personal documents: never cached, never sniffed as anything else.
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
                "Content-Disposition": f'inline; filename="{document.document_id}.{extension}"',
                "Cross-Origin-Resource-Policy": "same-origin",
            },
        )

    return router
