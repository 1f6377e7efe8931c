"""The cabin's health, watched: device checks every so often, telemetry when it changes.

:class:`HealthMonitor` checks the devices the kiosk has open every ``interval_s`` seconds, and
again at once when a device fails during a step (:func:`needs_check`). Each check is the
device's own harmless self-test (an ESC/POS status query, IPP ``Get-Printer-Attributes``, SANE
parameters, a handset status query, one camera frame); while a citizen is at the cabin the
camera and the scanner are left alone (:data:`BUSY_SKIPPED`), their last result standing,
because reading either would take something from the visit.

What it found goes two ways:

- to the hub, as a telemetry snapshot through the durable outbox, only when it changed
  (:func:`signature` leaves counters and exact free bytes aside), every ``keepalive_s``
  seconds even if not, and again after each reconnection (the hub keeps a cabin's telemetry
  with its connection);
- to the flow, as :class:`~kiosk.flow.DeviceFailed` and :class:`~kiosk.flow.DeviceRecovered`
  (:func:`flow_events`), so that a cabin without a required device shows out of service and
  one whose printer was refilled prints again.

A device the kiosk could not open at start is reported missing until the kiosk restarts: a
check that opened it now would say it works, but the kiosk still has no handle on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from contract.signalling import DISK_DEVICE
from hardware.check import CheckResult, check_device, result_from_error
from hardware.config import Device, Devices, HardwareConfig
from hardware.errors import DeviceMissing
from hardware.health import DeviceHealth, DeviceState
from kiosk.flow import DeviceFailed, DeviceRecovered, Event, StepFinished
from provisioning.selftest import telemetry_of

logger = logging.getLogger(__name__)

#: Devices not checked while a citizen is at the cabin: the call reads the camera, and the
#: scanner may be about to scan their document.
BUSY_SKIPPED = frozenset({"camera", "scanner"})
#: The data directory is nearly full below this share of its disk free …
DISK_LOW_FRACTION = 0.10
#: … and full (the outbox and a citizen's scans may no longer fit) below this one.
DISK_FULL_FRACTION = 0.02

_FAILING = frozenset({DeviceState.FAULT, DeviceState.MISSING})

Checker = Callable[[frozenset[str]], dict[str, CheckResult]]


class BorrowedDevice:
    """A device the kiosk has open, lent to a check or the technician's self-test: tested,
    but not closed by it."""

    def __init__(self, device: Device) -> None:
        self._device = device

    def self_test(self) -> DeviceHealth:
        """The device's own self-test."""
        health: DeviceHealth = self._device.self_test()
        return health

    def close(self) -> None:
        """Nothing: the device stays the kiosk's."""


def device_checker(hardware: HardwareConfig, devices: Devices) -> Checker:
    """Checks the configured devices the kiosk has open, except those it is told to skip."""

    def check(skip: frozenset[str]) -> dict[str, CheckResult]:
        results: dict[str, CheckResult] = {}
        for name, section in hardware.sections():
            if name in skip:
                continue
            device: Device | None = getattr(devices, name, None)
            if device is None:
                results[name] = _not_open(name, section)
                continue
            borrowed = BorrowedDevice(device)

            def lend(_name: str, _section: BaseModel, lent: BorrowedDevice = borrowed) -> Any:
                return lent

            results[name] = check_device(name, section, opener=lend)
        return results

    return check


def _not_open(name: str, section: BaseModel) -> CheckResult:
    return result_from_error(
        name,
        str(getattr(section, "backend", "?")),
        DeviceMissing(f"The {name} did not open when the kiosk started", device=name),
        required=bool(getattr(section, "required", True)),
    )


