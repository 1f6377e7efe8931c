"""A cabin for the browser tests, made of aiortc and :mod:`contract.signalling`.

It calls, offers WebRTC media (a moving test picture and a tone), counts the frames the
agent's browser sends back, and carries out the steps the agent asks for the way a kiosk
would: a scan is a JPEG uploaded to the hub, a ticket goes through the real ESC/POS backend
to the receipt printer simulator, a signature is stamped on the agent's PDF and uploaded.
Each device can be missing, and the citizen can decline to sign.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import av
import httpx
import numpy as np
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamTrack, VideoStreamTrack
from aiortc.sdp import candidate_from_sdp
from websockets.asyncio.client import ClientConnection, connect

from contract import signalling as p
from hardware.errors import HardwareError
from hardware.receipt_printer import Align, ReceiptPrinter, Ticket, TicketLine

logger = logging.getLogger(__name__)


class MovingBars(VideoStreamTrack):
    """Colour bars with a band that moves, so every frame differs from the last."""

    def __init__(self, width: int = 640, height: int = 360) -> None:
        super().__init__()
        bars = np.array(
            [[235, 235, 235], [235, 235, 16], [16, 235, 235], [16, 235, 16], [235, 16, 235],
             [235, 16, 16], [16, 16, 235], [40, 60, 80]], dtype=np.uint8,
        )  # fmt: skip
        columns = np.repeat(bars, width // len(bars) + 1, axis=0)[:width]
        self._base = np.repeat(columns[np.newaxis, :, :], height, axis=0)
        self._count = 0

    async def recv(self) -> av.VideoFrame:
        pts, time_base = await self.next_timestamp()
        image = self._base.copy()
        top = (self._count * 4) % image.shape[0]
        image[top : top + 12, :, :] = 255
        self._count += 1
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts, frame.time_base = pts, time_base
        return frame


def scanned_page() -> bytes:
    """A JPEG that looks like an A4 page out of a scanner."""
    from PIL import Image, ImageDraw

    page = Image.new("RGB", (620, 877), (250, 249, 245))
    draw = ImageDraw.Draw(page)
    draw.rectangle((40, 40, 580, 120), outline=(30, 30, 30), width=3)
    draw.text((60, 70), "AJUNTAMENT - SOL.LICITUD", fill=(20, 20, 20))
    for row in range(12):
        draw.line((60, 170 + row * 40, 560, 170 + row * 40), fill=(150, 150, 150), width=2)
    buffer = io.BytesIO()
    page.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def stamp_signature(pdf: bytes, name: str = "Signat a la cabina") -> bytes:
    """``pdf`` with a signature box drawn on its last page."""
    from pypdf import PdfReader, PdfWriter
    from reportlab.pdfgen import canvas

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    last = writer.pages[-1]
    overlay = io.BytesIO()
    size = (float(last.mediabox.width), float(last.mediabox.height))
    sheet = canvas.Canvas(overlay, pagesize=size)
    sheet.rect(300, 60, 220, 70)
    sheet.drawString(310, 100, name)
    sheet.bezier(320, 80, 360, 120, 400, 40, 480, 90)
    sheet.save()
    last.merge_page(PdfReader(io.BytesIO(overlay.getvalue())).pages[0])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@dataclass
class CabinPeer:
    """One cabin connected to the hub's signalling endpoint."""

    ws_url: str
    hub_url: str
    token: str
    printer: ReceiptPrinter | None = None
    has_scanner: bool = True
    citizen_signs: bool = True
    frames_received: int = 0
    messages: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    #: What went wrong inside this cabin while it carried out a step.
    failures: list[Exception] = field(default_factory=list)
    call_id: str | None = None
    attention_id: str | None = None
    _ws: ClientConnection | None = None
    _pc: RTCPeerConnection | None = None
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def open(self) -> CabinPeer:
        """Connect and start reading, answering heartbeats as a kiosk does."""
        self._ws = await connect(
            f"{self.ws_url}/ws/cabin", additional_headers={"Authorization": f"Bearer {self.token}"}
        )
        self._tasks.append(asyncio.create_task(self._read()))
        welcome = await self.expect("welcome")
        self._tasks.append(asyncio.create_task(self._beat(welcome["heartbeat_interval_s"])))
        return self

    async def send(self, message: p.Message) -> None:
        """Send one protocol message."""
        assert self._ws is not None
        await self._ws.send(p.dump(message))

    async def call(self, service: str = "padron", language: str = "es") -> str:
        """Ask for an agent; returns the call id."""
        self.call_id, self.attention_id = f"call-{uuid4().hex[:12]}", str(uuid4())
        await self.send(
            p.CallRequest(
                call_id=self.call_id,
                attention_id=self.attention_id,
                service=service,
                language=language,
                ref=self.call_id,
            )
        )
        return self.call_id

    async def expect(self, kind: str, within_s: float = 20.0, **fields: Any) -> dict[str, Any]:
        """The first message of ``kind`` (with ``fields``) received so far or from now on."""

        def found() -> dict[str, Any] | None:
            for message in self.messages:
                if message["type"] == kind and all(message.get(k) == v for k, v in fields.items()):
                    return message
            return None

        async with self._arrived:
            try:
                await asyncio.wait_for(
                    self._arrived.wait_for(lambda: found() is not None), within_s
                )
            except TimeoutError:
                seen = [m["type"] for m in self.messages]
                raise AssertionError(f"expected {kind} {fields}, but got only {seen}") from None
        message = found()
        assert message is not None
        return message

    async def hang_up(self) -> None:
        """The citizen ends the call."""
        assert self.call_id is not None
        await self.send(p.CallEnd(call_id=self.call_id))

    async def vanish(self) -> None:
        """The cabin loses power: no goodbye, media and signalling just stop."""
        if self._pc is not None:
            await self._pc.close()
        for task in self._tasks:
            task.cancel()
        if self._ws is not None:
            self._ws.transport.abort()

    async def close(self) -> None:
        """Leave cleanly."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._pc is not None:
            await self._pc.close()
        if self._ws is not None:
            await self._ws.close()

    async def _beat(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self.send(p.Ping(ts=time.time()))

    async def _read(self) -> None:
        assert self._ws is not None
        async for raw in self._ws:
            message = json.loads(raw)
            async with self._arrived:
                self.messages.append(message)
                self._arrived.notify_all()
            handler = getattr(self, "_on_" + message["type"].replace(".", "_"), None)
            if handler is not None:
                self._tasks.append(asyncio.create_task(handler(message)))

    async def _on_call_connected(self, message: dict[str, Any]) -> None:
        assert message["you_offer"] is True
        await self.offer()

    async def offer(self) -> None:
        """Offer media on a new peer connection, as a kiosk does again when media is lost."""
        assert self.call_id is not None
        if self._pc is not None:
            await self._pc.close()
        pc = RTCPeerConnection()
        self._pc = pc
        pc.addTrack(AudioStreamTrack())
        pc.addTrack(MovingBars())

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "video":
                self._tasks.append(asyncio.create_task(self._count_frames(track)))

        await pc.setLocalDescription(await pc.createOffer())
        local = pc.localDescription
        await self.send(
            p.RtcDescription(
                call_id=self.call_id,
                description=p.SessionDescription(type="offer", sdp=local.sdp),
            )
        )

    async def _count_frames(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(Exception):
            while True:
                await track.recv()
                self.frames_received += 1

    async def _on_rtc_description(self, message: dict[str, Any]) -> None:
        assert self._pc is not None
        description = message["description"]
        await self._pc.setRemoteDescription(
            RTCSessionDescription(sdp=description["sdp"], type=description["type"])
        )

    async def _on_rtc_candidate(self, message: dict[str, Any]) -> None:
        data = message["candidate"]
        if self._pc is None or not data["candidate"]:
            return
        candidate = candidate_from_sdp(data["candidate"].split(":", 1)[1])
        candidate.sdpMid = data.get("sdpMid")
        candidate.sdpMLineIndex = data.get("sdpMLineIndex")
        await self._pc.addIceCandidate(candidate)

    async def _on_call_ended(self, message: dict[str, Any]) -> None:
        if self._pc is not None:
            await self._pc.close()
            self._pc = None

    async def _update(self, request: dict[str, Any], status: str, **extra: Any) -> None:
        await self.send(
            p.StepUpdate(
                call_id=request["call_id"], step_id=request["step_id"], status=status, **extra
            )
        )

    async def _upload(self, purpose: str, body: bytes, content_type: str, **params: str) -> str:
        async with httpx.AsyncClient(base_url=self.hub_url, timeout=30) as http:
            response = await http.post(
                f"/api/calls/{self.call_id}/documents",
                params={"purpose": purpose, **params},
                content=body,
                headers={"Authorization": f"Bearer {self.token}", "Content-Type": content_type},
            )
        assert response.status_code == 201, response.text
        return str(response.json()["document_id"])

    async def _download(self, document_id: str) -> bytes:
        async with httpx.AsyncClient(base_url=self.hub_url, timeout=30) as http:
            response = await http.get(
                f"/api/documents/{document_id}", headers={"Authorization": f"Bearer {self.token}"}
            )
        assert response.status_code == 200, response.text
        return response.content

    async def _on_step_request(self, request: dict[str, Any]) -> None:
        self.steps.append(request)
        try:
            await self._run_step(request)
        except Exception as exc:  # a broken step must show, not hang the test
            self.failures.append(exc)
            await self._update(request, "failed", error="io")

    async def _run_step(self, request: dict[str, Any]) -> None:
        kind = request["kind"]
        if kind == "scan":
            if not self.has_scanner:
                await self._update(request, "failed", error="missing")
                return
            await self._update(request, "accepted")
            await self._update(request, "progress", progress=0.5)
            document_id = await self._upload("scan", scanned_page(), "image/jpeg")
            await self._update(request, "done", document_id=document_id)
        elif kind == "print_receipt":
            await self._print_ticket(request)
        elif kind == "sign":
            await self._update(request, "accepted")
            if not self.citizen_signs:
                await self._update(request, "declined")
                return
            original = await self._download(request["document_id"])
            signed = await asyncio.to_thread(stamp_signature, original)
            document_id = await self._upload(
                "signed", signed, "application/pdf", source=request["document_id"]
            )
            await self._update(request, "done", document_id=document_id)
        else:
            await self._update(request, "done")

    async def _print_ticket(self, request: dict[str, Any]) -> None:
        if self.printer is None:
            await self._update(request, "failed", error="missing")
            return
        params = request["params"]
        ticket = Ticket(
            header=(TicketLine(str(params.get("title", "")), bold=True, align=Align.CENTER),),
            body=tuple(TicketLine(line) for line in str(params.get("text", "")).splitlines()),
        )
        try:
            await asyncio.to_thread(self.printer.print_ticket, ticket)
        except HardwareError as exc:
            await self._update(request, "failed", error=exc.code)
            return
        await self._update(request, "done")
