"""Documents a citizen sends ahead of an appointment, through its private management link.

A citizen may attach PDFs, JPEGs and PNGs (at most :data:`MAX_DOCUMENTS` per appointment, each
at most :data:`MAX_BYTES`) while the appointment is still to come; the agent it is booked with
opens them from the console before the meeting. A file is checked by its content, never its
name: its magic bytes say its kind, and a real parse must read it whole (for a PDF, the
check the call's documents get, :func:`hub.documents.pdf_problem`; for an image, Pillow), so
a renamed text file or a file cut short is refused.

The files are personal data. They are kept in the database, sealed with AES-GCM like the
padrón's certificates (:mod:`hub.padron.csv_code`): under a key derived from the hub's secret
key, bound to the document's id, so a copy of the database alone reads nothing. They are
erased when the appointment is cancelled (they have no purpose left) and with the
appointment's other personal data once its retention has passed
(:meth:`hub.appointments.service.Appointments.forget_expired`). The log records each one as
a reference (id, kind, size, SHA-256); the citizen's label and the file's name are never
logged, and the file's name is not even kept.
"""

from __future__ import annotations

import hashlib
import io
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from PIL import Image, UnidentifiedImageError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from contract.appointments import AppointmentDocument as DocumentInfo
from contract.appointments import AppointmentStatus
from contract.clock import Clock
from contract.events import EventKind, NewEvent
from hub import sealing
from hub.appointments.base import AppointmentRefused, AppointmentsBase, row_by_token
from hub.appointments.models import Appointment as AppointmentRow
from hub.appointments.models import AppointmentDocument, DocumentKind
from hub.attention_log import AttentionLog
from hub.db import Database
from hub.documents import pdf_problem
from hub.models import Attention, Role, User

logger = logging.getLogger(__name__)

#: The largest file a citizen may send, and how many files one appointment keeps.
MAX_BYTES = 10 * 1024 * 1024
MAX_DOCUMENTS = 10
#: The longest label a citizen may give a file ("DNI", "última factura").
MAX_LABEL = 80
#: An image larger than this many pixels is refused before it is decoded (a decompression
#: bomb fits in a small file).
MAX_PIXELS = 40_000_000

CONTENT_TYPES: dict[DocumentKind, str] = {
    DocumentKind.PDF: "application/pdf",
    DocumentKind.JPEG: "image/jpeg",
    DocumentKind.PNG: "image/png",
}
_PIL_FORMATS = {DocumentKind.JPEG: "JPEG", DocumentKind.PNG: "PNG"}
#: Statuses in which a citizen may still add or remove documents (before the meeting ends).
_OPEN = (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN)


def takes_documents(status: AppointmentStatus, ends_at: datetime, now: datetime) -> bool:
    """Whether an appointment still takes documents: booked or checked in, and not over."""
    return status in _OPEN and ends_at > now


Problem = Literal["empty", "too_large", "wrong_type", "damaged", "too_many", "not_found"]


class DocumentRefused(Exception):
    """A document that is not accepted; ``problem`` says why, for the citizen's words."""

    def __init__(self, problem: Problem, detail: str) -> None:
        super().__init__(detail)
        self.problem: Problem = problem


def detect_kind(body: bytes) -> DocumentKind | None:
    """The kind of ``body`` by its magic bytes, or ``None``."""
    if body.startswith(b"%PDF-"):
        return DocumentKind.PDF
    if body.startswith(b"\xff\xd8\xff"):
        return DocumentKind.JPEG
    if body.startswith(b"\x89PNG\r\n\x1a\n"):
        return DocumentKind.PNG
    return None


def _readable_pdf(body: bytes) -> bool:
    # A PDF ends with an end-of-file marker: one cut short has none (pypdf would mend it).
    # Then it is parsed as the call's documents are: page tree, pages and their sizes.
    return b"%%EOF" in body[-1024:] and pdf_problem(body) is None


def _readable_image(body: bytes, kind: DocumentKind) -> bool:
    try:
        with Image.open(io.BytesIO(body)) as image:
            if image.format != _PIL_FORMATS[kind]:
                return False
            width, height = image.size
            if width * height > MAX_PIXELS:
                return False
            image.verify()
        # verify() reads the structure only; decoding every pixel finds a file cut short.
        with Image.open(io.BytesIO(body)) as image:
            image.load()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return False
    return True


