"""The kiosk's health watch: what it checks, what it tells the flow, and when it tells the hub.

The devices are the simulated receipt printer on a loopback port and the outbox is the real
SQLite one; only the moments are chosen by the tests (a manual monotonic clock).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hardware.check import CheckResult
from hardware.config import Devices, open_devices
from hardware.health import DeviceState, PaperLevel
from hardware.simulation import SimulatedHardware
from kiosk.effects.health import (
    BUSY_SKIPPED,
    HealthMonitor,
    device_checker,
    disk_of,
    disk_row,
    flow_events,
    needs_check,
    signature,
)
from kiosk.effects.outbox import Outbox
from kiosk.flow import (
    ChooseLanguage,
    DeviceFailed,
    DeviceRecovered,
    Event,
    Flow,
    State,
    StepFinished,
    TouchScreen,
)

GB = 1_000_000_000


@pytest.fixture
def printer_hardware() -> Iterator[tuple[SimulatedHardware, Devices]]:
    """The simulated receipt printer, open as the kiosk has it."""
    with SimulatedHardware(devices=("receipt_printer",)) as simulated:
        devices = open_devices(simulated.config)
        try:
            yield simulated, devices
        finally:
            devices.close()


class Watch:
    """A monitor over the simulated printer and a real outbox, on a clock the test moves."""

    def __init__(self, simulated: SimulatedHardware, devices: Devices, outbox: Outbox) -> None:
        self.now = 0.0
        self.busy = False
        self.faults: dict[str, str] = {}
        self.delivered: list[Event] = []
        self.wakes = 0
        self.skipped: list[frozenset[str]] = []
        self.outbox = outbox
        checker = device_checker(simulated.config, devices)

        def check(skip: frozenset[str]) -> dict[str, CheckResult]:
            self.skipped.append(skip)
            return checker(skip)

        def deliver(event: Event) -> None:
            self.delivered.append(event)
            if isinstance(event, DeviceFailed):
                self.faults[event.device] = event.code
            elif isinstance(event, DeviceRecovered):
                self.faults.pop(event.device, None)

        def wake() -> None:
            self.wakes += 1

        self.monitor = HealthMonitor(
            check=check,
            disk=lambda: disk_row(50 * GB, 100 * GB),
            store=outbox.put_telemetry,
            wake=wake,
            deliver=deliver,
            faults=lambda: self.faults,
            busy=lambda: self.busy,
            interval_s=1,
            keepalive_s=600,
            monotonic=lambda: self.now,
        )

    def sent(self) -> list[dict[str, Any]] | None:
        """The snapshot waiting in the outbox, taken out of it."""
        devices = self.outbox.take_telemetry()
        if devices is not None:
            self.outbox.telemetry_sent(devices)
        return devices


@pytest.fixture
def watch(printer_hardware: tuple[SimulatedHardware, Devices], tmp_path: Path) -> Iterator[Watch]:
    """A watch over the simulated printer."""
    outbox = Outbox(tmp_path / "outbox.sqlite3", actor="cabin:1")
    yield Watch(*printer_hardware, outbox)
    outbox.close()


async def test_the_hub_hears_only_changes_keepalives_and_after_a_reconnection(
    watch: Watch, printer_hardware: tuple[SimulatedHardware, Devices]
) -> None:
    simulated, _devices = printer_hardware
    assert simulated.receipt_printer is not None
    first = await watch.monitor.check_now()
    assert watch.sent() == first and watch.wakes == 1
    assert [(row["device"], row["state"]) for row in first] == [
        ("receipt_printer", "ok"),
        ("disk", "ok"),
    ]

    watch.now += 30
    await watch.monitor.check_now()
    assert watch.sent() is None and watch.wakes == 1, "an unchanged snapshot was sent"

    simulated.receipt_printer.set_paper(PaperLevel.OUT)
    out = await watch.monitor.check_now()
    assert watch.sent() == out and watch.wakes == 2
    assert (out[0]["state"], out[0]["paper"], out[0]["last_error"]) == ("fault", "out", "paper_out")
    assert watch.delivered == [DeviceFailed(device="receipt_printer", code="paper_out")]

    simulated.receipt_printer.set_paper(PaperLevel.OK)
    back = await watch.monitor.check_now()
    assert watch.sent() == back and back[0]["state"] == "ok"
    assert watch.delivered[-1] == DeviceRecovered(device="receipt_printer")

    watch.now += 600
    assert await watch.monitor.check_now() == back
    assert watch.sent() == back, "no keep-alive after the keep-alive interval"

    watch.monitor.on_link(False)
    await watch.monitor.check_now()
    assert watch.sent() is None
    watch.monitor.on_link(True)
    await watch.monitor.check_now()
    assert watch.sent() == back, "a new connection was not told the cabin's health"
    assert watch.wakes == 5


async def test_a_visit_leaves_the_camera_and_scanner_alone_once_they_were_checked(
    tmp_path: Path,
) -> None:
    asked: list[frozenset[str]] = []

    def check(skip: frozenset[str]) -> dict[str, CheckResult]:
        asked.append(skip)
        names = ("camera", "scanner", "receipt_printer")
        return {
            name: CheckResult(device=name, backend="x", state=DeviceState.OK)
            for name in names
            if name not in skip
        }

    busy = [True]
    stored: list[list[dict[str, Any]]] = []
    monitor = HealthMonitor(
        check=check,
        disk=lambda: disk_row(50 * GB, 100 * GB),
        store=stored.append,
        wake=lambda: None,
        deliver=lambda _event: None,
        faults=dict,
        busy=lambda: busy[0],
        interval_s=1,
        keepalive_s=600,
    )
    # Never checked yet: even during a visit, the first look includes them.
    await monitor.check_now()
    assert asked == [frozenset()]
    snapshot = await monitor.check_now()
    assert asked[-1] == BUSY_SKIPPED == {"camera", "scanner"}
    # Their last result stands in the snapshot.
    assert [row["device"] for row in snapshot] == ["camera", "scanner", "receipt_printer", "disk"]
    busy[0] = False
    await monitor.check_now()
    assert asked[-1] == frozenset()
    assert len(stored) == 1, "an unchanged snapshot was stored again"


def test_a_device_that_did_not_open_is_missing_until_the_kiosk_restarts(
    printer_hardware: tuple[SimulatedHardware, Devices],
) -> None:
    simulated, _devices = printer_hardware
    results = device_checker(simulated.config, Devices())(frozenset())
    assert results["receipt_printer"].state is DeviceState.MISSING
    assert results["receipt_printer"].error == "missing"
    assert device_checker(simulated.config, Devices())(frozenset({"receipt_printer"})) == {}


def test_the_flow_hears_failures_recoveries_and_nothing_else() -> None:
    def row(device: str, state: DeviceState, error: str | None = None) -> CheckResult:
        return CheckResult(device=device, backend="x", state=state, error=error)

    results = {
        "receipt_printer": row("receipt_printer", DeviceState.FAULT, "paper_out"),
        "handset": row("handset", DeviceState.MISSING),
        "camera": row("camera", DeviceState.OK),
        "scanner": row("scanner", DeviceState.WARNING),
        "a4_printer": row("a4_printer", DeviceState.FAULT, "jammed"),
    }
    faults = {"camera": "missing", "scanner": "jammed", "a4_printer": "jammed"}
    assert flow_events(results, faults) == [
        DeviceFailed(device="receipt_printer", code="paper_out"),
        DeviceFailed(device="handset", code="missing"),
        DeviceRecovered(device="camera"),
        DeviceRecovered(device="scanner"),
    ]


def test_only_device_failures_bring_a_check_forward() -> None:
    assert needs_check(DeviceFailed(device="scanner", code="jammed"))
    assert needs_check(StepFinished("s1", "failed", error="no_document"))
    assert not needs_check(StepFinished("s1", "done"))
    assert not needs_check(DeviceRecovered(device="scanner"))


def test_the_disk_row_warns_when_low_and_faults_when_full() -> None:
    assert disk_row(50 * GB, 100 * GB)["state"] == "ok"
    low = disk_row(5 * GB, 100 * GB)
    assert (low["device"], low["state"], low["last_error"]) == ("disk", "warning", "disk_low")
    full = disk_row(1 * GB, 100 * GB)
    assert (full["state"], full["last_error"]) == ("fault", "disk_full")
    assert full["counters"] == {"free_mb": 1000, "total_mb": 100_000}
    with pytest.raises(ValueError, match="positive size"):
        disk_row(0, 0)


def test_the_disk_of_a_data_dir_not_made_yet_is_its_parents(tmp_path: Path) -> None:
    row = disk_of(tmp_path / "not" / "yet")
    assert row["device"] == "disk" and row["counters"]["total_mb"] > 0


def test_counters_do_not_make_a_snapshot_new() -> None:
    before = [disk_row(50 * GB, 100 * GB)]
    after = [disk_row(49 * GB, 100 * GB)]
    assert before != after and signature(before) == signature(after)
    assert signature(before) != signature([disk_row(5 * GB, 100 * GB)])


async def test_a_camera_lost_and_found_takes_the_cabin_out_of_service_and_back(
    make_flow: Callable[..., Flow],
) -> None:
    flow = make_flow()
    flow.dispatch(TouchScreen())
    flow.dispatch(ChooseLanguage("es"))
    assert flow.state is State.HOME
    camera = [DeviceState.MISSING]

    def check(_skip: frozenset[str]) -> dict[str, CheckResult]:
        error = "missing" if camera[0] is DeviceState.MISSING else None
        return {"camera": CheckResult(device="camera", backend="x", state=camera[0], error=error)}

    monitor = HealthMonitor(
        check=check,
        disk=lambda: disk_row(50 * GB, 100 * GB),
        store=lambda _devices: None,
        wake=lambda: None,
        deliver=flow.dispatch,
        faults=lambda: flow.device_faults,
        busy=lambda: False,
        interval_s=1,
        keepalive_s=600,
    )
    await monitor.check_now()
    assert flow.state is State.OUT_OF_SERVICE and not flow.service_available
    camera[0] = DeviceState.OK
    await monitor.check_now()
    assert flow.state is State.HOME and flow.service_available


async def test_a_device_failure_during_a_step_brings_the_next_check_forward() -> None:
    checks = asyncio.Queue[frozenset[str]]()

    def check(skip: frozenset[str]) -> dict[str, CheckResult]:
        checks.put_nowait(skip)
        return {}

    monitor = HealthMonitor(
        check=check,
        disk=lambda: disk_row(50 * GB, 100 * GB),
        store=lambda _devices: None,
        wake=lambda: None,
        deliver=lambda _event: None,
        faults=dict,
        busy=lambda: False,
        interval_s=600,
        keepalive_s=600,
    )
    watching = asyncio.ensure_future(monitor.run())
    try:
        await asyncio.wait_for(checks.get(), 10)
        monitor.on_event(StepFinished("s-1", "done"))
        monitor.on_event(StepFinished("s-2", "failed", error="paper_out"))
        await asyncio.wait_for(checks.get(), 10)
    finally:
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)
    assert checks.empty()
