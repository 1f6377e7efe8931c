"""The sound cards a handset may be wired to, as ALSA lists them in ``/proc/asound/cards``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

CARDS_FILE = Path("/proc/asound/cards")

# " 1 [Handset        ]: USB-Audio - USB Handset"
_CARD_LINE = re.compile(r"^\s*(\d+)\s+\[(\S+)\s*\]:\s*(.*?)\s+-\s+(.*)$")


@dataclass(frozen=True, slots=True)
class AlsaCard:
    """One ALSA sound card."""

    index: int
    id: str
    driver: str
    name: str
    description: str = ""  # the card's second line: bus, address

    @property
    def device(self) -> str:
        """The ALSA device name for its first PCM, usable as ``audio_device``."""
        return f"plughw:CARD={self.id},DEV=0"


def parse_cards(text: str) -> list[AlsaCard]:
    """The cards of a ``/proc/asound/cards`` text."""
    cards: list[AlsaCard] = []
    for line in text.splitlines():
        match = _CARD_LINE.match(line)
        if match:
            index, card_id, driver, name = match.groups()
            cards.append(AlsaCard(int(index), card_id, driver, name))
        elif cards and line.strip() and not cards[-1].description:
            last = cards[-1]
            cards[-1] = AlsaCard(last.index, last.id, last.driver, last.name, line.strip())
    return cards


def list_alsa_cards(path: Path = CARDS_FILE) -> list[AlsaCard]:
    """The machine's ALSA cards; empty when there is no sound system (no ``path``)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return parse_cards(text)


def usb_cards(cards: list[AlsaCard]) -> list[AlsaCard]:
    """The USB audio cards among ``cards``: where a USB handset's earpiece shows up."""
    return [card for card in cards if card.driver == "USB-Audio"]
