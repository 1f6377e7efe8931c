"""The serial handset's line format: ASCII lines in both directions (see docs/hardware.md).

Handset → host::

    ID <serial> [<free text>]     on power-up, and in answer to ID?
    HOOK OFF | HOOK ON            when the switch moves, and in answer to STATUS?
    KEY <k>                       k is one of 0-9 * #

Host → handset: ``STATUS?`` and ``ID?``. Lines end in LF, CRLF or CR; a line is at most
:data:`MAX_LINE` bytes. Empty lines, ``#`` comments, over-long lines, bytes that are not
printable ASCII and unknown lines are ignored with a log line.
"""

from __future__ import annotations

import logging
import re

from hardware.handset.events import KEYS
from hardware.handset.readings import HookReading, Identification, KeyReading, Reading

logger = logging.getLogger(__name__)

#: The longest line accepted, in bytes, without its terminator.
MAX_LINE = 64
#: The host asks for the hook position.
STATUS_QUERY = b"STATUS?\r\n"
#: The host asks the handset to identify itself.
ID_QUERY = b"ID?\r\n"

_SERIAL_NUMBER = re.compile(r"[A-Za-z0-9._-]{1,32}")
_TERMINATORS = b"\r\n"


def hook_line(off_hook: bool) -> bytes:
    """The line a handset sends for a hook position."""
    return b"HOOK OFF\r\n" if off_hook else b"HOOK ON\r\n"


def key_line(key: str) -> bytes:
    """The line a handset sends for a key press."""
    if key not in KEYS:
        raise ValueError(f"Expected one of {' '.join(KEYS)}, but got {key!r}")
    return f"KEY {key}\r\n".encode("ascii")


def id_line(serial_number: str, info: str = "") -> bytes:
    """The line a handset sends to identify itself."""
    if not _SERIAL_NUMBER.fullmatch(serial_number):
        raise ValueError(
            f"Expected a serial number of 1-32 letters, digits, '.', '_' or '-', "
            f"but got {serial_number!r}"
        )
    text = f"ID {serial_number} {info}".rstrip()
    return text.encode("ascii") + b"\r\n"


class LineSplitter:
    """Splits a byte stream into lines, dropping lines longer than ``max_length``."""

    def __init__(self, max_length: int = MAX_LINE) -> None:
        self._max = max_length
        self._buffer = bytearray()
        self._discarding = False
        self.dropped = 0

    def feed(self, data: bytes) -> list[bytes]:
        """The complete, non-empty lines that ``data`` finishes, without terminators."""
        lines: list[bytes] = []
        for byte in data:
            if byte in _TERMINATORS:
                if self._discarding:
                    self._discarding = False
                elif self._buffer:
                    lines.append(bytes(self._buffer))
                self._buffer.clear()
            elif self._discarding:
                continue
            elif len(self._buffer) >= self._max:
                logger.warning("Ignored a line longer than %d bytes", self._max)
                self.dropped += 1
                self._buffer.clear()
                self._discarding = True
            else:
                self._buffer.append(byte)
        return lines

    def reset(self) -> None:
        """Forget a partial line, as after a reconnection."""
        self._buffer.clear()
        self._discarding = False


def _is_blank(line: bytes) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith(b"#")


def parse_line(line: bytes) -> Reading | None:
    """What one line says, or None (logged) when it must be ignored."""
    try:
        text = line.decode("ascii").strip()
    except UnicodeDecodeError:
        logger.warning("Ignored a line of %d bytes that is not ASCII", len(line))
        return None
    if not text or text.startswith("#"):
        return None
    if not text.isprintable():
        logger.warning("Ignored a line of %d bytes with control characters", len(line))
        return None
    words = text.split()
    match words:
        case ["HOOK", "OFF"]:
            return HookReading(off_hook=True)
        case ["HOOK", "ON"]:
            return HookReading(off_hook=False)
        case ["KEY", key] if key in KEYS:
            return KeyReading(key)
        case ["ID", serial, *info] if _SERIAL_NUMBER.fullmatch(serial):
            return Identification(serial, " ".join(info))
    logger.warning("Ignored an unknown line starting with %r", words[0][:16])
    return None


class LineDecoder:
    """Bytes from a serial handset in, readings out; counts what it ignored."""

    def __init__(self, max_length: int = MAX_LINE) -> None:
        self._splitter = LineSplitter(max_length)
        self._unknown = 0

    @property
    def ignored(self) -> int:
        """How many lines were ignored so far (over-long, garbage or unknown)."""
        return self._splitter.dropped + self._unknown

    def feed(self, data: bytes) -> list[Reading]:
        """The readings that ``data`` completes."""
        readings: list[Reading] = []
        for line in self._splitter.feed(data):
            if _is_blank(line):
                continue
            reading = parse_line(line)
            if reading is None:
                self._unknown += 1
            else:
                readings.append(reading)
        return readings

    def reset(self) -> None:
        """Forget a partial line."""
        self._splitter.reset()
