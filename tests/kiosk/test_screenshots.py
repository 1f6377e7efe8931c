"""Every screen, in every language, both orientations and large text: nothing cut off, every
target a fingertip wide; and ``cabina screenshots`` writes the pictures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from kiosk.devtools.testing import SIZE_ENV, run_in_kivy

pytestmark = pytest.mark.slow


async def _check(sizes: dict[str, tuple[int, int]], variants: tuple[str, ...]) -> None:
    from contract.languages import CITIZEN_LANGUAGES
    from kiosk.devtools import screenshots
    from kiosk.devtools.driver import run_app
    from kiosk.devtools.layout_check import layout_problems
    from kiosk.flow import Flow, FlowConfig
    from kiosk.screens.app import KioskApp

    app = KioskApp(
        Flow(FlowConfig()),
        execute=lambda _c: None,
        cabin_name="Ajuntament de Vilanova i la Geltrú · Cabina 1",
        warm_up=False,
    )
    screenshots.ORIENTATIONS.update(sizes)

    async def play(driver: object) -> list[str]:
        found: list[str] = []
        seen = 0
        async for shot in screenshots.staged(
            app,
            driver,  # type: ignore[arg-type]
            languages=CITIZEN_LANGUAGES,
            orientations=tuple(sizes),
            variants=variants,
        ):
            seen += 1
            assert app.current_screen().name == shot.scene.name or shot.scene.warning
            found += [f"{shot.path(Path('.'))}: {p}" for p in layout_problems(app.root_widget)]
        assert seen == len(CITIZEN_LANGUAGES) * len(sizes) * len(variants) * 36
        return found

    problems = await run_app(app, play)
    assert problems == [], "\n".join(problems)


async def _full_hd_fits() -> None:
    await _check({"landscape": (1920, 1080), "portrait": (1080, 1920)}, ("normal", "large-text"))


@pytest.mark.timeout(600)
def test_every_screen_fits_full_hd_in_every_language_even_with_large_text() -> None:
    run_in_kivy(__file__, "_full_hd_fits", timeout_s=600)


async def _small_screen_fits() -> None:
    from kivy.metrics import Metrics

    assert Metrics.density == pytest.approx(0.741, abs=0.01)
    await _check({"landscape": (1280, 800), "portrait": (800, 1280)}, ("normal",))


@pytest.mark.timeout(600)
def test_every_screen_fits_a_1280x800_panel_at_its_density() -> None:
    run_in_kivy(__file__, "_small_screen_fits", env={SIZE_ENV: "1280x800"}, timeout_s=600)


_CLI = (
    "import argparse, sys\n"
    "from kiosk.cli import register\n"
    "parser = argparse.ArgumentParser(prog='cabina')\n"
    "register(parser.add_subparsers())\n"
    "args = parser.parse_args(sys.argv[1:])\n"
    "sys.exit(args.func(args))\n"
)


def _screenshots(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _CLI, "screenshots", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_screenshots_command_writes_each_screen_at_its_size(tmp_path: Path) -> None:
    done = _screenshots(
        "--out",
        str(tmp_path),
        "--languages",
        "eu,gl",
        "--orientations",
        "landscape,portrait",
        "--only",
        "home,call",
        "--variants",
        "normal,high-contrast",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.png"))
    assert files == [
        f"kiosk/{o}/{lang}/{name}"
        for o in ("landscape", "portrait")
        for lang in ("eu", "gl")
        for name in (
            "02-home-high-contrast.png",
            "02-home.png",
            "07-call-high-contrast.png",
            "07-call.png",
        )
    ]
    with Image.open(tmp_path / "kiosk/portrait/eu/02-home.png") as picture:
        assert picture.size == (1080, 1920)
        colours = picture.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 50, "a blank picture"
    with Image.open(tmp_path / "kiosk/landscape/gl/02-home-high-contrast.png") as picture:
        assert picture.size == (1920, 1080)
        assert picture.convert("RGB").getpixel((1910, 1070)) == (0, 0, 0)  # black background


def test_the_screenshots_command_refuses_unknown_languages_and_screens(tmp_path: Path) -> None:
    done = _screenshots("--out", str(tmp_path), "--languages", "fr")
    assert done.returncode == 2 and "Expected a comma-separated list" in done.stderr
    done = _screenshots("--out", str(tmp_path), "--orientations", "sideways")
    assert done.returncode == 2 and "landscape, portrait" in done.stderr
    assert not list(tmp_path.rglob("*.png"))
