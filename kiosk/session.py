"""The citizen's data for one attention, held in memory and erased by :mod:`kiosk.privacy`.

Everything personal the kiosk holds about the citizen in front of it lives here or in the
files this object lists, so that one reset can find and erase all of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from contract.signalling import StepRequest


@dataclass(eq=False)
class Session:
    """One citizen's attention: choices, call state, documents and typed texts."""

    language: str
    attention_id: str | None = None
    service: str | None = None
    #: The citizen's answer to "may the call be recorded?"; None until asked.
    recording_consent: bool | None = None
    large_text: bool = False
    high_contrast: bool = False

    call_id: str | None = None
    queue_position: int | None = None
    estimated_wait_s: float | None = None
    queued_at: datetime | None = None
    #: When the chosen service opens again (the hub's ``service.closed``).
    opens_at: datetime | None = None
    #: The agent's name as the hub presents it.
    peer_name: str | None = None
    connected: bool = False
    muted: bool = False

    #: The step the agent asked for that is on screen now.
    step: StepRequest | None = None
    #: A preview image of the document to sign or read during :attr:`step`.
    step_preview: Path | None = None
    survey_answered: bool = False

    #: Files holding the citizen's documents (scans, print jobs, signatures, previews).
    files: list[Path] = field(default_factory=list)
    #: In-memory document bytes; zeroed on reset before they are dropped.
    buffers: list[bytearray] = field(default_factory=list)
    #: Text the citizen typed (a survey comment).
    texts: list[str] = field(default_factory=list)

    def keep_file(self, path: Path) -> Path:
        """Remember ``path`` as holding the citizen's data, so that the reset erases it."""
        self.files.append(path)
        return path

    def keep_bytes(self, data: bytes | bytearray) -> bytearray:
        """Hold ``data`` in a buffer the reset zeroes; returns that buffer."""
        buffer = bytearray(data)
        self.buffers.append(buffer)
        return buffer

    @property
    def in_call(self) -> bool:
        """Whether a call to an agent is waiting or connected."""
        return self.call_id is not None
