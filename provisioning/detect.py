"""``cabina provision detect``: what is attached, turned into the cabin's ``[hardware]`` tables.

It builds on :mod:`hardware.detect`'s listings. For each device a cabin has, the candidates
found become a configuration section; one candidate is written as is, several are an
:class:`~provisioning.errors.AmbiguousDevices` error that lists them (nothing is written) until
the technician chooses with ``--use receipt_printer=04b8:0202``. A device with no candidate
keeps the section the file already had: network printers, say, cannot be detected.

Only the ``[hardware.<device>]`` tables written are replaced in the cabin's TOML; the rest of
the file is left as the technician wrote it, and the result is checked by loading it back.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hardware.config import DEVICE_NAMES, HardwareConfig
from hardware.detect import (
    KNOWN_USB,
    Section,
    list_cameras,
    list_handsets,
    list_sane,
    list_serial,
    list_usb,
)
from hardware.errors import HardwareError
from provisioning.errors import AmbiguousDevices, DetectionError

logger = logging.getLogger(__name__)

Scalar = str | int | float | bool
_USB_ID = re.compile(r"\b([0-9a-f]{4}):([0-9a-f]{4})\b")
_SERIAL_ADAPTERS = frozenset(
    f"{vendor:04x}:{product:04x}"
    for (vendor, product), (kind, _) in KNOWN_USB.items()
    if kind == "serial adapter" and product is not None
)
VIDEO_SYSFS = Path("/sys/class/video4linux")


@dataclass(frozen=True, slots=True)
class Candidate:
    """A device found that could fill one of the cabin's device sections."""

    device: str  # one of hardware.config.DEVICE_NAMES
    key: str  # what the technician passes to --use
    section: Mapping[str, Scalar]
    description: str = ""


@dataclass(frozen=True, slots=True)
class Inventory:
    """Everything the listings found, and the CUPS queues."""

    usb: Section
    sane: Section
    cameras: Section
    serial: Section
    hid: Section
    cups_queues: tuple[str, ...] = ()
    video_sysfs: Path = VIDEO_SYSFS


