"""The console's sounds, synthesised here so that the shipped WAV files can be rebuilt.

``python -m agent_console.sounds`` rewrites ``static/sounds/ring.wav``; a test checks that the
shipped file is what this module produces.
"""

from __future__ import annotations

import argparse
import io
import math
import struct
import wave
from collections.abc import Sequence
from pathlib import Path

from agent_console import static_dir

SAMPLE_RATE = 16_000
#: Peak amplitude as a fraction of full scale: a ring should be heard, not startle.
_PEAK = 0.45
# Two soft chimes (a rising fifth), then silence; the console loops the file while ringing.
_CHIMES: Sequence[tuple[float, float, float]] = (
    # (start s, frequency Hz, length s)
    (0.00, 659.25, 0.55),
    (0.35, 987.77, 0.80),
)
_LENGTH_S = 2.0


def _chime(t: float, frequency: float, length: float) -> float:
    if not 0.0 <= t < length:
        return 0.0
    attack = min(1.0, t / 0.012)
    decay = math.exp(-4.5 * t / length)
    # A quiet octave overtone makes the chime rounder than a bare sine.
    tone = math.sin(2 * math.pi * frequency * t) + 0.25 * math.sin(4 * math.pi * frequency * t)
    return attack * decay * tone / 1.25


def ring_samples(sample_rate: int = SAMPLE_RATE) -> list[int]:
    """The ring tone as signed 16-bit samples."""
    count = int(_LENGTH_S * sample_rate)
    samples = []
    for n in range(count):
        t = n / sample_rate
        value = sum(_chime(t - start, freq, length) for start, freq, length in _CHIMES)
        samples.append(round(max(-1.0, min(1.0, value * _PEAK)) * 32767))
    return samples


def ring_wav(sample_rate: int = SAMPLE_RATE) -> bytes:
    """The ring tone as a mono 16-bit PCM WAV file."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        samples = ring_samples(sample_rate)
        out.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    return buffer.getvalue()


def ring_path() -> Path:
    """Where the console loads the ring tone from."""
    return static_dir() / "sounds" / "ring.wav"


def main(argv: Sequence[str] | None = None) -> int:
    """Write the console's sound files."""
    parser = argparse.ArgumentParser(description="Rebuild the agent console's sounds.")
    parser.add_argument("--output", type=Path, default=ring_path(), help="where to write ring.wav")
    args = parser.parse_args(argv)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(ring_wav())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
