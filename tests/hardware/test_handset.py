"""The serial handset backend, through pyserial, against the simulated handset on a real pty."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import ValidationError

from hardware.errors import ConfigurationError
from hardware.handset import (
    KEYS,
    Handset,
    HandsetConfig,
    HandsetDriver,
    HandsetEvent,
    HandsetSimulator,
    Key,
    OffHook,
    OnHook,
    Replugged,
    Unplugged,
    open_handset,
    start_background,
)
from hardware.health import DeviceState

WAIT = 5.0  # an upper bound for an event to arrive, not a timing requirement


def next_event(handset_driver: HandsetDriver) -> HandsetEvent | None:
    return handset_driver.next_event(WAIT)


def test_lifting_and_hanging_up_are_events(
    handset_driver: HandsetDriver, handset_sim: HandsetSimulator
) -> None:
    handset_sim.lift()
    assert next_event(handset_driver) == OffHook()
    assert handset_driver.off_hook is True

    handset_sim.hang_up()
    assert next_event(handset_driver) == OnHook()
    assert handset_driver.off_hook is False


def test_every_key_is_an_event_in_order(
    handset_driver: HandsetDriver, handset_sim: HandsetSimulator
) -> None:
    handset_sim.lift()
    for key in KEYS:
        handset_sim.press(key)

    assert [next_event(handset_driver) for _ in range(len(KEYS) + 1)] == [
        OffHook(),
        *(Key(k) for k in KEYS),
    ]


def test_a_bouncing_hook_switch_gives_one_event(
    handset_driver: HandsetDriver, handset_sim: HandsetSimulator
) -> None:
    handset_sim.bounce()  # OFF, ON, OFF in a burst
    handset_sim.press("1")

    # Had the bounce leaked, an OnHook would come before the key.
    assert next_event(handset_driver) == OffHook()
    assert next_event(handset_driver) == Key("1")
    assert handset_driver.off_hook is True


def test_without_debouncing_the_bounce_is_seen(
    handset_config: HandsetConfig, handset_sim: HandsetSimulator
) -> None:
    handset_driver = open_handset(handset_config.model_copy(update={"debounce_ms": 0}))
    try:
        handset_sim.bounce()

        assert [next_event(handset_driver) for _ in range(3)] == [OffHook(), OnHook(), OffHook()]
    finally:
        handset_driver.close()


def test_garbage_is_ignored_and_counted(
    handset_driver: HandsetDriver, handset_sim: HandsetSimulator
) -> None:
    handset_sim.send_garbage()  # one of its lines hides a "HOOK OFF" after non-UTF-8 bytes
    handset_sim.press("7")

    assert next_event(handset_driver) == Key("7")
    assert handset_driver.off_hook is False
    health = handset_driver.self_test()
    assert health.state is DeviceState.OK
    assert health.counters["ignored"] == 4


def test_an_over_long_line_is_ignored_and_the_next_one_read(
    handset_driver: HandsetDriver, handset_sim: HandsetSimulator
) -> None:
    handset_sim.send_raw(b"HOOK OFF" + b"!" * 500 + b"\r\n")
    handset_sim.send_raw(b"KEY 2\n")

    assert next_event(handset_driver) == Key("2")
    assert handset_driver.off_hook is False


def test_a_lift_split_across_writes_is_read(tmp_path: Path, handset_config: HandsetConfig) -> None:
    # A silent handset answers no query, so nothing can come between the two halves.
    simulator = start_background(tmp_path / "halves", silent=True)
    handset_driver = open_handset(handset_config.model_copy(update={"port": str(simulator.path)}))
    try:
        simulator.send_raw(b"HOOK")
        simulator.send_raw(b" OFF\r")

        assert next_event(handset_driver) == OffHook()
    finally:
        handset_driver.close()
        simulator.close()


def test_the_handset_identifies_itself(handset_driver: HandsetDriver) -> None:
    assert handset_driver.self_test().state is DeviceState.OK
    assert handset_driver.serial_number == "SIM-HS-0001"


def test_unplugged_mid_call_then_replugged(
    handset_driver: HandsetDriver, handset_sim: HandsetSimulator
) -> None:
    handset_sim.lift()
    assert next_event(handset_driver) == OffHook()

    handset_sim.unplug()
    assert next_event(handset_driver) == Unplugged()
    assert handset_driver.off_hook is False
    assert handset_driver.self_test().state is DeviceState.MISSING

    handset_sim.replug()
    assert next_event(handset_driver) == Replugged()
    # Still lifted: the status query after reconnecting tells the kiosk so.
    assert next_event(handset_driver) == OffHook()
    health = handset_driver.self_test()
    assert health.state is DeviceState.OK
    assert health.counters["reconnects"] == 1


def test_several_unplugs_in_a_row(
    handset_driver: HandsetDriver, handset_sim: HandsetSimulator
) -> None:
    for _ in range(3):
        handset_sim.unplug()
        assert next_event(handset_driver) == Unplugged()
        handset_sim.replug()
        assert next_event(handset_driver) == Replugged()

    handset_sim.press("5")
    assert next_event(handset_driver) == Key("5")


def test_a_handset_absent_at_start_is_found_when_plugged(
    tmp_path: Path, handset_config: HandsetConfig
) -> None:
    simulator = start_background(tmp_path / "later", plugged=False)
    config = handset_config.model_copy(update={"port": str(simulator.path)})
    handset_driver = open_handset(config)
    try:
        assert next_event(handset_driver) == Unplugged()
        health = handset_driver.self_test()
        assert (health.state, health.last_error) == (DeviceState.MISSING, "missing")

        simulator.replug()
        assert next_event(handset_driver) == Replugged()
        assert handset_driver.self_test().state is DeviceState.OK
    finally:
        handset_driver.close()
        simulator.close()


def test_a_handset_that_does_not_answer_is_a_fault(
    tmp_path: Path, handset_config: HandsetConfig
) -> None:
    simulator = start_background(tmp_path / "mute", silent=True)
    config = handset_config.model_copy(
        update={"port": str(simulator.path), "status_timeout_ms": 200}
    )
    handset_driver = open_handset(config)
    try:
        health = handset_driver.self_test()
        assert (health.state, health.last_error) == (DeviceState.FAULT, "io")
        assert health.device == "handset"
        assert health.backend == "serial"
    finally:
        handset_driver.close()
        simulator.close()


async def test_events_as_an_async_stream(
    handset_driver: HandsetDriver, handset_sim: HandsetSimulator
) -> None:
    handset_sim.lift()
    handset_sim.press("3")
    handset_sim.hang_up()

    seen: list[HandsetEvent] = []
    async with asyncio.timeout(WAIT):
        async for event in handset_driver.events():
            seen.append(event)
            if len(seen) == 3:
                break

    assert seen == [OffHook(), Key("3"), OnHook()]


async def test_closing_ends_the_async_stream(handset_driver: HandsetDriver) -> None:
    async def consume() -> list[HandsetEvent]:
        return [event async for event in handset_driver.events()]

    task = asyncio.create_task(consume())
    await asyncio.sleep(0)
    await asyncio.to_thread(handset_driver.close)

    async with asyncio.timeout(WAIT):
        assert await task == []


async def test_the_driver_satisfies_the_protocol(
    handset_config: HandsetConfig, handset_sim: HandsetSimulator
) -> None:
    # Used only through Handset, as the kiosk does: each member does what it promises.
    config = handset_config.model_copy(update={"audio_device": "plughw:CARD=Handset,DEV=0"})
    handset: Handset = open_handset(config)
    stream = handset.events()
    try:
        assert (handset.off_hook, handset.audio_device) == (False, "plughw:CARD=Handset,DEV=0")
        assert handset.self_test().state is DeviceState.OK

        handset_sim.lift()
        handset_sim.press("7")
        async with asyncio.timeout(WAIT):
            assert [await anext(stream), await anext(stream)] == [OffHook(), Key("7")]
        assert handset.off_hook is True

        handset_sim.unplug()
        async with asyncio.timeout(WAIT):
            assert await anext(stream) == Unplugged()
        assert handset.off_hook is False
        assert handset.self_test().state is DeviceState.MISSING

        handset_sim.replug()
        async with asyncio.timeout(WAIT):
            assert [await anext(stream), await anext(stream)] == [Replugged(), OffHook()]
        assert handset.off_hook is True
        assert handset.self_test().state is DeviceState.OK
    finally:
        await asyncio.to_thread(handset.close)

    async with asyncio.timeout(WAIT):
        assert [event async for event in stream] == []
    assert handset.self_test().state is DeviceState.MISSING


def test_after_close_the_self_test_says_missing(handset_driver: HandsetDriver) -> None:
    handset_driver.close()

    assert handset_driver.self_test().state is DeviceState.MISSING


def test_the_audio_device_comes_from_the_configuration(handset_sim: HandsetSimulator) -> None:
    config = HandsetConfig(port=str(handset_sim.path), audio_device="plughw:CARD=Handset,DEV=0")
    handset_driver = open_handset(config)
    try:
        assert handset_driver.audio_device == "plughw:CARD=Handset,DEV=0"
    finally:
        handset_driver.close()


def test_an_unknown_backend_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValidationError, match="serial, hid, simulator"):
        HandsetConfig(backend="bluetooth")

    sneaked_in = HandsetConfig.model_construct(backend="bluetooth")
    with pytest.raises(ConfigurationError, match="serial, hid, simulator, but got 'bluetooth'"):
        open_handset(sneaked_in)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"backend": "serial"}, "needs 'port'"),
        ({"backend": "hid", "vendor_id": 0x1234}, "needs 'hid_path', or 'vendor_id'"),
        ({"port": "/dev/ttyACM0", "debounce_ms": -5}, "greater than or equal to 0"),
        ({"port": "/dev/ttyACM0", "colour": "red"}, "Extra inputs are not permitted"),
        (
            {"port": "/dev/ttyACM0", "reconnect_min_ms": 500, "reconnect_max_ms": 100},
            "reconnect_max_ms of at least reconnect_min_ms",
        ),
    ],
)
def test_bad_options_are_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        HandsetConfig.model_validate(options)
