"""A device's health at a moment: what the kiosk sends the hub as telemetry."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class DeviceState(enum.StrEnum):
    """How a device is doing, worst last."""

    OK = "ok"
    WARNING = "warning"  # works, but needs attention soon (paper near end)
    FAULT = "fault"  # cannot work until someone acts (paper out, jam, cover open)
    MISSING = "missing"  # not connected or not answering


class PaperLevel(enum.StrEnum):
    """What a printer reports of its paper."""

    OK = "ok"
    NEAR_END = "near_end"
    OUT = "out"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class DeviceHealth:
    """One device's health snapshot."""

    device: str  # "camera", "scanner", "receipt_printer", "a4_printer", "handset"
    backend: str
    state: DeviceState
    paper: PaperLevel | None = None
    last_error: str | None = None  # an error code from hardware.errors, never free text
    counters: Mapping[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict, as sent to the hub."""
        return {
            "device": self.device,
            "backend": self.backend,
            "state": self.state.value,
            "paper": self.paper.value if self.paper is not None else None,
            "last_error": self.last_error,
            "counters": dict(self.counters),
        }
