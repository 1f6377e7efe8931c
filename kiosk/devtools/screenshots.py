"""Rendering every screen to PNG, in every language and orientation, for docs and review.

Runs inside a running :class:`kiosk.screens.app.KioskApp` (offscreen or on a display): each
picture is a fresh flow put on its screen by :mod:`kiosk.devtools.tour`, drawn into an off-screen
buffer at the chosen window size.
"""

from __future__ import annotations

import itertools
import logging
import tempfile
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kivy.core.window import Window

from kiosk.devtools.driver import UiDriver
from kiosk.devtools.layout_check import layout_problems
from kiosk.devtools.tour import (
    TOUR_PIN,
    Scene,
    sample_information,
    sample_person,
    sample_qr_frame,
    scenes,
)
from kiosk.flow import Flow, FlowConfig, State, Tick
from kiosk.screens.app import KioskApp
from kiosk.screens.display import LANDSCAPE, PORTRAIT
from kiosk.screens.frames import next_frame

logger = logging.getLogger(__name__)

ORIENTATIONS: dict[str, tuple[int, int]] = {"landscape": LANDSCAPE, "portrait": PORTRAIT}
#: Sample services, as a town's cabin might offer them.
SERVICES = ("general", "padron", "tributs")
#: The moment every picture is taken at, so that pictures do not change from run to run.
SHOT_TIME = datetime(2025, 3, 14, 10, 30, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Variant:
    """An accessibility combination to photograph."""

    suffix: str
    high_contrast: bool = False
    large_text: bool = False


NORMAL = Variant("")
VARIANTS: dict[str, Variant] = {
    "normal": NORMAL,
    "high-contrast": Variant("-high-contrast", high_contrast=True),
    "large-text": Variant("-large-text", large_text=True),
}


class _Clock:
    def __init__(self) -> None:
        self.seconds = 1000.0

    def monotonic(self) -> float:
        return self.seconds

    def now(self) -> datetime:
        return SHOT_TIME + timedelta(seconds=self.seconds - 1000.0)


def _flow(config: FlowConfig, clock: _Clock) -> Flow:
    ids = itertools.count(1)
    flow = Flow(
        config,
        monotonic=clock.monotonic,
        now=clock.now,
        new_id=lambda: f"00000000-0000-4000-8000-{next(ids):012d}",
        verify_pin=lambda typed: typed == TOUR_PIN,
    )
    from kiosk.flow import HubLink

    flow.dispatch(HubLink(online=True))
    return flow


async def _stage(
    app: KioskApp, scene: Scene, lang: str, variant: Variant, folder: Path, driver: UiDriver
) -> None:
    clock = _Clock()
    config = FlowConfig(services=SERVICES, complaint_service="general")
    flow = _flow(config, clock)
    scene.reach(flow, folder)
    session = flow.session
    session.high_contrast = variant.high_contrast
    session.large_text = variant.large_text
    if scene.warning:
        clock.seconds += config.idle_s + 3
        flow.dispatch(Tick())
    app.use_flow(flow)
    await next_frame()
    if flow.state is State.INFORMATION:
        app.show_information(sample_information(lang))
    if flow.state in (State.CALL, State.STEP_SCAN, State.STEP_SIGN, State.STEP_INFO):
        app.show_agent_frame(sample_person(960, 720, shirt=(20, 70, 140), wall=(200, 210, 220)))
        app.show_own_frame(
            sample_person(640, 480, shirt=(150, 40, 40), wall=(230, 222, 200), seed=3)
        )
    if flow.state is State.APPOINTMENT_CHECK_IN:
        app.show_own_frame(sample_qr_frame(640, 480))
    if flow.state is State.STEP_SIGN:
        await driver.draw(
            "pad", [(0.12 + i * 0.04, 0.35 + 0.18 * ((i * 7) % 5) / 4) for i in range(18)]
        )
    await next_frame()
    await next_frame()


@dataclass(frozen=True, slots=True)
class Shot:
    """A screen staged for its picture: where it belongs among the screenshots."""

    orientation: str
    lang: str
    index: int
    scene: Scene
    variant: Variant

    def path(self, out: Path) -> Path:
        """``<out>/kiosk/<orientation>/<lang>/<NN>-<screen><variant>.png``."""
        name = f"{self.index:02d}-{self.scene.name}{self.variant.suffix}.png"
        return out / "kiosk" / self.orientation / self.lang / name


async def staged(
    app: KioskApp,
    driver: UiDriver,
    *,
    languages: Sequence[str],
    orientations: Sequence[str],
    variants: Sequence[str] = ("normal",),
    only: Sequence[str] = (),
) -> AsyncIterator[Shot]:
    """Put every chosen screen on show in turn, yielding each while it is there."""
    with tempfile.TemporaryDirectory(prefix="cabina-shots-") as tmp:
        folder = Path(tmp)
        for orientation in orientations:
            Window.size = ORIENTATIONS[orientation]
            await next_frame()
            for lang in languages:
                for index, scene in enumerate(scenes(lang, SHOT_TIME)):
                    if only and scene.name not in only:
                        continue
                    for name in variants:
                        variant = VARIANTS[name]
                        await _stage(app, scene, lang, variant, folder, driver)
                        yield Shot(orientation, lang, index, scene, variant)


async def take_screenshots(
    app: KioskApp,
    driver: UiDriver,
    out: Path,
    *,
    languages: Sequence[str],
    orientations: Sequence[str],
    variants: Sequence[str] = ("normal",),
    only: Sequence[str] = (),
) -> list[Path]:
    """Write a PNG of every chosen screen under ``out``; returns the files."""
    written: list[Path] = []
    shots = staged(
        app, driver, languages=languages, orientations=orientations, variants=variants, only=only
    )
    async for shot in shots:
        target = shot.path(out)
        target.parent.mkdir(parents=True, exist_ok=True)
        app.root_widget.export_to_png(str(target))
        for problem in layout_problems(app.root_widget):
            logger.warning("%s: %s", target, problem)
        written.append(target)
        logger.info("wrote %s", target)
    return written
