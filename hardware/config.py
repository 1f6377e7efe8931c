"""The cabin's hardware configuration: the ``[hardware]`` table of its TOML, and opening it.

::

    [hardware.receipt_printer]
    backend = "network"
    host = "192.168.1.30"

    [hardware.handset]
    backend = "serial"
    port = "/dev/serial/by-id/usb-Cabina_Handset_HS1-if00"

Each section is its device package's configuration model; a missing section is a device the
cabin does not have. A bad value raises :class:`~hardware.errors.ConfigurationError` naming
the field (``hardware.handset.port: …``).
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from hardware.a4_printer import A4Printer, A4PrinterConfig, open_a4_printer
from hardware.camera import Camera, CameraConfig, open_camera
from hardware.errors import ConfigurationError, HardwareError
from hardware.handset import Handset, HandsetConfig, open_handset
from hardware.health import DeviceHealth
from hardware.receipt_printer import ReceiptPrinter, ReceiptPrinterConfig, open_receipt_printer
from hardware.scanner import Scanner, ScannerConfig, open_scanner

logger = logging.getLogger(__name__)

#: The devices a cabin may have, in the order a technician reads them.
DEVICE_NAMES: tuple[str, ...] = ("camera", "scanner", "receipt_printer", "a4_printer", "handset")


class HardwareConfig(BaseModel):
    """Which devices the cabin has, and each one's backend and options."""

    model_config = ConfigDict(extra="forbid")

    camera: CameraConfig | None = None
    scanner: ScannerConfig | None = None
    receipt_printer: ReceiptPrinterConfig | None = None
    a4_printer: A4PrinterConfig | None = None
    handset: HandsetConfig | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> HardwareConfig:
        """The configuration in ``data`` (the ``[hardware]`` table's contents)."""
        try:
            return cls.model_validate(dict(data))
        except ValidationError as exc:
            raise ConfigurationError(describe(exc)) from exc

    @classmethod
    def from_toml(cls, path: Path) -> HardwareConfig:
        """The ``[hardware]`` table of the cabin's TOML file at ``path``."""
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigurationError(
                f"Expected the cabin's settings at {path}, but cannot read it: {exc.strerror}"
            ) from exc
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"{path} is not valid TOML: {exc}") from exc
        table = document.get("hardware")
        if not isinstance(table, dict):
            raise ConfigurationError(f"Expected a [hardware] table in {path}, but it has none")
        return cls.from_mapping(table)

    @classmethod
    def simulated(
        cls,
        *,
        receipt_printer: tuple[str, int] | None = None,
        a4_printer_uri: str | None = None,
        overrides: Mapping[str, Mapping[str, Any] | None] | None = None,
    ) -> HardwareConfig:
        """Every device on its simulator.

        The printers' simulators are servers: pass the receipt simulator's ``(host, port)``
        and ``ippeveprinter``'s URI (:class:`hardware.simulation.SimulatedHardware` starts
        both); without them those sections are left out. ``overrides`` replaces a device's
        section (to inject a fault, say), or leaves the device out with None.
        """
        data: dict[str, Any] = {
            "camera": {"backend": "simulator"},
            "scanner": {"backend": "simulator"},
            "handset": {"backend": "simulator"},
        }
        if receipt_printer is not None:
            host, port = receipt_printer
            data["receipt_printer"] = {"backend": "simulator", "host": host, "port": port}
        if a4_printer_uri is not None:
            data["a4_printer"] = {"backend": "simulator", "uri": a4_printer_uri}
        for name, section in (overrides or {}).items():
            if section is None:
                data.pop(name, None)
            else:
                data[name] = dict(section)
        return cls.from_mapping(data)

    def sections(self) -> Iterator[tuple[str, BaseModel]]:
        """The configured devices as (name, section), in :data:`DEVICE_NAMES` order."""
        for name in DEVICE_NAMES:
            section = getattr(self, name)
            if section is not None:
                yield name, section


def describe(exc: ValidationError) -> str:
    """One line per problem, each naming the field as ``hardware.<device>.<option>``."""
    problems = []
    for error in exc.errors():
        where = ".".join(["hardware", *(str(part) for part in error["loc"])])
        message = error["msg"].removeprefix("Value error, ")
        given = error.get("input")
        if error["type"] != "missing" and isinstance(given, str | int | float | bool):
            message = f"{message} (got {given!r})"
        problems.append(f"{where}: {message}")
    return "; ".join(problems)


class Device(Protocol):
    """What every device has: a harmless self-test and a way to let go of it."""

    def self_test(self) -> DeviceHealth:
        """A harmless check; never raises."""
        ...

    def close(self) -> None:
        """Release the device."""
        ...


def open_device(name: str, section: BaseModel, *, camera: Camera | None = None) -> Device:
    """Open one device from its configuration section; the scanner may share ``camera``."""
    if isinstance(section, CameraConfig):
        opened: Device = open_camera(section)
    elif isinstance(section, ScannerConfig):
        opened = open_scanner(section, camera=camera)
    elif isinstance(section, ReceiptPrinterConfig):
        opened = open_receipt_printer(section)
    elif isinstance(section, A4PrinterConfig):
        opened = open_a4_printer(section)
    elif isinstance(section, HandsetConfig):
        opened = open_handset(section)
    else:
        raise ConfigurationError(
            f"Expected one of {', '.join(DEVICE_NAMES)}, but got {name!r}", device=name
        )
    return opened


@dataclass
class Devices:
    """The cabin's open devices; None where the cabin has none, or an optional one failed."""

    camera: Camera | None = None
    scanner: Scanner | None = None
    receipt_printer: ReceiptPrinter | None = None
    a4_printer: A4Printer | None = None
    handset: Handset | None = None

    def opened(self) -> Iterator[tuple[str, Device]]:
        """The open devices as (name, device)."""
        for field in fields(self):
            device: Device | None = getattr(self, field.name)
            if device is not None:
                yield field.name, device

    def close(self) -> None:
        """Close every device, the last opened first; one failing does not stop the others."""
        for name, device in reversed(list(self.opened())):
            try:
                device.close()
            except (HardwareError, OSError) as exc:
                logger.warning("Closing the %s failed: %s", name, exc)
            setattr(self, name, None)

    def __enter__(self) -> Devices:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_devices(cfg: HardwareConfig) -> Devices:
    """Open every configured device.

    A required device that cannot be opened closes those already open and raises; an
    optional one (``required = false``) is logged and left as None.
    """
    devices = Devices()
    try:
        for name, section in cfg.sections():
            try:
                device = open_device(name, section, camera=devices.camera)
            except HardwareError as exc:
                if getattr(section, "required", True):
                    raise
                logger.warning("Optional %s not opened: %s", name, exc)
                continue
            setattr(devices, name, device)
    except BaseException:
        devices.close()
        raise
    return devices
