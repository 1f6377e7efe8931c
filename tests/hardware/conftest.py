"""Shared fixtures for the hardware tests.

Fixtures here are prefixed by their owner's device (``handset_``, ``hw_``, ``camera_``,
``scanner_``, ``printer_``) so that several device suites can share this file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware.handset import HandsetConfig, HandsetDriver, HandsetSimulator, open_handset
from hardware.handset import start_background as start_handset_simulator


@pytest.fixture
def handset_sim(tmp_path: Path) -> Iterator[HandsetSimulator]:
    """A simulated serial handset, plugged in, on a pty."""
    simulator = start_handset_simulator(tmp_path / "handset-sim")
    yield simulator
    simulator.close()


@pytest.fixture
def handset_config(handset_sim: HandsetSimulator) -> HandsetConfig:
    """The serial backend pointed at ``handset_sim``, retrying quickly after an unplug."""
    return HandsetConfig(
        backend="serial",
        port=str(handset_sim.path),
        debounce_ms=30,
        reconnect_min_ms=20,
        reconnect_max_ms=100,
        status_timeout_ms=3000,
    )


@pytest.fixture
def handset_driver(handset_config: HandsetConfig) -> Iterator[HandsetDriver]:
    """The serial backend, open on ``handset_sim``."""
    driver = open_handset(handset_config)
    yield driver
    driver.close()
