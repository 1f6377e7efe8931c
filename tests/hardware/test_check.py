"""``cabina hardware check`` and ``list``: the self-test table, its exit status, the CLI."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from pydantic import BaseModel

from cabina.cli import CommandError
from hardware.check import (
    CheckResult,
    advice_for,
    check_device,
    exit_status,
    format_table,
    run_check,
)
from hardware.cli import register
from hardware.config import Device
from hardware.detect import Section, classify_usb, format_sections, list_cameras, list_usb
from hardware.errors import ConfigurationError, OutOfPaper
from hardware.handset import HandsetConfig, start_background
from hardware.health import DeviceHealth, DeviceState, PaperLevel
from hardware.simulation import FAULTS, SimulatedHardware, parse_faults

QUICK = ("camera", "receipt_printer", "handset")  # the simulators that start in milliseconds


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="cabina")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    status: int = args.func(args)
    return status


def by_device(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {result.device: result for result in results}


def test_a_healthy_simulated_cabin_passes() -> None:
    with SimulatedHardware(devices=QUICK) as simulated:
        results = run_check(simulated.config)

    assert [(r.device, r.backend, r.state) for r in results] == [
        ("camera", "simulator", DeviceState.OK),
        ("receipt_printer", "simulator", DeviceState.OK),
        ("handset", "simulator", DeviceState.OK),
    ]
    assert all(r.advice == "" for r in results)
    assert exit_status(results) == 0


@pytest.mark.parametrize(
    ("fault", "state", "error", "advice"),
    [
        ("paper_out", DeviceState.FAULT, "paper_out", "Load a paper roll and close the cover"),
        ("cover_open", DeviceState.FAULT, "cover_open", "Close the printer cover"),
        ("cutter_jam", DeviceState.FAULT, "jammed", "Open the cover, clear the cutter"),
        ("missing", DeviceState.MISSING, "missing", "Check the printer's power"),
    ],
)
def test_a_simulated_receipt_printer_fault_fails_the_check(
    fault: str, state: DeviceState, error: str, advice: str
) -> None:
    faults = {"receipt_printer": fault}
    with SimulatedHardware(devices=QUICK, faults=faults) as simulated:
        results = run_check(simulated.config, simulated_faults=faults)

    printer = by_device(results)["receipt_printer"]
    assert (printer.state, printer.error) == (state, error)
    assert printer.advice.startswith(advice)
    assert printer.simulated_fault == fault
    assert by_device(results)["handset"].state is DeviceState.OK
    assert exit_status(results) == 1


def test_paper_running_low_is_a_warning_that_passes() -> None:
    faults = {"receipt_printer": "paper_low"}
    with SimulatedHardware(devices=QUICK, faults=faults) as simulated:
        results = run_check(simulated.config)

    printer = by_device(results)["receipt_printer"]
    assert printer.state is DeviceState.WARNING
    assert printer.paper is PaperLevel.NEAR_END
    assert printer.advice == "Paper is running low: load a new roll soon"
    assert exit_status(results) == 0


@pytest.mark.parametrize(
    ("device", "fault", "state", "advice"),
    [
        ("handset", "unplugged", DeviceState.MISSING, "Check the handset's USB cable"),
        ("handset", "silent", DeviceState.FAULT, "The handset does not answer"),
        ("camera", "missing", DeviceState.MISSING, "Check the camera's USB cable"),
        ("scanner", "missing", DeviceState.MISSING, "Check the scanner's USB cable"),
    ],
)
def test_other_simulated_faults(device: str, fault: str, state: DeviceState, advice: str) -> None:
    with SimulatedHardware(devices=(device,), faults={device: fault}) as simulated:
        (result,) = run_check(simulated.config)

    assert result.state is state
    assert result.advice.startswith(advice)
    assert exit_status([result]) == 1


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        (["receipt_printer"], "Expected DEVICE=FAULT with DEVICE among camera"),
        (["fax=paper_out"], "but got 'fax=paper_out'"),
        (["handset=paper_out"], "Expected a handset fault among unplugged, silent"),
    ],
)
def test_bad_fault_names_are_refused(pairs: list[str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        parse_faults(pairs)


def test_every_advertised_fault_parses() -> None:
    pairs = [f"{device}={fault}" for device, faults in FAULTS.items() for fault in faults]

    assert len(parse_faults(pairs)) == len(FAULTS)


class Broken:
    """A device whose test and closing misbehave, as a buggy driver would."""

    def __init__(self, health: DeviceHealth | Exception) -> None:
        self.health = health
        self.closed = False

    def self_test(self) -> DeviceHealth:
        if isinstance(self.health, Exception):
            raise self.health
        return self.health

    def close(self) -> None:
        self.closed = True
        raise OSError("close failed")


def test_a_device_that_cannot_be_opened_is_a_row_not_a_crash() -> None:
    def opener(name: str, section: BaseModel) -> Device:
        raise RuntimeError("driver bug")

    section = HandsetConfig(port="/dev/ttyACM0", required=False)
    result = check_device("handset", section, opener=opener)

    assert (result.state, result.error, result.detail) == (DeviceState.FAULT, "error", "driver bug")
    assert result.required is False
    assert exit_status([result]) == 0


def test_a_self_test_that_raises_is_a_fault_and_the_device_is_closed() -> None:
    device = Broken(OutOfPaper("no paper", device="receipt_printer"))

    result = check_device("handset", HandsetConfig(port="/x"), opener=lambda n, s: device)

    assert (result.state, result.error) == (DeviceState.FAULT, "paper_out")
    assert device.closed


def test_a_device_that_fails_to_close_keeps_its_verdict() -> None:
    health = DeviceHealth("handset", "serial", DeviceState.OK)

    result = check_device("handset", HandsetConfig(port="/x"), opener=lambda n, s: Broken(health))

    assert result.state is DeviceState.OK


@pytest.mark.parametrize(
    ("device", "error", "expected"),
    [
        ("receipt_printer", "paper_out", "Load a paper roll and close the cover"),
        ("a4_printer", "paper_out", "Load A4 paper in the tray"),
        ("scanner", "cover_open", "Close the scanner lid"),
        ("camera", "io", "Check the camera's cable; switch it off and on again"),
        ("handset", "config", "Fix the [hardware.handset] section of the cabin's settings"),
        ("a4_printer", "busy", "Wait for the A4 printer to finish its job, then check again"),
        ("scanner", "something_new", "Look at the cabin's log for this device"),
    ],
)
def test_what_to_do(device: str, error: str, expected: str) -> None:
    assert advice_for(device, DeviceState.FAULT, error, None) == expected


def test_the_table_is_plain_without_a_terminal() -> None:
    results = [
        CheckResult("camera", "opencv", DeviceState.OK),
        CheckResult(
            "receipt_printer",
            "network",
            DeviceState.FAULT,
            error="paper_out",
            advice="Load a paper roll and close the cover",
            simulated_fault="paper_out",
        ),
        CheckResult(
            "handset",
            "serial",
            DeviceState.MISSING,
            required=False,
            advice="Check the handset's USB cable",
            detail="could not open port /dev/ttyACM0",
        ),
    ]

    table = format_table(results, colour=False, not_configured=["scanner", "a4_printer"])

    assert "\033[" not in table
    assert table.splitlines() == [
        "DEVICE              BACKEND  STATE    WHAT TO DO",
        "camera              opencv   OK",
        "receipt_printer     network  FAULT    Load a paper roll and close the cover "
        "[simulated fault: paper_out]",
        "handset (optional)  serial   MISSING  Check the handset's USB cable",
        "                    could not open port /dev/ttyACM0",
        "Not configured: scanner, a4_printer",
    ]


def test_the_table_colours_states_on_a_terminal() -> None:
    results = [
        CheckResult("camera", "opencv", DeviceState.OK),
        CheckResult("scanner", "sane", DeviceState.WARNING),
        CheckResult("handset", "serial", DeviceState.FAULT),
    ]

    ok, warning, fault = format_table(results, colour=True).splitlines()[1:]

    assert "\033[32mOK" in ok
    assert "\033[33mWARNING" in warning
    assert "\033[31mFAULT" in fault


def test_an_empty_configuration_says_so() -> None:
    assert "No devices configured" in format_table([], colour=False)


def test_cli_check_reads_the_cabin_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    simulator = start_background(tmp_path / "sim")
    config = tmp_path / "cabin.toml"
    config.write_text(
        f'[hardware.handset]\nbackend = "serial"\nport = "{simulator.path}"\n'
        '[hardware.camera]\nbackend = "simulator"\n',
        encoding="utf-8",
    )
    try:
        status = cli("hardware", "check", "--config", str(config), "--json")
    finally:
        simulator.close()

    rows = json.loads(capsys.readouterr().out)
    assert status == 0
    assert [(r["device"], r["backend"], r["state"]) for r in rows] == [
        ("camera", "simulator", "ok"),
        ("handset", "serial", "ok"),
    ]


def test_cli_check_fails_when_a_required_device_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "cabin.toml"
    config.write_text(
        f'[hardware.handset]\nbackend = "serial"\nport = "{tmp_path / "gone"}"\n', encoding="utf-8"
    )

    status = cli("hardware", "check", "--config", str(config))

    out = capsys.readouterr().out
    assert status == 1
    assert "MISSING  Check the handset's USB cable" in out
    assert "Not configured: camera, scanner, receipt_printer, a4_printer" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--simulate-fault", "handset=silent"], "Expected --simulate with --simulate-fault"),
        (["--simulate", "--simulate-fault", "handset=flat"], "Expected a handset fault among"),
        (["--config", "/nonexistent/cabin.toml"], "Expected the cabin's settings at"),
    ],
)
def test_cli_check_refuses_bad_arguments(argv: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        cli("hardware", "check", *argv)


def test_cli_check_names_a_bad_field(tmp_path: Path) -> None:
    config = tmp_path / "cabin.toml"
    config.write_text('[hardware.handset]\nbackend = "morse"\n', encoding="utf-8")

    with pytest.raises(CommandError, match=r"hardware\.handset\.backend: Expected one of serial"):
        cli("hardware", "check", "--config", str(config))


@pytest.mark.slow
def test_cli_check_simulate_with_a_fault(capsys: pytest.CaptureFixture[str]) -> None:
    status = cli(
        "hardware",
        "check",
        "--simulate",
        "--simulate-fault",
        "receipt_printer=paper_out",
        "--json",
    )

    rows = {row["device"]: row for row in json.loads(capsys.readouterr().out)}
    assert status == 1
    assert list(rows) == ["camera", "scanner", "receipt_printer", "a4_printer", "handset"]
    assert rows["receipt_printer"]["state"] == "fault"
    assert rows["receipt_printer"]["simulated_fault"] == "paper_out"
    assert rows["receipt_printer"]["advice"] == "Load a paper roll and close the cover"
    assert rows["handset"]["state"] == "ok"


def test_cli_drives_a_simulated_handset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hardware.handset import OffHook, open_handset

    socket_path = tmp_path / "handset.sock"
    handset = open_handset(HandsetConfig(backend="simulator", control_socket=socket_path))
    try:
        assert cli("hardware", "handset", "lift", "--socket", str(socket_path)) == 0
        assert handset.next_event(5.0) == OffHook()
        assert cli("hardware", "handset", "press", "--socket", str(socket_path)) == 1
    finally:
        handset.close()

    assert capsys.readouterr().out.splitlines()[0] == "ok off-hook plugged"
    with pytest.raises(CommandError, match="control socket"):
        cli("hardware", "handset", "lift", "--socket", str(socket_path))


def test_cli_list_prints_every_section(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("hardware", "list", "--json") == 0

    titles = [section["title"] for section in json.loads(capsys.readouterr().out)]
    assert titles == [
        "USB devices",
        "SANE scanners",
        "Cameras (/dev/video*)",
        "Serial ports",
        "HID telephony devices",
        "Sound cards (ALSA)",
    ]


def test_a_pyusb_backend_error_is_one_clear_line() -> None:
    import usb.core

    def no_libusb(**_: object) -> list[object]:
        raise usb.core.NoBackendError("No backend available")

    def denied(**_: object) -> list[object]:
        raise usb.core.USBError("Access denied (insufficient permissions)")

    assert list_usb(no_libusb).problem == "cannot list USB devices: libusb is not installed"
    assert list_usb(denied).problem == (
        "cannot list USB devices: Access denied (insufficient permissions)"
    )
    assert list_usb(lambda **_: []).found == []
    assert "no USB devices found" in format_sections([list_usb(lambda **_: [])])


def test_usb_devices_are_classified() -> None:
    assert classify_usb(0x04B8, 0x0202, set()) == ("receipt printer", "Epson TM-T88 series")
    assert classify_usb(0x0B0E, 0x1234, set()) == ("handset", "Jabra")
    assert classify_usb(0x1234, 0x5678, {0x07}) == ("printer", "unknown model")
    assert classify_usb(0x1234, 0x5678, {0x09}) is None


def test_cameras_are_listed_in_number_order(tmp_path: Path) -> None:
    for name in ("video10", "video2", "video0", "vbi0"):
        (tmp_path / name).touch()

    section = list_cameras(tmp_path)

    assert [found.name for found in section.found] == [
        str(tmp_path / "video0"),
        str(tmp_path / "video2"),
        str(tmp_path / "video10"),
    ]
    assert "no /dev/video* devices" in format_sections([list_cameras(tmp_path / "none")])


def test_a_listing_problem_is_shown_instead_of_its_items() -> None:
    text = format_sections([Section("SANE scanners", problem="cannot list scanners: busy")])

    assert text.splitlines() == ["SANE scanners", "  cannot list scanners: busy"]


def test_cli_prints_a_test_ticket(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hardware.receipt_printer import simulator as receipt_simulator

    printer = receipt_simulator.start_background()
    config = tmp_path / "cabin.toml"
    config.write_text(
        f'[hardware.receipt_printer]\nbackend = "network"\nhost = "{printer.host}"\n'
        f"port = {printer.port}\n",
        encoding="utf-8",
    )
    try:
        status = cli("hardware", "check", "--config", str(config), "--test-ticket")
        (receipt,) = printer.wait_for_receipts(1)
    finally:
        printer.close()

    out = capsys.readouterr().out
    assert status == 0
    assert "Test ticket: printed" in out
    assert "Test ticket" in receipt.texts
    assert "áéíóú àèòç ñ ü l·l" in receipt.texts  # the code page carries Iberian letters
