"""Post-processing of scans and camera pictures, on generated pages."""

from __future__ import annotations

import io
import math
from typing import Any

import cv2
import numpy as np
import pypdf
import pytest

from hardware.scanner.base import ScanMode
from hardware.scanner.postprocess import estimate_skew, find_page, make_pdf, process

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


def test_a4_scan_gives_an_a4_pdf_with_the_jpeg_inside() -> None:
    dpi = 100
    scan = np.asarray(cv2.resize(_page(), (827, 1169)), np.uint8)  # 210 x 297 mm, 100 dpi
    result = process(scan, mode=ScanMode.COLOR, dpi=dpi, find_edges=False)
    reader = pypdf.PdfReader(io.BytesIO(bytes(result.pdf)), strict=True)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert float(box.width) == pytest.approx(595.3, abs=1.0)  # A4 in points
    assert float(box.height) == pytest.approx(841.9, abs=1.0)
    image = reader.pages[0].images[0]
    assert image.image is not None and image.image.size == (827, 1169)
    xobject = _image_object(reader)
    assert xobject["/Filter"] == "/DCTDecode"
    assert xobject.get_data() == bytes(result.jpeg)  # embedded as is, not encoded again
    decoded = cv2.imdecode(np.frombuffer(bytes(result.jpeg), np.uint8), cv2.IMREAD_COLOR)
    assert decoded is not None and decoded.shape == (1169, 827, 3)
    assert result.page_size_mm == pytest.approx((210.0, 297.0), abs=0.5)


def test_grey_and_line_art_modes() -> None:
    grey = process(_page(), mode=ScanMode.GRAY, dpi=75, find_edges=False)
    assert grey.image.ndim == 2
    reader = pypdf.PdfReader(io.BytesIO(bytes(grey.pdf)), strict=True)
    assert _image_object(reader)["/ColorSpace"] == "/DeviceGray"
    lineart = process(_photo(0.0, background=255), mode=ScanMode.LINEART, dpi=75, find_edges=False)
    assert set(np.unique(lineart.image)) <= {0, 255}
    assert (lineart.image == 0).mean() > 0.01  # the text survived thresholding


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
        make_pdf(b"\xff\xd8", 10, 10, 0, colour=True)
