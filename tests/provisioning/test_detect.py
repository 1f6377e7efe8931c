"""``provision detect``: devices found become [hardware] tables; two of a kind ask which."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from hardware.config import HardwareConfig
from hardware.detect import Found, Section, list_usb
from provisioning.detect import (
    Inventory,
    candidates,
    parse_choices,
    propose,
    render_tables,
    replace_tables,
    write_hardware,
)
from provisioning.errors import AmbiguousDevices, DetectionError

CLI = Path(__file__).with_name("cabina_cli.py")


@dataclass
class Interface:
    """One USB interface descriptor, as pyusb reads it."""

    bInterfaceClass: int


@dataclass
class UsbDevice:
    """A USB device's descriptors, recorded from ``lsusb -v`` of devices cabins use."""

    idVendor: int
    idProduct: int
    bDeviceClass: int = 0
    interfaces: list[Interface] = field(default_factory=list)

    def __iter__(self) -> Any:
        return iter([self.interfaces])


EPSON_TM_T88 = UsbDevice(0x04B8, 0x0202, interfaces=[Interface(0x07)])
EPSON_TM_T20 = UsbDevice(0x04B8, 0x0E15, interfaces=[Interface(0x07), Interface(0xFF)])
HP_LASERJET = UsbDevice(0x03F0, 0x002A, interfaces=[Interface(0x07)])
USB_HUB = UsbDevice(0x1D6B, 0x0002, bDeviceClass=0x09)


def usb(*devices: UsbDevice) -> Section:
    return list_usb(find=lambda find_all: list(devices))


def inventory(tmp_path: Path, **sections: Any) -> Inventory:
    empty = {name: Section(name) for name in ("usb", "sane", "cameras", "serial", "hid")}
    return Inventory(**(empty | sections), video_sysfs=tmp_path / "video4linux")


def test_one_of_each_device_becomes_its_section(tmp_path: Path) -> None:
    (tmp_path / "video4linux" / "video0").mkdir(parents=True)
    (tmp_path / "video4linux" / "video0" / "index").write_text("0\n")
    (tmp_path / "video4linux" / "video1").mkdir()
    (tmp_path / "video4linux" / "video1" / "index").write_text("1\n")  # metadata node
    found, notes = candidates(
        inventory(
            tmp_path,
            usb=usb(EPSON_TM_T88, USB_HUB),
            sane=Section("SANE", [Found("scanner", "fujitsu:fi-7160:1", "FUJITSU fi-7160")]),
            cameras=Section(
                "cams", [Found("camera", "/dev/video0"), Found("camera", "/dev/video1")]
            ),
            serial=Section(
                "serial",
                [
                    Found("serial", "/dev/ttyS0"),
                    Found("serial", "/dev/ttyUSB0", "FT232R USB UART 0403:6001"),
                ],
            ),
            cups_queues=("Brother_HL",),
        )
    )
    proposal = propose(found, {}, notes)
    assert proposal.tables == {
        "camera": {"backend": "opencv", "device": "/dev/video0"},
        "scanner": {"backend": "sane", "device": "fujitsu:fi-7160:1"},
        "receipt_printer": {"backend": "usb", "vendor_id": "0x04b8", "product_id": "0x0202"},
        "a4_printer": {"backend": "cups", "queue": "Brother_HL"},
        "handset": {"backend": "serial", "port": "/dev/ttyUSB0"},
    }
    config = HardwareConfig.from_mapping(proposal.tables)
    assert config.receipt_printer is not None and config.receipt_printer.vendor_id == 0x04B8


def test_two_receipt_printers_ask_which_and_write_nothing(tmp_path: Path) -> None:
    found, notes = candidates(inventory(tmp_path, usb=usb(EPSON_TM_T88, EPSON_TM_T20)))
    with pytest.raises(AmbiguousDevices) as caught:
        propose(found, {}, notes)
    assert caught.value.choices == {"receipt_printer": ["04b8:0202", "04b8:0e15"]}
    message = str(caught.value)
    assert "nothing was written" in message
    assert "--use receipt_printer=<one of them>" in message
    chosen = propose(found, {"receipt_printer": "04b8:0e15"}, notes)
    assert chosen.tables["receipt_printer"]["product_id"] == "0x0e15"
    with pytest.raises(
        DetectionError, match=r"found \(04b8:0202, 04b8:0e15\), but got '1234:5678'"
    ):
        propose(found, {"receipt_printer": "1234:5678"}, notes)
    with pytest.raises(DetectionError, match="with DEVICE among"):
        propose(found, {"printer": "04b8:0202"}, notes)


