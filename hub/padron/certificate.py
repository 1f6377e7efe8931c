"""The padrón certificate as a PDF (A4, reportlab), in the citizen's language.

Each page carries the council's name and coat of arms at the top and, at the bottom, the CSV
in groups of four and a QR code of the verification URL, so any page alone can be checked.
The text is set in DejaVu (it covers every name a padrón may hold) and stays extractable.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import qrcode
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from hub.padron import texts
from hub.padron.csv_code import grouped
from hub.padron.errors import CertificateUnavailable
from hub.padron.source import Address, Resident

logger = logging.getLogger(__name__)

_FONTS = {"regular": "DejaVuSans.ttf", "bold": "DejaVuSans-Bold.ttf", "mono": "DejaVuSansMono.ttf"}
_NAMES = {"regular": "CabinaSans", "bold": "CabinaSans-Bold", "mono": "CabinaMono"}
_MARGIN = 20 * mm
_HEADER_H = 30 * mm
_FOOTER_H = 38 * mm
_QR_SIZE = 30 * mm
_INK = colors.HexColor("#1a1a1a")
_RULE = colors.HexColor("#8a8a8a")


@dataclass(frozen=True, slots=True)
class CertificateData:
    """Everything a certificate prints."""

    council: str
    kind: str
    language: str
    address: Address
    people: tuple[Resident, ...]
    #: The moment of issue, in the hub's local time.
    issued_at: datetime
    site: str
    #: The compact CSV and the URL its QR code opens.
    csv: str
    verify_url: str
    #: The page where a code is typed by hand.
    verify_page: str


def _register_fonts(font_dir: Path) -> None:
    for key, filename in _FONTS.items():
        if _NAMES[key] in pdfmetrics.getRegisteredFontNames():
            continue
        try:
            pdfmetrics.registerFont(TTFont(_NAMES[key], str(font_dir / filename)))
        except (TTFError, OSError) as exc:
            raise CertificateUnavailable(
                f"Expected the font {font_dir / filename} (Debian package fonts-dejavu-core), "
                f"but it cannot be read: {exc}"
            ) from exc


class _PageCounter(Canvas):  # type: ignore[misc]
    """Defers each page so that the footer can say "page 2 of 3"."""

    def __init__(self, *args: Any, footer: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []
        self._footer = footer

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._footer(self, number, total)
            super().showPage()
        super().save()


class _Shield(Flowable):  # type: ignore[misc]
    """A plain shield, drawn when the council has given no coat of arms."""

    def __init__(self, size: float) -> None:
        super().__init__()
        self.width = self.height = size

    def draw(self) -> None:
        c, w, h = self.canv, self.width, self.height
        path = c.beginPath()
        path.moveTo(w * 0.1, h)
        path.lineTo(w * 0.9, h)
        path.lineTo(w * 0.9, h * 0.45)
        path.curveTo(w * 0.9, h * 0.15, w * 0.6, h * 0.05, w * 0.5, 0)
        path.curveTo(w * 0.4, h * 0.05, w * 0.1, h * 0.15, w * 0.1, h * 0.45)
        path.close()
        c.setStrokeColor(_INK)
        c.setLineWidth(1.2)
        c.setFillColor(colors.HexColor("#f1ece0"))
        c.drawPath(path, stroke=1, fill=1)


class CertificateRenderer:
    """Renders certificates; holds the fonts and the coat of arms, loaded once."""

    def __init__(self, *, font_dir: Path, coat_of_arms: Path | None = None) -> None:
        _register_fonts(font_dir)
        self._arms: ImageReader | None = None
        if coat_of_arms is not None:
            try:
                self._arms = ImageReader(str(coat_of_arms))
                self._arms.getSize()
            except Exception as exc:  # reportlab raises plain Exceptions for bad images
                raise CertificateUnavailable(
                    f"Expected a PNG or JPEG coat of arms at {coat_of_arms}, but {exc}"
                ) from exc
        self._styles = {
            "title": ParagraphStyle(
                "title", fontName=_NAMES["bold"], fontSize=15, leading=19, textColor=_INK
            ),
            "body": ParagraphStyle(
                "body", fontName=_NAMES["regular"], fontSize=10.5, leading=14.5, textColor=_INK
            ),
            "label": ParagraphStyle(
                "label", fontName=_NAMES["bold"], fontSize=9, leading=12, textColor=_RULE
            ),
            "address": ParagraphStyle(
                "address", fontName=_NAMES["bold"], fontSize=11.5, leading=15, textColor=_INK
            ),
            "cell": ParagraphStyle(
                "cell", fontName=_NAMES["regular"], fontSize=9.5, leading=12, alignment=TA_LEFT
            ),
            "head": ParagraphStyle(
                "head", fontName=_NAMES["bold"], fontSize=8.5, leading=11, textColor=_INK
            ),
            "small": ParagraphStyle(
                "small", fontName=_NAMES["regular"], fontSize=8, leading=10.5, textColor=_RULE
            ),
        }

    def render(self, data: CertificateData) -> bytes:
        """The certificate as PDF bytes."""
        lang = data.language
        buffer = io.BytesIO()
        document = SimpleDocTemplate(
            buffer,
            pagesize=A4,
            # The frame pads its content by 6 pt: the text lines up with header and footer.
            leftMargin=_MARGIN - 6,
            rightMargin=_MARGIN - 6,
            topMargin=_MARGIN + _HEADER_H,
            bottomMargin=_MARGIN + _FOOTER_H,
            title=texts.tr(
                texts.TITLE_COLLECTIVE if data.kind == "collective" else texts.TITLE_INDIVIDUAL,
                lang,
            ),
            author=data.council,
            subject=texts.tr(texts.REGISTER, lang),
            creator="Cabina",
            lang=lang.split("@")[0],
        )

        def footer(canvas: Canvas, page: int, pages: int) -> None:
            self._header(canvas, data)
            self._footer(canvas, data, page, pages)

        document.build(
            self._story(data),
            canvasmaker=lambda *a, **k: _PageCounter(*a, footer=footer, **k),
        )
        return buffer.getvalue()

    def _p(self, text: str, style: str) -> Paragraph:
        return Paragraph(escape(text), self._styles[style])

    def _story(self, data: CertificateData) -> list[Flowable]:
        lang = data.language
        collective = data.kind == "collective"
        title = texts.TITLE_COLLECTIVE if collective else texts.TITLE_INDIVIDUAL
        certifies = texts.CERTIFIES_COLLECTIVE if collective else texts.CERTIFIES_INDIVIDUAL
        local = data.issued_at
        street, town = data.address.lines()
        rows = [
            [
                self._p(texts.tr(heading, lang), "head")
                for heading in (
                    texts.NAME,
                    texts.DOCUMENT,
                    texts.BIRTH_DATE,
                    texts.REGISTERED_SINCE,
                )
            ]
        ]
        for person in data.people:
            since = person.registration.registered_on if person.registration else None
            rows.append(
                [
                    self._p(person.full_name, "cell"),
                    self._p(person.document, "cell"),
                    self._p(texts.short_date(person.birth_date, lang), "cell"),
                    self._p(texts.short_date(since, lang) if since else "", "cell"),
                ]
            )
        width = A4[0] - 2 * _MARGIN
        table = Table(
            rows,
            colWidths=[width * 0.43, width * 0.19, width * 0.19, width * 0.19],
            repeatRows=1,
        )
        table.setStyle(
            TableStyle(
                [
                    ("LINEBELOW", (0, 0), (-1, 0), 0.8, _INK),
                    ("LINEBELOW", (0, 1), (-1, -1), 0.3, _RULE),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("TOPPADDING", (0, 0), (-1, -1), 4),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
                    ("LEFTPADDING", (0, 0), (-1, -1), 2),
                ]
            )
        )
        issued = texts.tr(texts.ISSUED, lang).format(
            site=data.site,
            date=texts.long_date(local.date(), lang),
            time=texts.clock_time(local, lang),
        )
        return [
            self._p(texts.tr(title, lang), "title"),
            Spacer(1, 6 * mm),
            self._p(texts.tr(certifies, lang).format(council=data.council), "body"),
            Spacer(1, 5 * mm),
            self._p(texts.tr(texts.ADDRESS, lang).upper(), "label"),
            self._p(street, "address"),
            self._p(town, "address"),
            Spacer(1, 6 * mm),
            table,
            Spacer(1, 8 * mm),
            self._p(issued, "body"),
            Spacer(1, 3 * mm),
            self._p(
                texts.tr(texts.VALID_WITHOUT_SIGNATURE, lang).format(url=data.verify_page), "body"
            ),
            Spacer(1, 5 * mm),
            self._p(texts.tr(texts.DATA_PROTECTION, lang), "small"),
        ]

    def _header(self, canvas: Canvas, data: CertificateData) -> None:
        width, height = A4
        top = height - _MARGIN
        size = 22 * mm
        canvas.saveState()
        if self._arms is not None:
            canvas.drawImage(
                self._arms,
                _MARGIN,
                top - size,
                width=size,
                height=size,
                preserveAspectRatio=True,
                mask="auto",
            )
        else:
            shield = _Shield(size * 0.8)
            shield.drawOn(canvas, _MARGIN + size * 0.1, top - size * 0.9)
        canvas.setFillColor(_INK)
        canvas.setFont(_NAMES["bold"], 14)
        canvas.drawString(_MARGIN + size + 6 * mm, top - 9 * mm, data.council)
        canvas.setFont(_NAMES["regular"], 10)
        canvas.drawString(
            _MARGIN + size + 6 * mm, top - 15 * mm, texts.tr(texts.REGISTER, data.language)
        )
        canvas.setStrokeColor(_RULE)
        canvas.setLineWidth(0.6)
        canvas.line(_MARGIN, top - _HEADER_H + 4 * mm, width - _MARGIN, top - _HEADER_H + 4 * mm)
        canvas.restoreState()

    def _footer(self, canvas: Canvas, data: CertificateData, page: int, pages: int) -> None:
        width, _ = A4
        lang = data.language
        bottom = _MARGIN
        canvas.saveState()
        canvas.setStrokeColor(_RULE)
        canvas.setLineWidth(0.6)
        canvas.line(
            _MARGIN, bottom + _FOOTER_H - 2 * mm, width - _MARGIN, bottom + _FOOTER_H - 2 * mm
        )
        _draw_qr(canvas, data.verify_url, width - _MARGIN - _QR_SIZE, bottom + 2 * mm, _QR_SIZE)
        canvas.setFillColor(_RULE)
        canvas.setFont(_NAMES["bold"], 8.5)
        canvas.drawString(_MARGIN, bottom + 26 * mm, texts.tr(texts.CSV_LABEL, lang).upper())
        canvas.setFillColor(_INK)
        canvas.setFont(_NAMES["mono"], 13)
        canvas.drawString(_MARGIN, bottom + 19 * mm, grouped(data.csv))
        canvas.setFont(_NAMES["regular"], 8.5)
        canvas.drawString(_MARGIN, bottom + 12 * mm, data.verify_page)
        canvas.setFillColor(_RULE)
        canvas.drawString(
            _MARGIN, bottom + 2 * mm, texts.tr(texts.PAGE, lang).format(page=page, pages=pages)
        )
        canvas.restoreState()


def _draw_qr(canvas: Canvas, url: str, x: float, y: float, size: float) -> None:
    """The QR code of ``url`` as vector squares, with its quiet zone left white."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    code.add_data(url)
    code.make(fit=True)
    matrix = code.get_matrix()
    modules = len(matrix)
    quiet = 4
    cell = size / (modules + 2 * quiet)
    canvas.saveState()
    canvas.setFillColor(colors.white)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColor(colors.black)
    for row, line in enumerate(matrix):
        top = y + size - (quiet + row + 1) * cell
        column = 0
        while column < modules:
            if not line[column]:
                column += 1
                continue
            start = column
            while column < modules and line[column]:
                column += 1
            canvas.rect(
                x + (quiet + start) * cell, top, (column - start) * cell, cell, stroke=0, fill=1
            )
    canvas.restoreState()
