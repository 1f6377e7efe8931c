"""The kiosk's own widgets in a real window: pictures, the signature pad, the checks."""

from __future__ import annotations

import pytest

from kiosk.devtools.testing import ScenarioFailed, run_in_kivy

pytestmark = pytest.mark.slow


async def _layout_check_sees_what_a_citizen_would() -> None:
    from kivy.uix.button import Button
    from kivy.uix.label import Label

    from kiosk.devtools.kit import kiosk_app
    from kiosk.devtools.layout_check import layout_problems
    from kiosk.screens.frames import next_frame

    async with kiosk_app() as kit:
        root = kit.app.root_widget
        assert layout_problems(root) == []
        tiny = Button(text="OK", size_hint=(None, None), size=(40, 40), pos=(300, 300))
        cramped = Label(
            text="A long sentence squeezed into a box far too small for it",
            font_size=40,
            size_hint=(None, None),
            size=(200, 30),
            pos=(400, 400),
        )
        off = Label(text="Off the edge", size_hint=(None, None), size=(300, 60), pos=(1800, 10))
        for widget in (tiny, cramped, off):
            root.add_widget(widget)
        await next_frame()
        problems = layout_problems(root)
        assert any("40x40 px" in p for p in problems), problems
        assert any("squeezed" in p and "needs" in p for p in problems), problems
        assert any("Off the edge" in p and "outside" in p for p in problems), problems
        tiny.opacity = 0  # what nobody sees, nobody presses
        await next_frame()
        assert not any("40x40" in p for p in layout_problems(root))


def test_the_layout_check_reports_small_targets_and_cut_off_words() -> None:
    run_in_kivy(__file__, "_layout_check_sees_what_a_citizen_would")


async def _signature_pad_and_video() -> None:
    import io

    import numpy as np
    from PIL import Image

    from kiosk.devtools.kit import kiosk_app
    from kiosk.screens.frames import next_frame
    from kiosk.screens.signature_pad import IMAGE_SIZE, SignaturePad
    from kiosk.screens.video import VideoView

    async with kiosk_app() as kit:
        root = kit.app.root_widget
        pad = SignaturePad(size_hint=(None, None), size=(800, 300), pos=(100, 100))
        root.add_widget(pad)
        await next_frame()
        with pytest.raises(ValueError, match="empty"):
            pad.to_png()
        await kit.driver.draw(pad, [(0.05, 0.5), (0.5, 0.9), (0.95, 0.5)])
        assert pad.signed and len(pad.strokes) == 1
        with Image.open(io.BytesIO(pad.to_png())) as picture:
            assert picture.size == IMAGE_SIZE
            pixels = np.asarray(picture.convert("L"))
            assert pixels.min() < 50 and pixels.max() == 255
            # The stroke went up in the middle: ink near the top centre, not at the bottom.
            assert pixels[: IMAGE_SIZE[1] // 4, 350:450].min() < 50
            assert pixels[-20:, :].min() == 255
        pad.size = (400, 150)
        await next_frame()
        assert pad.signed, "resizing keeps the signature"
        pad.clear()
        assert not pad.signed and pad.strokes == []

        view = VideoView(size_hint=(None, None), size=(640, 360), pos=(0, 0))
        root.add_widget(view)
        frame = np.zeros((240, 320, 3), dtype=np.uint8)
        frame[:, :, 2] = 255  # red, in BGR
        view.show_frame(frame)
        view.show_frame(frame[:, :, ::-1].copy(), "rgb")
        assert view.frames_shown == 2 and view.has_picture
        # Each frame is read in its own colour format: red stays red, in BGR as in RGB.
        for shown, fmt in ((frame, "bgr"), (frame[:, :, ::-1].copy(), "rgb")):
            view.show_frame(shown, fmt)
            texel = np.frombuffer(view._picture.texture.pixels, np.uint8)[:4]
            assert tuple(texel[:3]) == (255, 0, 0), (fmt, texel)
        for bad, fmt in (
            (np.zeros((240, 320), np.uint8), "bgr"),
            (np.zeros((240, 320, 4), np.uint8), "bgr"),
            (frame, "yuv"),
        ):
            with pytest.raises(ValueError, match="Expected"):
                view.show_frame(bad, fmt)
        view.clear()
        assert not view.has_picture and view.frames_shown == 0


def test_the_signature_pad_and_the_video_view() -> None:
    run_in_kivy(__file__, "_signature_pad_and_video")


async def _icons_and_kivy_setup() -> None:
    from kiosk.devtools.kit import kiosk_app
    from kiosk.screens.display import DisplaySettings, KivyAlreadyLoaded, prepare_kivy
    from kiosk.screens.icons import DRAWINGS, Icon

    async with kiosk_app():
        for name in DRAWINGS:
            icon = Icon(name=name, size=(120, 120))
            assert len(icon.canvas.children) > 2, name
        with pytest.raises(ValueError, match="Expected an icon among"):
            Icon(name="unicorn")
        with pytest.raises(KivyAlreadyLoaded):
            prepare_kivy(DisplaySettings(headless=True))


def test_every_icon_draws_and_kivy_cannot_be_reconfigured_once_open() -> None:
    run_in_kivy(__file__, "_icons_and_kivy_setup")


async def _fails_on_purpose() -> None:
    raise AssertionError("the scenario's own words")


def test_a_failing_scenario_fails_the_test_with_its_message() -> None:
    with pytest.raises(ScenarioFailed, match="the scenario's own words"):
        run_in_kivy(__file__, "_fails_on_purpose")
    with pytest.raises(ScenarioFailed, match="has no attribute"):
        run_in_kivy(__file__, "_no_such_scenario")
