"""The documents of a call: a store for scans and PDFs that lives no longer than its calls.

A document is kept :data:`RETENTION_S` after its call ended and never longer than
:data:`MAX_AGE_S`; :func:`sweep_forever` deletes the rest every :data:`SWEEP_INTERVAL_S`. A
store that opens (a hub that restarts, and so forgets its calls) starts empty. What the cabin
hands over is recorded in the attention's log as a reference (id, type, size, SHA-256), never
as content. The routes are in :mod:`hub.routes.documents`.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import shutil
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from hashlib import sha256
from pathlib import Path
from typing import Any, Protocol

import pypdf

from contract.clock import Clock
from contract.events import EventKind, NewEvent, actor_for_cabin, actor_for_user
from hub.attention_log import AttentionLog
from hub.models import Cabin, User

logger = logging.getLogger(__name__)

#: How long a document stays after its call ended (the agent may still need it in wrap-up).
RETENTION_S = 15 * 60
#: No document is ever kept longer than this, whatever happens to its call.
MAX_AGE_S = 12 * 3600
#: How often expired documents are deleted.
SWEEP_INTERVAL_S = 60.0

JPEG, PDF = "image/jpeg", "application/pdf"
#: More pages than any citizen's document: a feeder batch is a few dozen sheets at most.
MAX_PDF_PAGES = 500
#: A page larger than this (in points: 5 m a side) is a malformed or hostile file, not paper.
MAX_PAGE_POINTS = 14_400
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
    """What documents and citizens' identities ask the switchboard."""

    def call(self, call_id: str) -> LiveCall | None:
        """The live call ``call_id``, or ``None``."""


def party_of(cabin_id: str, agent_id: str | None, principal: User | Cabin) -> str | None:
    """``"cabin"`` or ``"agent"``: which end of a call the caller is, or ``None``."""
    if isinstance(principal, Cabin):
        return "cabin" if cabin_id == str(principal.id) else None
    return "agent" if agent_id is not None and agent_id == str(principal.id) else None


def detect_type(body: bytes) -> str | None:
    """``image/jpeg`` or ``application/pdf`` from the content's magic bytes, else ``None``."""
    if body.startswith(b"\xff\xd8\xff"):
        return JPEG
    # A PDF ends with an end-of-file marker: an upload cut short has none and is refused.
    if body.startswith(b"%PDF-") and b"%%EOF" in body[-1024:]:
        return PDF
    return None


def pdf_problem(body: bytes) -> str | None:
    """What keeps ``body`` (already known to look like a PDF) from opening, or ``None``.

    The PDF is parsed for real, page tree and every page's size, so that what reaches the
    agent's viewer or the cabin's printer is a document and not merely its first bytes. The
    answer names what is wrong, never what the document says.
    """
    try:
        reader = pypdf.PdfReader(io.BytesIO(body), strict=False)
        # Many official forms come "encrypted" against editing but open without a password.
        if reader.is_encrypted and not reader.decrypt(""):
            return "it needs a password to open"
        count = len(reader.pages)
        if count == 0:
            return "it has no pages"
        if count > MAX_PDF_PAGES:
            return f"it has {count} pages, more than {MAX_PDF_PAGES}"
        for page in reader.pages:
            box = page.mediabox
            if not (
                0 < float(box.width) <= MAX_PAGE_POINTS and 0 < float(box.height) <= MAX_PAGE_POINTS
            ):
                return "a page has no sensible size"
    # A malformed or hostile file can make pypdf raise nearly anything (zlib, struct,
    # assertion, arithmetic errors besides its own): each means "not a usable PDF".
    except Exception as exc:
        return f"it cannot be read ({type(exc).__name__})"
    return None


def join_pdfs(bodies: list[bytes]) -> bytes:
    """One PDF of the pages of ``bodies``, in order: a feeder batch whose sheets the cabin
    sent one by one, joined where they already are instead of being sent a second time.

    The pages are copied as they are (their pictures are not decoded or encoded again).
    """
    writer = pypdf.PdfWriter()
    for body in bodies:
        writer.append(pypdf.PdfReader(io.BytesIO(body), strict=False))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


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

    def facts(self, document_id: str, now: datetime) -> StoredDocument | None:
        """A kept document's facts, without reading its bytes; or ``None``."""
        with self._lock:
            document = self._index.get(document_id)
        if document is None or now - document.created_at > self.max_age:
            return None
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


def record_upload(
    log: AttentionLog,
    document: StoredDocument,
    principal: User | Cabin,
    source: str | None,
    pages: list[str] | None = None,
) -> None:
    """Log a scanned or signed document as a reference; another (a document sent to the cabin
    to print or show) as ``audit.document_sent``: the cabin logs its printing itself. A scan's
    preview is a reduced copy of a scan already logged, and is not logged again; a feeder
    batch joined at the hub names the scans of its ``pages``."""
    if document.purpose == "preview":
        return
    kind = _EVENT_KINDS.get(document.purpose, EventKind.AUDIT_DOCUMENT_SENT)
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
    if pages:
        data["page_document_ids"] = pages
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


async def sweep_forever(
    store: DocumentStore,
    clock: Clock,
    calls: LiveCalls,
    *,
    interval_s: float = SWEEP_INTERVAL_S,
) -> None:
    """Delete expired documents every ``interval_s``, until cancelled."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await asyncio.to_thread(store.sweep, clock(), calls.call)
        except Exception:  # one failed sweep must not stop the next
            logger.exception("deleting expired documents failed")
