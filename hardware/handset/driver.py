"""A handset driven from a reader thread: connect, debounce, reconnect with backoff, never crash.

The transport (serial lines, USB HID reports) is a :class:`~hardware.handset.base.Link`
that the driver opens through a callable, so every backend shares the same behaviour when a
cable is pulled mid-call: an ``Unplugged`` event, retries with a doubling delay, and
``Replugged`` when the device answers again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from hardware.errors import ConfigurationError, DeviceMissing, HardwareError
from hardware.handset.base import Link
from hardware.handset.debounce import HookDebouncer
from hardware.handset.events import HandsetEvent, Key, OffHook, OnHook, Replugged, Unplugged
from hardware.handset.readings import HookReading, Identification, KeyReading, Reading
from hardware.handset.stream import EventStream
from hardware.health import DeviceHealth, DeviceState

logger = logging.getLogger(__name__)

LinkOpener = Callable[[], Link]


@dataclass(frozen=True, slots=True)
class Timing:
    """How long the driver waits for things, in seconds."""

    debounce: float = 0.03
    reconnect_min: float = 0.25
    reconnect_max: float = 5.0
    status_timeout: float = 1.0


class HandsetDriver:
    """A :class:`~hardware.handset.base.Handset` over any link; call :meth:`start` first."""

    def __init__(
        self,
        opener: LinkOpener,
        *,
        backend: str,
        timing: Timing,
        audio_device: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._opener = opener
        self._backend = backend
        self._timing = timing
        self._audio_device = audio_device
        self._clock = clock
        self._debouncer = HookDebouncer(timing.debounce)
        self._stream = EventStream()
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"handset-{backend}", daemon=True)
        # Only the reader thread touches the link (and, before it starts, start()).
        self._link: Link | None = None
        self._unplug_announced = False
        self._ignored_before = 0
        # Shared with callers, under self._cond.
        self._connected = False
        self._off_hook = False
        self._status_wanted = False
        self._status_mark: int | None = None  # hook readings counted when the query went out
        self._hook_readings = 0
        self._reconnects = 0
        self._ignored = 0
        self._serial_number: str | None = None

    # -- what callers see -------------------------------------------------------------------

    @property
    def backend(self) -> str:
        """The backend's name in the configuration."""
        return self._backend

    @property
    def off_hook(self) -> bool:
        """Whether the handset is lifted (settled, after debouncing)."""
        with self._cond:
            return self._off_hook

    @property
    def connected(self) -> bool:
        """Whether the handset is plugged in and its port open."""
        with self._cond:
            return self._connected

    @property
    def serial_number(self) -> str | None:
        """The serial number the handset gave, once it identified itself."""
        with self._cond:
            return self._serial_number

    @property
    def audio_device(self) -> str | None:
        """The ALSA or PulseAudio device of the handset, from the configuration."""
        return self._audio_device

    def events(self) -> AsyncIterator[HandsetEvent]:
        """Hook changes, key presses, unplugs and replugs; iterate from one task."""
        return self._stream.__aiter__()

    def next_event(self, timeout: float) -> HandsetEvent | None:
        """The next event for a blocking caller, or None after ``timeout`` seconds."""
        return self._stream.get(timeout)

    def start(self) -> None:
        """Try a first connection, then keep reading on a background thread."""
        self._connect(first=True)
        self._thread.start()

    def self_test(self) -> DeviceHealth:
        """Ask the handset for its hook position and report whether it answered."""
        with self._cond:
            if not self._connected or self._stop.is_set():
                return self._health(DeviceState.MISSING, DeviceMissing.code)
            self._status_wanted = True
            self._status_mark = None
            self._cond.wait_for(
                lambda: self._answered() or not self._connected, self._timing.status_timeout
            )
            if not self._connected:
                return self._health(DeviceState.MISSING, DeviceMissing.code)
            if not self._answered():
                logger.warning("The handset did not answer a status query")
                return self._health(DeviceState.FAULT, "io")
            return self._health(DeviceState.OK, None)

    def _answered(self) -> bool:
        # Only a hook reading that arrived after the query went out counts as its answer.
        return self._status_mark is not None and self._hook_readings > self._status_mark

    def close(self) -> None:
        """Stop the reader thread, release the device and end the event stream."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        elif self._link is not None:  # never started, or the thread already ended
            self._drop_link()
        with self._cond:
            self._connected = False
            self._cond.notify_all()
        self._stream.close()

    def _health(self, state: DeviceState, error: str | None) -> DeviceHealth:
        counters = {"reconnects": self._reconnects, "ignored": self._ignored}
        return DeviceHealth(
            device="handset",
            backend=self._backend,
            state=state,
            last_error=error,
            counters=counters,
        )

    # -- the reader thread ------------------------------------------------------------------

    def _run(self) -> None:
        delay = self._timing.reconnect_min
        try:
            while not self._stop.is_set():
                if self._link is None:
                    if self._stop.wait(delay):
                        break
                    delay = min(delay * 2, self._timing.reconnect_max)
                    if self._connect():
                        delay = self._timing.reconnect_min
                    continue
                self._poll(self._link)
        finally:
            self._drop_link()

    def _poll(self, link: Link) -> None:
        try:
            self._handle(link.read(), link)
            with self._cond:
                wanted, self._status_wanted = self._status_wanted, False
                if wanted:
                    self._status_mark = self._hook_readings
            if wanted:
                link.request_status()
        except HardwareError as exc:
            self._lose(exc)
        except Exception as exc:  # a backend bug must not kill the reader thread mid-call
            logger.exception("Unexpected error reading the handset")
            self._lose(exc)

    def _connect(self, *, first: bool = False) -> bool:
        link: Link | None = None
        try:
            link = self._opener()
            link.request_status()
        except HardwareError as exc:
            if link is not None:
                _close_quietly(link)
            if first and isinstance(exc, ConfigurationError):
                raise  # a device that can never work: the technician must hear it now
            if not self._unplug_announced:
                logger.warning("Handset not available: %s", exc)
                self._announce_unplug()
            return False
        self._link = link
        with self._cond:
            self._connected = True
            if self._unplug_announced:
                self._reconnects += 1
            self._cond.notify_all()
        if self._unplug_announced:
            logger.info("Handset connected again")
            self._unplug_announced = False
            self._stream.put(Replugged())
        return True

    def _lose(self, exc: BaseException) -> None:
        logger.warning("Lost the handset: %s", exc)
        self._drop_link()
        self._debouncer.reset()
        with self._cond:
            self._off_hook = False
        self._announce_unplug()

    def _announce_unplug(self) -> None:
        with self._cond:
            self._connected = False
            self._cond.notify_all()
        self._unplug_announced = True
        self._stream.put(Unplugged())

    def _drop_link(self) -> None:
        link, self._link = self._link, None
        if link is None:
            return
        self._ignored_before += link.ignored
        _close_quietly(link)

    def _handle(self, readings: list[Reading], link: Link) -> None:
        now = self._clock()
        for reading in readings:
            if isinstance(reading, HookReading):
                self._settled(self._debouncer.feed(reading.off_hook, now))
                self._settled(self._debouncer.poll(now))  # settles at once with no window
                with self._cond:
                    self._hook_readings += 1
                    self._cond.notify_all()
            elif isinstance(reading, KeyReading):
                # A key press means the switch has settled: report the lift before the key.
                self._settled(self._debouncer.settle())
                self._stream.put(Key(reading.key))
            elif isinstance(reading, Identification):
                with self._cond:
                    self._serial_number = reading.serial_number
                logger.info("Handset %s identified", reading.serial_number)
        self._settled(self._debouncer.poll(now))
        with self._cond:
            self._ignored = self._ignored_before + link.ignored

    def _settled(self, off_hook: bool | None) -> None:
        if off_hook is None:
            return
        with self._cond:
            self._off_hook = off_hook
        self._stream.put(OffHook() if off_hook else OnHook())


def _close_quietly(link: Link) -> None:
    try:
        link.close()
    except (HardwareError, OSError) as exc:  # it is gone already; closing is housekeeping
        logger.debug("Closing a lost handset link failed: %s", exc)
