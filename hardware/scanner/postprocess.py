"""From a raw scan or a camera picture to the document the agent receives.

::

    find the page (largest four-cornered outline)  →  perspective crop
    →  deskew (angle of the text lines)  →  colour mode  →  JPEG  →  one-page PDF

Each step keeps going when it finds nothing to do: no page edge keeps the whole image, no
text keeps the angle. Everything happens in memory; nothing touches the disk.
"""

from __future__ import annotations

import logging
import math
import time

import cv2
import numpy as np
import numpy.typing as npt

from hardware.scanner.base import MM_PER_INCH, Image, ScanMode, ScanResult

logger = logging.getLogger(__name__)

Quad = npt.NDArray[np.float32]  # four corners: top-left, top-right, bottom-right, bottom-left

# The page must cover this much of the picture to count; anything smaller is more likely
# a photo on the page or a shadow than the page itself.
_MIN_PAGE_AREA = 0.15
# An outline this close to the whole picture is the picture's border, not a page's edge.
_MAX_PAGE_AREA = 0.97
_DETECT_SIDE = 800  # pixels: page finding works on a copy this large at most
_SKEW_SIDE = 1000  # pixels: skew estimation likewise
_SKEW_POINTS = 60_000  # ink pixels sampled for the skew estimate
_MAX_SKEW = 15.0  # degrees: a page more crooked than this was laid down on purpose
_MIN_CORRECTION = 0.2  # degrees: below this, rotating costs sharpness for nothing
DEFAULT_JPEG_QUALITY = 80
#: The page's long side when the dpi is unknown (a camera picture): an A4 sheet.
DEFAULT_LONG_SIDE_MM = 297.0


def _u8(array: cv2.typing.MatLike) -> Image:
    # OpenCV's stubs type every result as "some array"; ours are all 8-bit (no copy made).
    return np.asarray(array, dtype=np.uint8)


def _shrink(image: Image, side: int) -> tuple[Image, float]:
    height, width = image.shape[:2]
    scale = min(1.0, side / max(height, width))
    if scale == 1.0:
        return image, 1.0
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return _u8(cv2.resize(image, size, interpolation=cv2.INTER_AREA)), scale


def _grey(image: Image) -> Image:
    return _u8(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)) if image.ndim == 3 else image


def order_corners(points: npt.NDArray[np.float32]) -> Quad:
    """The four ``points`` as top-left, top-right, bottom-right, bottom-left."""
    pts = points.reshape(4, 2).astype(np.float32)
    sums = pts.sum(axis=1)
    diffs = pts[:, 1] - pts[:, 0]
    return np.array(
        [pts[np.argmin(sums)], pts[np.argmin(diffs)], pts[np.argmax(sums)], pts[np.argmax(diffs)]],
        dtype=np.float32,
    )


def _quad_from_mask(mask: Image, area: float) -> Quad | None:
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    for contour in sorted(contours, key=cv2.contourArea, reverse=True)[:5]:
        contour_area = cv2.contourArea(contour)
        if contour_area < _MIN_PAGE_AREA * area:
            break
        if contour_area > _MAX_PAGE_AREA * area:
            continue
        approx = cv2.approxPolyDP(contour, 0.02 * cv2.arcLength(contour, True), True)
        if len(approx) == 4 and cv2.isContourConvex(approx):
            return order_corners(approx.astype(np.float32))
    return None


def find_page(image: Image) -> Quad | None:
    """The corners of the page in ``image``, or None when no page edge stands out."""
    small, scale = _shrink(image, _DETECT_SIDE)
    grey = cv2.GaussianBlur(_grey(small), (5, 5), 0)
    area = float(grey.shape[0] * grey.shape[1])
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (9, 9))
    # A light page on a darker background separates by brightness alone; otherwise fall back
    # to edges, closed so that the page's outline is one contour.
    _, bright = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    quad = _quad_from_mask(_u8(cv2.morphologyEx(bright, cv2.MORPH_CLOSE, kernel)), area)
    if quad is None:
        edges = _u8(cv2.dilate(cv2.Canny(grey, 50, 150), kernel))
        quad = _quad_from_mask(edges, area)
    if quad is None:
        return None
    return (quad / scale).astype(np.float32)


