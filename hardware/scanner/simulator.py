"""SANE's own ``test`` backend as the cabin's simulated scanner, with injectable faults.

:class:`SaneSimulator` writes a throwaway SANE configuration (``dll.conf`` naming only the
``test`` backend, and a ``test.conf``) and points ``SANE_CONFIG_DIR`` at it, so the demo, a
technician's laptop and the tests scan from ``test:0`` without editing ``/etc/sane.d``.
libsane reads ``SANE_CONFIG_DIR`` when it initialises, and takes ``dll.conf`` from the first
directory a process uses for as long as it runs (see :mod:`hardware.scanner.sane_library`).
So the configuration lives at one path per process (:func:`default_directory`), rewritten by
each device and removed when it closes; open the device *before* opening a scanner, and
close the scanner before the device::

    with SaneSimulator() as device:
        scanner = SaneScanner(device.device_name)
        ...
        scanner.close()

Faults are the test backend's ``read-return-value`` option: the next scans fail with that
SANE status. Set it for every scan from the start (``SaneSimulator(fault=Fault.JAMMED)``)
or on an open scanner (``inject(scanner, Fault.JAMMED)``). The ``Automatic Document Feeder``
source holds ten pages, then reports an empty feeder once, then is full again.
"""

from __future__ import annotations

import enum
import logging
import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from hardware.errors import ConfigurationError

if TYPE_CHECKING:
    from hardware.scanner.sane_backend import SaneScanner

logger = logging.getLogger(__name__)

DEVICE_NAME = "test:0"
FAULT_OPTION = "read_return_value"  # python-sane's name for read-return-value
#: The test backend's largest scan area side, in mm: room for A4 and US legal.
GEOMETRY_MAX_MM = 360


class Fault(enum.StrEnum):
    """The statuses the test backend can make ``sane_read`` return."""

    NONE = "Default"
    JAMMED = "SANE_STATUS_JAMMED"
    NO_DOCS = "SANE_STATUS_NO_DOCS"
    COVER_OPEN = "SANE_STATUS_COVER_OPEN"
    IO_ERROR = "SANE_STATUS_IO_ERROR"
    DEVICE_BUSY = "SANE_STATUS_DEVICE_BUSY"
    INVAL = "SANE_STATUS_INVAL"
    CANCELLED = "SANE_STATUS_CANCELLED"
    NO_MEM = "SANE_STATUS_NO_MEM"
    ACCESS_DENIED = "SANE_STATUS_ACCESS_DENIED"
    UNSUPPORTED = "SANE_STATUS_UNSUPPORTED"


#: Faults by the error code they end in (hardware.errors), for configuration and the CLI.
FAULT_BY_CODE: dict[str, Fault] = {
    "jammed": Fault.JAMMED,
    "no_document": Fault.NO_DOCS,
    "cover_open": Fault.COVER_OPEN,
    "io": Fault.IO_ERROR,
    "busy": Fault.DEVICE_BUSY,
}


class Picture(enum.StrEnum):
    """What the test backend draws."""

    COLOR_PATTERN = "Color pattern"
    GRID = "Grid"
    SOLID_WHITE = "Solid white"
    SOLID_BLACK = "Solid black"


def _test_conf(fault: Fault, picture: Picture) -> str:
    return "\n".join(
        (
            "# Written by Cabina for the simulated scanner.",
            "number_of_devices 1",
            "mode Color",
            "depth 8",
            "resolution_min 1.0",
            "resolution_max 1200.0",
            "resolution_quant 1.0",
            "resolution 150.0",
            f'test-picture "{picture.value}"',
            f'read-status-code "{fault.value}"',
            "geometry_min 0.0",
            f"geometry_max {GEOMETRY_MAX_MM:.1f}",
            "geometry_quant 1.0",
            "tl_x 0.0",
            "tl_y 0.0",
            "br_x 210.0",
            "br_y 297.0",
            "",
        )
    )


def default_directory() -> Path:
    """This process's SANE configuration directory for the test backend."""
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return Path(base) / f"cabina-sane-{os.getuid()}-{os.getpid()}"


def _make_private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, exist_ok=True)
    # The name is predictable: make sure nobody else planted it (or a symlink) first.
    info = path.lstat()
    if not path.is_dir() or path.is_symlink() or info.st_uid != os.getuid():
        raise ConfigurationError(
            f"Expected {path} to be a directory of this user, but it is not", device="scanner"
        )


class SaneSimulator:
    """A SANE configuration with the ``test`` backend; ``SANE_CONFIG_DIR`` points at it."""

    def __init__(
        self,
        *,
        fault: Fault = Fault.NONE,
        picture: Picture = Picture.COLOR_PATTERN,
        directory: Path | None = None,
    ) -> None:
        self._dir = directory if directory is not None else default_directory()
        if os.environ.get("SANE_CONFIG_DIR") == str(self._dir):
            raise ConfigurationError(
                f"Expected one simulated scanner configuration at a time, but {self._dir} "
                "is in use",
                device="scanner",
            )
        _make_private_dir(self._dir)
        (self._dir / "dll.conf").write_text("test\n", encoding="ascii")
        (self._dir / "test.conf").write_text(_test_conf(fault, picture), encoding="ascii")
        self._previous = os.environ.get("SANE_CONFIG_DIR")
        os.environ["SANE_CONFIG_DIR"] = str(self._dir)
        self._closed = False
        logger.debug("SANE test configuration in %s", self._dir)

    @property
    def device_name(self) -> str:
        """The name to open: ``test:0``."""
        return DEVICE_NAME

    @property
    def config_dir(self) -> Path:
        """The configuration directory ``SANE_CONFIG_DIR`` names."""
        return self._dir

    def close(self) -> None:
        """Remove the configuration and restore ``SANE_CONFIG_DIR``."""
        if self._closed:
            return
        self._closed = True
        if os.environ.get("SANE_CONFIG_DIR") == str(self._dir):
            if self._previous is None:
                del os.environ["SANE_CONFIG_DIR"]
            else:
                os.environ["SANE_CONFIG_DIR"] = self._previous
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> SaneSimulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def inject(scanner: SaneScanner, fault: Fault) -> None:
    """Make the next scans of a test-backend ``scanner`` fail with ``fault`` (NONE: succeed)."""
    scanner.set_option(FAULT_OPTION, fault.value)
