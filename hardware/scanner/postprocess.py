"""From a raw scan or a camera picture to the document the agent receives.

::

    find the page (largest four-cornered outline)  →  perspective crop
    →  deskew (angle of the text lines)  →  colour mode  →  page kind  →  compact PDF
                                                                       →  small JPEG preview

The PDF stores each page as compactly as what it shows allows: a text page as 1-bit
Flate-compressed black and white, a grey page as a grey JPEG, a coloured one as a colour JPEG.

Each step keeps going when it finds nothing to do: no page edge keeps the whole image, no
text keeps the angle. Everything happens in memory; nothing touches the disk.
"""

from __future__ import annotations

import logging
import math
import time
import zlib
from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from hardware.scanner.base import MM_PER_INCH, Image, PdfImage, ScanMode, ScanResult

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
#: The preview's long side, in pixels: enough to see which document it is, not to read it.
PREVIEW_SIDE = 900
PREVIEW_QUALITY = 70
_CLASSIFY_PIXELS = 200_000  # page kind is judged on this many pixels
_COLOUR_SATURATION = 60  # HSV saturation (0-255) of a pixel that is really coloured
_COLOUR_SHARE = 0.01  # more coloured pixels than this, and the page stays in colour
_CLASSIFY_SIDE = 1000  # pixels: shading is looked for on a copy this large at most
_INK_LEVEL, _PAPER_LEVEL = 80, 170  # grey levels between ink and paper are mid-tones
_EDGE_SPREAD = 48  # grey levels: less difference than this around a pixel is a flat area
_FLAT_TONE_SHARE = 0.01  # more of the page in flat mid-tones, and it is kept in grey
# From the most to the least compact: a page is never stored in more than was asked for.
_MODE_ORDER = (ScanMode.LINEART, ScanMode.GRAY, ScanMode.COLOR)


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
    # The local mean (a box filter) levels uneven lighting as well as a Gaussian would, at a
    # tenth of the time on a 300 dpi page.
    return _u8(
        cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, block, 15)
    )


def encode_jpeg(image: Image, quality: int = DEFAULT_JPEG_QUALITY) -> bytearray:
    """``image`` as JPEG bytes."""
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError(f"Expected an image OpenCV can encode, but got shape {image.shape}")
    data = bytearray(encoded.data)  # one copy, into a buffer wipe() can zero
    encoded.fill(0)
    return data


def _sample(image: Image) -> Image:
    """Pixels picked at random (the same ones every time), as a one-pixel-wide column.

    Picked pixels, not a resized copy: shrinking would blur the edges of letters into the very
    mid-tones that tell a photograph from text. Not a regular grid either: its step could fall
    in line with the page's own pattern (ruled forms, the scanner's test chart).
    """
    height, width = image.shape[:2]
    rng = np.random.default_rng(0)
    count = min(height * width, _CLASSIFY_PIXELS)
    rows = rng.integers(0, height, count)
    columns = rng.integers(0, width, count)
    return _u8(image[rows, columns][:, np.newaxis])


def page_kind(image: Image) -> ScanMode:
    """The most compact mode that keeps what the page shows.

    Colour when more than a trace of the page is coloured; otherwise grey when part of it is
    shaded (a photograph, a photocopied identity card), and black and white when it is only
    paper and ink (printed text, forms, handwriting).
    """
    sample = _sample(image)
    if sample.ndim == 3:
        hsv = _u8(cv2.cvtColor(sample, cv2.COLOR_BGR2HSV))
        # Near-black pixels have no reliable hue: their saturation is mostly noise.
        coloured = np.count_nonzero((hsv[:, :, 1] > _COLOUR_SATURATION) & (hsv[:, :, 2] > 48))
        if coloured > _COLOUR_SHARE * len(hsv):
            return ScanMode.COLOR
    # Mid-tones next to a sharp edge are the rims of letters and lines (more of them the
    # lower the resolution); mid-tones in a flat area are a picture's shading.
    grey, _ = _shrink(_grey(image), _CLASSIFY_SIDE)
    spread = cv2.morphologyEx(grey, cv2.MORPH_GRADIENT, np.ones((5, 5), np.uint8))
    flat_tones = (grey > _INK_LEVEL) & (grey < _PAPER_LEVEL) & (spread < _EDGE_SPREAD)
    share = np.count_nonzero(flat_tones) / grey.size
    return ScanMode.LINEART if share <= _FLAT_TONE_SHARE else ScanMode.GRAY