def check_document(body: bytes) -> DocumentKind:
    """The kind of an acceptable file; :class:`DocumentRefused` for any other."""
    if not body:
        raise DocumentRefused("empty", "Expected a file, but got nothing")
    if len(body) > MAX_BYTES:
        raise DocumentRefused(
            "too_large", f"Expected at most {MAX_BYTES} bytes, but got more ({len(body)})"
        )
    kind = detect_kind(body)
    if kind is None:
        raise DocumentRefused("wrong_type", "Expected a PDF, JPEG or PNG file")
    readable = _readable_pdf(body) if kind is DocumentKind.PDF else _readable_image(body, kind)
    if not readable:
        raise DocumentRefused("damaged", f"Expected a readable {kind.value} file")
    return kind


def clean_label(text: str) -> str | None:
    """A citizen's label, its spaces tidied and cut to :data:`MAX_LABEL`; ``None`` if blank."""
    label = " ".join("".join(c for c in text if c.isprintable()).split())[:MAX_LABEL]
    return label or None


def _key(secret_key: str) -> bytes:
    return sealing.derive_key(secret_key, b"cabina appointment documents v1")


def seal(body: bytes, secret_key: str, document_id: str) -> bytes:
    """``body`` encrypted under the hub's documents key, bound to the document's id."""
    return sealing.seal(body, _key(secret_key), document_id)


def unseal(sealed: bytes, secret_key: str, document_id: str) -> bytes:
    """The file :func:`seal` sealed; :class:`ValueError` if the key or the data is wrong."""
    try:
        return sealing.unseal(sealed, _key(secret_key), document_id)
    except ValueError as exc:
        raise ValueError(
            f"Expected document {document_id} to open with the hub's key, but it does not"
        ) from exc


def erase_documents(session: Session, appointment_ids: Iterable[str]) -> int:
    """Delete the documents of these appointments (cancelled, or past retention); how many."""
    ids = list(appointment_ids)
    if not ids:
        return 0
    result = session.execute(
        delete(AppointmentDocument).where(AppointmentDocument.appointment_id.in_(ids))
    )
    return int(getattr(result, "rowcount", 0) or 0)


def document_counts(session: Session, appointment_ids: Iterable[str]) -> dict[str, int]:
    """How many documents each of these appointments has (absent: none)."""
    ids = list(appointment_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(AppointmentDocument.appointment_id, func.count())
        .where(AppointmentDocument.appointment_id.in_(ids))
        .group_by(AppointmentDocument.appointment_id)
    ).all()
    return {appointment_id: int(count) for appointment_id, count in rows}


def info_of(row: AppointmentDocument) -> DocumentInfo:
    """What the console and the management page show of a document."""
    return DocumentInfo(
        id=row.id,
        kind=row.kind.value,
        content_type=CONTENT_TYPES[row.kind],
        size=row.size,
        label=row.label,
        created_at=row.created_at,
    )


@dataclass(frozen=True, slots=True)
class Opened:
    """A document and its bytes, for a download."""

    info: DocumentInfo
    body: bytes
    reference: str


