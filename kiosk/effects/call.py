"""The video call with the agent: one aiortc peer connection, rebuilt when it dies.

The cabin sends its camera (a :class:`hardware.camera.track.CameraTrack`, one per peer
connection) and the handset's microphone (an aiortc ``MediaPlayer`` on its ALSA device) or
silence when the cabin has no audio device; it plays the agent's voice on the same device.
Each decoded video frame from the agent goes, as RGB, to a callback the screen turns into a
texture. aiortc has no ICE restart, so a dead connection (state ``failed``/``closed``, or no
video from the agent for ``media_timeout_s``) is replaced by a new one and a new offer.

Video encoding follows :mod:`kiosk.effects.encoding`: the cabin prefers H.264 and encodes it with
settings a 2-core cabin holds at 720p30 (aiortc's default x264 preset cannot).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import av
import numpy as np
import numpy.typing as npt
from aiortc import (
    AudioStreamTrack,
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaBlackhole, MediaPlayer, MediaRecorder
from aiortc.mediastreams import MediaStreamError
from aiortc.sdp import candidate_from_sdp

from contract import signalling as p
from kiosk.effects.encoding import EncoderSettings, install_encoder, prefer_codec

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReceivedFrame:
    """A decoded frame of the agent's video, as rows of RGB pixels (top row first)."""

    width: int
    height: int
    rgb: npt.NDArray[np.uint8]


class MutableAudio(MediaStreamTrack):
    """An audio track that sends silence while muted."""

    kind = "audio"

    def __init__(self, source: MediaStreamTrack) -> None:
        super().__init__()
        self.source = source
        self.muted = False

    async def recv(self) -> Any:
        frame = await self.source.recv()
        if self.muted and isinstance(frame, av.AudioFrame):
            for plane in frame.planes:
                plane.update(bytes(plane.buffer_size))
        return frame

    def stop(self) -> None:
        super().stop()
        self.source.stop()


