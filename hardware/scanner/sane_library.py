"""The process's one libsane: when to initialise and exit it, and what its errors mean.

libsane keeps one global state per process, and ``SANE_CONFIG_DIR`` is read when
``sane.init()`` runs: the ``dll`` meta-backend takes ``dll.conf`` (which backends to load)
from the directory of the *first* ``sane.init()`` in the process and keeps that path until
the process ends, while each backend re-reads its own ``.conf`` at every ``sane.init()``.
``sane.exit()`` frees every open device behind the backs of their handles, so using one
afterwards crashes the process. Hence the rules this module enforces:

- every user calls :func:`acquire` before touching SANE and :func:`release` when done; the
  first acquire initialises the library and the last release exits it;
- set ``SANE_CONFIG_DIR`` before the first acquire and keep it for the life of the process:
  an acquire under another ``SANE_CONFIG_DIR`` is refused (``ConfigurationError``) instead
  of silently scanning with the old configuration;
- a scan in progress is never closed under its feet (see :mod:`hardware.scanner.sane_backend`).

This is the package's one piece of module-level state, because libsane's is.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import threading
from dataclasses import dataclass
from types import ModuleType

from hardware.errors import (
    ConfigurationError,
    CoverOpen,
    DeviceBusy,
    DeviceIOError,
    DeviceMissing,
    HardwareError,
    NoDocument,
    PaperJam,
    missing_library,
)

logger = logging.getLogger(__name__)

# sane_strstatus() texts, as python-sane puts them in its exceptions.
_BY_STATUS: dict[str, type[HardwareError]] = {
    "Document feeder jammed": PaperJam,
    "Document feeder out of documents": NoDocument,
    "Scanner cover is open": CoverOpen,
    "Error during device I/O": DeviceIOError,
    "Device busy": DeviceBusy,
    "Invalid argument": DeviceIOError,
    "Operation was canceled": DeviceIOError,
    "Operation was cancelled": DeviceIOError,
    "Out of memory": DeviceIOError,
    "Operation not supported": DeviceIOError,
    "Access to resource has been denied": DeviceIOError,
}


def translate(exc: BaseException, *, opening: bool = False) -> HardwareError:
    """Our error for a python-sane error; at open time, anything but busy means missing."""
    status = str(exc)
    kind = _BY_STATUS.get(status, DeviceIOError)
    if opening and kind is not DeviceBusy:
        # sane_open answers "Invalid argument" for a name no backend knows, and "Access …
        # denied" for a device node the kiosk user may not open: either way, no scanner.
        kind = DeviceMissing
    return kind(f"SANE: {status}", device="scanner")


@dataclass(frozen=True, slots=True)
class SaneDevice:
    """A scanner SANE can see."""

    name: str  # what sane.open() takes, e.g. "test:0" or "epson2:libusb:001:004"
    vendor: str
    model: str
    kind: str


class _Library:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._started = False
        self._config_dir: str | None = None  # of the process's first sane.init()
        self._module: ModuleType | None = None

    def acquire(self) -> ModuleType:
        config_dir = os.environ.get("SANE_CONFIG_DIR")
        with self._lock:
            if self._started and config_dir != self._config_dir:
                raise ConfigurationError(
                    f"Expected SANE_CONFIG_DIR={self._config_dir!r}, as when libsane first "
                    f"started in this process, but got {config_dir!r}: libsane reads dll.conf "
                    "from the first one only",
                    device="scanner",
                )
            if self._users == 0:
                module = self._import()
                try:
                    module.init()
                except module._sane.error as exc:
                    raise translate(exc) from exc
                logger.debug("libsane initialised (SANE_CONFIG_DIR=%s)", config_dir)
                self._module, self._config_dir, self._started = module, config_dir, True
            self._users += 1
            assert self._module is not None
            return self._module

    def release(self) -> None:
        with self._lock:
            if self._users == 0:
                raise RuntimeError("Expected libsane to be in use, but nobody acquired it")
            self._users -= 1
            if self._users == 0 and self._module is not None:
                self._module.exit()
                logger.debug("libsane exited")

    @staticmethod
    def _import() -> ModuleType:
        try:
            import sane
        except ImportError as exc:
            raise missing_library("python-sane", "sane") from exc
        module: ModuleType = sane
        return module


_LIBRARY = _Library()


def acquire() -> ModuleType:
    """The ``sane`` module, initialised; pair every call with :func:`release`."""
    return _LIBRARY.acquire()


def release() -> None:
    """Give back what :func:`acquire` gave; the last one out exits libsane."""
    _LIBRARY.release()


def list_devices() -> list[SaneDevice]:
    """The scanners SANE finds now (slow with network backends: seconds, not milliseconds)."""
    sane = acquire()
    try:
        found = sane.get_devices()
    except sane._sane.error as exc:
        raise translate(exc) from exc
    finally:
        release()
    return [SaneDevice(str(n), str(v), str(m), str(k)) for n, v, m, k in found]


def keep_broken_pipes_harmless() -> None:
    """Put back Python's "ignore" for SIGPIPE, which SANE backends reset while reading.

    Some backends (the test backend among them) leave SIGPIPE at its default action after a
    scan, and then any socket whose peer went away would kill the whole kiosk instead of
    raising ``BrokenPipeError``. ``signal.signal`` only works on the main thread, and scans run
    in worker threads, so this asks libc directly; the setting is process-wide.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.signal.argtypes = [ctypes.c_int, ctypes.c_void_p]
    libc.signal.restype = ctypes.c_void_p
    libc.signal(signal.SIGPIPE, ctypes.c_void_p(1))  # SIG_IGN