def disk_row(free: int, total: int, backend: str = "data_dir") -> dict[str, Any]:
    """The telemetry row of the data directory's disk, from its free and total bytes."""
    if total <= 0:
        raise ValueError(f"Expected a disk with a positive size, but got {total} bytes")
    share = free / total
    if share < DISK_FULL_FRACTION:
        state, code = DeviceState.FAULT, "disk_full"
    elif share < DISK_LOW_FRACTION:
        state, code = DeviceState.WARNING, "disk_low"
    else:
        state, code = DeviceState.OK, None
    return {
        "device": DISK_DEVICE,
        "backend": backend,
        "state": state.value,
        "paper": None,
        "last_error": code,
        "counters": {"free_mb": free // 1_000_000, "total_mb": total // 1_000_000},
    }


def disk_of(path: Path) -> dict[str, Any]:
    """The telemetry row of the disk ``path`` is on (its nearest existing parent's)."""
    where = path
    while not where.exists() and where != where.parent:
        where = where.parent
    try:
        usage = shutil.disk_usage(where)
    except OSError as exc:
        logger.warning("cannot read the free space of the data directory: %s", exc)
        return {
            "device": DISK_DEVICE,
            "backend": "data_dir",
            "state": DeviceState.MISSING.value,
            "paper": None,
            "last_error": "io",
            "counters": {},
        }
    return disk_row(usage.free, usage.total)


def signature(devices: Sequence[Mapping[str, Any]]) -> tuple[tuple[Any, ...], ...]:
    """What of a snapshot is worth telling the hub about: each row without its counters."""
    return tuple(
        (
            row.get("device"),
            row.get("backend"),
            row.get("state"),
            row.get("paper"),
            row.get("last_error"),
        )
        for row in devices
    )


def flow_events(results: Mapping[str, CheckResult], faults: Mapping[str, str]) -> list[Event]:
    """What the flow must hear so that its ``faults`` agree with ``results``."""
    events: list[Event] = []
    for name, result in results.items():
        if result.state in _FAILING:
            code = result.error or result.state.value
            if faults.get(name) != code:
                events.append(DeviceFailed(device=name, code=code))
        elif name in faults:
            events.append(DeviceRecovered(device=name))
    return events


def needs_check(event: Event) -> bool:
    """Whether ``event`` says a device failed, so that the cabin's health is worth a new look."""
    if isinstance(event, DeviceFailed):
        return True
    return isinstance(event, StepFinished) and event.status == "failed"


class HealthMonitor:
    """Checks the devices now and then, tells the flow and, when it changed, the hub.

    ``store`` keeps a snapshot in the outbox (it runs in a worker thread) and ``wake`` tells
    the outbox's sender to send it.
    """

    def __init__(
        self,
        *,
        check: Checker,
        disk: Callable[[], dict[str, Any]],
        store: Callable[[list[dict[str, Any]]], None],
        wake: Callable[[], None],
        deliver: Callable[[Event], None],
        faults: Callable[[], Mapping[str, str]],
        busy: Callable[[], bool],
        interval_s: float,
        keepalive_s: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if interval_s <= 0 or keepalive_s <= 0:
            raise ValueError(
                f"Expected positive check and keep-alive intervals, "
                f"but got {interval_s} s and {keepalive_s} s"
            )
        self._check = check
        self._disk = disk
        self._store = store
        self._wake_sender = wake
        self._deliver = deliver
        self._faults = faults
        self._busy = busy
        self._interval_s = interval_s
        self._keepalive_s = keepalive_s
        self._monotonic = monotonic
        self._results: dict[str, CheckResult] = {}
        self._sent: tuple[tuple[Any, ...], ...] | None = None
        self._sent_at = 0.0
        self._wake = asyncio.Event()

    def poke(self) -> None:
        """Check again soon: a device just failed."""
        self._wake.set()

    def on_event(self, event: Event) -> None:
        """Look at an event on its way to the flow; a device failure brings a check forward."""
        if needs_check(event):
            self.poke()

    def on_link(self, online: bool) -> None:
        """The hub link came or went: a new connection has no telemetry yet, so resend."""
        if online:
            self._sent = None
            self.poke()

    async def check_now(self) -> list[dict[str, Any]]:
        """Check the devices once, tell the flow, publish if worth it; the snapshot."""
        skip = BUSY_SKIPPED if self._busy() else frozenset()
        skip = frozenset(name for name in skip if name in self._results)
        fresh = await asyncio.to_thread(self._check, skip)
        self._results.update(fresh)
        for event in flow_events(fresh, self._faults()):
            self._deliver(event)
        snapshot = telemetry_of(list(self._results.values()))
        snapshot.append(await asyncio.to_thread(self._disk))
        now = self._monotonic()
        seen = signature(snapshot)
        if seen != self._sent or now - self._sent_at >= self._keepalive_s:
            await asyncio.to_thread(self._store, snapshot)
            self._wake_sender()
            self._sent, self._sent_at = seen, now
        return snapshot

    async def run(self) -> None:
        """Check at once, then every ``interval_s`` or when poked, until cancelled."""
        while True:
            self._wake.clear()
            try:
                await self.check_now()
            except Exception:  # one failed round must not stop the watch
                logger.exception("checking the cabin's health failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval_s)