class AppointmentDocuments:
    """Attaching, listing, reading and removing the documents of appointments."""

    def __init__(
        self, database: Database, log: AttentionLog, clock: Clock, *, secret_key: str
    ) -> None:
        self.database = database
        self.log = log
        self.clock = clock
        self.secret_key = secret_key

    @classmethod
    def beside(cls, appointments: AppointmentsBase) -> AppointmentDocuments:
        """The documents of the appointments ``appointments`` keeps: same database, log,
        clock and key."""
        return cls(
            appointments.database,
            appointments.log,
            appointments.clock,
            secret_key=appointments.secret_key,
        )

    # The citizen, by the management link ---------------------------------------------------

    @staticmethod
    def _by_token(session: Session, token: str, now: datetime) -> AppointmentRow:
        return row_by_token(session, token, now)

    @staticmethod
    def _open(row: AppointmentRow, now: datetime) -> AppointmentRow:
        if row.status is AppointmentStatus.CANCELLED:
            raise AppointmentRefused("already_cancelled", "Expected a live appointment")
        if not takes_documents(row.status, row.ends_at, now):
            raise AppointmentRefused("not_changeable", "Expected an appointment still to come")
        return row

    def listed(self, token: str) -> list[DocumentInfo]:
        """The documents of the appointment behind a management link, oldest first."""
        with self.database.session() as session:
            row = self._by_token(session, token, self.clock())
            return self._list(session, row.id)

    def attach(self, token: str, body: bytes, label: str) -> DocumentInfo:
        """Keep ``body`` for the appointment behind a management link.

        :class:`DocumentRefused` for a file that is not accepted or one too many;
        :class:`AppointmentRefused` for a link that opens nothing or an appointment past.
        """
        now = self.clock()
        with self.database.session() as session:
            self._open(self._by_token(session, token, now), now)
        kind = check_document(body)
        document_id = str(uuid.uuid4())
        sealed = seal(body, self.secret_key, document_id)
        with self.log.writing() as session:
            # Checked again under the write lock: a cancellation meanwhile erased the others.
            row = self._open(self._by_token(session, token, now), now)
            held = session.scalar(
                select(func.count())
                .select_from(AppointmentDocument)
                .where(AppointmentDocument.appointment_id == row.id)
            )
            if (held or 0) >= MAX_DOCUMENTS:
                raise DocumentRefused(
                    "too_many", f"Expected at most {MAX_DOCUMENTS} documents per appointment"
                )
            document = AppointmentDocument(
                id=document_id,
                appointment_id=row.id,
                kind=kind,
                label=clean_label(label),
                size=len(body),
                sha256=hashlib.sha256(body).hexdigest(),
                sealed=sealed,
                created_at=now,
            )
            session.add(document)
            session.flush()
            self._append(session, EventKind.APPOINTMENT_DOCUMENT_ADDED, row, document, now)
            info = info_of(document)
        logger.info("a document (%s, %d bytes) was sent ahead of an appointment", kind, len(body))
        return info

    def remove(self, token: str, document_id: str) -> None:
        """Delete one document of the appointment behind a management link."""
        now = self.clock()
        with self.log.writing() as session:
            row = self._open(self._by_token(session, token, now), now)
            document = session.get(AppointmentDocument, document_id[:36])
            if document is None or document.appointment_id != row.id:
                raise DocumentRefused("not_found", "Expected a document of this appointment")
            self._append(session, EventKind.APPOINTMENT_DOCUMENT_REMOVED, row, document, now)
            session.delete(document)

    def _append(
        self,
        session: Session,
        kind: EventKind,
        row: AppointmentRow,
        document: AppointmentDocument,
        now: datetime,
    ) -> None:
        self.log.append_in(
            session,
            NewEvent(
                event_id=str(uuid.uuid4()),
                kind=kind,
                attention_id=row.attention_id,
                actor="hub",
                occurred_at=now,
                data={
                    "reference": row.reference,
                    "document_id": document.id,
                    "kind": document.kind.value,
                    "size": document.size,
                    "sha256": document.sha256,
                },
            ),
        )

    # Staff, from the console ---------------------------------------------------------------

    @staticmethod
    def _list(session: Session, appointment_id: str) -> list[DocumentInfo]:
        rows = session.scalars(
            select(AppointmentDocument)
            .where(AppointmentDocument.appointment_id == appointment_id)
            .order_by(AppointmentDocument.created_at, AppointmentDocument.id)
        ).all()
        return [info_of(row) for row in rows]

    @staticmethod
    def may_read(session: Session, row: AppointmentRow, user: User) -> bool:
        """Supervisors and admins read any appointment's documents; an agent, those of the
        appointments booked with them and of the one they are serving (whose citizen joined a
        call they answered)."""
        if user.role in (Role.SUPERVISOR, Role.ADMIN):
            return True
        if user.role is not Role.AGENT:
            return False
        if row.agent_id == user.id:
            return True
        if row.joined_attention_id is None:
            return False
        joined = session.get(Attention, row.joined_attention_id)
        return joined is not None and joined.agent_id == user.id

    def _readable(self, session: Session, appointment_id: str, user: User) -> AppointmentRow:
        row = session.get(AppointmentRow, appointment_id[:36])
        if row is None:
            raise LookupError(f"No appointment {appointment_id}")
        if not self.may_read(session, row, user):
            raise PermissionError(
                "Expected a supervisor, the agent the appointment is booked with or the agent "
                "serving it, but got neither"
            )
        return row

    def for_staff(self, appointment_id: str, user: User) -> list[DocumentInfo]:
        """The documents of an appointment, for someone who may read them.

        :class:`LookupError` if there is no such appointment, :class:`PermissionError` if the
        user may not read its documents.
        """
        with self.database.session() as session:
            row = self._readable(session, appointment_id, user)
            return self._list(session, row.id)

    def open_for_staff(self, appointment_id: str, document_id: str, user: User) -> Opened:
        """One document and its bytes (errors as :meth:`for_staff`'s)."""
        with self.database.session() as session:
            row = self._readable(session, appointment_id, user)
            document = session.get(AppointmentDocument, document_id[:36])
            if document is None or document.appointment_id != row.id:
                raise LookupError(f"No document {document_id} in appointment {appointment_id}")
            try:
                body = unseal(document.sealed, self.secret_key, document.id)
            except ValueError as exc:  # sealed under another key: the hub's key was changed
                logger.error("appointment document %s does not open with this key", document.id)
                raise LookupError(
                    f"Document {document_id} no longer opens: the hub's key has changed"
                ) from exc
            return Opened(info_of(document), body, row.reference)
