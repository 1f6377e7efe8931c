"""What the kiosk needs of a handset, whatever its backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from hardware.handset.events import HandsetEvent
from hardware.handset.readings import Reading
from hardware.health import DeviceHealth


class Handset(Protocol):
    """A telephone handset: hook switch, keypad, and the audio device it is wired to."""

    @property
    def off_hook(self) -> bool:
        """Whether the handset is lifted (False while it is unplugged)."""
        ...

    @property
    def audio_device(self) -> str | None:
        """The ALSA or PulseAudio device of the handset's earpiece and microphone."""
        ...

    def events(self) -> AsyncIterator[HandsetEvent]:
        """Hook changes, key presses, unplugs and replugs, as they happen."""
        ...

    def self_test(self) -> DeviceHealth:
        """A harmless check that the handset answers; never raises."""
        ...

    def close(self) -> None:
        """Stop reading and release the device."""
        ...


class Link(Protocol):
    """One connection to a handset, from opening to losing it; used by a single thread."""

    @property
    def ignored(self) -> int:
        """How many lines or reports were ignored as unreadable so far."""
        ...

    def read(self) -> list[Reading]:
        """What arrived within a short poll; raises ``DeviceMissing`` when the device is lost."""
        ...

    def request_status(self) -> None:
        """Ask for the hook position; the answer comes back from :meth:`read`."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...
