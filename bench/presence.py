"""Benchmark: presence checks per second on one core, at 640x480.

Runs :class:`hardware.camera.presence.PresenceDetector` with the real Haar cascades on frames
from the simulated camera. Nobody is in those frames, which is the slow case: the face
cascade finds nothing, so the upper-body cascade runs too. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import cv2

from hardware.camera.clock import ManualClock
from hardware.camera.presence import PresenceDetector
from hardware.camera.simulator import SimulatedCamera

WIDTH, HEIGHT = 640, 480
TARGET = 10.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="how long to measure")
    args = parser.parse_args()

    cv2.setNumThreads(1)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    camera = SimulatedCamera(WIDTH, HEIGHT, clock=ManualClock())
    frames = [camera.read() for _ in range(30)]  # a second of moving picture
    detector = PresenceDetector()
    detector.update(frames[0])  # warm-up: the cascades' first run allocates

    checks = 0
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < args.seconds:
        detector.update(frames[checks % len(frames)])
        checks += 1
    rate = checks / elapsed
    print(
        json.dumps(
            {
                "checks_per_second": round(rate, 1),
                "resolution": f"{WIDTH}x{HEIGHT}",
                "ms_per_check": round(1000 / rate, 2),
                "threads": 1,
                "target_checks_per_second": TARGET,
                "meets_target": rate >= TARGET,
            }
        )
    )


if __name__ == "__main__":
    main()
