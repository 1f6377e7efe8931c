"""Putting the kiosk together: settings → devices, hub link, outbox, steps, call, app.

:func:`run_kiosk` is what ``cabina kiosk`` runs once Kivy is prepared. Everything is built
here and passed in; the app, the flow and the runner know nothing of where their parts come
from, which is what lets tests and screenshots run the same app without a hub or devices.

An enrolled cabin starts from its data directory (:mod:`kiosk.enrolled`): the hub's
configuration over the local settings, and every connection to the hub (WebSocket, outbox,
documents, information, remote actions) through the TLS context of the pinned certificate.
Under systemd the kiosk says ``READY=1`` once its first screen is drawn, feeds the watchdog
while Kivy keeps ticking, and says ``STOPPING=1`` on its way out; a restart asked from the
fleet page ends it with :data:`kiosk.remote_actions.RESTART_EXIT_STATUS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
from kivy.clock import Clock

from cabina import __version__
from cabina.sdnotify import Notifier, feed_watchdog, watchdog_interval
from hardware.camera.base import Frame
from hardware.check import CheckResult
from hardware.config import Devices, HardwareConfig, open_devices
from hardware.errors import BackendUnavailable
from hardware.handset.events import Key, OffHook, OnHook, Replugged, Unplugged
from hardware.health import DeviceHealth
from kiosk.effects.presence import PRESENCE_INTERVAL_S, watch_presence
from kiosk.effects.runner import CallLike, CommandRunner, Parts
from kiosk.enrolled import prepare_start
from kiosk.flow import (
    DeviceFailed,
    DeviceRecovered,
    Event,
    Flow,
    HandsetHungUp,
    HandsetKey,
    HandsetLifted,
    State,
)
from kiosk.privacy import shred_tree
from kiosk.screens.app import KioskApp
from kiosk.screens.frames import next_frame
from kiosk.settings import KioskSettings

logger = logging.getLogger(__name__)

#: How often the citizen's own picture is refreshed on the call screen.
PREVIEW_FPS = 10.0


class PreviewCamera:
    """A camera that also hands a few frames a second to ``on_preview`` (the own picture)."""

    def __init__(self, camera: Any, on_preview: Callable[[Frame], None], fps: float = PREVIEW_FPS):
        self._camera = camera
        self._on_preview = on_preview
        self._every = 1.0 / fps
        self._last = 0.0
        self._lock = threading.Lock()

    @property
    def width(self) -> int:
        """Width of the frames."""
        return int(self._camera.width)

    @property
    def height(self) -> int:
        """Height of the frames."""
        return int(self._camera.height)

    @property
    def fps(self) -> float:
        """Frames per second."""
        return float(self._camera.fps)

    def read(self) -> Frame:
        """The camera's next frame; now and then a copy goes to the preview."""
        frame: Frame = self._camera.read()
        now = time.monotonic()
        with self._lock:
            due = now - self._last >= self._every
            if due:
                self._last = now
        if due:
            self._on_preview(frame.copy())
        return frame

    def self_test(self) -> DeviceHealth:
        """The wrapped camera's self-test."""
        health: DeviceHealth = self._camera.self_test()
        return health

    def close(self) -> None:
        """Nothing: the camera belongs to whoever opened it."""


def handset_event(event: object) -> Event | None:
    """The flow event for a handset event (None for those the flow does not take)."""
    if isinstance(event, OffHook):
        return HandsetLifted()
    if isinstance(event, OnHook):
        return HandsetHungUp()
    if isinstance(event, Key):
        return HandsetKey(event.digit)
    if isinstance(event, Unplugged):
        return DeviceFailed(device="handset", code="missing")
    if isinstance(event, Replugged):
        return DeviceRecovered(device="handset")
    return None


async def _forward_handset(handset: Any, deliver: Callable[[Event], None]) -> None:
    events: AsyncIterator[object] = handset.events()
    async for event in events:
        flow_event = handset_event(event)
        if flow_event is not None:
            deliver(flow_event)


class FrameProbe:
    """Healthy while Kivy keeps ticking: the touchscreen is alive, not only the event loop."""

    def __init__(self) -> None:
        self._last = -1

    def __call__(self) -> bool:
        frames = int(Clock.frames)
        alive = frames != self._last
        self._last = frames
        return alive


async def announce_ready(app: KioskApp, notifier: Notifier, started: asyncio.Event) -> None:
    """Tell systemd the kiosk is up once its first screen is drawn, then feed the watchdog."""
    await started.wait()
    await next_frame()
    notifier.ready(f"showing the {app.flow.state.value} screen")
    await feed_watchdog(notifier, watchdog_interval(pid=None), healthy=FrameProbe())


