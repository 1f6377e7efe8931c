"""A guard on every test: no log of Cabina's own code may carry personal data.

A handler on the root logger reads each record of Cabina's packages (at every level, DEBUG
included, with its exception's traceback) and keeps those that contain personal data: a DNI
or NIE whose control letter is right, an e-mail address, a Spanish mobile number (with its +34
prefix, or in groups), or the name or street of one of the residents the demo and the tests
seed. Names and streets have no shape to find, so only those known ones are looked for. The
hubs, kiosks and demos the tests run as processes write their output to files
(:mod:`support.process_logs`); :func:`leaks_in_files` reads those. The fixtures in
``tests/conftest.py`` fail the test that logged one. A report never repeats the personal data
in full: :func:`masked` keeps the first characters of each.
"""

from __future__ import annotations

import ast
import logging
import re
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from contract.identity import control_letter

#: The loggers of Cabina's own packages: what the guard reads, at every level.
OWN_LOGGERS = ("agent_console", "cabina", "contract", "demo", "hardware", "hub", "kiosk",
               "provisioning")  # fmt: skip

_DOCUMENT = re.compile(r"(?<![0-9A-Za-z])([XYZ]?)([0-9]{7,8})[ -]?([A-Z])(?![0-9A-Za-z])")
# A domain ends in letters: ``postgres@127.0.0.1`` in a database URL is a role at an address.
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?![A-Za-z0-9-])")
# With its country prefix (how the hub keeps numbers) or written in groups: nine bare digits are
# as likely a counter as a phone.
_MOBILE = re.compile(
    r"(?<![0-9])(?:(?:\+34|0034) ?[67][0-9]{2} ?[0-9]{3} ?[0-9]{3}|[67][0-9]{2} [0-9]{3} [0-9]{3})"
    r"(?![0-9])"
)


#: Where the demo's residents are written down (read as text: the hub's stack is not imported).
DEMO_RESIDENTS = Path(__file__).resolve().parents[2] / "hub" / "padron" / "demo_residents.py"

#: The other fictitious citizens: the demo's video visit (``demo/video.py``) and those the
#: tests book, identify and attend.
TEST_RESIDENTS = (
    "Laura Demo Prova",
    "Ana García López", "María García López", "Lucía Ficticia Ejemplo", "Núria Casals Ferrer",
    "Marta Puig Soler", "Jordi Vidal", "Pere Roca", "Montserrat Pujol", "Iker Etxeberria",
    "Jon Etxeberria", "Itziar Etxeberria Goñi", "Mireia Puigdomènech Arrizabalaga", "Berta Ruiz",
)  # fmt: skip


def _demo_rows() -> list[dict[str, str]]:
    tree = ast.parse(DEMO_RESIDENTS.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "_DEMO_CSV" for target in node.targets
        ):
            lines = ast.literal_eval(node.value).splitlines()
            header = lines[0].split(",")
            return [dict(zip(header, line.split(","), strict=True)) for line in lines[1:]]
    raise LookupError(f"no _DEMO_CSV in {DEMO_RESIDENTS}")


@cache
def seeded_names() -> tuple[str, ...]:
    """Residents' names as a log would write them: given name and first surname at least."""
    names = {f"{row['given_names']} {row['first_surname']}" for row in _demo_rows()}
    return tuple(sorted(names | set(TEST_RESIDENTS)))


@cache
def seeded_streets() -> tuple[str, ...]:
    """The streets the demo's residents live in (``A / B`` is one street in two languages)."""
    return tuple(
        sorted({part.strip() for row in _demo_rows() for part in row["street"].split("/")})
    )


@cache
def _known(words: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


def _valid_document(prefix: str, digits: str, letter: str) -> bool:
    if prefix:
        if len(digits) != 7:
            return False
        digits = "XYZ".index(prefix).__str__() + digits
    elif len(digits) != 8:
        return False
    return control_letter(digits) == letter


def _documents(text: str) -> list[re.Match[str]]:
    return [match for match in _DOCUMENT.finditer(text) if _valid_document(*match.groups())]


def _matches(text: str) -> dict[str, list[re.Match[str]]]:
    """Every piece of personal data in ``text``, by kind, in the order of the kinds."""
    return {
        "document": _documents(text),
        "email": list(_EMAIL.finditer(text)),
        "mobile": list(_MOBILE.finditer(text)),
        "name": list(_known(seeded_names()).finditer(text)),
        "address": list(_known(seeded_streets()).finditer(text)),
    }


def personal_data_in(text: str) -> list[str]:
    """The kinds of personal data ``text`` holds: ``document``, ``email``, ``mobile``, ``name``,
    ``address``."""
    return [kind for kind, found in _matches(text).items() if found]


def masked(text: str) -> str:
    """``text`` with each piece of personal data cut to its first two characters and ``…``."""
    spans = sorted(match.span() for found in _matches(text).values() for match in found)
    pieces, end = [], 0
    for start, stop in spans:
        if start < end:  # a name inside an e-mail address, say: already masked
            continue
        pieces += [text[end:start], text[start : start + 2], "…"]
        end = stop
    return "".join([*pieces, text[end:]])


@dataclass(frozen=True, slots=True)
class Leak:
    """A log record that carried personal data."""

    logger: str
    level: str
    kinds: tuple[str, ...]
    text: str


class PersonalDataGuard(logging.Handler):
    """Keeps the records of Cabina's loggers that carry personal data."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.leaks: list[Leak] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(OWN_LOGGERS):
            return
        try:
            text = record.getMessage()
        except Exception:  # a record whose arguments do not fit its message: not ours to judge
            return
        if record.exc_info and record.exc_info[1] is not None:
            text += "\n" + "".join(traceback.format_exception(record.exc_info[1]))
        kinds = personal_data_in(text)
        if kinds:
            self.leaks.append(Leak(record.name, record.levelname, tuple(kinds), masked(text)[:500]))


@dataclass(frozen=True, slots=True)
class FileLeak:
    """A line of a process's log file that carried personal data (masked)."""

    path: Path
    line: int
    kinds: tuple[str, ...]
    text: str


def leaks_in_file(path: Path) -> list[FileLeak]:
    """The lines of ``path`` that carry personal data; a file gone or unreadable has none."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        return []
    leaks = []
    for number, line in enumerate(text.splitlines(), start=1):
        kinds = personal_data_in(line)
        if kinds:
            leaks.append(FileLeak(path, number, tuple(kinds), masked(line)[:300]))
    return leaks


def leaks_in_files(paths: Iterable[Path]) -> list[FileLeak]:
    """The leaks of every file in ``paths``, each file read once."""
    return [leak for path in dict.fromkeys(paths) for leak in leaks_in_file(path)]


def log_files_under(directory: Path) -> list[Path]:
    """Every ``*.log`` file under ``directory``, however deep."""
    if not directory.is_dir():
        return []
    return sorted(path for path in directory.rglob("*.log") if path.is_file())
