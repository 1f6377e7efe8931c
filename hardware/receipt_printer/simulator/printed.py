"""What the simulated printer put on paper: styled lines, QR codes and images, up to a cut."""

from __future__ import annotations

import codecs
import logging
from dataclasses import dataclass, field, replace

logger = logging.getLogger(__name__)

#: ``ESC t n`` numbers and the code pages they select, as in Epson's character code tables.
CODE_PAGES: dict[int, str] = {
    0: "cp437",
    2: "cp850",
    3: "cp860",
    4: "cp863",
    5: "cp865",
    16: "cp1252",
    17: "cp866",
    18: "cp852",
    19: "cp858",
    39: "iso8859-2",
    40: "iso8859-15",
    45: "cp1250",
    46: "cp1251",
    47: "cp1253",
    48: "cp1254",
    49: "cp1255",
    50: "cp1256",
    51: "cp1257",
    52: "cp1258",
}

QR_ERROR_LEVELS = {48: "L", 49: "M", 50: "Q", 51: "H"}


@dataclass(frozen=True, slots=True)
class Style:
    """The character style in force when text was received."""

    bold: bool = False
    underline: int = 0  # 0 off, 1 or 2 dots thick
    width: int = 1
    height: int = 1
    invert: bool = False
    font: int = 0


@dataclass(frozen=True, slots=True)
class Span:
    """A run of text in one style."""

    text: str
    style: Style


@dataclass(frozen=True, slots=True)
class PrintedLine:
    """A line ended by LF (or a feed); blank lines have no spans."""

    spans: tuple[Span, ...]
    align: str  # "left", "center", "right"

    @property
    def text(self) -> str:
        """The line's text without styles."""
        return "".join(span.text for span in self.spans)

    @property
    def bold(self) -> bool:
        """Whether every character of the line is bold."""
        return bool(self.spans) and all(span.style.bold for span in self.spans)

    @property
    def height(self) -> int:
        """The tallest magnification on the line."""
        return max((span.style.height for span in self.spans), default=1)


@dataclass(frozen=True, slots=True)
class PrintedQr:
    """A QR code printed from the symbol storage area (``GS ( k``)."""

    data: bytes
    model: int
    module_size: int
    error_level: str
    align: str

    @property
    def payload(self) -> str:
        """The stored data as text."""
        return self.data.decode("utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class PrintedImage:
    """A raster bit image (``GS v 0`` or ``GS ( L``): rows of packed bits, 1 is black."""

    width: int  # dots
    height: int
    data: bytes  # height rows of ceil(width / 8) bytes
    align: str
    scale_x: int = 1
    scale_y: int = 1


Item = PrintedLine | PrintedQr | PrintedImage


@dataclass(frozen=True, slots=True)
class Receipt:
    """One receipt, from the previous cut to this one."""

    items: tuple[Item, ...]
    cut: str  # "full" or "partial"

    @property
    def lines(self) -> list[PrintedLine]:
        """Every printed line, blank ones included."""
        return [item for item in self.items if isinstance(item, PrintedLine)]

    @property
    def texts(self) -> list[str]:
        """The text of the lines that have any."""
        return [line.text for line in self.lines if line.text]

    @property
    def qr_payloads(self) -> list[str]:
        """The payloads of the natively printed QR codes."""
        return [item.payload for item in self.items if isinstance(item, PrintedQr)]

    def line(self, text: str) -> PrintedLine:
        """The first line whose text is ``text``."""
        for line in self.lines:
            if line.text == text:
                return line
        raise KeyError(f"Expected a line {text!r} on the receipt, but it has {self.texts!r}")


@dataclass
class _QrSymbol:
    model: int = 2
    module_size: int = 3
    error_level: str = "L"
    data: bytes = b""


@dataclass
class ReceiptBuilder:
    """The printer's print buffer and modes, fed by the parser."""

    style: Style = field(default_factory=Style)
    align: str = "left"
    code_page: int = 0
    _spans: list[Span] = field(default_factory=list)
    _items: list[Item] = field(default_factory=list)
    _qr: _QrSymbol = field(default_factory=_QrSymbol)

    def initialize(self) -> None:
        """``ESC @``: modes back to power-on values; the buffer's printed lines stay."""
        self.style = Style()
        self.align = "left"
        self.code_page = 0
        self._qr = _QrSymbol()

    def restyle(self, **changes: object) -> None:
        """Change some of the character style."""
        self.style = replace(self.style, **changes)  # type: ignore[arg-type]

    def select_code_page(self, number: int) -> None:
        """``ESC t n``."""
        if number not in CODE_PAGES:
            logger.warning("Unknown code page number %d; keeping %d", number, self.code_page)
            return
        self.code_page = number

    def text(self, raw: bytes) -> None:
        """Printable bytes, decoded with the selected code page."""
        decoded = codecs.decode(raw, CODE_PAGES[self.code_page], errors="replace")
        if self._spans and self._spans[-1].style == self.style:
            self._spans[-1] = Span(self._spans[-1].text + decoded, self.style)
        else:
            self._spans.append(Span(decoded, self.style))

    def line_feed(self) -> None:
        """LF: print the buffered line."""
        self._items.append(PrintedLine(tuple(self._spans), self.align))
        self._spans = []

    def feed(self, lines: int) -> None:
        """``ESC d n``: print the buffer, then feed ``lines`` blank lines."""
        if self._spans:
            self.line_feed()
        for _ in range(lines):
            self.line_feed()

    def qr_model(self, model: int) -> None:
        """``GS ( k`` function 165."""
        self._qr.model = model

    def qr_module_size(self, size: int) -> None:
        """``GS ( k`` function 167."""
        self._qr.module_size = size

    def qr_error_level(self, level: str) -> None:
        """``GS ( k`` function 169."""
        self._qr.error_level = level

    def qr_store(self, data: bytes) -> None:
        """``GS ( k`` function 180."""
        self._qr.data = data

    def qr_print(self) -> None:
        """``GS ( k`` function 181: print the stored symbol."""
        if not self._qr.data:
            logger.warning("QR print asked with no stored data; nothing printed")
            return
        if self._spans:
            self.line_feed()
        q = self._qr
        self._items.append(PrintedQr(q.data, q.model, q.module_size, q.error_level, self.align))

    def image(self, width: int, height: int, data: bytes, scale_x: int, scale_y: int) -> None:
        """A raster image, printed at once."""
        if self._spans:
            self.line_feed()
        self._items.append(PrintedImage(width, height, data, self.align, scale_x, scale_y))

    def cut(self, partial: bool) -> Receipt:
        """``GS V``: print what is buffered and end the receipt."""
        if self._spans:
            self.line_feed()
        receipt = Receipt(tuple(self._items), "partial" if partial else "full")
        self._items = []
        return receipt

    def discard(self) -> int:
        """Forget an unfinished receipt; returns how many items it had."""
        count = len(self._items) + (1 if self._spans else 0)
        self._items = []
        self._spans = []
        return count
