"""Benchmark: a video call between the cabin (aiortc) and the agent's console (Chromium).

A real hub serves on a loopback port (``BackgroundHub``) and carries every call's signalling.
The agent is a small page (``bench/media_page/``) in Debian's Chromium, signed in with a
session cookie: it accepts each ring at once, answers with its fake camera, shows the cabin's
video and reads back the capture time the cabin's simulated camera writes into each frame.
The cabin runs in a process of its own (``media.py cabin …``), as the kiosk builds its side:
the shipped camera simulator through ``CameraTrack``, silence for audio, the agent's video
decoded to RGB, and the encoder of :mod:`kiosk.encoding` (``--encoder aiortc`` for aiortc's).

Per scenario (``480p``, ``720p``, and ``chromium_reference``, where the cabin is a second
Chromium page relayed through the same hub), after one warm-up call:

- setup: the agent accepts → the first frame shown at both ends, over ``--calls`` calls;
- on the last call, over ``--window`` seconds: decoded frames per second (``getStats``),
  glass-to-glass latency per frame (receiver's clock minus the stamped capture time), and the
  cabin process's CPU (``/proc/<pid>/stat``) as a percentage of one core.

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

# Run as a script, this folder comes first on sys.path, and its kiosk.py would hide the kiosk
# package: look for packages from the repository's root instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent), *(p for p in sys.path if Path(p or ".").resolve() != _HERE)]

import av  # noqa: E402
from aiortc import AudioStreamTrack, MediaStreamTrack, RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc.contrib.media import MediaBlackhole  # noqa: E402
from aiortc.mediastreams import MediaStreamError  # noqa: E402
from aiortc.sdp import candidate_from_sdp  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from hardware.camera import Camera, CameraConfig, open_camera  # noqa: E402
from hardware.camera.track import CameraTrack  # noqa: E402
from kiosk.encoding import (  # noqa: E402
    CabinH264Encoder,
    EncoderSettings,
    VideoCodec,
    install_encoder,
    prefer_codec,
)

logger = logging.getLogger("bench.media")

ROOT = Path(__file__).resolve().parents[1]
PAGE_DIR = Path(__file__).resolve().parent / "media_page"
CHROMIUM = "/usr/bin/chromium"
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


# --- the cabin's end ---------------------------------------------------------------------


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
        welcome = json.loads(await ws.recv())
        inbox: asyncio.Queue[Event] = asyncio.Queue()

        async def read() -> None:
            async for raw in ws:
                inbox.put_nowait(json.loads(raw))

        async def beat() -> None:
            while True:
                await asyncio.sleep(float(welcome["heartbeat_interval_s"]) * 0.8)
                await ws.send(json.dumps({"type": "ping"}))

        async def watch(peer: CabinPeer, call_id: str) -> None:
            report({"event": "first_frame", "call_id": call_id, "at_ms": await peer.first_frame()})

        background = [asyncio.create_task(read()), asyncio.create_task(beat())]
        try:
            for _ in range(calls):
                call_id = f"bench-{uuid.uuid4().hex[:12]}"
                request = {"call_id": call_id, "attention_id": str(uuid.uuid4())}
                await ws.send(
                    json.dumps({"type": "call.request", "service": SERVICE, "language": LANGUAGE}
                               | request)
                )  # fmt: skip
                while (await inbox.get())["type"] != "call.connected":
                    pass  # queue updates, pongs
                peer = new_peer()
                offer = {"type": "offer", "sdp": await peer.offer()}
                relay = {"type": "rtc.description", "call_id": call_id, "description": offer}
                await ws.send(json.dumps(relay))
                watcher = asyncio.create_task(watch(peer, call_id))
                while True:
                    message = await inbox.get()
                    if message.get("call_id") != call_id:
                        continue
                    if message["type"] == "call.ended":
                        break
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

    def __init__(self, camera: Camera, codec: VideoCodec, encoder: EncoderSettings | None) -> None:
        self.pc = RTCPeerConnection()
        self.settings = encoder
        self.encoder: CabinH264Encoder | None = None
        self.pc.addTrack(AudioStreamTrack())
        self.pc.addTrack(CameraTrack(camera))
        prefer_codec(self.pc, EncoderSettings(codec=codec))
        self.sink = MediaBlackhole()
        self.first: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.early: list[dict[str, Any]] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.received = 0
        self.size = ""
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
                self.size = f"{frame.width}x{frame.height}"
            self.received += 1

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
        video = next(t for t in self.pc.getTransceivers() if t.kind == "video")
        summary: Event = {
            "codec": video._codecs[0].mimeType if video._codecs else None,
            "encoder_opens": self.encoder.opens if self.encoder else None,
            "frames_from_agent": self.received,
            "agent_frame_size": self.size,
        }
        for task in self.tasks:
            task.cancel()
        await self.sink.stop()
        await self.pc.close()
        return summary


async def _cabin_worker(args: argparse.Namespace) -> None:
    width, height = _size(args.size)
    camera = open_camera(CameraConfig(backend="simulator", width=width, height=height, fps=30))
    settings = EncoderSettings(codec=args.codec) if args.encoder == "cabin" else None

    def report(event: Event) -> None:
        print(json.dumps(event), flush=True)

    try:
        await cabin_calls(
            args.ws, args.token, lambda: AiortcPeer(camera, args.codec, settings), args.calls,
            report,
        )  # fmt: skip
    finally:
        camera.close()


class PagePeer:
    """The reference cabin's end: the sender page in Chromium."""

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


