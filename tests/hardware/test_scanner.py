"""The SANE scanner against SANE's real ``test`` backend: scans, feeder, faults, closing."""

from __future__ import annotations

import io
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pypdf
import pytest
from pydantic import ValidationError

from hardware.errors import (
    ConfigurationError,
    CoverOpen,
    DeviceBusy,
    DeviceIOError,
    DeviceMissing,
    HardwareError,
    NoDocument,
    PaperJam,
)
from hardware.health import DeviceState
from hardware.scanner import (
    Fault,
    SaneSimulator,
    ScanMode,
    ScannerConfig,
    ScanOptions,
    ScanResult,
    ScanSource,
    open_scanner,
    postprocess,
    sane_library,
)
from hardware.scanner.sane_backend import SaneScanner
from hardware.scanner.simulator import DEVICE_NAME, default_directory, inject

# Low resolutions keep the suite fast; 300 dpi belongs to bench/scan.py.
A4_AT_50 = ScanOptions(resolution=50)
SMALL = ScanOptions(resolution=25, width_mm=60, height_mm=40)


@pytest.fixture
def scan_device() -> Iterator[SaneSimulator]:
    with SaneSimulator() as device:
        yield device


@pytest.fixture
def scan_scanner(scan_device: SaneSimulator) -> Iterator[SaneScanner]:
    scanner = SaneScanner(scan_device.device_name)
    yield scanner
    scanner.close()


def _wait_until_busy(scanner: SaneScanner) -> None:
    for _ in range(500):
        if scanner.status().busy:
            return
        time.sleep(0.01)
    raise AssertionError("the scan never started")


def _slow(scanner: SaneScanner) -> ScanOptions:
    """Options for a scan that takes seconds: the test backend waits between buffers."""
    scanner.set_option("read_delay", True)
    scanner.set_option("read_delay_duration", 200_000)
    return ScanOptions(mode=ScanMode.GRAY, resolution=300)


# --- scanning -----------------------------------------------------------------------------


def test_colour_a4_scan(scan_scanner: SaneScanner) -> None:
    result = scan_scanner.scan(A4_AT_50)
    assert result.mode is ScanMode.COLOR
    assert result.dpi == 50
    assert result.image.shape == (584, 413, 3)
    assert result.page_size_mm == pytest.approx((210, 297), abs=1.0)
    # The colour pattern, not a blank page.
    assert len(np.unique(result.image.reshape(-1, 3), axis=0)) > 4
    assert bytes(result.jpeg[:2]) == b"\xff\xd8"
    assert bytes(result.pdf[:5]) == b"%PDF-"


def test_grey_and_line_art_scans(scan_scanner: SaneScanner) -> None:
    grey = scan_scanner.scan(ScanOptions(mode=ScanMode.GRAY, resolution=50))
    assert grey.image.ndim == 2
    assert grey.image.shape == (584, 413)
    lineart = scan_scanner.scan(ScanOptions(mode=ScanMode.LINEART, resolution=50))
    assert lineart.mode is ScanMode.LINEART
    assert set(np.unique(lineart.image)) <= {0, 255}


def test_resolution_and_area_follow_the_options(scan_scanner: SaneScanner) -> None:
    result = scan_scanner.scan(ScanOptions(resolution=40, width_mm=127, height_mm=254))
    assert result.dpi == 40
    assert result.image.shape[:2] == (400, 200)  # 5 x 10 inches


def test_area_larger_than_the_glass_is_clamped(scan_scanner: SaneScanner) -> None:
    result = scan_scanner.scan(ScanOptions(resolution=25, width_mm=500, height_mm=100))
    width_mm = result.page_size_mm[0]
    assert width_mm == pytest.approx(360, abs=2)  # the test device's glass


