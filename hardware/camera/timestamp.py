"""A capture time written into a frame's pixels, readable after lossy compression.

The top band of the frame (``1/12`` of its height, the whole width) holds a row of
:data:`BLOCKS` black or white blocks::

    | 1 0 1 0 | 42 bits: milliseconds since the epoch | 8 bits: CRC-8 of those bits |
      marker    (most significant first; valid until 2109)

Blocks are sized as fractions of the frame, so the band survives scaling to any resolution;
the receiver samples the middle of each block, takes its threshold from the marker's known
black and white blocks, and rejects the band unless the marker and the checksum agree. Glass
to glass latency is then the receiver's clock minus the decoded time (both ends share the
host clock).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

MARKER: tuple[int, ...] = (1, 0, 1, 0)
PAYLOAD_BITS = 42
CHECK_BITS = 8
BLOCKS = len(MARKER) + PAYLOAD_BITS + CHECK_BITS
MAX_MS = (1 << PAYLOAD_BITS) - 1
#: The band's height as a fraction of the frame's height.
BAND_FRACTION = 1 / 12
# Smallest frame that still gives every block two pixels across and a band of four rows.
_MIN_WIDTH = 2 * BLOCKS
_MIN_HEIGHT = 48
# Black and white must differ by this much (out of 255) for the band to count as present.
_MIN_CONTRAST = 64.0


def band_height(frame_height: int) -> int:
    """Rows the timestamp band takes at the top of a frame ``frame_height`` rows high."""
    return max(4, round(frame_height * BAND_FRACTION))


def _crc8(value: int) -> int:
    """CRC-8 (polynomial 0x07) of ``value`` as six big-endian bytes."""
    crc = 0
    for byte in value.to_bytes(6, "big"):
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def _to_bits(value: int, width: int) -> list[int]:
    return [(value >> (width - 1 - i)) & 1 for i in range(width)]


def _from_bits(bits: npt.NDArray[np.bool_]) -> int:
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return value


def _check_frame(frame: npt.NDArray[np.uint8]) -> tuple[int, int]:
    if frame.dtype != np.uint8 or frame.ndim not in (2, 3):
        raise ValueError(
            f"Expected a uint8 image of 2 or 3 dimensions, but got {frame.dtype} "
            f"with shape {frame.shape}"
        )
    height, width = frame.shape[:2]
    if width < _MIN_WIDTH or height < _MIN_HEIGHT:
        raise ValueError(
            f"Expected a frame at least {_MIN_WIDTH}x{_MIN_HEIGHT}, but got {width}x{height}"
        )
    return height, width


def _block_edges(width: int) -> list[int]:
    return [round(i * width / BLOCKS) for i in range(BLOCKS + 1)]


def write_timestamp(frame: npt.NDArray[np.uint8], ms: int) -> None:
    """Draw ``ms`` (milliseconds since the epoch) into the top band of ``frame``, in place."""
    if not 0 <= ms <= MAX_MS:
        raise ValueError(f"Expected milliseconds between 0 and {MAX_MS}, but got {ms}")
    height, width = _check_frame(frame)
    bits = [*MARKER, *_to_bits(ms, PAYLOAD_BITS), *_to_bits(_crc8(ms), CHECK_BITS)]
    rows = band_height(height)
    edges = _block_edges(width)
    for i, bit in enumerate(bits):
        frame[:rows, edges[i] : edges[i + 1]] = 255 if bit else 0


def read_timestamp(frame: npt.NDArray[np.uint8]) -> int | None:
    """The milliseconds written by :func:`write_timestamp`, or None if the band is absent."""
    height, width = _check_frame(frame)
    rows = band_height(height)
    # Sample the middle half of the band's rows and of each block, away from the edges that
    # compression and scaling smear.
    strip = frame[rows // 4 : max(rows // 4 + 1, (3 * rows) // 4)]
    if strip.ndim == 3:
        strip = strip.mean(axis=2)
    profile = strip.mean(axis=0)
    edges = _block_edges(width)
    levels = np.empty(BLOCKS, dtype=np.float64)
    for i in range(BLOCKS):
        left, right = edges[i], edges[i + 1]
        quarter = (right - left) // 4
        levels[i] = profile[left + quarter : max(left + quarter + 1, right - quarter)].mean()
    marker = np.array(MARKER, dtype=bool)
    marker_levels = levels[: len(MARKER)]
    white, black = marker_levels[marker], marker_levels[~marker]
    if white.min() - black.max() < _MIN_CONTRAST:
        return None
    bits = levels > (white.mean() + black.mean()) / 2
    if not np.array_equal(bits[: len(MARKER)], marker):
        return None
    ms = _from_bits(bits[len(MARKER) : len(MARKER) + PAYLOAD_BITS])
    if _from_bits(bits[len(MARKER) + PAYLOAD_BITS :]) != _crc8(ms):
        return None
    return ms
