"""Where the processes the tests start write: one ``*.log`` file each, under the test's
``tmp_path``.

A hub, kiosk, demo or command line run as a child process logs to its own standard error, out
of reach of the in-process guard. Started through :func:`popen` or :func:`run`, its output
lands in a ``*.log`` file, and the guard in ``tests/conftest.py`` reads every ``*.log`` under
the test's ``tmp_path`` after the test (and every one under the session's temporary directory
at the end) for personal data (:func:`support.pii_guard.leaks_in_files`).
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def log_file(directory: Path, name: str) -> Path:
    """A new ``<name>.log`` in ``directory`` (``<name>-2.log``… when taken)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.log"
    number = 1
    while path.exists():
        number += 1
        path = directory / f"{name}-{number}.log"
    path.touch()
    return path


def keep(log: Path, *outputs: str | bytes | None) -> None:
    """Append what a process printed (read from its pipes by the test) to ``log``."""
    with log.open("ab") as out:
        for output in outputs:
            if output:
                out.write(output.encode() if isinstance(output, str) else output)


def popen(args: Sequence[str], *, log: Path, **options: Any) -> subprocess.Popen[bytes]:
    """Start ``args`` with its standard output and error appended to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, **options)


def run(args: Sequence[str], *, log: Path, **options: Any) -> subprocess.CompletedProcess[str]:
    """``subprocess.run`` with the output captured as text for the test and kept in ``log``."""
    done = subprocess.run(args, capture_output=True, text=True, **options)
    keep(log, done.stdout, done.stderr)
    return done