def test_feeder_batch_returns_every_page(scan_scanner: SaneScanner) -> None:
    options = ScanOptions(resolution=25, source=ScanSource.ADF, width_mm=60, height_mm=40)
    handed: list[ScanResult] = []
    pages = scan_scanner.scan_batch(options, handed.append)
    assert len(pages) == 10  # the test backend's feeder holds ten sheets
    # Each page was handed over as it came, in the feeder's order: the very pages returned.
    assert [id(page) for page in handed] == [id(page) for page in pages]
    assert all(page.image.shape[:2] == (39, 59) for page in pages)
    assert scan_scanner.status().counters["pages"] == 10
    # The agent receives them as one document: a PDF of ten pages, each the scanned size.
    reader = pypdf.PdfReader(io.BytesIO(bytes(postprocess.document_pdf(pages))), strict=True)
    assert len(reader.pages) == 10
    sizes = {
        (round(float(p.mediabox.width)), round(float(p.mediabox.height))) for p in reader.pages
    }
    assert sizes == {(170, 112)}  # 59 x 39 pixels at 25 dpi, in points


def test_flatbed_batch_is_the_one_page(scan_scanner: SaneScanner) -> None:
    handed: list[ScanResult] = []
    assert len(scan_scanner.scan_batch(SMALL, handed.append)) == 1
    assert len(handed) == 1


def test_a_receiver_that_fails_fails_the_batch(scan_scanner: SaneScanner) -> None:
    handed: list[ScanResult] = []

    def receive(page: ScanResult) -> None:
        if len(handed) == 2:
            raise ConnectionError("the hub went away")
        handed.append(page)

    options = ScanOptions(resolution=25, source=ScanSource.ADF, width_mm=60, height_mm=40)
    with pytest.raises(ConnectionError):
        scan_scanner.scan_batch(options, receive)
    # The two pages handed over are the receiver's; no further page was handed over.
    assert len(handed) == 2 and not any(page.wiped for page in handed)
    assert len(scan_scanner.scan_batch(SMALL)) == 1  # and the scanner goes on working


def test_first_device_is_used_when_none_is_named(scan_device: SaneSimulator) -> None:
    scanner = open_scanner(ScannerConfig(backend="sane"))
    try:
        status = scanner.status()
        assert status.model == "Noname frontend-tester"
        assert status.backend == "sane"
        assert scanner.scan(SMALL).image.size
    finally:
        scanner.close()


def test_status_lists_what_the_device_offers(scan_scanner: SaneScanner) -> None:
    status = scan_scanner.status()
    assert status.sources == (ScanSource.FLATBED, ScanSource.ADF)
    assert status.modes == (ScanMode.COLOR, ScanMode.GRAY, ScanMode.LINEART)
    assert status.resolutions == (1, 1200)
    assert not status.busy


# --- faults -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error", "code"),
    [
        (Fault.JAMMED, PaperJam, "jammed"),
        (Fault.NO_DOCS, NoDocument, "no_document"),
        (Fault.COVER_OPEN, CoverOpen, "cover_open"),
        (Fault.IO_ERROR, DeviceIOError, "io"),
        (Fault.DEVICE_BUSY, DeviceBusy, "busy"),
        (Fault.INVAL, DeviceIOError, "io"),
        (Fault.ACCESS_DENIED, DeviceIOError, "io"),
    ],
)
def test_faults_become_hardware_errors(
    scan_scanner: SaneScanner, fault: Fault, error: type[HardwareError], code: str
) -> None:
    inject(scan_scanner, fault)
    with pytest.raises(error) as caught:
        scan_scanner.scan(SMALL)
    assert type(caught.value) is error
    assert caught.value.code == code
    assert caught.value.citizen_message("en")
    assert caught.value.__cause__ is not None  # the SANE error, kept for the log
    assert scan_scanner.status().counters["faults"] == 1
    # Once the fault clears, the same scanner scans again.
    inject(scan_scanner, Fault.NONE)
    assert scan_scanner.scan(SMALL).image.size


