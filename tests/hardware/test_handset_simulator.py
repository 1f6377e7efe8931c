"""The ``simulator`` backend, its control socket, and the simulator's own behaviour."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hardware.errors import DeviceMissing
from hardware.handset import (
    HandsetConfig,
    HandsetSimulator,
    Key,
    OffHook,
    OnHook,
    Replugged,
    SimulatedHandset,
    Unplugged,
    open_handset,
    send_command,
)
from hardware.health import DeviceState

WAIT = 5.0


def open_simulated(**options: object) -> SimulatedHandset:
    config = HandsetConfig.model_validate(
        {"backend": "simulator", "reconnect_min_ms": 20, "reconnect_max_ms": 100, **options}
    )
    handset = open_handset(config)
    assert isinstance(handset, SimulatedHandset)
    return handset


def test_the_simulator_backend_drives_its_own_simulator() -> None:
    handset = open_simulated()
    try:
        assert handset.self_test().state is DeviceState.OK
        assert handset.self_test().backend == "simulator"

        handset.simulator.lift()
        assert handset.next_event(WAIT) == OffHook()
    finally:
        handset.close()
    assert not handset.simulator.path.exists()


def test_the_control_socket_lifts_the_handset(tmp_path: Path) -> None:
    socket_path = tmp_path / "data" / "handset.sock"
    handset = open_simulated(control_socket=socket_path)
    try:
        assert os.stat(socket_path).st_mode & 0o777 == 0o600

        assert send_command(socket_path, "lift") == "ok off-hook plugged"
        assert handset.next_event(WAIT) == OffHook()
        assert send_command(socket_path, "press 4") == "ok off-hook plugged"
        assert handset.next_event(WAIT) == Key("4")
        assert send_command(socket_path, "hang-up") == "ok on-hook plugged"
        assert handset.next_event(WAIT) == OnHook()
        assert send_command(socket_path, "unplug") == "ok on-hook unplugged"
        assert handset.next_event(WAIT) == Unplugged()
        assert send_command(socket_path, "replug") == "ok on-hook plugged"
        assert handset.next_event(WAIT) == Replugged()
        assert send_command(socket_path, "status") == "ok on-hook plugged"
    finally:
        handset.close()
    assert not socket_path.exists()


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        ("press A", "error Expected one of 0 1 2 3 4 5 6 7 8 9 * #, but got 'A'"),
        ("press", "error Expected one of lift, hang-up, press"),
        ("lift now", "error Expected one of lift"),
        ("dance", "error Expected one of lift"),
        ("", "error Expected one of lift"),
    ],
)
def test_bad_control_commands_get_an_error_line(tmp_path: Path, command: str, answer: str) -> None:
    socket_path = tmp_path / "handset.sock"
    handset = open_simulated(control_socket=socket_path)
    try:
        assert send_command(socket_path, command).startswith(answer)
        assert send_command(socket_path, "status") == "ok on-hook plugged"
    finally:
        handset.close()


def test_a_missing_control_socket_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DeviceMissing, match=r"control socket at .*nowhere\.sock"):
        send_command(tmp_path / "nowhere.sock", "lift")


def test_the_unplugged_fault_starts_without_a_handset() -> None:
    handset = open_simulated(fault="unplugged")
    try:
        assert handset.next_event(WAIT) == Unplugged()
        assert handset.self_test().state is DeviceState.MISSING
    finally:
        handset.close()


def test_the_silent_fault_answers_nothing() -> None:
    handset = open_simulated(fault="silent", status_timeout_ms=200)
    try:
        health = handset.self_test()
        assert (health.state, health.last_error) == (DeviceState.FAULT, "io")
    finally:
        handset.close()


def test_the_simulator_keeps_its_state_while_unplugged(handset_sim: HandsetSimulator) -> None:
    handset_sim.unplug()
    assert not handset_sim.path.exists()
    assert handset_sim.plugged is False

    handset_sim.lift()  # no one hears it, as with a pulled cable
    handset_sim.press("1")
    assert handset_sim.off_hook is True

    handset_sim.replug()
    assert handset_sim.path.is_symlink()
    assert handset_sim.plugged is True


def test_the_simulator_answers_queries_on_its_port(handset_sim: HandsetSimulator) -> None:
    import serial

    handset_sim.lift()
    with serial.Serial(str(handset_sim.path), timeout=WAIT) as port:
        port.write(b"STATUS?\r\n")
        assert port.readline() == b"HOOK OFF\r\n"
        port.write(b"ID?\n")
        assert port.readline() == b"ID SIM-HS-0001 simulated handset\r\n"
        port.write(b"NONSENSE\r\nSTATUS?\r\n")  # unknown queries get no answer
        assert port.readline() == b"HOOK OFF\r\n"
