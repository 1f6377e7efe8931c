"""PDF work for the steps: draw a page as a picture, stamp the citizen's signature on a page.

:func:`render_page` shells out to poppler's ``pdftoppm``; :func:`stamp_signature` draws with
reportlab and merges with pypdf, both imported only when a signature is stamped.
"""

from __future__ import annotations

import asyncio
import io
import logging
from pathlib import Path
from typing import Any

from kiosk.steps.errors import StepError

__all__ = ["render_page", "stamp_signature"]

logger = logging.getLogger(__name__)


async def render_page(pdf: Path, *, page: int, out: Path, dpi: int = 60) -> Path | None:
    """Draw ``page`` of ``pdf`` as ``<out>.png`` with poppler's ``pdftoppm``; None on failure."""
    try:
        process = await asyncio.create_subprocess_exec(
            "pdftoppm", "-png", "-r", str(dpi), "-f", str(page), "-l", str(page),
            "-singlefile", str(pdf), str(out),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
    except FileNotFoundError:
        logger.warning("pdftoppm is not installed: no preview of the document")
        return None
    if await process.wait() != 0:
        return None
    png = out.with_name(out.name + ".png")
    return png if png.exists() else None


def stamp_signature(
    pdf: bytes | bytearray, signature_png: bytes | bytearray, params: dict[str, Any]
) -> bytearray:
    """``pdf`` with the signature drawn in a box (``page``, ``x_mm``, ``y_mm``, ``width_mm``)."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import PdfReadError
    from reportlab.lib.units import mm
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    try:
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(bytes(pdf))))
        pages = len(writer.pages)
    except (PdfReadError, ValueError) as exc:
        raise StepError("not_pdf", "Expected a readable PDF to sign") from exc
    index = int(params.get("page", pages)) - 1
    if not 0 <= index < pages:
        raise StepError("bad_page", f"Expected a page from 1 to {pages}, but got {index + 1}")
    page = writer.pages[index]
    page_w, page_h = float(page.mediabox.width), float(page.mediabox.height)
    box_w = float(params.get("width_mm", 60)) * mm
    x = float(params.get("x_mm", page_w / mm - 80)) * mm
    y = float(params.get("y_mm", 25)) * mm
    overlay = io.BytesIO()
    drawing = canvas.Canvas(overlay, pagesize=(page_w, page_h))
    image = ImageReader(io.BytesIO(bytes(signature_png)))
    drawing.drawImage(
        image, x, y, width=box_w, height=box_w / 3, mask="auto", preserveAspectRatio=True
    )
    drawing.save()
    page.merge_page(PdfReader(overlay).pages[0])
    out = io.BytesIO()
    writer.write(out)
    return bytearray(out.getvalue())
