"""A call's documents at the hub, over HTTP: uploads from the cabin, downloads for it.

Documents travel over HTTP, not the WebSocket: the cabin uploads a scan (a PDF, then a small
JPEG preview of its first page) or a signed PDF to
``POST /api/calls/{call_id}/documents?purpose=scan|preview|signed`` (the raw file as the body) and
downloads what the agent wants printed or signed from ``GET /api/documents/{id}``. The sheets
of a feeder batch go up one by one as they are scanned; the hub then joins them into the
batch's PDF (``POST /api/calls/{call_id}/documents/batch``), so no page is sent twice. A failure
is a :class:`~kiosk.steps.errors.StepError` (``upload_failed``, ``download_failed``).
"""

from __future__ import annotations

from typing import Literal

import httpx

from kiosk.steps.errors import StepError

__all__ = ["DocumentClient"]


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
        purpose: Literal["scan", "preview", "signed"],
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

    async def join(self, call_id: str, pages: list[str]) -> str:
        """Have the hub join the scans ``pages`` (a feeder batch's sheets, already uploaded one
        by one) into one PDF for the agent of ``call_id``; returns its document id."""
        try:
            response = await self._http.post(
                f"{self._base}/api/calls/{call_id}/documents/batch",
                json={"pages": pages},
                headers=self._headers,
            )
        except httpx.HTTPError as exc:
            raise StepError("upload_failed", f"{type(exc).__name__} joining the pages") from exc
        if response.status_code != 201:
            raise StepError(
                "upload_failed",
                f"Expected HTTP 201 for the joined pages, but got {response.status_code}",
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