def encode_page(
    image: Image, dpi: float, *, mode: ScanMode, quality: int = DEFAULT_JPEG_QUALITY
) -> PdfImage:
    """``image`` encoded for a PDF in ``mode``: 1-bit Flate for line art, JPEG otherwise."""
    height, width = image.shape[:2]
    if mode is ScanMode.LINEART:
        bitonal = image if image.ndim == 2 and _is_bitonal(image) else to_mode(image, mode)
        # PDF's 1-bit grey: a set bit is white, a clear one black; rows padded to a byte.
        packed = np.packbits(bitonal > 127, axis=1)
        data = bytearray(zlib.compress(packed.data, 6))
        packed.fill(0)
        return PdfImage(data, "FlateDecode", "DeviceGray", 1, width, height, dpi)
    picture = to_mode(image, mode)
    space = "DeviceRGB" if picture.ndim == 3 else "DeviceGray"
    return PdfImage(encode_jpeg(picture, quality), "DCTDecode", space, 8, width, height, dpi)


def _is_bitonal(image: Image) -> bool:
    sample = _sample(image)
    return bool(np.all((sample == 0) | (sample == 255)))


def preview_jpeg(image: Image, side: int = PREVIEW_SIDE) -> bytearray:
    """A small JPEG of ``image`` (at most ``side`` pixels long) for a quick look."""
    small, _ = _shrink(image, side)
    return encode_jpeg(small, PREVIEW_QUALITY)


def make_pdf(pages: Sequence[PdfImage]) -> bytearray:
    """A PDF with one page per picture, each page the paper's size at its picture's dpi.

    The pictures go in as they are (a JPEG as a DCTDecode image, as img2pdf does; line art
    already Flate-compressed): no second encoding, no ASCII85 inflation, and no metadata
    beyond the pages themselves.
    """
    if not pages:
        raise ValueError("Expected at least one page for the PDF, but got none")
    for page in pages:
        if page.dpi <= 0 or page.width <= 0 or page.height <= 0:
            raise ValueError(
                "Expected a positive size and resolution, but got "
                f"{page.width}x{page.height} at {page.dpi}"
            )
    first_page = 3  # objects 1 and 2 are the catalogue and the page tree
    kids = " ".join(f"{first_page + 3 * i} 0 R" for i in range(len(pages)))
    objects: list[tuple[bytes, bytes | bytearray | None]] = [
        (b"<< /Type /Catalog /Pages 2 0 R >>", None),
        (f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode(), None),
    ]
    for i, page in enumerate(pages):
        number = first_page + 3 * i
        width_pt = f"{page.width / page.dpi * 72:.4f}"
        height_pt = f"{page.height / page.dpi * 72:.4f}"
        content = f"q {width_pt} 0 0 {height_pt} 0 0 cm /Im0 Do Q".encode()
        objects += [
            (
                f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width_pt} {height_pt}] "
                f"/Resources << /XObject << /Im0 {number + 1} 0 R >> >> "
                f"/Contents {number + 2} 0 R >>".encode(),
                None,
            ),
            (
                f"<< /Type /XObject /Subtype /Image /Width {page.width} /Height {page.height} "
                f"/ColorSpace /{page.colour_space} /BitsPerComponent {page.bits} "
                f"/Filter /{page.filter} /Length {len(page.data)} >>".encode(),
                page.data,
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


def document_pdf(pages: Sequence[ScanResult]) -> bytearray:
    """One PDF of every page of a batch (a feeder's sheets, in the order they came out)."""
    images = [page.pdf_image for page in pages]
    if not images or any(image is None for image in images):
        raise ValueError("Expected scanned pages with their PDF pictures, but got none")
    return make_pdf([image for image in images if image is not None])


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
    """Crop, level and encode one page; ``dpi`` None sizes the page by ``long_side_mm``.

    The PDF holds the page in the most compact of ``mode`` and the modes below it that keep
    what it shows (:func:`page_kind`): a text page asked for in colour is stored in black and
    white.
    """
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
    stored = (
        mode
        if mode is ScanMode.LINEART
        else _MODE_ORDER[min(_MODE_ORDER.index(mode), _MODE_ORDER.index(page_kind(page)))]
    )
    pdf_image = encode_page(page, dpi, mode=stored, quality=jpeg_quality)
    pdf = make_pdf([pdf_image])
    # A page stored without colour gets a grey preview: smaller, and the same to the eye.
    preview = preview_jpeg(page if stored is ScanMode.COLOR else _grey(page))
    logger.debug(
        "processed a %dx%d page at %.0f dpi (edges %s, skew %.2f, stored as %s)",
        width,
        height,
        dpi,
        "found" if quad is not None else "not found",
        angle,
        stored.value,
    )
    return ScanResult(
        page,
        preview,
        pdf,
        dpi=dpi,
        mode=mode,
        page_found=quad is not None,
        skew_degrees=angle,
        process_seconds=time.perf_counter() - started,
        pdf_image=pdf_image,
    )
