"""Preparing Kivy before it is imported: window size, density, and the offscreen driver.

Kivy reads its environment once, when ``kivy`` is first imported, and opens its window when
``kivy.core.window`` is. So the command line calls :func:`prepare_kivy` first, and only then
imports :mod:`kiosk.screens.app`. Headless runs use SDL's ``offscreen`` video driver with Mesa's
software OpenGL: the same app renders, takes touches and screenshots with no display.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Screen sizes a cabin ships with, landscape; portrait swaps them.
LANDSCAPE = (1920, 1080)
PORTRAIT = (1080, 1920)


class KivyAlreadyLoaded(RuntimeError):
    """Kivy was imported before its settings could be applied."""


@dataclass(frozen=True, slots=True)
class DisplaySettings:
    """How the kiosk's window is opened."""

    size: tuple[int, int] = LANDSCAPE
    #: Kivy's ``dp`` scale; None scales the full-HD design to the screen (short side / 1080).
    density: float | None = None
    fullscreen: bool = False
    headless: bool = False
    #: Where Kivy keeps its own configuration and logs (never the citizen's data).
    kivy_home: Path | None = None

    def __post_init__(self) -> None:
        width, height = self.size
        if min(width, height) < 480:
            raise ValueError(f"Expected a window of at least 480x480, but got {width}x{height}")
        if not 0.5 <= self.scale <= 4.0:
            raise ValueError(f"Expected a density between 0.5 and 4, but got {self.scale}")

    @property
    def scale(self) -> float:
        """The density in use: as given, or the screen's short side over 1080."""
        if self.density is not None:
            return self.density
        return round(min(self.size) / 1080, 3)


def kivy_environment(settings: DisplaySettings) -> dict[str, str]:
    """The environment variables that make Kivy open the window ``settings`` describes."""
    env = {
        "KIVY_NO_ARGS": "1",  # our command line is ours, not Kivy's
        "KIVY_LOG_MODE": "PYTHON",  # Kivy logs through the logging module like the rest
        "KIVY_NO_FILELOG": "1",
        "KIVY_NO_CONFIG": "1",  # never write ~/.kivy/config.ini on a cabin
        "KIVY_METRICS_DENSITY": repr(settings.scale),
        "KIVY_METRICS_FONTSCALE": "1.0",
        "KIVY_WINDOW": "sdl2",
    }
    if settings.headless:
        env["SDL_VIDEODRIVER"] = "offscreen"
        env["SDL_AUDIODRIVER"] = "dummy"
    if settings.kivy_home is not None:
        env["KIVY_HOME"] = str(settings.kivy_home)
    return env


def prepare_kivy(
    settings: DisplaySettings, environ: MutableMapping[str, str] | None = None
) -> None:
    """Apply ``settings`` to the environment and to Kivy's configuration, before any window."""
    if "kivy.core.window" in sys.modules:
        raise KivyAlreadyLoaded(
            "Expected Kivy's window to be opened after prepare_kivy(), but it is already open"
        )
    target = os.environ if environ is None else environ
    if settings.kivy_home is not None:
        settings.kivy_home.mkdir(parents=True, exist_ok=True)
    target.update(kivy_environment(settings))
    from kivy.config import Config

    width, height = settings.size
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "resizable", "0")
    Config.set("graphics", "fullscreen", "auto" if settings.fullscreen else "0")
    Config.set("graphics", "show_cursor", "0" if settings.fullscreen else "1")
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "keyboard_mode", "system")
    # A touchscreen is not a mouse: no red multitouch dots on right-click or long press.
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("postproc", "double_tap_time", "250")


def _finish_frame(*_args: Any) -> None:
    from kivy.graphics.opengl import glFinish

    glFinish()


def finish_frames_off_screen(window: Any, environ: Mapping[str, str] | None = None) -> bool:
    """Off screen, have OpenGL finish each frame once it is drawn; True when it does.

    SDL's ``offscreen`` driver draws into a pbuffer, and swapping a pbuffer's buffers shows
    nothing and flushes nothing: Mesa's software renderer then keeps every frame's commands
    queued. A screen that animates (the queue screen's turning ring) redraws every frame, and
    the kiosk grew by some 100 MB a second, each frame slower than the last. Finishing each
    frame keeps one frame's work at a time. With a display the swap already does this.
    """
    env = os.environ if environ is None else environ
    if env.get("SDL_VIDEODRIVER") != "offscreen":
        return False
    window.funbind("on_flip", _finish_frame)  # once, however many apps the window sees
    window.fbind("on_flip", _finish_frame)
    return True