class Call:
    """One call's media: offers or answers, applies candidates, rebuilds a dead connection."""

    def __init__(
        self,
        *,
        call_id: str,
        send: Callable[[p.Message], None],
        ice_servers: list[p.IceServer],
        video_source: Callable[[], MediaStreamTrack],
        on_frame: Callable[[ReceivedFrame], None],
        audio_device: str | None = None,
        media_timeout_s: float = 5.0,
        encoding: EncoderSettings | None = None,
    ) -> None:
        self.call_id = call_id
        self._send = send
        self._config = RTCConfiguration(
            iceServers=[
                RTCIceServer(urls=s.urls, username=s.username, credential=s.credential)
                for s in ice_servers
            ]
        )
        self._video_source = video_source
        self._on_frame = on_frame
        self._audio_device = audio_device
        self._media_timeout_s = media_timeout_s
        self._encoding = encoding or EncoderSettings()
        self._pc: RTCPeerConnection | None = None
        self._tracks: list[MediaStreamTrack] = []
        self._audio: MutableAudio | None = None
        self._sinks: list[MediaRecorder | MediaBlackhole] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._early_candidates: list[p.IceCandidate] = []
        self._offerer = True
        self._ended = False
        self._muted = False
        self._last_frame: float | None = None
        self.rebuilds = 0
        self.frames_received = 0

    @property
    def connection_state(self) -> str:
        """The peer connection's state (``new``, ``connecting``, ``connected`` …)."""
        return self._pc.connectionState if self._pc else "closed"

    async def start(self, you_offer: bool) -> None:
        """Build the peer connection; as the offerer, send the offer."""
        self._offerer = you_offer
        await self._build()
        self._spawn(self._watch_media())

    async def handle(self, message: p.RtcDescription | p.RtcCandidate) -> None:
        """Apply the agent's answer, offer or ICE candidate."""
        if self._ended or message.call_id != self.call_id or self._pc is None:
            return
        pc = self._pc
        if isinstance(message, p.RtcCandidate):
            if pc.remoteDescription is None:
                self._early_candidates.append(message.candidate)
            else:
                await self._add_candidate(pc, message.candidate)
            return
        description = message.description
        if description.type == "offer" and not self._offerer:
            if pc.remoteDescription is not None:
                # The agent rebuilt its side: follow with a new connection of ours.
                await self._replace()
                pc = self._require_pc()
            await pc.setRemoteDescription(RTCSessionDescription(description.sdp, "offer"))
            await pc.setLocalDescription(await pc.createAnswer())
            self._send_local("answer")
        elif description.type == "answer" and self._offerer:
            await pc.setRemoteDescription(RTCSessionDescription(description.sdp, "answer"))
        else:
            logger.warning("ignored an SDP %s the call did not expect", description.type)
            return
        install_encoder(pc, self._encoding)
        for candidate in self._early_candidates:
            await self._add_candidate(pc, candidate)
        self._early_candidates.clear()

    def set_muted(self, muted: bool) -> None:
        """Mute or unmute the cabin's microphone."""
        self._muted = muted
        if self._audio is not None:
            self._audio.muted = muted

    async def hang_up(self) -> None:
        """Close the connection and stop every track and task (the flow tells the hub)."""
        self._ended = True
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._close_pc()

    # --- building and replacing -----------------------------------------------------------

    def _require_pc(self) -> RTCPeerConnection:
        assert self._pc is not None
        return self._pc

    async def _build(self) -> None:
        pc = RTCPeerConnection(self._config)
        self._pc = pc
        video = self._video_source()
        self._tracks = [video]
        self._audio = MutableAudio(self._audio_source())
        self._audio.muted = self._muted
        self._tracks.append(self._audio)
        pc.addTrack(self._audio)
        pc.addTrack(video)
        prefer_codec(pc, self._encoding)

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "video":
                self._spawn(self._receive_video(track))
            else:
                self._play(track)

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            logger.info("call media: %s", pc.connectionState)
            if pc is self._pc and pc.connectionState in ("failed", "closed") and not self._ended:
                await self._recover("connection " + pc.connectionState)

        if self._offerer:
            await pc.setLocalDescription(await pc.createOffer())
            self._send_local("offer")

    def _audio_source(self) -> MediaStreamTrack:
        if self._audio_device is None:
            return AudioStreamTrack()  # silence: this cabin has no audio device
        player = MediaPlayer(self._audio_device, format="alsa", options={"channels": "1"})
        assert player.audio is not None
        return player.audio

    def _play(self, track: MediaStreamTrack) -> None:
        sink: MediaRecorder | MediaBlackhole
        if self._audio_device is None:
            sink = MediaBlackhole()
        else:
            sink = MediaRecorder(self._audio_device, format="alsa")
        sink.addTrack(track)
        self._sinks.append(sink)
        self._spawn(sink.start())

    def _send_local(self, kind: str) -> None:
        local = self._require_pc().localDescription
        description = p.SessionDescription(type=kind, sdp=local.sdp)
        self._send(p.RtcDescription(call_id=self.call_id, description=description))

    async def _add_candidate(self, pc: RTCPeerConnection, candidate: p.IceCandidate) -> None:
        text = candidate.candidate.removeprefix("candidate:")
        if not text:
            return  # end of candidates: aiortc needs no word of it
        try:
            parsed = candidate_from_sdp(text)
        except (AssertionError, ValueError, IndexError):
            logger.warning("ignored an unreadable ICE candidate from the agent")
            return
        parsed.sdpMid = candidate.sdpMid
        parsed.sdpMLineIndex = candidate.sdpMLineIndex
        await pc.addIceCandidate(parsed)

    async def _recover(self, why: str) -> None:
        self._last_frame = None
        if not self._offerer:
            # The offerer rebuilds; an answering cabin waits for the agent's new offer.
            logger.warning("call media lost (%s); waiting for the agent's new offer", why)
            return
        logger.warning("call media lost (%s); building a new connection", why)
        await self._replace()

    async def _replace(self) -> None:
        self.rebuilds += 1
        self._last_frame = None
        await self._close_pc()
        await self._build()

    async def _close_pc(self) -> None:
        pc, self._pc = self._pc, None
        for sink in self._sinks:
            with contextlib.suppress(Exception):
                await sink.stop()
        self._sinks.clear()
        for track in self._tracks:
            track.stop()
        self._tracks.clear()
        if pc is not None:
            await pc.close()

    # --- media ----------------------------------------------------------------------------

    async def _receive_video(self, track: MediaStreamTrack) -> None:
        loop = asyncio.get_running_loop()
        while not self._ended:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if not isinstance(frame, av.VideoFrame):
                continue
            self._last_frame = loop.time()
            self.frames_received += 1
            rgb = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
            self._on_frame(ReceivedFrame(frame.width, frame.height, rgb))

    async def _watch_media(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._ended:
            await asyncio.sleep(min(1.0, self._media_timeout_s / 4))
            last = self._last_frame
            if last is not None and loop.time() - last > self._media_timeout_s:
                await self._recover("no video from the agent")

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
