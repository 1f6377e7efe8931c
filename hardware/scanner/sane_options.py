"""Our scan options in the words of a SANE backend: mode and source names, resolution, area.

Backends name the same things differently ("Color", "Colour", "24bit Color"; "ADF",
"Automatic Document Feeder"), offer resolutions as a range or a list, and give the scan area
in millimetres as fixed-point or integer options. Everything here reads the option
descriptions python-sane exposes (``dev.opt``); setting goes through the caller, which
translates SANE's errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hardware.errors import ConfigurationError
from hardware.scanner.base import ScanMode, ScanOptions, ScanSource

#: Sets one option on the device (python-sane name, value).
Setter = Callable[[str, Any], None]

# SANE_TYPE_FIXED in sane/sane.h, part of the stable SANE 1 ABI: such options take floats.
_FIXED = 2

# What backends call each mode and source (compared case-insensitively).
MODE_NAMES: dict[ScanMode, tuple[str, ...]] = {
    ScanMode.COLOR: ("color", "colour", "24bit color", "rgb"),
    ScanMode.GRAY: ("gray", "grey", "true gray", "8bit gray", "grayscale"),
    ScanMode.LINEART: ("lineart", "binary", "black & white", "monochrome"),
}
SOURCE_NAMES: dict[ScanSource, tuple[str, ...]] = {
    ScanSource.FLATBED: ("flatbed", "normal", "platen", "document table"),
    ScanSource.ADF: ("automatic document feeder", "adf", "adf front", "document feeder"),
}


def pick(offered: list[str], wanted: tuple[str, ...]) -> str | None:
    """The first of ``wanted`` the device offers, in the device's own spelling."""
    by_name = {name.lower(): name for name in offered}
    return next((by_name[name] for name in wanted if name in by_name), None)


def _choices(dev: Any, name: str) -> list[str] | None:
    if name not in dev.opt or not isinstance(dev.opt[name].constraint, list):
        return None
    return [str(choice) for choice in dev.opt[name].constraint]


def offered_sources(dev: Any) -> tuple[ScanSource, ...]:
    """The sources the device has (a device without the option is a flatbed)."""
    names = _choices(dev, "source") or ["flatbed"]
    return tuple(s for s in ScanSource if pick(names, SOURCE_NAMES[s]) is not None)


def offered_modes(dev: Any) -> tuple[ScanMode, ...]:
    """The modes the device offers, plus line art made in software from grey."""
    names = _choices(dev, "mode") or []
    modes = tuple(m for m in ScanMode if pick(names, MODE_NAMES[m]) is not None)
    if ScanMode.GRAY in modes and ScanMode.LINEART not in modes:
        modes += (ScanMode.LINEART,)
    return modes


def resolution_range(dev: Any) -> tuple[int, int]:
    """Lowest and highest dpi; (0, 0) when the device does not say."""
    if "resolution" not in dev.opt:
        return (0, 0)
    constraint = dev.opt["resolution"].constraint
    if isinstance(constraint, list) and constraint:
        return (round(min(constraint)), round(max(constraint)))
    if isinstance(constraint, tuple):
        return (round(constraint[0]), round(constraint[1]))
    return (0, 0)


def _nearest_resolution(constraint: Any, wanted: int) -> float:
    if isinstance(constraint, list) and constraint:
        return float(min(constraint, key=lambda dpi: abs(dpi - wanted)))
    if isinstance(constraint, tuple):
        return float(min(max(wanted, constraint[0]), constraint[1]))
    return float(wanted)


def configure(dev: Any, options: ScanOptions, set_option: Setter, *, model: str) -> None:
    """Set source, mode, resolution and area on ``dev`` for ``options``."""
    # Source first: changing it can reload the other options (python-sane rebuilds dev.opt).
    sources = _choices(dev, "source")
    if sources is not None:
        source = pick(sources, SOURCE_NAMES[options.source])
        if source is None:
            raise ConfigurationError(
                f"Expected scanner {model} to offer the {options.source.value} source, "
                f"but it offers {', '.join(sources)}",
                device="scanner",
            )
        set_option("source", source)
    elif options.source is ScanSource.ADF:
        raise ConfigurationError(
            f"Expected a document feeder on scanner {model}, but it has none", device="scanner"
        )
    modes = _choices(dev, "mode")
    if modes is not None:
        mode = pick(modes, MODE_NAMES[options.mode])
        if mode is None and options.mode is ScanMode.LINEART:
            mode = pick(modes, MODE_NAMES[ScanMode.GRAY])  # thresholded in software
        if mode is None:
            raise ConfigurationError(
                f"Expected scanner {model} to offer {options.mode.value} mode, "
                f"but it offers {', '.join(modes)}",
                device="scanner",
            )
        set_option("mode", mode)
    if "resolution" in dev.opt:
        option = dev.opt["resolution"]
        dpi = _nearest_resolution(option.constraint, options.resolution)
        set_option("resolution", dpi if option.type == _FIXED else round(dpi))
    corners = (
        ("tl_x", 0.0),
        ("tl_y", 0.0),
        ("br_x", options.width_mm),
        ("br_y", options.height_mm),
    )
    for name, value in corners:
        if name not in dev.opt:
            continue
        option = dev.opt[name]
        if isinstance(option.constraint, tuple):
            value = min(max(value, option.constraint[0]), option.constraint[1])
        set_option(name, float(value) if option.type == _FIXED else round(value))
