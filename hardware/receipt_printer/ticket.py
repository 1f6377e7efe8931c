"""What a receipt says, independent of any printer language: lines with styles, a QR, a cut."""

from __future__ import annotations

import enum
from dataclasses import dataclass

#: The largest character magnification ESC/POS printers accept (GS ! n).
MAX_MAGNIFICATION = 8


class Align(enum.StrEnum):
    """Horizontal placement of a line on the paper."""

    LEFT = "left"
    CENTER = "center"
    RIGHT = "right"


def _check_text(text: str) -> None:
    # A control character inside a line would reach the printer as a command (ESC, GS, DLE…),
    # so a line may hold printable text only.
    for char in text:
        if ord(char) < 0x20 or ord(char) == 0x7F:
            raise ValueError(
                f"Expected printable text in a ticket line, but got control character "
                f"U+{ord(char):04X}"
            )


@dataclass(frozen=True, slots=True)
class TicketLine:
    """One line of text and its style; long lines wrap at the paper's width."""

    text: str
    bold: bool = False
    underline: bool = False
    align: Align = Align.LEFT
    width: int = 1  # character magnification across, 1–8
    height: int = 1  # character magnification down, 1–8

    def __post_init__(self) -> None:
        _check_text(self.text)
        for name, value in (("width", self.width), ("height", self.height)):
            if not 1 <= value <= MAX_MAGNIFICATION:
                raise ValueError(
                    f"Expected a {name} between 1 and {MAX_MAGNIFICATION}, but got {value}"
                )


@dataclass(frozen=True, slots=True)
class Ticket:
    """A receipt: header lines, body lines, an optional QR code, footer lines, then a cut."""

    header: tuple[TicketLine, ...] = ()
    body: tuple[TicketLine, ...] = ()
    qr: str | None = None  # payload, e.g. a verification URL
    footer: tuple[TicketLine, ...] = ()
    cut: bool = True
    qr_module_size: int = 6  # printer dots per QR module, 1–16

    def __post_init__(self) -> None:
        if self.qr is not None:
            if not self.qr:
                raise ValueError("Expected a QR payload, but got an empty string")
            _check_text(self.qr)
        if not 1 <= self.qr_module_size <= 16:
            raise ValueError(
                f"Expected a QR module size between 1 and 16, but got {self.qr_module_size}"
            )

    @property
    def lines(self) -> tuple[TicketLine, ...]:
        """Every text line, in printing order (the QR goes between body and footer)."""
        return self.header + self.body + self.footer
