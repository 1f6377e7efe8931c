"""The cabin's telephone handset: hook switch and keypad as an async stream of events.

Backends: ``serial`` (a handset speaking the line format of docs/hardware.md), ``hid`` (a
USB HID telephony handset) and ``simulator`` (the shipped simulated handset on a pty).
"""

from hardware.handset.audio import AlsaCard, list_alsa_cards
from hardware.handset.base import Handset
from hardware.handset.config import BACKENDS, HandsetConfig
from hardware.handset.control import ControlServer, send_command
from hardware.handset.driver import HandsetDriver, Timing
from hardware.handset.events import (
    KEYS,
    HandsetEvent,
    Key,
    OffHook,
    OnHook,
    Replugged,
    Unplugged,
)
from hardware.handset.factory import SimulatedHandset, open_handset
from hardware.handset.simulator import HandsetSimulator, start_background

__all__ = [
    "BACKENDS",
    "KEYS",
    "AlsaCard",
    "ControlServer",
    "Handset",
    "HandsetConfig",
    "HandsetDriver",
    "HandsetEvent",
    "HandsetSimulator",
    "Key",
    "OffHook",
    "OnHook",
    "Replugged",
    "SimulatedHandset",
    "Timing",
    "Unplugged",
    "list_alsa_cards",
    "open_handset",
    "send_command",
    "start_background",
]
