"""The parts of the screens that need no window: colours, display settings, command line."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from kiosk import cli
from kiosk.screens.display import DisplaySettings, finish_frames_off_screen, kivy_environment
from kiosk.screens.palette import HIGH_CONTRAST, NORMAL, contrast_ratio, hex_rgba, palette_for


@pytest.mark.parametrize(("palette", "least"), [(NORMAL, 4.5), (HIGH_CONTRAST, 7.0)])
def test_every_text_colour_reads_on_its_background(palette: object, least: float) -> None:
    pairs = palette.pairs()  # type: ignore[attr-defined]
    assert {"background", "primary", "secondary", "danger", "surface", "muted"} <= pairs.keys()
    for role, (back, text) in pairs.items():
        assert contrast_ratio(back, text) >= least, role


def test_contrast_is_symmetric_and_spans_one_to_twenty_one() -> None:
    black, white = hex_rgba("#000000"), hex_rgba("#ffffff")
    assert contrast_ratio(black, white) == pytest.approx(21.0)
    assert contrast_ratio(white, black) == contrast_ratio(black, white)
    assert contrast_ratio(NORMAL.primary, NORMAL.primary) == pytest.approx(1.0)
    assert palette_for(True) is HIGH_CONTRAST and palette_for(False) is NORMAL


@pytest.mark.parametrize("bad", ["#fff", "123456789", "#gg0000", ""])
def test_a_malformed_colour_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        hex_rgba(bad)


def test_headless_uses_sdls_offscreen_driver_and_never_writes_kivys_config(
    tmp_path: Path,
) -> None:
    env = kivy_environment(DisplaySettings(headless=True, kivy_home=tmp_path))
    assert env["SDL_VIDEODRIVER"] == "offscreen" and env["KIVY_WINDOW"] == "sdl2"
    assert env["KIVY_NO_CONFIG"] == "1" and env["KIVY_NO_ARGS"] == "1"
    assert env["KIVY_HOME"] == str(tmp_path)
    on_a_display = kivy_environment(DisplaySettings())
    assert "SDL_VIDEODRIVER" not in on_a_display


class _Window:
    """What :func:`finish_frames_off_screen` uses of Kivy's window: its flip observers."""

    def __init__(self) -> None:
        self.on_flip: list[object] = []

    def fbind(self, name: str, callback: object) -> None:
        getattr(self, name).append(callback)

    def funbind(self, name: str, callback: object) -> None:
        observers = getattr(self, name)
        if callback in observers:
            observers.remove(callback)


def test_off_screen_every_frame_is_finished_once_and_on_a_display_none_is() -> None:
    # A pbuffer's swap flushes nothing: unfinished frames piled up in Mesa (~100 MB/s).
    window = _Window()
    offscreen = kivy_environment(DisplaySettings(headless=True))
    assert finish_frames_off_screen(window, offscreen)
    assert finish_frames_off_screen(window, offscreen)  # a second app on the same window
    assert len(window.on_flip) == 1
    on_a_display = _Window()
    assert not finish_frames_off_screen(on_a_display, kivy_environment(DisplaySettings()))
    assert on_a_display.on_flip == []


def test_the_density_follows_the_screen_unless_given() -> None:
    assert DisplaySettings(size=(1920, 1080)).scale == 1.0
    assert DisplaySettings(size=(1080, 1920)).scale == 1.0
    assert DisplaySettings(size=(1280, 800)).scale == pytest.approx(0.741)
    assert DisplaySettings(size=(1280, 800), density=1.0).scale == 1.0
    assert kivy_environment(DisplaySettings(size=(800, 1280)))["KIVY_METRICS_DENSITY"] == "0.741"


@pytest.mark.parametrize(
    ("size", "density"), [((320, 240), None), ((1920, 1080), 0.1), ((1920, 1080), 9.0)]
)
def test_impossible_displays_are_refused(size: tuple[int, int], density: float | None) -> None:
    with pytest.raises(ValueError, match="Expected"):
        DisplaySettings(size=size, density=density)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cabina")
    cli.register(parser.add_subparsers())
    return parser


def test_the_kiosk_command_reads_its_options() -> None:
    args = _parser().parse_args(
        ["kiosk", "--simulate", "--headless", "--size", "1280x800", "--data-dir", "d"]
    )
    assert args.simulate and args.headless and args.size == (1280, 800)
    assert args.data_dir == Path("d") and args.func is cli.run_kiosk_command
    display = cli.display_for(
        args.size, "landscape", None, headless=True, fullscreen=False, kivy_home=None
    )
    assert display.scale == pytest.approx(0.741) and display.headless


@pytest.mark.parametrize("bad", ["1280", "x800", "1280x", "axb"])
def test_a_malformed_window_size_is_refused(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["kiosk", "--size", bad])
    assert "Expected a size as WIDTHxHEIGHT" in capsys.readouterr().err


def test_the_screenshots_command_defaults_to_every_language_and_orientation() -> None:
    args = _parser().parse_args(["screenshots"])
    assert args.languages == ["es", "ca", "ca@valencia", "eu", "gl", "en"]
    assert args.orientations == ["landscape", "portrait"]
    assert args.out == Path("docs/screenshots") and args.variants == ["normal"]


def test_an_impossible_display_is_a_command_error() -> None:
    from cabina.cli import CommandError

    with pytest.raises(CommandError, match="480x480"):
        cli.display_for(
            (400, 300), "landscape", None, headless=True, fullscreen=False, kivy_home=None
        )
