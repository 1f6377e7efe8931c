"""The camera as an aiortc track, over a real peer connection on loopback."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection
from aiortc.mediastreams import MediaStreamError
from av import VideoFrame

from hardware.camera import ManualClock
from hardware.camera.base import Frame
from hardware.camera.simulator import SimulatedCamera
from hardware.camera.timestamp import read_timestamp
from hardware.camera.track import VIDEO_TIME_BASE, CameraTrack
from hardware.errors import DeviceIOError
from hardware.health import DeviceHealth, DeviceState


class FailingCamera:
    """A camera that gives ``good`` frames and then breaks, as an unplugged webcam does."""

    def __init__(self, good: int) -> None:
        self._inner = SimulatedCamera(320, 240, clock=ManualClock())
        self._left = good

    width, height, fps = 320, 240, 30.0

    def read(self) -> Frame:
        if self._left == 0:
            raise DeviceIOError("Expected a frame, but the cable is out", device="camera")
        self._left -= 1
        return self._inner.read()

    def self_test(self) -> DeviceHealth:
        return DeviceHealth("camera", "failing", DeviceState.FAULT)

    def close(self) -> None:
        self._inner.close()


async def _connect(
    track: MediaStreamTrack,
) -> tuple[RTCPeerConnection, RTCPeerConnection, MediaStreamTrack]:
    cabin = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    agent = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    received: asyncio.Future[MediaStreamTrack] = asyncio.get_running_loop().create_future()
    agent.on("track", received.set_result)
    cabin.addTrack(track)
    await cabin.setLocalDescription(await cabin.createOffer())
    await agent.setRemoteDescription(cabin.localDescription)
    await agent.setLocalDescription(await agent.createAnswer())
    await cabin.setRemoteDescription(agent.localDescription)
    return cabin, agent, await asyncio.wait_for(received, 10)


async def test_receiver_decodes_the_capture_time_from_the_video() -> None:
    camera = SimulatedCamera(640, 480, fps=30)
    track = CameraTrack(camera)
    cabin, agent, remote = await _connect(track)
    try:
        stamps = []
        for _ in range(15):
            frame = await asyncio.wait_for(remote.recv(), 10)
            assert isinstance(frame, VideoFrame)
            assert (frame.width, frame.height) == (640, 480)
            stamps.append(read_timestamp(np.asarray(frame.to_ndarray(format="bgr24"), np.uint8)))
        decoded = [ms for ms in stamps if ms is not None]
        # VP8 at its starting bitrate keeps the blocks readable on every frame.
        assert len(decoded) == len(stamps)
        assert decoded == sorted(decoded)
        now_ms = time.time() * 1000
        # Sender and receiver share this host's clock: the latency is positive and short.
        assert all(0 <= now_ms - ms < 10_000 for ms in decoded)
    finally:
        track.stop()
        await cabin.close()
        await agent.close()
        assert track.join(timeout=5)
        camera.close()


async def test_frames_carry_a_90khz_clock_from_capture_time() -> None:
    clock = ManualClock(start=100.0)
    camera = SimulatedCamera(320, 240, fps=10, clock=clock)
    track = CameraTrack(camera, clock=clock)
    try:
        first = await track.recv()
        second = await track.recv()
        assert first.time_base == VIDEO_TIME_BASE
        assert first.pts == 0
        assert second.pts is not None and second.pts > first.pts
        assert first.to_ndarray(format="bgr24").shape == (240, 320, 3)
    finally:
        track.stop()
        assert track.join(timeout=5)


async def test_camera_failure_ends_the_track_with_the_error() -> None:
    track = CameraTrack(FailingCamera(good=2))
    frames = 0
    with pytest.raises(MediaStreamError):
        for _ in range(10):
            await asyncio.wait_for(track.recv(), 5)
            frames += 1
    assert 1 <= frames <= 2  # the reader keeps only the latest: one may be skipped
    assert isinstance(track.error, DeviceIOError)
    assert track.readyState == "ended"
    assert track.join(timeout=5)


async def test_stopped_track_gives_no_frames() -> None:
    camera = SimulatedCamera(320, 240, clock=ManualClock())
    track = CameraTrack(camera)
    await track.recv()
    track.stop()
    with pytest.raises(MediaStreamError):
        await track.recv()
    assert track.join(timeout=5)
    assert track.error is None
