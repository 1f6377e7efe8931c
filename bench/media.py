"""Benchmark: a video call between the cabin (aiortc) and the agent's console (Chromium).

A real hub serves on a loopback port (``BackgroundHub``) and carries every call's signalling.
The agent is a small page (``bench/media_page/``) in Debian's Chromium, signed in with a
session cookie: it accepts each ring at once, answers with its fake camera, shows the cabin's
video and reads back the capture time the cabin's simulated camera writes into each frame.
The cabin runs in a process of its own (``media.py cabin …``), built as the kiosk builds its
side: the shipped camera simulator through ``CameraTrack``, silence for audio, the agent's
video decoded to RGB, and the encoder of :mod:`kiosk.effects.encoding` (``--encoder aiortc``:
aiortc's).

Per scenario (``480p``, ``720p``, and ``chromium_reference``, where the cabin is a 480p test
picture in a second Chromium, signalled through the same hub), after one warm-up call:

- setup: the agent accepts → the first frame shown at both ends, over ``--calls`` calls;
- on the last call, over ``--window`` seconds: decoded frames per second (``getStats``),
  glass-to-glass latency per frame (the receiver's clock minus the stamped capture time), and
  the cabin process's CPU (``/proc/<pid>/stat``) as a percentage of one core.

The last line printed is one JSON object keyed by scenario.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import http.server
import json
import logging
import math
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import av
from aiortc import AudioStreamTrack, MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaBlackhole
from aiortc.mediastreams import MediaStreamError
from aiortc.sdp import candidate_from_sdp
from websockets.asyncio.client import connect

from hardware.camera import Camera, CameraConfig, open_camera
from hardware.camera.track import CameraTrack
from kiosk.effects.encoding import (
    X264_PRESETS,
    CabinH264Encoder,
    EncoderSettings,
    install_encoder,
    prefer_codec,
)

HERE = Path(__file__).resolve().parent
logger = logging.getLogger("bench.media")

CHROMIUM_ARGS = [
    "--use-fake-device-for-media-stream=fps=30", "--use-fake-ui-for-media-stream",
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]  # fmt: skip
SIZES = {"480p": (640, 480), "720p": (1280, 720)}
REFERENCE = "chromium_reference"
SERVICE, LANGUAGE = "padron", "ca"
ALWAYS_OPEN = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
STEP_TIMEOUT_S = 60.0  # no single step of a call may take longer
Event = dict[str, Any]


class CabinPeer(Protocol):
    """One call's media at the cabin's end."""

    async def offer(self) -> str: ...
    async def accept_answer(self, sdp: str) -> None: ...
    async def add_candidate(self, candidate: dict[str, Any]) -> None: ...
    async def first_frame(self) -> float: ...
    async def close(self) -> Event: ...


async def cabin_calls(
    ws_url: str, token: str, new_peer: Callable[[], CabinPeer], calls: int,
    report: Callable[[Event], None],
) -> None:  # fmt: skip
    """Sign in as a cabin and make ``calls`` calls in turn, each until the agent ends it."""
    headers = {"Authorization": f"Bearer {token}"}
    async with connect(f"{ws_url}/ws/cabin", additional_headers=headers) as ws:
        heartbeat_s = float(json.loads(await ws.recv())["heartbeat_interval_s"])
        inbox: asyncio.Queue[Event] = asyncio.Queue()

        async def read() -> None:
            async for raw in ws:
                inbox.put_nowait(json.loads(raw))
            inbox.put_nowait({"type": "closed"})

        async def receive() -> Event:
            message = await inbox.get()
            if message["type"] in ("closed", "error"):
                raise RuntimeError(f"Expected the hub to carry the call, but got {message}")
            return message

        async def beat() -> None:
            while True:
                await asyncio.sleep(heartbeat_s * 0.8)
                await ws.send(json.dumps({"type": "ping"}))

        async def watch(peer: CabinPeer, call_id: str) -> None:
            report({"event": "first_frame", "call_id": call_id, "at_ms": await peer.first_frame()})

        async def send(**message: Any) -> None:
            await ws.send(json.dumps(message))

        background = [asyncio.create_task(read()), asyncio.create_task(beat())]
        try:
            for _ in range(calls):
                call_id = f"bench-{uuid.uuid4().hex[:12]}"
                await send(type="call.request", call_id=call_id, attention_id=str(uuid.uuid4()),
                           service=SERVICE, language=LANGUAGE)  # fmt: skip
                while (await receive())["type"] != "call.connected":
                    pass  # queue updates and pongs
                peer = new_peer()
                offer = {"type": "offer", "sdp": await peer.offer()}
                await send(type="rtc.description", call_id=call_id, description=offer)
                watcher = asyncio.create_task(watch(peer, call_id))
                while (message := await receive())["type"] != "call.ended":
                    if message["type"] == "rtc.description":
                        await peer.accept_answer(message["description"]["sdp"])
                    elif message["type"] == "rtc.candidate":
                        await peer.add_candidate(message["candidate"])
                watcher.cancel()
                report({"event": "call_ended", "call_id": call_id} | await peer.close())
        finally:
            for task in background:
                task.cancel()


class AiortcPeer:
    """The cabin's end as the kiosk builds it: camera, silence, the agent's video to RGB."""

    def __init__(self, camera: Camera, codec: str, encoder: EncoderSettings | None) -> None:
        self.pc = RTCPeerConnection()
        self.settings = encoder
        self.encoder: CabinH264Encoder | None = None
        self.pc.addTrack(AudioStreamTrack())
        self.pc.addTrack(CameraTrack(camera))
        prefer_codec(self.pc, EncoderSettings(codec="vp8" if codec == "vp8" else "h264"))
        self.sink = MediaBlackhole()
        self.first: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.early: list[dict[str, Any]] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.received, self.size = 0, ""
        self.pc.on("track", self._on_track)

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "video":
            self.tasks.append(asyncio.create_task(self._receive(track)))
        else:
            self.sink.addTrack(track)
            self.tasks.append(asyncio.create_task(self.sink.start()))

    async def _receive(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if not self.first.done():
                self.first.set_result(time.time() * 1000)
            if isinstance(frame, av.VideoFrame):
                frame.to_ndarray(format="rgb24")  # as the kiosk turns each frame into a texture
                self.received, self.size = self.received + 1, f"{frame.width}x{frame.height}"

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp)

    async def accept_answer(self, sdp: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp, "answer"))
        if self.settings is not None:
            self.encoder = install_encoder(self.pc, self.settings)
        for candidate in self.early:
            await self.add_candidate(candidate)
        self.early.clear()

    async def add_candidate(self, candidate: dict[str, Any]) -> None:
        if self.pc.remoteDescription is None:
            self.early.append(candidate)
            return
        text = str(candidate["candidate"]).removeprefix("candidate:")
        if text:  # empty: the end of candidates, which aiortc needs no word of
            parsed = candidate_from_sdp(text)
            parsed.sdpMid, parsed.sdpMLineIndex = candidate["sdpMid"], candidate["sdpMLineIndex"]
            await self.pc.addIceCandidate(parsed)

    async def first_frame(self) -> float:
        return await self.first

    async def close(self) -> Event:
        summary: Event = {
            "encoder_opens": self.encoder.opens if self.encoder else None,
            "agent_frames_at_cabin": self.received,
            "agent_frame_size": self.size,
        }
        for task in self.tasks:
            task.cancel()
        await self.sink.stop()
        await self.pc.close()
        return summary


async def _cabin_process(job: Event) -> None:
    """The cabin's side of one scenario, in a process of its own; events go to stdout."""
    width, height = job["size"]
    camera = open_camera(CameraConfig(backend="simulator", width=width, height=height, fps=30))
    settings = EncoderSettings(**job["settings"]) if job["settings"] is not None else None
    try:
        await cabin_calls(
            job["ws"], job["token"], lambda: AiortcPeer(camera, job["codec"], settings),
            job["calls"], lambda event: print(json.dumps(event), flush=True),
        )  # fmt: skip
    finally:
        camera.close()


