"""What the flow needs to know about its cabin: languages, topics, timeouts, required devices.

:class:`FlowConfig` is built from the kiosk's settings (:mod:`kiosk.settings`) and checks
itself: an unknown language or a non-positive timeout is refused when it is made.
"""

from __future__ import annotations

from dataclasses import dataclass

from contract.languages import CITIZEN_LANGUAGES

__all__ = ["FlowConfig"]


@dataclass(frozen=True)
class FlowConfig:
    """What the flow needs to know about this cabin."""

    languages: tuple[str, ...] = CITIZEN_LANGUAGES
    default_language: str = "es"
    #: The topics offered to talk about, as hub service codes.
    services: tuple[str, ...] = ("general",)
    complaint_service: str = "complaints"
    idle_s: float = 60.0
    warning_s: float = 15.0
    #: Idle time allowed while waiting in the queue (presence detection keeps it going).
    queue_idle_s: float = 300.0
    goodbye_s: float = 8.0
    #: From this estimated wait on, the queue screen offers to come back later.
    long_wait_s: float = 600.0
    #: Devices without which no call is possible.
    required_devices: frozenset[str] = frozenset({"camera"})
    #: How many days ahead (today included) the booking screens offer.
    appointment_days: int = 14
    pin_attempts: int = 3
    comment_chars: int = 500

    def __post_init__(self) -> None:
        unknown = [lang for lang in self.languages if lang not in CITIZEN_LANGUAGES]
        if unknown or not self.languages:
            raise ValueError(f"Expected languages among {CITIZEN_LANGUAGES}, but got {unknown}")
        if self.default_language not in self.languages:
            raise ValueError(
                f"Expected the default language among {self.languages}, "
                f"but got {self.default_language!r}"
            )
        if self.appointment_days < 1:
            raise ValueError(f"Expected appointment_days >= 1, but got {self.appointment_days}")
        for name in ("idle_s", "warning_s", "queue_idle_s", "goodbye_s", "long_wait_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"Expected {name} > 0, but got {getattr(self, name)}")
