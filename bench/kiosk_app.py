"""Benchmark: the kiosk app's cold start to the attract screen, and touch → next screen.

The parent starts a fresh interpreter running the real app off screen (SDL's offscreen
driver, Mesa) and times it from launch until the attract screen has been drawn. The child
then touches its way round a visit many times; each touch is timed from the moment it enters
Kivy's input path to the moment the next screen has been drawn (the window's ``on_flip``).
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

TARGETS = {"cold_start_s": 5.0, "touch_to_screen_ms": 100.0}


def _child(rounds: int) -> None:
    import tempfile

    from kiosk.screens.display import DisplaySettings, prepare_kivy

    with tempfile.TemporaryDirectory(prefix="cabina-bench-") as home:
        prepare_kivy(DisplaySettings(headless=True, kivy_home=Path(home)))
        import asyncio

        from kivy.base import EventLoop
        from kivy.core.window import Window

        from kiosk.devtools.kit import kiosk_app

        async def main() -> dict[str, object]:
            async with kiosk_app(warm_up=True) as kit:
                ui = kit.driver
                await ui.wait_for_screen("attract")
                print("READY", flush=True)
                # A cabin builds its other screens while the attract screen waits for someone.
                await ui.wait_until(lambda: kit.app.warmed_up, "the screens built", 30)
                times: list[float] = []
                slowest: dict[str, float] = {}

                async def touch(target: str | None, expect: str) -> None:
                    if target is None:
                        x, y = 960.0, 540.0
                    else:
                        widget = ui.find(target)
                        x, y = widget.to_window(*widget.center)
                    drawn = asyncio.get_running_loop().create_future()

                    def on_flip(*_args: object) -> None:
                        if ui.screen == expect and not drawn.done():
                            drawn.set_result(time.perf_counter())

                    Window.bind(on_flip=on_flip)
                    finger = ui.finger(x, y)
                    started = time.perf_counter()
                    EventLoop.post_dispatch_input("begin", finger)
                    EventLoop.post_dispatch_input("end", finger)
                    try:
                        elapsed = (await asyncio.wait_for(drawn, 10)) - started
                        times.append(elapsed)
                        slowest[expect] = max(slowest.get(expect, 0.0), elapsed * 1000)
                    finally:
                        Window.unbind(on_flip=on_flip)
                    await ui.wait_for_screen(expect)

                for _ in range(rounds):
                    await touch(None, "language")
                    await touch("lang_es", "home")
                    await touch("talk_to_agent", "topic")
                    await touch("back", "home")
                    await touch("complaint", "complaint")
                    await touch("back", "home")
                    await touch("finish", "goodbye")
                    await touch(None, "attract")
                ms = sorted(t * 1000 for t in times)
                return {
                    "touches": len(ms),
                    "p50": statistics.median(ms),
                    "p95": ms[min(len(ms) - 1, int(len(ms) * 0.95))],
                    "max": ms[-1],
                    "slowest": {k: round(v, 1) for k, v in slowest.items()},
                }

        print(json.dumps(asyncio.run(main())), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 15)
    if args.child:
        _child(rounds)
        return

    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, __file__, "--child", "--rounds", str(rounds)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdout is not None
    cold_start = None
    result: dict[str, Any] = {}
    for line in child.stdout:
        if line.startswith("READY") and cold_start is None:
            cold_start = time.perf_counter() - started
        elif line.startswith("{"):
            result = json.loads(line)
    if child.wait() != 0 or cold_start is None or not result:
        raise SystemExit(f"the kiosk child failed (exit {child.returncode})")
    figures = {
        "cold_start_s": round(cold_start, 2),
        "touch_to_screen_ms": round(result["p95"], 1),
        "touch_to_screen_p50_ms": round(result["p50"], 1),
        "touch_to_screen_max_ms": round(result["max"], 1),
        "touches": int(result["touches"]),
        "slowest_ms_by_screen": result["slowest"],
        "window": "1920x1080 offscreen (Mesa llvmpipe)",
        "targets": TARGETS,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