def test_jam_in_the_feeder(scan_scanner: SaneScanner) -> None:
    inject(scan_scanner, Fault.JAMMED)
    with pytest.raises(PaperJam):
        scan_scanner.scan_batch(ScanOptions(resolution=25, source=ScanSource.ADF))


def test_empty_feeder_is_no_document(scan_scanner: SaneScanner) -> None:
    inject(scan_scanner, Fault.NO_DOCS)
    with pytest.raises(NoDocument, match="feeder is empty"):
        scan_scanner.scan_batch(ScanOptions(resolution=25, source=ScanSource.ADF))


def test_fault_names_in_the_configuration() -> None:
    jammed = ScannerConfig.model_validate({"backend": "simulator", "fault": "jammed"})
    assert jammed.fault is Fault.JAMMED
    cfg = ScannerConfig.model_validate({"backend": "simulator", "fault": "SANE_STATUS_NO_DOCS"})
    assert cfg.fault is Fault.NO_DOCS
    with pytest.raises(ValidationError):
        ScannerConfig.model_validate({"backend": "simulator", "fault": "on fire"})


def test_fault_configured_for_the_simulator() -> None:
    scanner = open_scanner(ScannerConfig(backend="simulator", fault=Fault.COVER_OPEN))
    try:
        with pytest.raises(CoverOpen):
            scanner.scan(SMALL)
        assert scanner.self_test().state is DeviceState.OK  # a status check does not scan
    finally:
        scanner.close()
    assert os.environ.get("SANE_CONFIG_DIR") != str(default_directory())
    assert not default_directory().exists()


# --- closing, busy, missing ---------------------------------------------------------------


def _scan_in_background(
    scanner: SaneScanner, options: ScanOptions
) -> tuple[threading.Thread, list[BaseException | None]]:
    outcome: list[BaseException | None] = []

    def scan() -> None:
        try:
            scanner.scan(options)
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=scan)
    thread.start()
    _wait_until_busy(scanner)
    return thread, outcome


def test_closing_mid_scan_fails_the_scan_without_crashing(scan_scanner: SaneScanner) -> None:
    thread, outcome = _scan_in_background(scan_scanner, _slow(scan_scanner))
    time.sleep(0.3)  # into the reading of lines
    scan_scanner.close()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], DeviceMissing)
    assert "closed during the scan" in str(outcome[0])
    health = scan_scanner.self_test()
    assert (health.state, health.last_error) == (DeviceState.MISSING, "missing")
    with pytest.raises(DeviceMissing):
        scan_scanner.scan(SMALL)
    # The handle was closed: the test backend opens a device only once at a time.
    SaneScanner(DEVICE_NAME).close()


def test_a_second_scan_while_scanning_is_busy(scan_scanner: SaneScanner) -> None:
    thread, outcome = _scan_in_background(scan_scanner, _slow(scan_scanner))
    with pytest.raises(DeviceBusy):
        scan_scanner.scan(SMALL)
    with pytest.raises(DeviceBusy):
        scan_scanner.set_option("read_delay", False)
    assert scan_scanner.self_test().state is DeviceState.OK
    assert scan_scanner.status().busy
    scan_scanner.close()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], DeviceMissing)


def test_simulator_rehearses_an_unplugged_scanner() -> None:
    with pytest.raises(DeviceMissing):
        open_scanner(ScannerConfig(backend="simulator", device="cabina-unplugged:0"))
    assert not default_directory().exists()  # the failed open cleaned up after itself


def test_unknown_device_is_missing(scan_device: SaneSimulator) -> None:
    with pytest.raises(DeviceMissing, match="Invalid argument"):
        SaneScanner("test:7")
    # The failed open gave libsane back.
    SaneScanner(scan_device.device_name).close()


