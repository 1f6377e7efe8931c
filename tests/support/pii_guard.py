"""A guard on every test: no log record of Cabina's own code may carry personal data.

A handler on the root logger reads each record of Cabina's packages (at every level, DEBUG
included, with its exception's traceback) and keeps those that contain something shaped like
personal data: a DNI or NIE whose control letter is right, an e-mail address, or a Spanish
mobile number (with its +34 prefix, or in groups). Only this process's records are read: a
hub or kiosk run as a subprocess by a test logs to its own output. Names have no shape to
find: the tests that handle them (the padrón's, the appointments') look for the very names
they used in ``caplog``. The fixture in ``tests/conftest.py`` fails the test that logged one.
"""

from __future__ import annotations

import logging
import re
import traceback
from dataclasses import dataclass

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


def _valid_document(prefix: str, digits: str, letter: str) -> bool:
    if prefix:
        if len(digits) != 7:
            return False
        digits = "XYZ".index(prefix).__str__() + digits
    elif len(digits) != 8:
        return False
    return control_letter(digits) == letter


def personal_data_in(text: str) -> list[str]:
    """The kinds of personal data ``text`` seems to hold: ``document``, ``email``, ``mobile``."""
    found = []
    if any(_valid_document(*match.groups()) for match in _DOCUMENT.finditer(text)):
        found.append("document")
    if _EMAIL.search(text):
        found.append("email")
    if _MOBILE.search(text):
        found.append("mobile")
    return found


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
            self.leaks.append(Leak(record.name, record.levelname, tuple(kinds), text[:500]))
