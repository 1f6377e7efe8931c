"""Documents of a call: scans and signed PDFs from the cabin, PDFs to print or sign from the agent.

``POST /api/calls/{call_id}/documents?purpose=…`` takes the raw file as the request body:

=========  ============  ==============================================
purpose    who uploads   accepted content (checked by magic bytes)
=========  ============  ==============================================
scan       the cabin     JPEG or PDF
signed     the cabin     PDF
print      the agent     PDF
sign       the agent     PDF
show       the agent     PDF (a page the cabin shows the citizen)
=========  ============  ==============================================

Only the two parties of a connected call may upload, and only they may read
(``GET /api/documents/{document_id}``). A document is deleted :data:`RETENTION_S` after its call
ended and never kept longer than :data:`MAX_AGE_S`; a hub that restarts (and so forgets its
calls) starts with none. What the cabin hands over is recorded in the attention's log as a
reference (id, type, size, SHA-256), never as content.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from hashlib import sha256
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel

from hub.attention_log import AttentionLog
from hub.deps import ClockDep, LogDep, UserOrCabin
from hub.events import EventKind, NewEvent, actor_for_cabin, actor_for_user
from hub.models import Cabin, User
from hub.settings import HubSettings

logger = logging.getLogger(__name__)

#: The largest document accepted: an A4 page scanned in colour at 300 dpi fits well within it.
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
#: How long a document stays after its call ended (the agent may still need it in wrap-up).
RETENTION_S = 15 * 60
#: No document is ever kept longer than this, whatever happens to its call.
MAX_AGE_S = 12 * 3600
#: How often expired documents are deleted.
SWEEP_INTERVAL_S = 60.0

Purpose = Literal["scan", "signed", "print", "sign", "show"]
_JPEG, _PDF = "image/jpeg", "application/pdf"
_ACCEPTED: dict[str, dict[str, frozenset[str]]] = {
    "cabin": {"scan": frozenset({_JPEG, _PDF}), "signed": frozenset({_PDF})},
    "agent": {"print": frozenset({_PDF}), "sign": frozenset({_PDF}), "show": frozenset({_PDF})},
}
_EVENT_KINDS = {"scan": EventKind.DOCUMENT_SCANNED, "signed": EventKind.DOCUMENT_SIGNED}
# Events about a document are named after it, so that each is logged once.
_DOCUMENT_EVENTS_NS = uuid.UUID("0b7e61f2-4c0d-4f57-9d7a-51c2a3f8e4b9")


class LiveCall(Protocol):
    """A call the switchboard is handling (:class:`hub.switchboard.Call`)."""

    call_id: str
    attention_id: str
    cabin_id: str
    agent_id: str | None
    answered_at: datetime | None


class LiveCalls(Protocol):
    """What the document and citizen routes ask the switchboard."""

    def call(self, call_id: str) -> LiveCall | None:
        """The live call ``call_id``, or ``None``."""


def live_calls(app: FastAPI) -> LiveCalls:
    """The hub's switchboard, as these routes use it."""
    calls: LiveCalls = app.state.switchboard
    return calls


def party_of(cabin_id: str, agent_id: str | None, principal: User | Cabin) -> str | None:
    """``"cabin"`` or ``"agent"``: which end of a call the caller is, or ``None``."""
    if isinstance(principal, Cabin):
        return "cabin" if cabin_id == str(principal.id) else None
    return "agent" if agent_id is not None and agent_id == str(principal.id) else None


def detect_type(body: bytes) -> str | None:
    """``image/jpeg`` or ``application/pdf`` from the content's magic bytes, else ``None``."""
    if body.startswith(b"\xff\xd8\xff"):
        return _JPEG
    # A PDF ends with an end-of-file marker: an upload cut short has none and is refused.
    if body.startswith(b"%PDF-") and b"%%EOF" in body[-1024:]:
        return _PDF
    return None


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """A document's facts; its bytes are in the store's directory."""

    document_id: str
    call_id: str
    attention_id: str
    cabin_id: str
    agent_id: str | None
    purpose: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime


