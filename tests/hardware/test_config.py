"""The cabin's ``[hardware]`` configuration: loading, clear errors, the simulated profile."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.a4_printer import A4PrinterConfig
from hardware.camera import CameraConfig
from hardware.config import DEVICE_NAMES, HardwareConfig, open_devices
from hardware.errors import ConfigurationError, DeviceMissing
from hardware.handset import HandsetConfig, OffHook, SimulatedHandset
from hardware.receipt_printer import ReceiptPrinterConfig
from hardware.receipt_printer import simulator as receipt_simulator
from hardware.scanner import ScannerConfig

CABIN_TOML = """\
[cabin]
name = "Sants-Montjuïc 1"

[hardware.camera]
backend = "opencv"
device = "/dev/video0"
width = 1280
height = 720

[hardware.scanner]
backend = "sane"
device = "fujitsu:fi-7160:1234"

[hardware.receipt_printer]
backend = "network"
host = "192.168.1.30"
port = 9100
profile = "TM-T88V"

[hardware.a4_printer]
backend = "ipp"
uri = "ipp://192.168.1.31/ipp/print"

[hardware.handset]
backend = "serial"
port = "/dev/serial/by-id/usb-Cabina_Handset_HS1-if00"
debounce_ms = 40
audio_device = "plughw:CARD=Handset,DEV=0"
"""


@pytest.fixture
def hw_receipt_simulator() -> Iterator[receipt_simulator.SimulatorHandle]:
    """A simulated network receipt printer on a loopback port."""
    handle = receipt_simulator.start_background()
    yield handle
    handle.close()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cabin.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_cabin_file_is_read_section_by_section(tmp_path: Path) -> None:
    cfg = HardwareConfig.from_toml(write(tmp_path, CABIN_TOML))

    assert isinstance(cfg.camera, CameraConfig)
    assert cfg.camera.device == "/dev/video0"
    assert isinstance(cfg.scanner, ScannerConfig)
    assert isinstance(cfg.receipt_printer, ReceiptPrinterConfig)
    assert cfg.receipt_printer.host == "192.168.1.30"
    assert isinstance(cfg.a4_printer, A4PrinterConfig)
    assert isinstance(cfg.handset, HandsetConfig)
    assert cfg.handset.debounce_ms == 40
    assert [name for name, _ in cfg.sections()] == list(DEVICE_NAMES)


def test_a_cabin_may_lack_devices() -> None:
    cfg = HardwareConfig.from_mapping({"handset": {"backend": "serial", "port": "/dev/ttyACM0"}})

    assert cfg.camera is None
    assert [name for name, _ in cfg.sections()] == ["handset"]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            {"receipt_printer": {"backend": "network", "port": 70000}},
            "hardware.receipt_printer.port: Input should be less than or equal to 65535 "
            "(got 70000)",
        ),
        ({"fax": {"backend": "g3"}}, "hardware.fax: Extra inputs are not permitted"),
        (
            {"handset": {"backend": "bluetooth"}},
            "hardware.handset.backend: Expected one of serial, hid, simulator, but got 'bluetooth'",
        ),
        ({"handset": {"backend": "serial"}}, "hardware.handset: the serial backend needs 'port'"),
        ({"camera": {"device": 0}}, "hardware.camera.backend: Field required"),
        (
            {"handset": {"port": "/dev/ttyACM0", "debounce_ms": "soon"}},
            "hardware.handset.debounce_ms: Input should be a valid integer",
        ),
        ({"scanner": "yes"}, "hardware.scanner: Input should be a valid dictionary"),
    ],
)
def test_bad_values_name_their_field(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        HardwareConfig.from_mapping(table)

    assert message in str(caught.value)
    assert caught.value.code == "config"


def test_several_problems_are_reported_together() -> None:
    with pytest.raises(ConfigurationError) as caught:
        HardwareConfig.from_mapping(
            {"handset": {"backend": "serial", "port": "/dev/x", "baudrate": 0}, "camera": {}}
        )

    assert "hardware.camera.backend" in str(caught.value)
    assert "hardware.handset.baudrate" in str(caught.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"Expected the cabin's settings at .*nope\.toml"):
        HardwareConfig.from_toml(tmp_path / "nope.toml")


def test_a_file_that_is_not_toml_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"cabin\.toml is not valid TOML"):
        HardwareConfig.from_toml(write(tmp_path, "[hardware\nbackend = "))


def test_a_file_without_a_hardware_table_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"Expected a \[hardware\] table in .*cabin\.toml"):
        HardwareConfig.from_toml(write(tmp_path, '[cabin]\nname = "x"\n'))


def test_the_simulated_profile_uses_every_simulator() -> None:
    cfg = HardwareConfig.simulated(
        receipt_printer=("127.0.0.1", 9999), a4_printer_uri="ipp://127.0.0.1:8631/ipp/print"
    )

    backends = {name: section.model_dump()["backend"] for name, section in cfg.sections()}
    assert backends == dict.fromkeys(DEVICE_NAMES, "simulator")
    assert cfg.receipt_printer is not None
    assert cfg.receipt_printer.port == 9999


def test_the_simulated_profile_without_printer_servers_leaves_them_out() -> None:
    cfg = HardwareConfig.simulated()

    assert cfg.receipt_printer is None
    assert cfg.a4_printer is None


def test_simulated_sections_can_be_replaced_or_left_out() -> None:
    cfg = HardwareConfig.simulated(
        overrides={"handset": {"backend": "simulator", "fault": "silent"}, "camera": None}
    )

    assert cfg.camera is None
    assert cfg.handset is not None
    assert cfg.handset.fault == "silent"


def test_open_devices_opens_and_closes_the_simulated_cabin(
    hw_receipt_simulator: receipt_simulator.SimulatorHandle,
) -> None:
    cfg = HardwareConfig.simulated(
        receipt_printer=(hw_receipt_simulator.host, hw_receipt_simulator.port)
    )

    with open_devices(cfg) as devices:
        assert [name for name, _ in devices.opened()] == [
            "camera",
            "scanner",
            "receipt_printer",
            "handset",
        ]
        handset = devices.handset
        assert isinstance(handset, SimulatedHandset)
        handset.simulator.lift()
        assert handset.next_event(5.0) == OffHook()
        assert all(device.self_test().state == "ok" for _, device in devices.opened())
        port = handset.simulator.path

    assert list(devices.opened()) == []
    assert not port.exists()


def test_an_optional_device_that_fails_is_left_out(caplog: pytest.LogCaptureFixture) -> None:
    cfg = HardwareConfig.simulated(
        overrides={
            "camera": {"backend": "file", "path": "/nonexistent.mp4", "required": False},
            "scanner": None,
        }
    )

    with caplog.at_level(logging.WARNING, logger="hardware.config"), open_devices(cfg) as devices:
        assert devices.camera is None
        assert devices.handset is not None

    assert "Optional camera not opened" in caplog.text


def test_a_required_device_that_fails_stops_the_opening() -> None:
    cfg = HardwareConfig.simulated(
        overrides={"scanner": {"backend": "simulator", "device": "cabina-unplugged:0"}}
    )

    with pytest.raises(DeviceMissing, match="SANE"):
        open_devices(cfg)
