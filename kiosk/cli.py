"""``cabina kiosk`` (the cabin's touchscreen) and ``cabina screenshots`` (every screen to PNG).

Kivy reads its settings once, when it is first imported, so nothing here imports it at
module level: each command prepares Kivy (window size, density, offscreen driver) first.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path
from typing import Any

from cabina.cli import CommandError
from contract.languages import CITIZEN_LANGUAGES

logger = logging.getLogger(__name__)

_ORIENTATIONS = ("landscape", "portrait")
_VARIANTS = ("normal", "high-contrast", "large-text")


def _size(text: str) -> tuple[int, int]:
    width, sep, height = text.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        raise argparse.ArgumentTypeError(f"Expected a size as WIDTHxHEIGHT, but got {text!r}")
    return int(width), int(height)


def _list(choices: tuple[str, ...]) -> Any:
    def parse(text: str) -> list[str]:
        items = [item.strip() for item in text.split(",") if item.strip()]
        unknown = [item for item in items if item not in choices]
        if unknown or not items:
            raise argparse.ArgumentTypeError(
                f"Expected a comma-separated list of {', '.join(choices)}, but got {text!r}"
            )
        return items

    return parse


def register(subparsers: Any) -> None:
    """Add ``kiosk`` and ``screenshots`` to the ``cabina`` command."""
    kiosk = subparsers.add_parser(
        "kiosk",
        help="run the cabin's touchscreen app",
        description="Run the cabin's touchscreen. --headless renders off screen (SDL's "
        "offscreen driver on Mesa); on a machine where that fails, run under xvfb-run instead.",
    )
    kiosk.add_argument("--config", type=Path, help="the cabin's TOML settings file")
    kiosk.add_argument("--data-dir", type=Path, help="where the kiosk keeps its data")
    kiosk.add_argument(
        "--simulate", action="store_true", help="use every device's simulator (starts them)"
    )
    kiosk.add_argument(
        "--handset-socket",
        type=Path,
        help="with --simulate: where to create the simulated handset's control socket, which "
        "'cabina hardware handset lift --socket PATH' drives",
    )
    kiosk.add_argument("--headless", action="store_true", help="render without a display")
    kiosk.add_argument(
        "--size",
        type=_size,
        help="window size, e.g. 1280x800 (default: by orientation, 1920x1080 or 1080x1920)",
    )
    kiosk.add_argument("--density", type=float, help="dp scale (default: the short side / 1080)")
    kiosk.add_argument("--windowed", action="store_true", help="do not go full screen")
    kiosk.add_argument("--name", default="", help="the cabin's name in the top bar")
    kiosk.set_defaults(func=run_kiosk_command)

    shots = subparsers.add_parser(
        "screenshots", help="render every kiosk screen to PNG, in every language"
    )
    shots.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    shots.add_argument(
        "--languages", type=_list(CITIZEN_LANGUAGES), default=list(CITIZEN_LANGUAGES)
    )
    shots.add_argument("--orientations", type=_list(_ORIENTATIONS), default=list(_ORIENTATIONS))
    shots.add_argument("--variants", type=_list(_VARIANTS), default=["normal"])
    shots.add_argument("--only", default="", help="comma-separated screen names to render")
    shots.add_argument("--name", default="Ajuntament · Cabina 1", help="the cabin's name")
    shots.set_defaults(func=run_screenshots_command)


def display_for(
    size: tuple[int, int] | None,
    orientation: str,
    density: float | None,
    *,
    headless: bool,
    fullscreen: bool,
    kivy_home: Path | None,
) -> Any:
    """The :class:`kiosk.screens.display.DisplaySettings` for these options."""
    from kiosk.screens.display import LANDSCAPE, PORTRAIT, DisplaySettings

    chosen = size or (PORTRAIT if orientation == "portrait" else LANDSCAPE)
    scale = density if density is not None else round(min(chosen) / 1080, 3)
    try:
        return DisplaySettings(
            size=chosen,
            density=scale,
            fullscreen=fullscreen,
            headless=headless,
            kivy_home=kivy_home,
        )
    except ValueError as exc:
        raise CommandError(str(exc)) from exc


def run_kiosk_command(args: argparse.Namespace) -> int:
    """``cabina kiosk``."""
    from cabina.config import SettingsError, load_settings
    from hardware.errors import HardwareError
    from kiosk.settings import KioskSettings
    from provisioning.credential import CredentialError

    if args.handset_socket is not None and not args.simulate:
        raise CommandError("Expected --simulate with --handset-socket")
    overrides = {"data_dir": args.data_dir} if args.data_dir else None
    try:
        settings = load_settings(KioskSettings, args.config, overrides)
    except SettingsError as exc:
        raise CommandError(str(exc)) from exc
    display = display_for(
        args.size,
        settings.orientation,
        args.density,
        headless=args.headless,
        fullscreen=not (args.windowed or args.headless),
        kivy_home=settings.data_dir / "kivy",
    )
    from kiosk.screens.display import prepare_kivy

    prepare_kivy(display)
    from kiosk.runtime import run_kiosk

    try:
        if args.simulate:
            from hardware.simulation import SimulatedHardware

            with SimulatedHardware(handset_socket=args.handset_socket) as simulated:
                return asyncio.run(run_kiosk(settings, simulated.config, cabin_name=args.name))
        return asyncio.run(run_kiosk(settings, settings.hardware, cabin_name=args.name))
    except (CredentialError, HardwareError) as exc:
        raise CommandError(str(exc)) from exc


def run_screenshots_command(args: argparse.Namespace) -> int:
    """``cabina screenshots``."""
    import tempfile

    from kiosk.screens.display import prepare_kivy

    with tempfile.TemporaryDirectory(prefix="cabina-kivy-") as home:
        prepare_kivy(
            display_for(
                None, "landscape", 1.0, headless=True, fullscreen=False, kivy_home=Path(home)
            )
        )
        from kiosk.devtools.driver import UiDriver, run_app
        from kiosk.devtools.screenshots import take_screenshots
        from kiosk.flow import Flow, FlowConfig
        from kiosk.screens.app import KioskApp

        app = KioskApp(
            Flow(FlowConfig()), execute=lambda _command: None, cabin_name=args.name, warm_up=False
        )
        only = tuple(name for name in args.only.split(",") if name)

        async def scenario(driver: UiDriver) -> list[Path]:
            return await take_screenshots(
                app,
                driver,
                args.out,
                languages=args.languages,
                orientations=args.orientations,
                variants=args.variants,
                only=only,
            )

        written = asyncio.run(run_app(app, scenario))
    print(f"wrote {len(written)} screenshots under {args.out}")
    return 0
