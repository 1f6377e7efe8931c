"""Opening the configured handset: the backend named in the configuration, or an error."""

from __future__ import annotations

import functools

from hardware.errors import ConfigurationError
from hardware.handset.base import Link
from hardware.handset.config import BACKENDS, HandsetConfig
from hardware.handset.control import ControlServer
from hardware.handset.driver import HandsetDriver, Timing
from hardware.handset.hid_handset import HidLink, hidapi, open_hid_device
from hardware.handset.serial_handset import SerialLink, pyserial
from hardware.handset.simulator import HandsetSimulator, start_background


class SimulatedHandset(HandsetDriver):
    """The serial backend reading a :class:`HandsetSimulator` it owns (backend ``simulator``)."""

    def __init__(self, cfg: HandsetConfig) -> None:
        self.simulator: HandsetSimulator = start_background(
            plugged=cfg.fault != "unplugged", silent=cfg.fault == "silent"
        )
        super().__init__(
            functools.partial(SerialLink, str(self.simulator.path), cfg.baudrate),
            backend="simulator",
            timing=timing_of(cfg),
            audio_device=cfg.audio_device,
        )
        self._control: ControlServer | None = None
        if cfg.control_socket is not None:
            try:
                self._control = ControlServer(self.simulator, cfg.control_socket)
            except OSError:
                self.simulator.close()
                raise

    def close(self) -> None:
        """Stop reading, then stop the control socket and the simulator."""
        super().close()
        if self._control is not None:
            self._control.close()
        self.simulator.close()


def timing_of(cfg: HandsetConfig) -> Timing:
    """The driver's timing, in seconds, from the configuration's milliseconds."""
    return Timing(
        debounce=cfg.debounce_ms / 1000,
        reconnect_min=cfg.reconnect_min_ms / 1000,
        reconnect_max=cfg.reconnect_max_ms / 1000,
        status_timeout=cfg.status_timeout_ms / 1000,
    )


def _hid_link(cfg: HandsetConfig) -> Link:
    device = open_hid_device(cfg.vendor_id, cfg.product_id, cfg.hid_path)
    name = cfg.hid_path or f"{cfg.vendor_id or 0:04x}:{cfg.product_id or 0:04x}"
    return HidLink(device, name=name)


def open_handset(cfg: HandsetConfig) -> HandsetDriver:
    """Open the handset ``cfg`` names and start reading it.

    A handset that is not plugged in is not an error: the driver reports ``Unplugged`` and
    keeps trying. A backend whose library is missing, or an unknown backend, is.
    """
    if cfg.backend not in BACKENDS:
        raise ConfigurationError(
            f"Expected a handset backend among {', '.join(BACKENDS)}, but got {cfg.backend!r}",
            device="handset",
        )
    driver: HandsetDriver
    if cfg.backend == "simulator":
        pyserial()
        driver = SimulatedHandset(cfg)
    elif cfg.backend == "serial":
        pyserial()
        opener = functools.partial(SerialLink, cfg.port or "", cfg.baudrate)
        driver = HandsetDriver(
            opener, backend="serial", timing=timing_of(cfg), audio_device=cfg.audio_device
        )
    else:
        hidapi()
        driver = HandsetDriver(
            functools.partial(_hid_link, cfg),
            backend="hid",
            timing=timing_of(cfg),
            audio_device=cfg.audio_device,
        )
    try:
        driver.start()
    except BaseException:
        driver.close()
        raise
    return driver