class PagePeer:
    """The reference cabin's end: the sender page in a Chromium of its own."""

    def __init__(self, page: Any) -> None:
        self.page = page

    async def offer(self) -> str:
        return str(await self.page.evaluate("sender.offer()"))

    async def accept_answer(self, sdp: str) -> None:
        await self.page.evaluate("sdp => sender.acceptAnswer(sdp)", sdp)

    async def add_candidate(self, candidate: dict[str, Any]) -> None:
        await self.page.evaluate("c => sender.addCandidate(c)", candidate)

    async def first_frame(self) -> float:
        return float(await self.page.evaluate("sender.firstFrame()"))

    async def close(self) -> Event:
        await self.page.evaluate("sender.close()")
        return {}


def _start_hub(data_dir: Path) -> tuple[Any, str, str]:
    """A hub on a loopback port with a site, a cabin and an agent: (hub, cabin, agent token)."""
    import httpx
    from argon2 import PasswordHasher

    from cabina.config import load_settings
    from hub.app import create_app
    from hub.models import Role
    from hub.routes.users import create_user
    from hub.server import BackgroundHub
    from hub.services import services_of
    from hub.settings import HubSettings

    overrides = {"data_dir": data_dir, "secret_key": uuid.uuid4().hex * 2, "cookie_secure": False,
                 "host": "127.0.0.1", "port": 0, "wrapup_s": 60}  # fmt: skip
    settings = load_settings(HubSettings, None, overrides)
    app = create_app(settings, password_hasher=PasswordHasher(time_cost=1, memory_cost=8192))
    hub = BackgroundHub(settings, app).start()
    password = uuid.uuid4().hex
    services = services_of(app)
    create_user(
        services.attention_log, username="bench-admin", display_name="Bench",
        password_hash=services.passwords.hash(password), role=Role.ADMIN,
        now=services.clock(), actor="hub",
    )  # fmt: skip
    with httpx.Client(base_url=hub.url, timeout=30) as client:

        def post(path: str, body: dict[str, Any], token: str | None = None) -> Any:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            response = client.post(path, json=body, headers=headers)
            client.cookies.clear()
            if response.status_code not in (200, 201):
                raise RuntimeError(f"Expected {path} to succeed, but got {response.text}")
            return response.json()

        admin = post("/api/auth/login", {"username": "bench-admin", "password": password})["token"]
        site = post("/api/sites", {"name": "Bench", "address": "-", "timezone": "Europe/Madrid",
                                   "opening_hours": ALWAYS_OPEN}, admin)["id"]  # fmt: skip
        cabin = post("/api/cabins", {"name": "Cabina bench", "site_id": site}, admin)["token"]
        post("/api/users", {"username": "agent", "display_name": "Agent", "password": password,
                            "role": "agent", "languages": [LANGUAGE], "services": [SERVICE]},
             admin)  # fmt: skip
        agent = post("/api/auth/login", {"username": "agent", "password": password})["token"]
    return hub, str(cabin), str(agent)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process ``pid`` (every thread), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(fraction * len(ordered)) - 1)], 1)


