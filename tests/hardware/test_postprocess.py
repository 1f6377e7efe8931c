"""Post-processing of scans and camera pictures, on generated pages."""

from __future__ import annotations

import io
import math
import subprocess
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pypdf
import pytest

from hardware.scanner.base import PdfImage, ScanMode
from hardware.scanner.postprocess import (
    PREVIEW_SIDE,
    document_pdf,
    estimate_skew,
    find_page,
    make_pdf,
    page_kind,
    process,
)

PAGE_W, PAGE_H = 420, 594  # an A4 sheet's proportions


def _page(width: int = PAGE_W, height: int = PAGE_H) -> np.ndarray:
    page = np.full((height, width, 3), 255, np.uint8)
    for i, y in enumerate(range(60, height - 60, 28)):
        cv2.putText(
            page, f"Linea {i} del certificado de empadronamiento", (30, y),
            cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA,
        )  # fmt: skip
    return page


def _photo(angle: float, background: int = 40, canvas: tuple[int, int] = (900, 1000)) -> np.ndarray:
    """The page turned by ``angle`` degrees, laid on a plain background of ``canvas`` (w, h)."""
    page = _page()
    width, height = canvas
    picture = np.full((height, width, 3), background, np.uint8)
    matrix = cv2.getRotationMatrix2D((PAGE_W / 2, PAGE_H / 2), angle, 1.0)
    matrix[:, 2] += np.array([width / 2 - PAGE_W / 2, height / 2 - PAGE_H / 2])
    cv2.warpAffine(page, matrix, (width, height), dst=picture, borderMode=cv2.BORDER_TRANSPARENT)
    return picture