# --- the hub, the page, and the measurements -----------------------------------------------


def _start_hub(data_dir: Path) -> tuple[Any, str, str]:
    """A hub on a loopback port with a site, a cabin and an agent: (hub, cabin, agent token)."""
    import httpx
    from argon2 import PasswordHasher

    from cabina.config import load_settings
    from hub.app import create_app
    from hub.models import Role
    from hub.routes.users import create_user
    from hub.server import BackgroundHub
    from hub.settings import HubSettings

    overrides = {"data_dir": data_dir, "secret_key": uuid.uuid4().hex * 2, "cookie_secure": False,
                 "host": "127.0.0.1", "port": 0, "wrapup_s": 60}  # fmt: skip
    settings = load_settings(HubSettings, None, overrides)
    hasher = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    app = create_app(settings, password_hasher=hasher)
    hub = BackgroundHub(settings, app).start()
    password = uuid.uuid4().hex
    create_user(
        app.state.attention_log, username="bench-admin", display_name="Bench",
        password_hash=app.state.passwords.hash(password), role=Role.ADMIN,
        now=app.state.clock(), actor="hub",
    )  # fmt: skip

    with httpx.Client(base_url=hub.url, timeout=30) as client:

        def call(path: str, body: dict[str, Any], token: str | None = None) -> Any:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            response = client.post(path, json=body, headers=headers)
            client.cookies.clear()
            if response.status_code not in (200, 201):
                raise RuntimeError(f"Expected {path} to succeed, but got {response.text}")
            return response.json()

        admin = call("/api/auth/login", {"username": "bench-admin", "password": password})["token"]
        site = call("/api/sites", {"name": "Bench", "address": "-", "timezone": "Europe/Madrid",
                                   "opening_hours": ALWAYS_OPEN}, admin)["id"]  # fmt: skip
        cabin = call("/api/cabins", {"name": "Cabina bench", "site_id": site}, admin)["token"]
        call("/api/users", {"username": "agent", "display_name": "Agent", "password": password,
                            "role": "agent", "languages": [LANGUAGE], "services": [SERVICE]},
             admin)  # fmt: skip
        agent = call("/api/auth/login", {"username": "agent", "password": password})["token"]
    return hub, str(cabin), str(agent)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def _serve_page() -> http.server.ThreadingHTTPServer:
    handler = functools.partial(_QuietHandler, directory=str(PAGE_DIR))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, name="media-page", daemon=True).start()
    return server


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
    total = args.warmup + args.calls
    for index in range(total):
        cabin_first = await _next(events, "first_frame")
        call_id = cabin_first["call_id"]
        seen = await asyncio.wait_for(
            agent.evaluate("id => agent.firstFrame(id)", call_id), STEP_TIMEOUT_S
        )
        if index >= args.warmup:
            setups.append(max(cabin_first["at_ms"], seen["firstFrameAt"]) - seen["acceptedAt"])
        if index == total - 1:
            await asyncio.sleep(args.settle)
            load = os.getloadavg()[0]
            started, cpu = time.monotonic(), _cpu_seconds(pid) if pid else 0.0
            await agent.evaluate("agent.startMeasure()")
            await asyncio.sleep(args.window)
            window = await agent.evaluate("agent.stopMeasure()")
            cpu_percent = (
                round(100 * (_cpu_seconds(pid) - cpu) / (time.monotonic() - started), 1)
                if pid
                else None
            )
        await agent.evaluate("id => agent.hangUp(id)", call_id)
        ended = await _next(events, "call_ended")
    latencies = window["latencies"]
    return {
        "setup_p50_ms": _percentile(setups, 0.5),
        "setup_p95_ms": _percentile(setups, 0.95),
        "fps": round(window["fps"], 1),
        "latency_p50_ms": _percentile(latencies, 0.5),
        "latency_p95_ms": _percentile(latencies, 0.95),
        "cabin_cpu_percent": cpu_percent,
        "signalling": "hub",
        "calls": len(setups),
        "codec": window["codec"],
        "received": f"{window['width']}x{window['height']}",
        "frames_decoded": window["framesDecoded"],
        "frames_dropped": window["framesDropped"],
        "stamps_read": len(latencies),
        "stamps_unreadable": window["unreadable"],
        "jitter_buffer_ms": _round(window["jitterBufferMs"]),
        "decode_ms": _round(window["decodeMs"]),
        "load_avg_1m": round(load, 2),
    } | {key: value for key, value in ended.items() if key not in ("event", "call_id")}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


