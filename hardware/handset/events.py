"""What a handset tells the kiosk: hook changes, key presses and its cable coming and going."""

from __future__ import annotations

from dataclasses import dataclass

#: The keys of a phone keypad, in the order of the HID usages 0xB0–0xBB.
KEYS: tuple[str, ...] = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#")


@dataclass(frozen=True, slots=True)
class OffHook:
    """The citizen lifted the handset."""


@dataclass(frozen=True, slots=True)
class OnHook:
    """The handset was put back on its cradle."""


@dataclass(frozen=True, slots=True)
class Key:
    """A key of the handset's keypad was pressed."""

    digit: str

    def __post_init__(self) -> None:
        if self.digit not in KEYS:
            raise ValueError(f"Expected one of {' '.join(KEYS)}, but got {self.digit!r}")


@dataclass(frozen=True, slots=True)
class Unplugged:
    """The handset stopped answering: cable pulled, port gone, device reset."""


@dataclass(frozen=True, slots=True)
class Replugged:
    """The handset is back after an :class:`Unplugged`."""


HandsetEvent = OffHook | OnHook | Key | Unplugged | Replugged
