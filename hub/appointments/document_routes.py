"""The console's routes to the documents citizens sent ahead of their appointments::

    GET /api/console/appointments/{appointment_id}/documents                  agents, supervisors,
    GET /api/console/appointments/{appointment_id}/documents/{document_id}    admins

Supervisors and admins read any appointment's documents; an agent, those of the appointments
booked with them and of the one whose citizen joined a call they answered
(:meth:`hub.appointments.documents.AppointmentDocuments.may_read`); anyone else is refused
(403). The documents are personal data: every list and every download is an
``audit.record_read`` (what ``appointment_documents`` or ``document``). A document is answered
with ``Cache-Control: no-store``, under a name made of the appointment's reference, never the
name the citizen's file had.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from contract.appointments import AppointmentDocument
from contract.events import EventKind
from hub.appointments.documents import AppointmentDocuments
from hub.audit import actor_of, audit
from hub.deps import ServicesDep, require_role
from hub.models import Role, User
from hub.refusals import refused
from hub.services import HubServices

#: Staff who may read an appointment's documents (an agent, only some: see the docstring).
DocumentReader = Annotated[User, Depends(require_role(Role.AGENT, Role.SUPERVISOR, Role.ADMIN))]
_EXTENSIONS = {"pdf": "pdf", "jpeg": "jpg", "png": "png"}


def _documents(services: HubServices) -> AppointmentDocuments:
    return AppointmentDocuments.beside(services.appointments)


def _http_error(exc: Exception) -> HTTPException:
    if isinstance(exc, PermissionError):
        return HTTPException(status.HTTP_403_FORBIDDEN, detail=str(exc))
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc))


def build_router() -> APIRouter:
    """The console's routes to appointments' documents."""
    router = APIRouter(prefix="/api/console/appointments", tags=["appointments: documents"])

    @router.get("/{appointment_id}/documents", responses=refused(403, 404))
    async def list_documents(
        appointment_id: str, services: ServicesDep, user: DocumentReader
    ) -> list[AppointmentDocument]:
        """The documents the citizen sent ahead of an appointment, oldest first.

        Audited (``audit.record_read``, what ``appointment_documents``).
        """
        documents = _documents(services)
        try:
            listed = await run_in_threadpool(documents.for_staff, appointment_id, user)
        except (LookupError, PermissionError) as exc:
            raise _http_error(exc) from exc
        await run_in_threadpool(
            audit,
            services.attention_log,
            EventKind.AUDIT_RECORD_READ,
            actor=actor_of(user),
            now=services.clock(),
            data={"what": "appointment_documents", "id": appointment_id},
        )
        return listed

    @router.get(
        "/{appointment_id}/documents/{document_id}",
        response_class=Response,
        responses={
            200: {"content": {"application/pdf": {}, "image/jpeg": {}, "image/png": {}}},
            **refused(403, 404),
        },
    )
    async def get_document(
        appointment_id: str, document_id: str, services: ServicesDep, user: DocumentReader
    ) -> Response:
        """One document the citizen sent ahead of an appointment.

        Audited (``audit.record_read``, what ``document``).
        """
        documents = _documents(services)
        try:
            opened = await run_in_threadpool(
                documents.open_for_staff, appointment_id, document_id, user
            )
        except (LookupError, PermissionError) as exc:
            raise _http_error(exc) from exc
        await run_in_threadpool(
            audit,
            services.attention_log,
            EventKind.AUDIT_RECORD_READ,
            actor=actor_of(user),
            now=services.clock(),
            data={"what": "document", "id": opened.info.id, "appointment_id": appointment_id},
        )
        name = f"{opened.reference}-{opened.info.id[:8]}.{_EXTENSIONS[opened.info.kind]}"
        return Response(
            opened.body,
            media_type=opened.info.content_type,
            headers={
                "Cache-Control": "no-store",
                "Content-Disposition": f'inline; filename="{name}"',
                "X-Content-Type-Options": "nosniff",
            },
        )

    return router