async def presence_watch(
    camera: Any,
    flow: Flow,
    deliver: Callable[[Event], None],
    *,
    detect: Callable[[Frame], bool] | None = None,
    interval_s: float = PRESENCE_INTERVAL_S,
) -> Coroutine[Any, Any, None] | None:
    """The watch that wakes the attract screen, or None when the detector cannot load."""
    from hardware.camera.presence import PresenceDetector

    try:
        detector = await asyncio.to_thread(PresenceDetector, detect)
    except BackendUnavailable as exc:
        logger.warning("the attract screen will not greet anyone: %s", exc)
        return None
    return watch_presence(
        camera.read,
        detector,
        watching=lambda: flow.state is State.ATTRACT,
        deliver=deliver,
        interval_s=interval_s,
    )


def qr_reader() -> Callable[[Frame], str | None] | None:
    """The reader of QR codes in camera frames, or None when OpenCV cannot do it here."""
    try:
        from hardware.camera.qr import QrReader
    except ImportError as exc:
        logger.warning("the check-in screen cannot read QR codes: %s", exc)
        return None
    return QrReader()


def initial_faults(devices: Devices, cfg: HardwareConfig) -> list[Event]:
    """A :class:`DeviceFailed` for each configured device that did not open."""
    return [
        DeviceFailed(device=name, code="missing")
        for name, _section in cfg.sections()
        if getattr(devices, name, None) is None
    ]


