"""Raw observations from a handset's transport, before debouncing turns them into events."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class HookReading:
    """The handset reported its hook switch (a change, or an answer to a status query)."""

    off_hook: bool


@dataclass(frozen=True, slots=True)
class KeyReading:
    """The handset reported a key press."""

    key: str


@dataclass(frozen=True, slots=True)
class Identification:
    """The handset said who it is."""

    serial_number: str
    info: str = ""


Reading = HookReading | KeyReading | Identification