async def _next(events: asyncio.Queue[Event], kind: str) -> Event:
    event = await asyncio.wait_for(events.get(), STEP_TIMEOUT_S)
    if event["event"] != kind:
        raise RuntimeError(f"Expected the cabin's {kind}, but got {event}")
    return event


async def _measure(
    agent: Any, events: asyncio.Queue[Event], args: argparse.Namespace, pid: int | None
) -> Event:
    """Time each call's setup; measure the last call for ``args.window`` seconds."""
    setups: list[float] = []
    total = 1 + args.calls  # the first call warms up and is not counted
    for index in range(total):
        cabin_first = await _next(events, "first_frame")
        call_id = cabin_first["call_id"]
        seen = await asyncio.wait_for(
            agent.evaluate("id => agent.firstFrame(id)", call_id), STEP_TIMEOUT_S
        )
        if index > 0:
            setups.append(max(cabin_first["at_ms"], seen["firstFrameAt"]) - seen["acceptedAt"])
        if index == total - 1:
            await asyncio.sleep(2.0)  # past the first key frames and the bitrate's first moves
            load, started = os.getloadavg()[0], time.monotonic()
            cpu = _cpu_seconds(pid) if pid else 0.0
            await agent.evaluate("agent.startMeasure()")
            await asyncio.sleep(args.window)
            window = await agent.evaluate("agent.stopMeasure()")
            elapsed = time.monotonic() - started
            cpu_percent = round(100 * (_cpu_seconds(pid) - cpu) / elapsed, 1) if pid else None
        await agent.evaluate("id => agent.hangUp(id)", call_id)
        ended = await _next(events, "call_ended")
    latencies = window.pop("latencies")
    figures: Event = {
        "setup_p50_ms": _percentile(setups, 0.5),
        "setup_p95_ms": _percentile(setups, 0.95),
        "fps": window.pop("fps"),
        "latency_p50_ms": _percentile(latencies, 0.5),
        "latency_p95_ms": _percentile(latencies, 0.95),
        "cabin_cpu_percent": cpu_percent,
        "signalling": "hub",
        "calls": len(setups),
        "stamps_read": len(latencies),
        "load_avg_1m": round(load, 2),
    }
    figures.update(window)
    figures.update((k, v) for k, v in ended.items() if k not in ("event", "call_id"))
    return figures


