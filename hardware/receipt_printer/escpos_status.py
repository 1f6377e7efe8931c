"""The status bytes an ESC/POS printer answers to ``DLE EOT n``, as Epson documents them.

Every answer has bit 1 and bit 4 set and bits 0 and 7 clear (``0b0xx1xx10``). Both sides use
this module: the driver to read the bytes, the simulator to write them.

=====  ==================  ==============================================================
n      asks about          bits used here
=====  ==================  ==============================================================
1      printer             3: offline
2      offline cause       2: cover open · 3: paper fed by button · 5: stopped, paper end ·
                           6: error
3      error cause         3: autocutter error · 5: unrecoverable · 6: auto-recoverable
4      roll paper sensor   2+3: near end · 5+6: paper end
=====  ==================  ==============================================================
"""

from __future__ import annotations

from dataclasses import dataclass

from hardware.health import PaperLevel

#: The command prefix; the byte after it says which status (1–4) is asked for.
DLE_EOT = b"\x10\x04"

FIXED_BITS = 0x12
FIXED_MASK = 0x93

OFFLINE = 0x08
COVER_OPEN = 0x04
PAPER_END_STOP = 0x20
ERROR = 0x40
AUTOCUTTER_ERROR = 0x08
UNRECOVERABLE_ERROR = 0x20
AUTO_RECOVERABLE_ERROR = 0x40
NEAR_END = 0x0C
PAPER_END = 0x60


@dataclass(frozen=True, slots=True)
class PrinterStatus:
    """What a receipt printer reports about itself; ``None`` where it cannot tell."""

    online: bool | None
    paper: PaperLevel
    cover_open: bool | None
    cutter_error: bool | None = None
    unrecoverable_error: bool | None = None
    recoverable_error: bool | None = None

    @classmethod
    def unknown(cls) -> PrinterStatus:
        """The status of a printer whose connection cannot read answers back."""
        return cls(online=None, paper=PaperLevel.UNKNOWN, cover_open=None)


def is_status_byte(value: int) -> bool:
    """Whether ``value`` has the fixed bits every DLE EOT answer carries."""
    return value & FIXED_MASK == FIXED_BITS


def decode(printer: int, offline: int, error: int, paper: int) -> PrinterStatus:
    """The status from the answers to DLE EOT 1, 2, 3 and 4."""
    if paper & PAPER_END or offline & PAPER_END_STOP:
        level = PaperLevel.OUT
    elif paper & NEAR_END:
        level = PaperLevel.NEAR_END
    else:
        level = PaperLevel.OK
    return PrinterStatus(
        online=not printer & OFFLINE,
        paper=level,
        cover_open=bool(offline & COVER_OPEN),
        cutter_error=bool(error & AUTOCUTTER_ERROR),
        unrecoverable_error=bool(error & UNRECOVERABLE_ERROR),
        recoverable_error=bool(error & AUTO_RECOVERABLE_ERROR),
    )


def encode(
    n: int, *, paper: PaperLevel, cover_open: bool, cutter_error: bool = False
) -> int | None:
    """The answer a printer in this state gives to DLE EOT ``n``; ``None`` if it ignores ``n``."""
    paper_out = paper is PaperLevel.OUT
    offline = paper_out or cover_open or cutter_error
    if n == 1:
        return FIXED_BITS | (OFFLINE if offline else 0)
    if n == 2:
        return (
            FIXED_BITS
            | (COVER_OPEN if cover_open else 0)
            | (PAPER_END_STOP if paper_out else 0)
            | (ERROR if cutter_error else 0)
        )
    if n == 3:
        return FIXED_BITS | (AUTOCUTTER_ERROR if cutter_error else 0)
    if n == 4:
        # The near-end sensor sits before the end sensor, so no paper trips both.
        near = paper in (PaperLevel.NEAR_END, PaperLevel.OUT)
        return FIXED_BITS | (NEAR_END if near else 0) | (PAPER_END if paper_out else 0)
    return None