class DocumentStore:
    """The documents of live and recently ended calls, one file each under ``directory``."""

    def __init__(self, directory: Path, *, retention_s: float, max_age_s: float) -> None:
        self.directory = directory
        self.retention = timedelta(seconds=retention_s)
        self.max_age = timedelta(seconds=max_age_s)
        self._lock = threading.Lock()
        self._index: dict[str, StoredDocument] = {}
        self._last_live: dict[str, datetime] = {}

    def open(self) -> None:
        """Start empty: whatever an earlier run left belongs to calls that no longer exist."""
        if self.directory.exists():
            shutil.rmtree(self.directory)
        self.directory.mkdir(mode=0o700, parents=True)

    def _path(self, document_id: str) -> Path:
        return self.directory / f"{document_id}.bin"

    def save(
        self, body: bytes, *, call: LiveCall, purpose: str, content_type: str, created_at: datetime
    ) -> StoredDocument:
        """Store ``body`` for ``call``."""
        document = StoredDocument(
            document_id=str(uuid.uuid4()),
            call_id=call.call_id,
            attention_id=call.attention_id,
            cabin_id=call.cabin_id,
            agent_id=call.agent_id,
            purpose=purpose,
            content_type=content_type,
            size=len(body),
            sha256=sha256(body).hexdigest(),
            created_at=created_at,
        )
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self._path(document.document_id), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(body)
        with self._lock:
            self._index[document.document_id] = document
            self._last_live[document.call_id] = created_at
        return document

    def get(self, document_id: str, now: datetime) -> tuple[StoredDocument, bytes] | None:
        """A kept document and its bytes, or ``None``."""
        with self._lock:
            # Only ids this store handed out name a file: nothing else reaches the disk.
            document = self._index.get(document_id)
        if document is None or now - document.created_at > self.max_age:
            return None
        try:
            return document, self._path(document.document_id).read_bytes()
        except FileNotFoundError:
            return None

    def ids(self) -> set[str]:
        """The ids of the documents kept now."""
        with self._lock:
            return set(self._index)

    def sweep(self, now: datetime, find_call: Callable[[str], object | None]) -> int:
        """Delete documents whose call ended more than the retention ago; how many went."""
        with self._lock:
            expired = []
            for document in self._index.values():
                if find_call(document.call_id) is not None:
                    self._last_live[document.call_id] = now
                last_live = self._last_live.get(document.call_id, document.created_at)
                if now - document.created_at > self.max_age or now - last_live > self.retention:
                    expired.append(document)
            for document in expired:
                del self._index[document.document_id]
                self._path(document.document_id).unlink(missing_ok=True)
            kept = {document.call_id for document in self._index.values()}
            for call_id in set(self._last_live) - kept:
                del self._last_live[call_id]
        if expired:
            logger.info("deleted %d expired documents", len(expired))
        return len(expired)


class DocumentOut(BaseModel):
    """A stored document, as its uploader is told."""

    document_id: str
    call_id: str
    purpose: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime


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
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail="Expected a document in the request body, but it is empty",
        )
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


def _log_upload(
    log: AttentionLog, document: StoredDocument, principal: User | Cabin, source: str | None
) -> None:
    kind = _EVENT_KINDS.get(document.purpose)
    if kind is None:
        return
    is_cabin = isinstance(principal, Cabin)
    data: dict[str, Any] = {
        "document_id": document.document_id,
        "purpose": document.purpose,
        "content_type": document.content_type,
        "size": document.size,
        "sha256": document.sha256,
    }
    if source:
        data["source_document_id"] = source
    log.append(
        NewEvent(
            event_id=str(uuid.uuid5(_DOCUMENT_EVENTS_NS, document.document_id)),
            kind=kind,
            attention_id=document.attention_id,
            actor=actor_for_cabin(principal.id) if is_cabin else actor_for_user(principal.id),
            occurred_at=document.created_at,
            data=data,
        )
    )


def build_router(settings: HubSettings, store: DocumentStore | None = None) -> APIRouter:
    """The document routes and their store; the router's lifespan deletes expired documents."""
    documents = store or DocumentStore(
        settings.data_dir / "documents", retention_s=RETENTION_S, max_age_s=MAX_AGE_S
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(documents.open)
        app.state.documents = documents

        async def sweep_forever() -> None:
            while True:
                await asyncio.sleep(SWEEP_INTERVAL_S)
                try:
                    clock: Callable[[], datetime] = app.state.clock
                    find = live_calls(app).call
                    await run_in_threadpool(documents.sweep, clock(), find)
                except Exception:  # one failed sweep must not stop the next
                    logger.exception("deleting expired documents failed")

        task = asyncio.create_task(sweep_forever(), name="document-sweeper")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    router = APIRouter(prefix="/api", tags=["documents"], lifespan=lifespan)

    @router.post(
        "/calls/{call_id}/documents",
        status_code=status.HTTP_201_CREATED,
        max_body_size=MAX_DOCUMENT_BYTES,
        responses={413: {"description": "Too large"}, 415: {"description": "Not JPEG or PDF"}},
    )
    async def upload(
        call_id: str,
        request: Request,
        principal: UserOrCabin,
        log: LogDep,
        clock: ClockDep,
        purpose: Annotated[Purpose, Query()],
        source: Annotated[str | None, Query(max_length=64, pattern=r"^[0-9a-f-]{36}$")] = None,
    ) -> DocumentOut:
        """Store a document of a connected call, sent as the raw request body."""
        call = live_calls(request.app).call(call_id)
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
        accepted = _accepted(party, purpose)
        # The route's max_body_size answers 413 to a larger body before it is read in full.
        body = await request.body()
        content_type = _check_content(body, request.headers.get("content-type"), accepted)
        document = await run_in_threadpool(
            documents.save,
            body,
            call=call,
            purpose=purpose,
            content_type=content_type,
            created_at=clock(),
        )
        await run_in_threadpool(_log_upload, log, document, principal, source)
        logger.info("document %s (%s) stored for call %s", document.document_id, purpose, call_id)
        return DocumentOut(
            document_id=document.document_id,
            call_id=document.call_id,
            purpose=document.purpose,
            content_type=document.content_type,
            size=document.size,
            sha256=document.sha256,
            created_at=document.created_at,
        )

    @router.get(
        "/documents/{document_id}",
        response_class=Response,
        responses={200: {"content": {_PDF: {}, _JPEG: {}}}},
    )
    def download(document_id: str, principal: UserOrCabin, clock: ClockDep) -> Response:
        """A document, for the cabin and the agent of its call only."""
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
        extension = "pdf" if document.content_type == _PDF else "jpg"
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
