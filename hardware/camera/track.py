"""A camera as an aiortc video track.

A reader thread calls the camera's blocking :meth:`~hardware.camera.base.Camera.read` and keeps
only the latest frame, so a slow encoder drops stale frames instead of queueing them and the
event loop never blocks on the device. Frames go to aiortc as ``bgr24`` with a 90 kHz clock
taken at capture time, and the track ends (raising ``MediaStreamError`` to aiortc) when the
camera fails; :attr:`CameraTrack.error` then holds the hardware error for the kiosk to show.
The track does not own the camera: whoever opened it closes it.
"""

from __future__ import annotations

import asyncio
import fractions
import logging
import threading

from aiortc import VideoStreamTrack
from aiortc.mediastreams import MediaStreamError
from av import VideoFrame

from hardware.camera.base import Camera, Frame
from hardware.camera.clock import Clock, SystemClock
from hardware.errors import HardwareError

logger = logging.getLogger(__name__)

VIDEO_CLOCK_RATE = 90_000
VIDEO_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK_RATE)


class CameraTrack(VideoStreamTrack):
    """Frames from a :class:`~hardware.camera.base.Camera`, as an aiortc track."""

    kind = "video"

    def __init__(self, camera: Camera, *, clock: Clock | None = None) -> None:
        super().__init__()
        self._camera = camera
        self._clock = clock if clock is not None else SystemClock()
        self._lock = threading.Lock()
        self._latest: tuple[Frame, float] | None = None
        self._sequence = 0  # frames captured so far
        self._delivered = 0  # sequence number of the last frame handed to aiortc
        self._error: HardwareError | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._ready: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._origin: float | None = None
        self._last_pts = -1

    @property
    def error(self) -> HardwareError | None:
        """The camera error that ended the track, if one did."""
        return self._error

    def _start_reader(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._ready = asyncio.Event()
        self._thread = threading.Thread(target=self._read_loop, name="camera-track", daemon=True)
        self._thread.start()

    def _read_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                frame = self._camera.read()
            except HardwareError as exc:
                logger.warning("camera failed during a call: %s", exc.code)
                with self._lock:
                    self._error = exc
                self._wake()
                return
            captured = self._clock.monotonic()
            with self._lock:
                self._latest = (frame, captured)
                self._sequence += 1
            self._wake()

    def _wake(self) -> None:
        loop, ready = self._loop, self._ready
        if loop is None or ready is None:
            return
        try:
            loop.call_soon_threadsafe(ready.set)
        except RuntimeError:
            # The event loop has closed: nobody is waiting any more.
            self._stopping.set()

    async def recv(self) -> VideoFrame:
        """The newest frame not yet sent; waits for the camera if there is none."""
        if self.readyState != "live":
            raise MediaStreamError
        if self._thread is None:
            self._start_reader()
        assert self._ready is not None
        while True:
            self._ready.clear()
            with self._lock:
                error, latest, sequence = self._error, self._latest, self._sequence
            if sequence > self._delivered and latest is not None:
                break
            if error is not None:
                self.stop()
                raise MediaStreamError(f"camera failed: {error.code}")
            await self._ready.wait()
            if self.readyState != "live":
                raise MediaStreamError
        self._delivered = sequence
        image, captured = latest
        if self._origin is None:
            self._origin = captured
        # pts must grow strictly even if two captures share a clock reading.
        pts = max(round((captured - self._origin) * VIDEO_CLOCK_RATE), self._last_pts + 1)
        self._last_pts = pts
        frame = VideoFrame.from_ndarray(image, format="bgr24")
        frame.pts = pts
        frame.time_base = VIDEO_TIME_BASE
        return frame

    def stop(self) -> None:
        """End the track; the reader thread stops after the read in progress."""
        self._stopping.set()
        super().stop()
        self._wake()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the reader thread to finish; True if it has."""
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()