def crop_to_page(image: Image, quad: Quad) -> Image:
    """The page inside ``quad``, flattened to an upright rectangle."""
    tl, tr, br, bl = quad
    width = round(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    height = round(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    target = np.array(
        [[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], np.float32
    )
    matrix = cv2.getPerspectiveTransform(quad, target)
    return _u8(cv2.warpPerspective(image, matrix, (width, height), flags=cv2.INTER_LINEAR))


def _profile_score(xs: npt.NDArray[np.float64], ys: npt.NDArray[np.float64], angle: float) -> float:
    # Rows of a rotated copy, without rotating the picture: lines of text pile into few rows
    # (a spiky histogram) only at the angle that levels them.
    radians = math.radians(angle)
    rows = np.round(ys * math.cos(radians) - xs * math.sin(radians)).astype(np.int64)
    counts = np.bincount(rows - rows.min())
    return float(np.dot(counts, counts))


def estimate_skew(image: Image) -> float:
    """The rotation (degrees, OpenCV's sense) that levels the text lines; 0 if there are none."""
    small, _ = _shrink(_grey(image), _SKEW_SIDE)
    _, ink = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    ys, xs = np.nonzero(ink)
    if len(xs) < 0.001 * ink.size or len(xs) > 0.6 * ink.size:
        return 0.0  # a blank page, or no ink/background contrast to read lines from
    if len(xs) > _SKEW_POINTS:
        pick = np.random.default_rng(0).choice(len(xs), _SKEW_POINTS, replace=False)
        xs, ys = xs[pick], ys[pick]
    fx, fy = xs.astype(np.float64), ys.astype(np.float64)

    def best(angles: npt.NDArray[np.float64]) -> float:
        scores = [_profile_score(fx, fy, a) for a in angles]
        return float(angles[int(np.argmax(scores))])

    coarse = best(np.arange(-_MAX_SKEW, _MAX_SKEW + 0.25, 0.5))
    fine = best(np.arange(coarse - 0.5, coarse + 0.5 + 0.025, 0.05))
    level = _profile_score(fx, fy, 0.0)
    if _profile_score(fx, fy, fine) < 1.02 * level:
        return 0.0  # no angle levels the ink clearly better than none: not text lines
    return round(fine, 2)


def rotate(image: Image, angle: float) -> Image:
    """``image`` turned by ``angle`` degrees (OpenCV's sense) about its centre, same size."""
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    white = (255, 255, 255) if image.ndim == 3 else 255
    rotated = cv2.warpAffine(
        image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=white
    )
    return _u8(rotated)


def to_mode(image: Image, mode: ScanMode) -> Image:
    """``image`` in the requested colour mode (line art is thresholded locally)."""
    if mode is ScanMode.COLOR:
        return image if image.ndim == 3 else _u8(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR))
    grey = _grey(image)
    if mode is ScanMode.GRAY:
        return grey
    block = max(15, (min(grey.shape[:2]) // 40) | 1)
    return _u8(
        cv2.adaptiveThreshold(
            grey, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, block, 15
        )
    )


def encode_jpeg(image: Image, quality: int = DEFAULT_JPEG_QUALITY) -> bytearray:
    """``image`` as JPEG bytes."""
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError(f"Expected an image OpenCV can encode, but got shape {image.shape}")
    data = bytearray(encoded.data)  # one copy, into a buffer wipe() can zero
    encoded.fill(0)
    return data


def make_pdf(
    jpeg: bytes | bytearray, width_px: int, height_px: int, dpi: float, *, colour: bool
) -> bytearray:
    """A one-page PDF showing ``jpeg`` at ``dpi``, so that the page is the paper's size.

    The JPEG goes in as it is (a DCTDecode image, as img2pdf does): no second encoding, no
    ASCII85 inflation, and no metadata beyond the page itself.
    """
    if dpi <= 0 or width_px <= 0 or height_px <= 0:
        raise ValueError(
            f"Expected a positive size and resolution, but got {width_px}x{height_px} at {dpi}"
        )
    width_pt, height_pt = f"{width_px / dpi * 72:.4f}", f"{height_px / dpi * 72:.4f}"
    content = f"q {width_pt} 0 0 {height_pt} 0 0 cm /Im0 Do Q".encode()
    space = "/DeviceRGB" if colour else "/DeviceGray"
    objects: list[tuple[bytes, bytes | bytearray | None]] = [
        (b"<< /Type /Catalog /Pages 2 0 R >>", None),
        (b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", None),
        (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width_pt} {height_pt}] "
            "/Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>".encode(),
            None,
        ),
        (
            f"<< /Type /XObject /Subtype /Image /Width {width_px} /Height {height_px} "
            f"/ColorSpace {space} /BitsPerComponent 8 /Filter /DCTDecode "
            f"/Length {len(jpeg)} >>".encode(),
            jpeg,
        ),
        (f"<< /Length {len(content)} >>".encode(), content),
    ]
    pdf = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, (dictionary, stream) in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n" % number
        pdf += dictionary
        if stream is not None:
            # Appended piece by piece: no temporary copy of the page that wipe() cannot reach.
            pdf += b"\nstream\n"
            pdf += stream
            pdf += b"\nendstream"
        pdf += b"\nendobj\n"
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        pdf += b"%010d 00000 n \n" % offset
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return pdf


def process(
    image: Image,
    *,
    mode: ScanMode,
    dpi: float | None,
    find_edges: bool,
    deskew: bool = True,
    jpeg_quality: int = DEFAULT_JPEG_QUALITY,
    long_side_mm: float = DEFAULT_LONG_SIDE_MM,
) -> ScanResult:
    """Crop, level and encode one page; ``dpi`` None sizes the page by ``long_side_mm``."""
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or min(image.shape[:2]) < 16:
        raise ValueError(
            f"Expected a uint8 image at least 16 pixels on a side, but got {image.dtype} "
            f"with shape {image.shape}"
        )
    started = time.perf_counter()
    quad = find_page(image) if find_edges else None
    page = crop_to_page(image, quad) if quad is not None else image
    angle = estimate_skew(page) if deskew else 0.0
    if abs(angle) >= _MIN_CORRECTION:
        page = rotate(page, angle)
    else:
        angle = 0.0
    page = to_mode(page, mode)
    height, width = page.shape[:2]
    if dpi is None:
        dpi = max(width, height) / (long_side_mm / MM_PER_INCH)
    jpeg = encode_jpeg(page, jpeg_quality)
    pdf = make_pdf(jpeg, width, height, dpi, colour=page.ndim == 3)
    logger.debug(
        "processed a %dx%d page at %.0f dpi (edges %s, skew %.2f)",
        width,
        height,
        dpi,
        "found" if quad is not None else "not found",
        angle,
    )
    return ScanResult(
        page,
        jpeg,
        pdf,
        dpi=dpi,
        mode=mode,
        page_found=quad is not None,
        skew_degrees=angle,
        process_seconds=time.perf_counter() - started,
    )
