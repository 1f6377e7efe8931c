"""The privacy reset: after each attention the cabin keeps nothing of the citizen.

:func:`privacy_reset` zeroes the document buffers the session holds, forgets every field it
set, and overwrites then deletes every file in the citizen's folders of the data directory
(scans, print jobs, signatures, previews, temporary files). :func:`redact` cuts identity
numbers, e-mail addresses and phone numbers out of the text that does leave the cabin (a
survey comment), so the outbox never holds them.

Python strings cannot be overwritten in place: typed text is dropped (and left to the
garbage collector), while document bytes live in ``bytearray`` buffers that are zeroed.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from dataclasses import MISSING, fields
from pathlib import Path

from kiosk.session import Session

logger = logging.getLogger(__name__)

_REDACTED = "[…]"
# DNI (8 digits + letter) and NIE (X/Y/Z + 7 digits + letter), with optional separators.
_IDENTITY = re.compile(
    r"(?<![0-9A-Za-z])[XYZxyz]?[\s.-]?\d{1,2}[\s.]?\d{3}[\s.]?\d{3}[\s-]?[A-Za-z](?![0-9A-Za-z])"
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# Spanish phone numbers (9 digits, optional +34/0034, any grouping) and other long digit runs.
_PHONE = re.compile(r"(?<!\d)(\+|00)?(\d[\s.-]?){8,}\d(?!\d)")
_CHUNK = 64 * 1024


def redact(text: str) -> str:
    """``text`` with identity numbers, e-mail addresses and phone numbers replaced by ``[…]``."""
    for pattern in (_EMAIL, _IDENTITY, _PHONE):
        text = pattern.sub(_REDACTED, text)
    return text


def wipe_session(session: Session) -> None:
    """Zero the session's buffers and return every field but the language to its default."""
    for buffer in session.buffers:
        buffer[:] = bytes(len(buffer))
    for f in fields(session):
        if f.name == "language":
            continue
        if f.default_factory is not MISSING:
            setattr(session, f.name, f.default_factory())
        elif f.default is not MISSING:
            setattr(session, f.name, f.default)


def shred_file(path: Path) -> None:
    """Overwrite ``path`` with zeros, flush it to the disk, and delete it."""
    try:
        size = path.stat().st_size
        with path.open("r+b", buffering=0) as fh:
            zeros = bytes(min(size, _CHUNK))
            left = size
            while left > 0:
                left -= fh.write(zeros[: min(left, _CHUNK)])
            os.fsync(fh.fileno())
    except FileNotFoundError:
        return
    except OSError:
        # Unwritable (read-only, a socket …): deleting it is still the most we can do.
        logger.warning("could not overwrite a citizen file before deleting it")
    path.unlink(missing_ok=True)


def shred_tree(directory: Path) -> int:
    """Shred every file below ``directory`` and remove its subfolders; returns the count."""
    if not directory.is_dir():
        return 0
    count = 0
    for root, dirs, files in os.walk(directory, topdown=False):
        for name in files:
            entry = Path(root, name)
            if entry.is_symlink():
                entry.unlink()
            else:
                shred_file(entry)
            count += 1
        for name in dirs:
            sub = Path(root, name)
            if sub.is_symlink():
                sub.unlink()
            else:
                sub.rmdir()
    return count


def privacy_reset(session: Session, citizen_dirs: Iterable[Path]) -> int:
    """Erase the citizen from ``session`` and from ``citizen_dirs``; returns files erased."""
    erased = 0
    for path in session.files:
        if path.exists():
            shred_file(path)
            erased += 1
    for directory in citizen_dirs:
        erased += shred_tree(directory)
    wipe_session(session)
    logger.info("privacy reset: %d files erased", erased)
    return erased