@dataclass(slots=True)
class Proposal:
    """The sections to write, and notes for the technician."""

    tables: dict[str, dict[str, Scalar]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def list_cups_queues(run: Callable[..., Any] = subprocess.run) -> tuple[str, ...]:
    """The CUPS destinations (``lpstat -e``); none when CUPS is absent or not running."""
    lpstat = shutil.which("lpstat")
    if lpstat is None:
        return ()
    try:
        result = run([lpstat, "-e"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    if result.returncode != 0:
        return ()
    return tuple(line.strip() for line in result.stdout.splitlines() if line.strip())


def take_inventory() -> Inventory:
    """List what is attached to this machine."""
    return Inventory(
        usb=list_usb(),
        sane=list_sane(),
        cameras=list_cameras(),
        serial=list_serial(),
        hid=list_handsets(),
        cups_queues=list_cups_queues(),
    )


def _is_capture_node(sysfs: Path, node: str) -> bool:
    # A webcam makes two nodes, one for frames and one for metadata; the frames' one has
    # index 0. Without sysfs (a container) every node stays a candidate.
    index = sysfs / Path(node).name / "index"
    try:
        return index.read_text(encoding="ascii").strip() == "0"
    except OSError:
        return True


def candidates(inventory: Inventory) -> tuple[dict[str, list[Candidate]], list[str]]:
    """The candidates for each device, and notes on what was seen but cannot be configured."""
    found: dict[str, list[Candidate]] = {name: [] for name in DEVICE_NAMES}
    notes: list[str] = []
    for section in (inventory.usb, inventory.sane, inventory.serial, inventory.hid):
        if section.problem:
            notes.append(f"{section.title}: {section.problem}")
    for item in inventory.usb.found:
        match = _USB_ID.fullmatch(item.name)
        if item.kind == "receipt printer" and match:
            vendor, product = match.groups()
            found["receipt_printer"].append(
                Candidate(
                    "receipt_printer",
                    item.name,
                    {"backend": "usb", "vendor_id": f"0x{vendor}", "product_id": f"0x{product}"},
                    item.description,
                )
            )
        elif item.kind == "A4 printer" and not inventory.cups_queues:
            notes.append(
                f"A4 printer {item.name} ({item.description}) has no CUPS queue: add one "
                "(lpadmin) and detect again"
            )
        elif item.kind == "printer":
            notes.append(f"USB printer {item.name} of unknown model: configure it by hand")
        elif item.kind == "scanner" and not inventory.sane.found:
            notes.append(
                f"scanner {item.name} ({item.description}) is not seen by SANE: install its "
                "SANE backend"
            )
    for item in inventory.sane.found:
        found["scanner"].append(
            Candidate(
                "scanner", item.name, {"backend": "sane", "device": item.name}, item.description
            )
        )
    for queue in inventory.cups_queues:
        found["a4_printer"].append(
            Candidate("a4_printer", queue, {"backend": "cups", "queue": queue}, "CUPS queue")
        )
    for item in inventory.cameras.found:
        if _is_capture_node(inventory.video_sysfs, item.name):
            found["camera"].append(
                Candidate("camera", item.name, {"backend": "opencv", "device": item.name})
            )
    for item in inventory.hid.found:
        match = _USB_ID.search(item.description)
        if match:
            vendor, product = match.groups()
            hid: dict[str, Scalar] = {
                "backend": "hid",
                "vendor_id": f"0x{vendor}",
                "product_id": f"0x{product}",
            }
            found["handset"].append(Candidate("handset", match.group(0), hid, item.description))
    for item in inventory.serial.found:
        match = _USB_ID.search(item.description)
        if match and match.group(0) in _SERIAL_ADAPTERS:
            found["handset"].append(
                Candidate(
                    "handset", item.name, {"backend": "serial", "port": item.name}, item.description
                )
            )
    return found, notes


def propose(
    found: Mapping[str, Sequence[Candidate]],
    choices: Mapping[str, str],
    notes: Sequence[str] = (),
) -> Proposal:
    """The sections to write; AmbiguousDevices when a device has several candidates unchosen."""
    unknown = sorted(set(choices) - set(DEVICE_NAMES))
    if unknown:
        raise DetectionError(
            f"Expected --use DEVICE=KEY with DEVICE among {', '.join(DEVICE_NAMES)}, but got "
            f"{', '.join(unknown)}"
        )
    proposal = Proposal(notes=list(notes))
    ambiguous: dict[str, list[str]] = {}
    for device in DEVICE_NAMES:
        options = list(found.get(device, ()))
        chosen = choices.get(device)
        if chosen is not None:
            picked = [option for option in options if option.key == chosen]
            if not picked:
                keys = ", ".join(option.key for option in options) or "none"
                raise DetectionError(
                    f"Expected --use {device}= to name a {device} found ({keys}), "
                    f"but got {chosen!r}"
                )
            options = picked
        if len(options) > 1:
            ambiguous[device] = [option.key for option in options]
        elif options:
            proposal.tables[device] = dict(options[0].section)
    if ambiguous:
        raise AmbiguousDevices(ambiguous)
    return proposal


def _toml_value(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def render_tables(tables: Mapping[str, Mapping[str, Scalar]]) -> str:
    """``[hardware.<device>]`` tables as TOML text."""
    blocks = []
    for device in DEVICE_NAMES:
        if device not in tables:
            continue
        lines = [f"[hardware.{device}]"]
        lines += [f"{key} = {_toml_value(value)}" for key, value in tables[device].items()]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + ("\n" if blocks else "")


_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_.-]+)\s*\]\s*(?:#.*)?$")


def replace_tables(text: str, tables: Mapping[str, Mapping[str, Scalar]]) -> str:
    """``text`` with the named ``[hardware.<device>]`` tables replaced by ``tables``."""
    replaced = {f"hardware.{device}" for device in tables}
    kept: list[str] = []
    skipping = False
    for line in text.splitlines():
        header = _HEADER.match(line)
        if header is not None:
            name = header.group(1)
            skipping = name in replaced or any(name.startswith(t + ".") for t in replaced)
        if not skipping:
            kept.append(line)
    body = "\n".join(kept).rstrip()
    rendered = render_tables(tables)
    if not rendered:
        return body + "\n" if body else ""
    return f"{body}\n\n{rendered}" if body else rendered


def write_hardware(path: Path, tables: Mapping[str, Mapping[str, Scalar]]) -> HardwareConfig:
    """Write ``tables`` into the cabin's TOML at ``path`` and return the configuration it makes."""
    try:
        original = path.read_text(encoding="utf-8") if path.exists() else ""
        tomllib.loads(original)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DetectionError(f"Expected valid TOML in {path}, but: {exc}") from exc
    updated = replace_tables(original, tables)
    try:
        document = tomllib.loads(updated)
        config = HardwareConfig.from_mapping(document.get("hardware", {}))
    except (tomllib.TOMLDecodeError, HardwareError) as exc:
        raise DetectionError(
            f"Expected to rewrite the [hardware] tables of {path}, but the result would not "
            f"load ({exc}): it defines them in another form; edit it by hand"
        ) from exc
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(updated, encoding="utf-8")
    if path.exists():
        shutil.copymode(path, tmp)
    tmp.replace(path)
    logger.info("wrote [hardware] %s to %s", ", ".join(sorted(tables)), path)
    return config


def parse_choices(pairs: Sequence[str]) -> dict[str, str]:
    """``["receipt_printer=04b8:0202", …]`` as a mapping."""
    choices: dict[str, str] = {}
    for pair in pairs:
        device, sep, key = pair.partition("=")
        if not sep or not key:
            raise DetectionError(f"Expected --use DEVICE=KEY, but got {pair!r}")
        choices[device.strip()] = key.strip()
    return choices