async def _aiortc_scenario(
    name: str, agent: Any, hub: Any, token: str, args: argparse.Namespace
) -> Event:
    settings = None
    if args.encoder == "cabin":
        settings = {"codec": args.codec, "x264_preset": args.x264_preset,
                    "x264_threads": args.x264_threads}  # fmt: skip
    job = {"ws": hub.ws_url, "token": token, "size": SIZES[name], "calls": 1 + args.calls,
           "codec": args.codec, "settings": settings}  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(HERE / "media.py"), "cabin", json.dumps(job), cwd=HERE.parent,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    events: asyncio.Queue[Event] = asyncio.Queue()
    errors = bytearray()

    async def pump() -> None:
        assert process.stdout is not None
        async for line in process.stdout:
            events.put_nowait(json.loads(line))
        events.put_nowait({"event": "exit", "code": await process.wait()})

    async def drain() -> None:
        assert process.stderr is not None
        async for line in process.stderr:
            errors.extend(line)
            del errors[:-4000]

    tasks = [asyncio.create_task(pump()), asyncio.create_task(drain())]
    try:
        result = await _measure(agent, events, args, process.pid)
        await asyncio.wait_for(process.wait(), STEP_TIMEOUT_S)
    except (RuntimeError, TimeoutError) as exc:
        raise RuntimeError(f"{name}: {exc!r}\n{errors.decode(errors='replace')}") from exc
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        for task in tasks:
            task.cancel()
    if settings is None or args.codec == "vp8":
        return result | {"encoder": f"aiortc's {args.codec}"}
    return result | {"encoder": f"cabin: libx264 {args.x264_preset}/zerolatency, "
                                f"{args.x264_threads} thread(s)"}  # fmt: skip


async def _reference(
    playwright: Any, url: str, agent: Any, hub: Any, token: str, args: argparse.Namespace
) -> Event:
    # A browser of its own: a second page in the agent's would be a background tab, which
    # Chromium stops painting.
    browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                               args=CHROMIUM_ARGS)  # fmt: skip
    page = await browser.new_page()
    await page.goto(url)
    await page.evaluate("o => sender.init(o)", {"width": 640, "height": 480, "codec": args.codec})
    events: asyncio.Queue[Event] = asyncio.Queue()
    calling = asyncio.create_task(
        cabin_calls(hub.ws_url, token, lambda: PagePeer(page), 1 + args.calls, events.put_nowait)
    )
    try:
        result = await _measure(agent, events, args, None)
        await calling
    finally:
        calling.cancel()
        await browser.close()
    return result | {"encoder": f"Chromium's {args.codec}"}


async def _bench(args: argparse.Namespace) -> dict[str, Event]:
    from playwright.async_api import async_playwright

    results: dict[str, Event] = {}
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(HERE / "media_page"))
    )
    threading.Thread(target=server.serve_forever, name="media-page", daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/index.html"
    with tempfile.TemporaryDirectory(prefix="cabina-media-") as data:
        hub, cabin_token, agent_token = _start_hub(Path(data))
        try:
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
                )
                context = await browser.new_context()
                cookie: Any = {"name": "cabina_session", "value": agent_token, "url": hub.url}
                await context.add_cookies([cookie])
                agent = await context.new_page()
                await agent.goto(url)
                width, _, height = args.agent_video.partition("x")
                options = {"wsUrl": hub.ws_url, "width": int(width), "height": int(height)}
                await agent.evaluate("o => agent.init(o)", options)
                for name in args.scenarios:
                    logger.info("measuring %s", name)
                    if name == REFERENCE:
                        result = await _reference(playwright, url, agent, hub, cabin_token, args)
                    else:
                        result = await _aiortc_scenario(name, agent, hub, cabin_token, args)
                    results[name] = result | {"agent_video": args.agent_video}
                    logger.info("%s: %s", name, json.dumps(results[name]))
                await browser.close()
        finally:
            server.shutdown()
            hub.stop()
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark (or, given ``cabin JOB``, the cabin's process of it)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    logger.setLevel(logging.INFO)
    if argv[:1] == ["cabin"]:
        asyncio.run(_cabin_process(json.loads(argv[1])))
        return 0
    defaults = EncoderSettings()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 calls and 8 s of video each")
    parser.add_argument("--calls", type=int, help="calls timed per scenario (default 20)")
    parser.add_argument("--window", type=float, help="seconds of video measured (default 30)")
    parser.add_argument("--scenarios", nargs="+", choices=[*SIZES, REFERENCE],
                        default=[*SIZES, REFERENCE])  # fmt: skip
    parser.add_argument("--encoder", choices=("cabin", "aiortc"), default="cabin")
    parser.add_argument("--codec", choices=("h264", "vp8"), default=defaults.codec)
    parser.add_argument("--x264-preset", choices=X264_PRESETS, default=defaults.x264_preset)
    parser.add_argument("--x264-threads", type=int, default=defaults.x264_threads)
    parser.add_argument("--agent-video", default="1280x720", help="what the console's camera sends")
    args = parser.parse_args(argv)
    args.calls = args.calls or (5 if args.quick else 20)
    args.window = args.window or (8.0 if args.quick else 30.0)
    print(json.dumps(asyncio.run(_bench(args))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