async def _aiortc_scenario(
    name: str, agent: Any, hub: Any, token: str, args: argparse.Namespace
) -> Event:
    width, height = SIZES[name]
    command = [
        sys.executable, str(_HERE / "media.py"), "cabin", "--ws", hub.ws_url,
        "--token", token, "--size", f"{width}x{height}", "--calls",
        str(args.warmup + args.calls), "--encoder", args.encoder, "--codec", args.codec,
    ]  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        *command, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None and process.stderr is not None
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
        raise RuntimeError(f"{name}: {exc}\n{errors.decode(errors='replace')}") from exc
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        for task in tasks:
            task.cancel()
    return result | {"encoder": _encoder_name(args)}


def _encoder_name(args: argparse.Namespace) -> str:
    if args.encoder == "aiortc" or args.codec == "vp8":
        return f"aiortc's {args.codec}"
    settings = EncoderSettings(codec=args.codec)
    return f"cabin libx264 {settings.x264_preset}/{settings.x264_tune}"


async def _reference(
    context: Any, url: str, agent: Any, hub: Any, token: str, args: argparse.Namespace
) -> Event:
    page = await context.new_page()
    await page.goto(url)
    await page.evaluate("o => sender.init(o)", {"width": 640, "height": 480, "codec": args.codec})
    events: asyncio.Queue[Event] = asyncio.Queue()
    calling = asyncio.create_task(
        cabin_calls(
            hub.ws_url, token, lambda: PagePeer(page), args.warmup + args.calls, events.put_nowait
        )
    )
    try:
        result = await _measure(agent, events, args, None)
        await calling
    finally:
        calling.cancel()
        await page.close()
    return result | {"encoder": f"Chromium's {args.codec}"}


async def _bench(args: argparse.Namespace) -> dict[str, Event]:
    from playwright.async_api import async_playwright

    results: dict[str, Event] = {}
    with tempfile.TemporaryDirectory(prefix="cabina-media-") as data:
        hub, cabin_token, agent_token = _start_hub(Path(data))
        server = _serve_page()
        url = f"http://127.0.0.1:{server.server_port}/index.html"
        try:
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=CHROMIUM, args=CHROMIUM_ARGS
                )
                context = await browser.new_context()
                cookie: Any = {"name": "cabina_session", "value": agent_token, "url": hub.url}
                await context.add_cookies([cookie])
                agent = await context.new_page()
                await agent.goto(url)
                width, height = _size(args.agent_video)
                await agent.evaluate(
                    "o => agent.init(o)", {"wsUrl": hub.ws_url, "width": width, "height": height}
                )
                for name in args.scenarios:
                    logger.info("measuring %s", name)
                    if name == REFERENCE:
                        result = await _reference(context, url, agent, hub, cabin_token, args)
                    else:
                        result = await _aiortc_scenario(name, agent, hub, cabin_token, args)
                    results[name] = result | {"agent_video": args.agent_video}
                    logger.info("%s: %s", name, json.dumps(results[name]))
                await browser.close()
        finally:
            server.shutdown()
            hub.stop()
    return results


def _size(text: str) -> tuple[int, int]:
    width, _, height = text.partition("x")
    if not (width.isdigit() and height.isdigit()):
        raise argparse.ArgumentTypeError(f"Expected a size such as 640x480, but got {text!r}")
    return int(width), int(height)


def _scenarios(text: str) -> list[str]:
    names = [name for name in text.split(",") if name]
    known = [*SIZES, REFERENCE]
    for name in names:
        if name not in known:
            raise argparse.ArgumentTypeError(
                f"Expected scenarios among {', '.join(known)}, but got {name!r}"
            )
    return names


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark (or, with ``cabin``, the cabin's process of it)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    logger.setLevel(logging.INFO)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--encoder", choices=("cabin", "aiortc"), default="cabin")
    common.add_argument("--codec", choices=("h264", "vp8"), default="h264")
    if argv[:1] == ["cabin"]:
        worker = argparse.ArgumentParser(prog="media.py cabin", parents=[common])
        worker.add_argument("--ws", required=True)
        worker.add_argument("--token", required=True)
        worker.add_argument("--size", required=True)
        worker.add_argument("--calls", type=int, required=True)
        asyncio.run(_cabin_worker(worker.parse_args(argv[1:])))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], parents=[common])
    parser.add_argument("--quick", action="store_true", help="5 calls and 8 s of video each")
    parser.add_argument("--calls", type=int, help="calls timed per scenario (default 20)")
    parser.add_argument("--window", type=float, help="seconds of video measured (default 30)")
    parser.add_argument("--scenarios", type=_scenarios, default=[*SIZES, REFERENCE])
    parser.add_argument(
        "--agent-video",
        type=_size,
        default="1280x720",
        help="what the agent's camera sends (the console asks for 1280x720)",
    )
    args = parser.parse_args(argv)
    args.agent_video = "x".join(map(str, args.agent_video))
    args.calls = args.calls or (5 if args.quick else 20)
    args.window = args.window or (8.0 if args.quick else 30.0)
    args.warmup, args.settle = 1, 2.0
    print(json.dumps(asyncio.run(_bench(args))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