def test_self_test_reports_a_healthy_scanner(scan_scanner: SaneScanner) -> None:
    scan_scanner.scan(SMALL)
    health = scan_scanner.self_test()
    assert (health.device, health.backend, health.state) == ("scanner", "sane", DeviceState.OK)
    assert health.counters == {"pages": 1, "faults": 0}
    scan_scanner.close()
    scan_scanner.close()
    assert scan_scanner.self_test().state is DeviceState.MISSING


# --- configuration ------------------------------------------------------------------------


def test_unknown_backend_names_the_known_ones() -> None:
    with pytest.raises(ConfigurationError) as caught:
        open_scanner(ScannerConfig(backend="twain"))
    assert all(name in str(caught.value) for name in ("'twain'", "camera", "sane", "simulator"))


def test_device_options_from_the_configuration(scan_device: SaneSimulator) -> None:
    cfg = ScannerConfig(backend="sane", device="test:0", options={"test-picture": "Solid white"})
    scanner = open_scanner(cfg)
    try:
        assert scanner.scan(SMALL).image.min() == 255
    finally:
        scanner.close()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"lamp": True}, "'lamp'"),
        ({"mode": "Sepia"}, "'Sepia'"),
        ({"resolution": "high"}, "'high'"),
    ],
)
def test_bad_device_options_are_configuration_errors(
    scan_device: SaneSimulator, options: dict[str, str | bool], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        SaneScanner(scan_device.device_name, options=options)
    SaneScanner(scan_device.device_name).close()  # nothing left open


def test_another_sane_config_dir_in_the_same_process_is_refused(
    scan_scanner: SaneScanner, tmp_path: Path
) -> None:
    # libsane would keep reading dll.conf from the first directory: refuse rather than
    # scan with a configuration nobody asked for.
    other = SaneSimulator(directory=tmp_path / "sane")
    try:
        with pytest.raises(ConfigurationError, match="SANE_CONFIG_DIR"):
            SaneScanner(other.device_name)
    finally:
        other.close()
    assert scan_scanner.scan(SMALL).image.size  # the open scanner is untouched


def test_one_test_configuration_at_a_time(scan_device: SaneSimulator) -> None:
    with pytest.raises(ConfigurationError, match="one simulated scanner"):
        SaneSimulator()


# --- the simulator itself -----------------------------------------------------------------


def test_simulator_sets_and_restores_sane_config_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANE_CONFIG_DIR", "/etc/sane.d")
    device = SaneSimulator(fault=Fault.JAMMED)
    directory = device.config_dir
    assert directory == default_directory()
    assert directory.stat().st_mode & 0o777 == 0o700
    assert os.environ["SANE_CONFIG_DIR"] == str(directory)
    assert (directory / "dll.conf").read_text() == "test\n"
    assert 'read-status-code "SANE_STATUS_JAMMED"' in (directory / "test.conf").read_text()
    assert device.device_name == "test:0"
    device.close()
    device.close()
    assert os.environ["SANE_CONFIG_DIR"] == "/etc/sane.d"
    assert not Path(directory).exists()


def test_list_devices_sees_the_test_device(scan_device: SaneSimulator) -> None:
    devices = sane_library.list_devices()
    assert [d.name for d in devices] == ["test:0"]
    assert devices[0].vendor == "Noname"


def test_release_without_acquire_is_a_bug() -> None:
    with pytest.raises(RuntimeError, match="nobody acquired"):
        sane_library.release()


def _sigpipe_ignored() -> bool:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("SigIgn:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGPIPE - 1)))
    raise AssertionError("no SigIgn line in /proc/self/status")


def test_a_scan_leaves_broken_pipes_harmless(scan_scanner: SaneScanner) -> None:
    # SANE's test backend resets SIGPIPE to "terminate" while reading; a kiosk whose peer
    # closed a socket after a scan must get BrokenPipeError, not die.
    scan_scanner.scan(ScanOptions(resolution=50))
    scan_scanner.scan_batch(ScanOptions(resolution=50, source=ScanSource.ADF))
    assert _sigpipe_ignored()
