"""Draw a simulated receipt as a PNG: DejaVu Sans Mono on a 12×24-dot grid, real QR modules."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

from hardware.receipt_printer.simulator.printed import (
    PrintedImage,
    PrintedLine,
    PrintedQr,
    Receipt,
    Span,
)

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
#: Printable width of an 80 mm roll at 180 dpi (Epson TM-T88), in dots.
PAPER_DOTS = 512
MARGIN = 24
LINE_GAP = 6  # ESC 2 default line spacing is 30 dots for 24-dot characters
_CELLS = {0: (12, 24, 20), 1: (9, 17, 15)}  # font A and B: cell width, height, point size
_QR_LEVELS = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}


@cache
def _font(bold: bool, size: int) -> ImageFont.FreeTypeFont:
    name = "DejaVuSansMono-Bold.ttf" if bold else "DejaVuSansMono.ttf"
    path = FONT_DIR / name
    if not path.is_file():
        raise FileNotFoundError(
            f"Expected the DejaVu fonts at {path}, but it is missing: apt install fonts-dejavu-core"
        )
    return ImageFont.truetype(str(path), size)


def _place(block: Image.Image, align: str, width: int) -> Image.Image:
    row = Image.new("L", (width, block.height), 255)
    slack = max(0, width - block.width)
    x = {"left": 0, "center": slack // 2, "right": slack}.get(align, 0)
    row.paste(block.crop((0, 0, min(block.width, width), block.height)), (x, 0))
    return row


def _span_cells(span: Span) -> list[Image.Image]:
    """One image per character, magnified as the printer would."""
    cell_w, cell_h, size = _CELLS.get(span.style.font, _CELLS[0])
    fg, bg = (255, 0) if span.style.invert else (0, 255)
    cells = []
    for char in span.text:
        cell = Image.new("L", (cell_w, cell_h), bg)
        draw = ImageDraw.Draw(cell)
        draw.text((0, 1), char, font=_font(span.style.bold, size), fill=fg)
        if span.style.underline:
            thickness = span.style.underline
            draw.rectangle((0, cell_h - thickness, cell_w, cell_h - 1), fill=fg)
        w, h = cell_w * span.style.width, cell_h * span.style.height
        cells.append(cell.resize((w, h), Image.Resampling.NEAREST))
    return cells


def _line_blocks(line: PrintedLine, width: int) -> list[Image.Image]:
    """The line as rows of paper width, wrapped where the printer would wrap it."""
    cells = [cell for span in line.spans for cell in _span_cells(span)]
    if not cells:
        return [Image.new("L", (width, _CELLS[0][1] + LINE_GAP), 255)]
    rows: list[list[Image.Image]] = [[]]
    used = 0
    for cell in cells:
        if used + cell.width > width and rows[-1]:
            rows.append([])
            used = 0
        rows[-1].append(cell)
        used += cell.width
    blocks = []
    for row in rows:
        height = max(cell.height for cell in row)
        block = Image.new("L", (sum(cell.width for cell in row), height + LINE_GAP), 255)
        x = 0
        for cell in row:
            block.paste(cell, (x, height - cell.height))  # characters share a baseline
            x += cell.width
        blocks.append(_place(block, line.align, width))
    return blocks


def _qr_block(item: PrintedQr, width: int) -> Image.Image:
    code = qrcode.QRCode(
        version=None,
        error_correction=_QR_LEVELS.get(item.error_level, qrcode.constants.ERROR_CORRECT_L),
        box_size=1,
        border=4,  # the quiet zone a reader needs; on paper it is blank roll
    )
    code.add_data(item.data)
    code.make(fit=True)
    matrix = code.get_matrix()
    side = len(matrix)
    block = Image.new("L", (side, side), 255)
    block.putdata([0 if dark else 255 for row in matrix for dark in row])
    size = side * item.module_size
    return _place(block.resize((size, size), Image.Resampling.NEAREST), item.align, width)


def _image_block(item: PrintedImage, width: int) -> Image.Image:
    bits = Image.frombytes("1", (item.width, item.height), item.data, "raw", "1;I")
    picture = bits.convert("L")
    if item.scale_x > 1 or item.scale_y > 1:
        picture = picture.resize(
            (item.width * item.scale_x, item.height * item.scale_y), Image.Resampling.NEAREST
        )
    return _place(picture, item.align, width)


def render(receipt: Receipt, paper_dots: int = PAPER_DOTS) -> Image.Image:
    """The receipt as a grayscale image: the paper's printable width plus white margins."""
    blocks: list[Image.Image] = []
    for item in receipt.items:
        if isinstance(item, PrintedLine):
            blocks.extend(_line_blocks(item, paper_dots))
        elif isinstance(item, PrintedQr):
            blocks.append(_qr_block(item, paper_dots))
        else:
            blocks.append(_image_block(item, paper_dots))
    height = sum(block.height for block in blocks) + 2 * MARGIN
    page = Image.new("L", (paper_dots + 2 * MARGIN, height), 255)
    y = MARGIN
    for block in blocks:
        page.paste(block, (MARGIN, y))
        y += block.height
    draw = ImageDraw.Draw(page)
    # A dashed line where the cutter went, so a technician sees the receipt ended cleanly.
    for x in range(0, page.width, 12):
        draw.line((x, height - 2, x + 5, height - 2), fill=128)
    return page


def save_png(receipt: Receipt, path: Path, paper_dots: int = PAPER_DOTS) -> Path:
    """Render ``receipt`` into the PNG file ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    render(receipt, paper_dots).save(path, format="PNG")
    return path