async def run_kiosk(
    settings: KioskSettings,
    hardware: HardwareConfig,
    *,
    cabin_name: str = "",
    notifier: Notifier | None = None,
) -> int:
    """Run the kiosk until its window closes; returns the exit status."""
    from contract import signalling as p
    from kiosk.effects.appointments_client import AppointmentsClient
    from kiosk.effects.call import Call, ReceivedFrame
    from kiosk.effects.health import HealthMonitor, device_checker, disk_of
    from kiosk.effects.hub_client import HubClient
    from kiosk.effects.office import OfficeInformation
    from kiosk.effects.outbox import Outbox, OutboxSender
    from kiosk.remote_actions import (
        RESTART_EXIT_STATUS,
        FleetActions,
        kiosk_screenshot,
        kiosk_selftest,
    )
    from kiosk.steps import DocumentClient, StepRunner
    from provisioning.cabin_config import report_status
    from provisioning.pinning import HubEndpoint

    started_at = datetime.now(UTC)
    notifier = notifier or Notifier.from_environ()
    start = await prepare_start(settings)
    settings, credential, tls = start.settings, start.credential, start.ssl
    endpoint = start.endpoint or HubEndpoint(settings.hub_url)
    cabin_name = cabin_name or start.cabin_name
    # A kiosk that was killed mid-visit may have left a citizen's files: erase them first.
    for folder in (settings.citizen_dir, settings.tmp_dir):
        erased = await asyncio.to_thread(shred_tree, folder)
        if erased:
            logger.warning("erased %d files left by an interrupted visit", erased)
    devices = await asyncio.to_thread(open_devices, hardware)
    outbox = Outbox(settings.outbox_path, actor=credential.actor)
    # The visit a killed kiosk was in is over: say so, or it stays open in the figures.
    interrupted = await asyncio.to_thread(outbox.end_interrupted, datetime.now(UTC))
    if interrupted is not None:
        logger.warning("ended attention %s, interrupted by a restart", interrupted)
    flow = Flow(settings.flow_config(), verify_pin=settings.verify_pin)

    # The technician's check borrows the devices the kiosk has open: a camera or a serial
    # handset cannot be opened a second time.
    selftest = kiosk_selftest(hardware, devices)

    async def hardware_check() -> Sequence[CheckResult]:
        return (await asyncio.to_thread(selftest)).results

    runner: CommandRunner | None = None
    health: HealthMonitor | None = None

    def on_link(online: bool) -> None:
        if health is not None:
            health.on_link(online)
        if runner is not None:
            runner.on_link(online)

    app = KioskApp(
        flow,
        execute=lambda command: runner(command) if runner is not None else None,
        cabin_name=cabin_name,
        hardware_check=hardware_check,
    )
    hub = HubClient(
        ws_url=settings.ws_url,
        token=credential.token,
        on_message=lambda message: runner.on_hub_message(message) if runner else None,
        on_link=on_link,
        hub_timeout_s=settings.hub_timeout_s,
        ssl=tls,
    )
    camera = devices.camera
    preview = (
        PreviewCamera(camera, lambda frame: app.show_own_frame_threadsafe(frame))
        if camera is not None
        else None
    )

    def new_call(call_id: str) -> CallLike:
        from hardware.camera.track import CameraTrack

        def video_source() -> Any:
            if preview is None:
                raise RuntimeError("Expected a camera for the call, but the cabin has none")
            return CameraTrack(preview)

        def on_frame(frame: ReceivedFrame) -> None:
            app.show_agent_frame(frame.rgb, "rgb")

        welcome = hub.welcome
        ice: list[p.IceServer] = list(welcome.ice_servers) if welcome is not None else []
        audio = getattr(devices.handset, "audio_device", None)
        return Call(
            call_id=call_id,
            send=hub.send,
            ice_servers=ice,
            video_source=video_source,
            on_frame=on_frame,
            audio_device=audio,
        )

    async with contextlib.AsyncExitStack() as stack:
        stack.callback(devices.close)
        stack.callback(outbox.close)
        http = await stack.enter_async_context(
            httpx.AsyncClient(timeout=30.0, verify=tls if tls is not None else True)
        )
        sender = OutboxSender(
            outbox,
            hub_url=settings.hub_url,
            token=credential.token,
            http=http,
            telemetry=hub.send_telemetry,
        )
        steps = StepRunner(
            devices=devices,
            documents=DocumentClient(http, hub_url=settings.hub_url, token=credential.token),
            send=hub.send,
            work_dir=settings.citizen_dir,
        )
        loop = asyncio.get_running_loop()

        def idle() -> bool:
            return flow.session.attention_id is None

        fleet = FleetActions(
            endpoint,
            credential.token,
            selftest=selftest,
            screenshot=kiosk_screenshot(loop, idle=idle, work_dir=settings.tmp_dir),
            idle=idle,
            stop=app.stop,
        )
        # The devices' health: checked now and then and after any device error, it keeps the
        # flow's faults true and reaches the hub's fleet page as telemetry.
        monitor = health = HealthMonitor(
            check=device_checker(hardware, devices),
            disk=lambda: disk_of(settings.data_dir),
            store=outbox.put_telemetry,
            wake=sender.wake,
            deliver=app.send,
            faults=lambda: flow.device_faults,
            busy=lambda: not idle(),
            interval_s=settings.health_interval_s,
            keepalive_s=settings.health_keepalive_s,
        )

        def deliver(event: Event) -> None:
            monitor.on_event(event)
            app.send(event)

        runner = CommandRunner(
            Parts(
                outbox=outbox,
                wake_sender=sender.wake,
                hub=hub,
                steps=steps,
                receipt_printer=devices.receipt_printer,
                new_call=new_call,
                information=OfficeInformation(
                    http, hub_url=settings.hub_url, token=credential.token, known=start.site
                ),
                fleet=fleet,
                citizen_dirs=(settings.citizen_dir, settings.tmp_dir),
                appointments=AppointmentsClient(
                    http, hub_url=settings.hub_url, token=credential.token
                ),
                camera=preview,
                read_qr=qr_reader(),
                qr_watching=lambda: flow.state is State.APPOINTMENT_CHECK_IN,
            ),
            deliver=deliver,
            view=app,
        )
        for event in initial_faults(devices, hardware):
            flow.dispatch(event)
        started = asyncio.Event()
        app.bind(on_start=lambda *_args: started.set())
        background: list[asyncio.Future[Any]] = [
            asyncio.ensure_future(hub.run()),
            asyncio.ensure_future(sender.run()),
            asyncio.ensure_future(monitor.run()),
            asyncio.ensure_future(announce_ready(app, notifier, started)),
        ]
        if start.endpoint is not None:
            status = asyncio.to_thread(
                report_status,
                start.endpoint,
                credential.token,
                version=__version__,
                started_at=started_at,
            )
            background.append(asyncio.ensure_future(status))
        if devices.handset is not None:
            background.append(asyncio.ensure_future(_forward_handset(devices.handset, app.send)))
        if camera is not None:
            watch = await presence_watch(camera, flow, app.send)
            if watch is not None:
                background.append(asyncio.ensure_future(watch))
        # systemd stops the kiosk with SIGTERM: close the window so that the visit is ended.
        loop.add_signal_handler(signal.SIGTERM, app.stop)
        stack.callback(loop.remove_signal_handler, signal.SIGTERM)
        try:
            await app.async_run(async_lib="asyncio")
        finally:
            notifier.stopping()
            await runner.close()
            await fleet.close()
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
    return RESTART_EXIT_STATUS if fleet.restart_requested else 0