def _text_line_angle(image: np.ndarray) -> float:
    """Median angle (degrees) of the text lines, measured independently of the code under test."""
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    ink = (grey < 128).astype(np.uint8) * 255
    lines = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((3, 25), np.uint8))
    contours, _ = cv2.findContours(lines, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    angles = []
    for contour in contours:
        if cv2.boundingRect(contour)[2] < 150:
            continue
        vx, vy, _, _ = cv2.fitLine(contour, cv2.DIST_L2, 0, 0.01, 0.01).ravel()
        angles.append(math.degrees(math.atan2(vy, vx)))
    assert len(angles) >= 5, "expected to see the text lines"
    angle = float(np.median(angles))
    return angle - 180 if angle > 90 else angle + 180 if angle < -90 else angle


def _image_object(reader: pypdf.PdfReader) -> Any:
    return reader.pages[0]["/Resources"]["/XObject"]["/Im0"].get_object()  # type: ignore[index]


@pytest.mark.parametrize("angle", [0.0, 4.0, -9.0, 17.0, 30.0])
def test_rotated_page_is_found_cropped_and_level(angle: float) -> None:
    result = process(_photo(angle), mode=ScanMode.COLOR, dpi=None, find_edges=True)
    height, width = result.image.shape[:2]
    assert result.page_found
    assert height / width == pytest.approx(PAGE_H / PAGE_W, rel=0.02)
    assert (width, height) == pytest.approx((PAGE_W, PAGE_H), rel=0.02)
    assert abs(_text_line_angle(result.image)) <= 1.0
    # Cropped to the sheet: the dark background is gone, even at the edges.
    assert result.image[:4].mean() > 200 and result.image[-4:].mean() > 200
    # No dpi from a camera: the page is sized as an A4 sheet.
    assert result.page_size_mm[1] == pytest.approx(297.0, rel=0.01)


def test_page_in_perspective_is_flattened() -> None:
    picture = np.full((800, 800, 3), 30, np.uint8)
    source = np.array([[0, 0], [PAGE_W, 0], [PAGE_W, PAGE_H], [0, PAGE_H]], np.float32)
    corners = np.array([[250, 90], [560, 110], [620, 700], [180, 680]], np.float32)
    matrix = cv2.getPerspectiveTransform(source, corners)
    cv2.warpPerspective(_page(), matrix, (800, 800), dst=picture, borderMode=cv2.BORDER_TRANSPARENT)
    quad = find_page(picture)
    assert quad is not None
    assert np.abs(quad - corners).max() < 6
    result = process(picture, mode=ScanMode.GRAY, dpi=None, find_edges=True)
    assert result.page_found
    assert abs(_text_line_angle(result.image)) <= 1.0


def test_without_page_edges_the_whole_image_is_kept_and_levelled() -> None:
    picture = _photo(5.0, background=255)  # a white sheet on a white lid: no edge to find
    result = process(picture, mode=ScanMode.COLOR, dpi=150, find_edges=True)
    assert not result.page_found
    assert result.image.shape == picture.shape
    assert result.skew_degrees == pytest.approx(-5.0, abs=0.5)
    assert abs(_text_line_angle(result.image)) <= 1.0


def test_skew_of_a_level_page_and_of_a_blank_one_is_zero() -> None:
    assert abs(estimate_skew(_page())) < 0.2
    assert estimate_skew(np.full((600, 400, 3), 255, np.uint8)) == 0.0
    blank = process(
        np.full((600, 400, 3), 255, np.uint8), mode=ScanMode.GRAY, dpi=100, find_edges=True
    )
    assert (blank.page_found, blank.skew_degrees, blank.image.shape) == (False, 0.0, (600, 400))


def _colour_page(width: int, height: int) -> np.ndarray:
    """A page with a coloured photograph on it: smooth gradients in every channel."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    page = np.stack(
        [xs / width * 255, ys / height * 255, 128 + 100 * np.sin(xs / 40) * np.cos(ys / 50)],
        axis=2,
    )
    return np.asarray(np.clip(page, 0, 255), np.uint8)


def _a4_text_page(dpi: int) -> np.ndarray:
    """An A4 page at ``dpi`` covered in lines of small print, in colour as a scanner sends it."""
    width, height = round(210 / 25.4 * dpi), round(297 / 25.4 * dpi)
    page = np.full((height, width, 3), (238, 242, 244), np.uint8)  # off-white paper
    scale = dpi / 300
    for i, y in enumerate(
        range(round(200 * scale), height - round(200 * scale), round(60 * scale))
    ):
        text = f"{i:02d} Certificat d'empadronament - carrer Major 12 - 08001 Barcelona"
        cv2.putText(
            page, text, (round(150 * scale), y), cv2.FONT_HERSHEY_SIMPLEX, 1.3 * scale,
            (40, 35, 30), max(1, round(2 * scale)), cv2.LINE_AA,
        )  # fmt: skip
    return page


def _render(pdf: bytes | bytearray, tmp_path: Path, dpi: int) -> list[np.ndarray]:
    """Every page of ``pdf`` drawn in grey by Poppler, an independent PDF reader."""
    source = tmp_path / "document.pdf"
    source.write_bytes(bytes(pdf))
    subprocess.run(
        ["pdftoppm", "-gray", "-r", str(dpi), str(source), str(tmp_path / "page")],
        check=True,
        capture_output=True,
    )
    pages = sorted(tmp_path.glob("page*.pgm"))
    return [np.asarray(cv2.imread(str(page), cv2.IMREAD_GRAYSCALE), np.uint8) for page in pages]


def test_a4_text_page_at_300_dpi_is_a_small_legible_black_and_white_pdf(tmp_path: Path) -> None:
    scan = _a4_text_page(300)
    result = process(scan, mode=ScanMode.COLOR, dpi=300, find_edges=False)
    assert result.encoding is ScanMode.LINEART  # asked in colour, but it is only text
    assert len(result.pdf) <= 400 * 1024
    reader = pypdf.PdfReader(io.BytesIO(bytes(result.pdf)), strict=True)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx((595.3, 841.9), abs=1.0)
    xobject = _image_object(reader)
    assert (xobject["/Filter"], xobject["/BitsPerComponent"]) == ("/FlateDecode", 1)
    assert (xobject["/Width"], xobject["/Height"]) == (2480, 3508)

    # Legible: drawn back at 100 dpi, the page is the source page at 100 dpi. Ink falls where
    # the letters were (and nowhere else), and the two pictures correlate closely.
    (rendered,) = _render(result.pdf, tmp_path, 100)
    grey = cv2.cvtColor(scan, cv2.COLOR_BGR2GRAY)
    expected = cv2.resize(
        grey, (rendered.shape[1], rendered.shape[0]), interpolation=cv2.INTER_AREA
    )
    ink_expected, ink_rendered = expected < 160, rendered < 160
    overlap = (ink_expected & ink_rendered).sum() / (ink_expected | ink_rendered).sum()
    assert overlap > 0.75
    correlation = np.corrcoef(expected.ravel(), rendered.ravel())[0, 1]
    assert correlation > 0.9
    # The background is clean paper, not speckle from the threshold.
    assert (rendered[:40] > 200).mean() > 0.99  # the top margin

    # The preview is small and still the page.
    preview = cv2.imdecode(np.frombuffer(bytes(result.jpeg), np.uint8), cv2.IMREAD_COLOR)
    assert preview is not None and max(preview.shape[:2]) == PREVIEW_SIDE
    assert len(result.jpeg) < 200 * 1024


def test_a_colour_page_stays_a_colour_jpeg_and_a_grey_one_grey() -> None:
    dpi = 100
    colour = process(_colour_page(827, 1169), mode=ScanMode.COLOR, dpi=dpi, find_edges=False)
    assert colour.encoding is ScanMode.COLOR
    reader = pypdf.PdfReader(io.BytesIO(bytes(colour.pdf)), strict=True)
    xobject = _image_object(reader)
    assert (xobject["/Filter"], xobject["/ColorSpace"]) == ("/DCTDecode", "/DeviceRGB")
    assert colour.page_size_mm == pytest.approx((210.0, 297.0), abs=0.5)
    # The JPEG inside is the page itself, decodable and full size.
    decoded = cv2.imdecode(np.frombuffer(xobject.get_data(), np.uint8), cv2.IMREAD_COLOR)
    assert decoded is not None and decoded.shape == (1169, 827, 3)
    assert np.abs(decoded.astype(int) - colour.image.astype(int)).mean() < 6

    # The same photograph asked for in grey: a grey JPEG, not thresholded to black and white.
    grey = process(_colour_page(827, 1169), mode=ScanMode.GRAY, dpi=dpi, find_edges=False)
    assert grey.encoding is ScanMode.GRAY
    xobject = _image_object(pypdf.PdfReader(io.BytesIO(bytes(grey.pdf)), strict=True))
    assert (xobject["/Filter"], xobject["/ColorSpace"]) == ("/DCTDecode", "/DeviceGray")


def test_page_kind_reads_what_the_page_shows() -> None:
    assert page_kind(_a4_text_page(100)) is ScanMode.LINEART
    assert page_kind(_colour_page(400, 560)) is ScanMode.COLOR
    grey = np.asarray(cv2.cvtColor(_colour_page(400, 560), cv2.COLOR_BGR2GRAY), np.uint8)
    assert page_kind(grey) is ScanMode.GRAY
    # A text page with a red stamp on it keeps its colour.
    stamped = _a4_text_page(100)
    cv2.circle(stamped, (600, 900), 120, (30, 30, 200), -1)
    assert page_kind(stamped) is ScanMode.COLOR


def test_pages_of_a_batch_make_one_pdf_in_order(tmp_path: Path) -> None:
    pages = [
        process(_a4_text_page(75), mode=ScanMode.COLOR, dpi=75, find_edges=False),
        process(_colour_page(620, 877), mode=ScanMode.COLOR, dpi=75, find_edges=False),
    ]
    pdf = document_pdf(pages)
    reader = pypdf.PdfReader(io.BytesIO(bytes(pdf)), strict=True)
    assert len(reader.pages) == 2
    filters = [
        page["/Resources"]["/XObject"]["/Im0"].get_object()["/Filter"]  # type: ignore[index]
        for page in reader.pages
    ]
    assert filters == ["/FlateDecode", "/DCTDecode"]
    assert len(pdf) < sum(len(page.pdf) for page in pages)
    drawn = _render(pdf, tmp_path, 20)
    assert len(drawn) == 2 and drawn[0].mean() > drawn[1].mean()  # the text page is the white one


def test_wipe_erases_the_document_in_place() -> None:
    result = process(_page(), mode=ScanMode.COLOR, dpi=75, find_edges=False)
    image, jpeg, pdf = result.image, result.jpeg, result.pdf
    assert image.any() and len(jpeg) and len(pdf)
    result.wipe()
    assert result.wiped
    assert not image.any()  # zeroed where it lay, not just dropped
    assert len(jpeg) == 0 and len(pdf) == 0
    with pytest.raises(ValueError, match="wiped"):
        _ = result.image
    assert "wiped" in repr(result)


def test_repr_shows_no_content() -> None:
    result = process(_page(), mode=ScanMode.GRAY, dpi=75, find_edges=False)
    assert repr(result).startswith("<ScanResult gray ")
    assert "Linea" not in repr(result)


def test_refuses_images_it_cannot_process() -> None:
    with pytest.raises(ValueError, match="uint8"):
        process(np.zeros((100, 100), np.float32), mode=ScanMode.GRAY, dpi=100, find_edges=False)
    with pytest.raises(ValueError, match="at least 16"):
        process(np.zeros((8, 100), np.uint8), mode=ScanMode.GRAY, dpi=100, find_edges=False)
    with pytest.raises(ValueError, match="positive"):
        make_pdf([PdfImage(bytearray(b"\xff\xd8"), "DCTDecode", "DeviceRGB", 8, 10, 10, 0)])
    with pytest.raises(ValueError, match="at least one page"):
        make_pdf([])