def test_what_cannot_be_configured_is_noted(tmp_path: Path) -> None:
    found, notes = candidates(
        inventory(
            tmp_path,
            usb=usb(HP_LASERJET, UsbDevice(0x1234, 0x0001, interfaces=[Interface(0x07)])),
            sane=Section("SANE", problem="libsane is not installed"),
        )
    )
    assert propose(found, {}, notes).tables == {}
    assert any("03f0:002a" in note and "no CUPS queue" in note for note in notes)
    assert any("unknown model" in note for note in notes)
    assert any("libsane is not installed" in note for note in notes)


def test_tables_are_replaced_and_the_rest_of_the_file_kept(tmp_path: Path) -> None:
    path = tmp_path / "cabin.toml"
    path.write_text(
        'hub_url = "https://hub:8443"  # the city hub\n\n'
        "[hardware.receipt_printer]\n"
        'backend = "network"\nhost = "10.0.0.9"\n\n'
        "[hardware.camera]\n"
        'backend = "opencv"\ndevice = "/dev/video4"\n\n'
        '[hardware.scanner]\nbackend = "sane"\ndevice = "epson2:net:10.0.0.8"\n\n'
        "[hardware.scanner.options]\nresolution = 300\n"
    )
    path.chmod(0o640)
    config = write_hardware(
        path,
        {
            "camera": {"backend": "opencv", "device": "/dev/video0"},
            "scanner": {"backend": "sane", "device": "test:0"},
        },
    )
    document = tomllib.loads(path.read_text())
    assert document["hub_url"] == "https://hub:8443"
    assert document["hardware"]["receipt_printer"]["host"] == "10.0.0.9"
    assert document["hardware"]["camera"] == {"backend": "opencv", "device": "/dev/video0"}
    assert document["hardware"]["scanner"] == {"backend": "sane", "device": "test:0"}
    assert config.camera is not None and config.camera.device == "/dev/video0"
    assert "# the city hub" in path.read_text()
    assert path.stat().st_mode & 0o777 == 0o640


def test_a_file_that_cannot_be_rewritten_is_left_alone(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("hub_url = ")
    with pytest.raises(DetectionError, match="Expected valid TOML"):
        write_hardware(broken, {"camera": {"backend": "opencv"}})
    inline = tmp_path / "inline.toml"
    inline.write_text('[hardware]\ncamera = { backend = "file", path = "/x.mp4" }\n')
    with pytest.raises(DetectionError, match="edit it by hand"):
        write_hardware(inline, {"camera": {"backend": "opencv", "device": "/dev/video0"}})
    assert inline.read_text().startswith("[hardware]\ncamera = {")


def test_toml_rendering_quotes_and_orders() -> None:
    text = render_tables({"handset": {"port": 'a"b\\c', "baudrate": 9600, "required": False}})
    assert tomllib.loads(text)["hardware"]["handset"] == {
        "port": 'a"b\\c',
        "baudrate": 9600,
        "required": False,
    }
    assert replace_tables("", {}) == ""
    assert parse_choices(["scanner=test:0"]) == {"scanner": "test:0"}
    with pytest.raises(DetectionError, match="Expected --use DEVICE=KEY"):
        parse_choices(["scanner"])


def run(*args: str, sane: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"SANE_CONFIG_DIR": str(sane)}
    return subprocess.run(
        [sys.executable, str(CLI), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_the_command_asks_which_of_two_scanners_then_writes_the_choice(tmp_path: Path) -> None:
    sane = tmp_path / "sane.d"
    sane.mkdir()
    (sane / "dll.conf").write_text("test\n")
    config = tmp_path / "cabin.toml"
    config.write_text('default_language = "ca"\n')

    ambiguous = run("provision", "detect", "--config", str(config), sane=sane)
    assert ambiguous.returncode == 1
    assert "scanner: 2 found (test:0, test:1)" in ambiguous.stderr
    assert "nothing was written" in ambiguous.stderr
    assert config.read_text() == 'default_language = "ca"\n'

    chosen = run(
        "provision", "detect", "--config", str(config), "--use", "scanner=test:1", sane=sane
    )
    assert chosen.returncode == 0, chosen.stderr
    assert f"Wrote [hardware] scanner to {config}" in chosen.stdout
    document = tomllib.loads(config.read_text())
    assert document["default_language"] == "ca"
    assert document["hardware"]["scanner"] == {"backend": "sane", "device": "test:1"}
