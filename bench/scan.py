"""Benchmark: A4 scans at 300 dpi from the SANE test device to the agent's browser.

Three parts, one JSON line:

- post-processing: the scanner's own time (``scan_seconds``: options, start, reading every
  line; SANE's ``test`` backend on this machine) and ``ready_seconds``, from the last line
  read to the PDF and its preview in memory, for the test device's colour chart and for a
  generated A4 text page laid 3° askew (which the deskew step has to level);
- ``pdf_bytes``: the size of the PDF each kind of page makes, and of a feeder batch;
- ``to_browser``: end to end, from the scanner's last line to the page shown in the agent's
  console. A real hub serves on a loopback port; the agent signs in to the real console in
  Debian's Chromium, answers the cabin's call and clicks "Ask to scan"; the cabin side is the
  kiosk's own :class:`~kiosk.steps.runner.StepRunner` with the SANE test device, connected
  to the hub's signalling (no video: the call's media plays no part in a scan). Measured per
  scan: ``preview`` (the preview image loaded in the console) and ``pdf`` (the PDF fetched
  and its viewer shown), for a text page (the test device's grid), the colour chart, and a
  batch of every sheet in the feeder (the test device's holds ten, less one for each scan
  from its glass since it last ran empty: ``pages`` says how many there were).

The target is 2 s from the scanner finishing to a page in front of the agent; a feeder batch
is reported beside it (its time grows with the sheets: each is processed before the PDF goes).
``load_average_1min`` (before and after) says how busy the machine was with other work.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from contract import signalling as p  # noqa: E402
from hardware.scanner import SaneSimulator, ScanMode, ScanOptions, ScanSource, postprocess  # noqa: E402
from hardware.scanner.base import ScanResult  # noqa: E402
from hardware.scanner.sane_backend import SaneScanner  # noqa: E402

DPI = 300
TARGET_SECONDS = 2.0
TEXT_PICTURE, COLOUR_PICTURE = "Grid", "Color pattern"
CHROMIUM_ARGS = [
    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", "--no-sandbox",
    "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]  # fmt: skip
ALWAYS_OPEN = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
STEP_TIMEOUT_S = 60.0

# Records, in the console, when each new preview and each scan's PDF viewer appear (epoch ms).
WATCH_JS = """() => {
  window.scanSeen = { preview: [], pdf: [] };
  const counted = new WeakSet();
  const now = () => performance.timeOrigin + performance.now();
  const painted = (list) => requestAnimationFrame(() => list.push(now()));
  new MutationObserver(() => {
    const viewer = document.querySelector('cab-documents .viewer');
    if (!viewer) return;
    for (const img of viewer.querySelectorAll('img.doc-preview')) {
      if (counted.has(img)) continue;
      counted.add(img);
      if (viewer.querySelector('.doc-scan')) continue;  // the PDF's view, not the first look
      if (img.complete && img.naturalWidth) painted(window.scanSeen.preview);
      else img.addEventListener('load', () => painted(window.scanSeen.preview), { once: true });
    }
    const scan = viewer.querySelector('.doc-scan');
    if (scan && !counted.has(scan)) {
      counted.add(scan);
      painted(window.scanSeen.pdf);
    }
  }).observe(document, { subtree: true, childList: true, attributes: true });
}"""


def _text_page() -> np.ndarray:
    """An A4 page at 300 dpi covered in lines of text, turned 3 degrees."""
    width, height = round(210 / 25.4 * DPI), round(297 / 25.4 * DPI)
    page = np.full((height, width, 3), 245, np.uint8)
    for i, y in enumerate(range(300, height - 300, 70)):
        text = f"{i:02d} Certificado de empadronamiento - Ajuntament - Udala - Concello"
        cv2.putText(page, text, (250, y), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (30, 30, 30), 3)
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), 3.0, 1.0)
    return np.asarray(
        cv2.warpAffine(page, matrix, (width, height), borderValue=(245, 245, 245)), np.uint8
    )


def _photo_page(*, colour: bool) -> np.ndarray:
    """An A4 page at 300 dpi that is one photograph: soft shapes and a scanner's noise."""
    width, height = round(210 / 25.4 * DPI), round(297 / 25.4 * DPI)
    rng = np.random.default_rng(7)
    coarse = rng.uniform(0, 255, (12, 9, 3)).astype(np.float32)
    page = np.asarray(cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC))
    page += rng.normal(0, 3, page.shape).astype(np.float32)
    picture = np.asarray(np.clip(page, 0, 255), np.uint8)
    return picture if colour else np.asarray(cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY), np.uint8)


def _post_processing(runs: int) -> dict[str, Any]:
    options = ScanOptions(mode=ScanMode.COLOR, resolution=DPI)
    scans, ready = [], []
    with SaneSimulator() as device:
        scanner = SaneScanner(device.device_name)
        try:
            for _ in range(runs):
                started = time.perf_counter()
                result = scanner.scan(options)
                total = time.perf_counter() - started
                scans.append(total - result.process_seconds)
                ready.append(result.process_seconds)
                height, width = result.image.shape[:2]
                result.wipe()
        finally:
            scanner.close()
    documents = []
    page = _text_page()
    for _ in range(runs):
        processed = postprocess.process(page, mode=ScanMode.COLOR, dpi=DPI, find_edges=False)
        documents.append(processed.process_seconds)
        skew = processed.skew_degrees
        processed.wipe()
    return {
        "pixels": f"{width}x{height}",
        "scan_seconds_median": round(statistics.median(scans), 3),
        "ready_seconds_median": round(statistics.median(ready), 3),
        "ready_seconds_max": round(max(ready), 3),
        "text_page_ready_seconds_median": round(statistics.median(documents), 3),
        "text_page_ready_seconds_max": round(max(documents), 3),
        "text_page_skew_corrected_degrees": skew,
    }


def _sizes() -> dict[str, Any]:
    """PDF bytes (and how each page was stored) per kind of page, all asked for in colour."""
    sizes: dict[str, Any] = {}

    def measure(name: str, results: list[ScanResult]) -> None:
        pdf = postprocess.document_pdf(results)
        stored = sorted({result.encoding.value for result in results})
        sizes[name] = {"pages": len(results), "bytes": len(pdf), "stored_as": "+".join(stored)}
        if len(results) == 1:
            sizes[name]["preview_bytes"] = len(results[0].jpeg)
        for result in results:
            result.wipe()

    for name, page in (
        ("text_page", _text_page()),
        ("grey_photo", _photo_page(colour=False)),
        ("colour_photo", _photo_page(colour=True)),
    ):
        measure(name, [postprocess.process(page, mode=ScanMode.COLOR, dpi=DPI, find_edges=False)])
    with SaneSimulator() as device:
        scanner = SaneScanner(device.device_name)
        try:
            scanner.set_option("test_picture", TEXT_PICTURE)
            # The feeder first: the test device counts scans from its glass against its sheets.
            feeder = ScanOptions(resolution=DPI, source=ScanSource.ADF)
            measure("test_device_grid_feeder", scanner.scan_batch(feeder))
            measure("test_device_grid", [scanner.scan(ScanOptions(resolution=DPI))])
            scanner.set_option("test_picture", COLOUR_PICTURE)
            measure("test_device_colour_chart", [scanner.scan(ScanOptions(resolution=DPI))])
        finally:
            scanner.close()
    return sizes


class _TimedScanner:
    """The scanner, noting when it finished reading: its return less the post-processing."""

    def __init__(self, scanner: SaneScanner) -> None:
        self.scanner = scanner
        self.finished: list[float] = []
        self.pages: list[int] = []

    def scan_batch(self, options: ScanOptions) -> list[ScanResult]:
        pages = self.scanner.scan_batch(options)
        self.finished.append(time.time() - sum(page.process_seconds for page in pages))
        self.pages.append(len(pages))
        return pages


def _start_hub(data_dir: Path) -> tuple[Any, str, str, str]:
    """A hub on a loopback port with a site, a cabin and an agent: (hub, cabin token, agent
    name, password)."""
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
                 "host": "127.0.0.1", "port": 0}  # fmt: skip
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
                            "role": "agent", "languages": ["en"], "services": ["padron"]},
             admin)  # fmt: skip
    return hub, str(cabin), "agent", password


class _Cabin:
    """The cabin's side of a call: signalling, and the kiosk's step runner with the scanner."""

    def __init__(self, hub: Any, token: str, scanner: _TimedScanner, work_dir: Path) -> None:
        self.hub, self.token, self.scanner, self.work_dir = hub, token, scanner, work_dir
        self.outbox: asyncio.Queue[p.Message] = asyncio.Queue()
        self.connected = asyncio.Event()
        self.failures: list[str] = []

    async def run(self) -> None:
        import httpx
        from websockets.asyncio.client import connect

        from kiosk.steps import DocumentClient, StepRunner

        class Devices:
            scanner = self.scanner

        headers = {"Authorization": f"Bearer {self.token}"}
        async with (
            connect(f"{self.hub.ws_url}/ws/cabin", additional_headers=headers) as ws,
            httpx.AsyncClient(timeout=30) as http,
        ):
            runner = StepRunner(
                devices=Devices(),
                documents=DocumentClient(http, hub_url=self.hub.url, token=self.token),
                send=self.outbox.put_nowait,
                work_dir=self.work_dir,
            )
            welcome = json.loads(await ws.recv())
            writer = asyncio.create_task(self._write(ws, welcome["heartbeat_interval_s"]))
            self.outbox.put_nowait(
                p.CallRequest(call_id=f"call-{uuid.uuid4().hex[:12]}",
                              attention_id=str(uuid.uuid4()), service="padron", language="en")
            )  # fmt: skip
            steps: set[asyncio.Task[Any]] = set()
            try:
                async for raw in ws:
                    message = json.loads(raw)
                    if message["type"] == "call.connected":
                        self.connected.set()
                    elif message["type"] == "step.request":
                        request = p.StepRequest.model_validate(message)
                        task = asyncio.create_task(self._step(runner, request))
                        steps.add(task)
                        task.add_done_callback(steps.discard)
            finally:
                writer.cancel()

    async def _step(self, runner: Any, request: p.StepRequest) -> None:
        finished = await runner.run(request)
        if finished.status != "done":
            self.failures.append(f"{request.kind}: {finished.status} {finished.error}")

    async def _write(self, ws: Any, heartbeat_s: float) -> None:
        last_ping = time.monotonic()
        while True:
            try:
                message = await asyncio.wait_for(self.outbox.get(), heartbeat_s / 2)
            except TimeoutError:
                message = None
            if message is not None:
                await ws.send(p.dump(message))
            if time.monotonic() - last_ping > heartbeat_s / 2:
                await ws.send(p.dump(p.Ping(ts=time.time())))
                last_ping = time.monotonic()


async def _to_browser(runs: int) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="cabina-scan-") as data, SaneSimulator() as device:
        hub, cabin_token, username, password = _start_hub(Path(data) / "hub")
        sane = SaneScanner(device.device_name)
        scanner = _TimedScanner(sane)
        cabin = _Cabin(hub, cabin_token, scanner, Path(data) / "cabin")
        cabin_task: asyncio.Task[None] | None = None
        try:
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
                )
                page = await (await browser.new_context(locale="en-GB")).new_page()
                await page.goto(f"{hub.url}/")
                await page.fill("input[name=username]", username)
                await page.fill("input[name=password]", password)
                await page.click("form.signin-form button[type=submit]")
                await page.click("cab-topbar .presence-toggle")
                await page.locator("cab-topbar .presence[data-state='available']").wait_for()
                cabin_task = asyncio.create_task(cabin.run())
                await page.locator("cab-ring:not([hidden]) button.answer").click()
                await asyncio.wait_for(cabin.connected.wait(), STEP_TIMEOUT_S)
                await page.evaluate(WATCH_JS)
                scenarios: list[tuple[str, str, bool, int]] = [
                    ("text_page", TEXT_PICTURE, False, runs),
                    ("colour_chart", COLOUR_PICTURE, False, runs),
                    ("feeder_batch", TEXT_PICTURE, True, 1),
                ]
                for name, picture, feeder, count in scenarios:
                    sane.set_option("test_picture", picture)
                    feeder_box = page.locator("cab-cabin-tools input[name=scan-feeder]")
                    await feeder_box.set_checked(feeder)
                    results[name] = await _scenario(page, scanner, cabin, count + 1)
                await browser.close()
        finally:
            if cabin_task is not None:
                cabin_task.cancel()
            sane.close()
            hub.stop()
    return results


async def _scenario(page: Any, scanner: _TimedScanner, cabin: _Cabin, count: int) -> dict[str, Any]:
    """``count`` scans (the first one warms up and is not counted); seconds to each view."""
    preview, pdf = [], []
    for run in range(count):
        seen = await page.evaluate("[scanSeen.preview.length, scanSeen.pdf.length]")
        finished = len(scanner.finished)
        await page.click("cab-cabin-tools .tool-scan")
        await page.wait_for_function(
            "n => scanSeen.preview.length > n[0] && scanSeen.pdf.length > n[1]",
            arg=seen,
            timeout=STEP_TIMEOUT_S * 1000,
        )
        if cabin.failures:
            raise RuntimeError(f"Expected the scans to succeed, but got {cabin.failures}")
        shown = await page.evaluate("[scanSeen.preview.at(-1), scanSeen.pdf.at(-1)]")
        if run == 0:
            continue
        done = scanner.finished[finished]
        preview.append(shown[0] / 1000 - done)
        pdf.append(shown[1] / 1000 - done)
    return {
        "pages": scanner.pages[-1],
        "preview_seconds_median": round(statistics.median(preview), 3),
        "preview_seconds_max": round(max(preview), 3),
        "pdf_seconds_median": round(statistics.median(pdf), 3),
        "pdf_seconds_max": round(max(pdf), 3),
    }


def _worst(results: dict[str, Any], pick: Callable[[str], bool]) -> float:
    return float(max(value for key, value in results.items() if pick(key)))  # seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="scans to time per scenario")
    args = parser.parse_args()

    # Other work on the machine slows every figure here: say how busy it was.
    load_before = os.getloadavg()[0]
    processing = _post_processing(args.runs)
    sizes = _sizes()
    browser = asyncio.run(_to_browser(args.runs))
    flat = {
        f"{scenario}.{key}": value for scenario, figures in browser.items()
        for key, value in figures.items()
    }  # fmt: skip
    one_page = _worst(flat, lambda key: key.endswith("_max") and not key.startswith("feeder"))
    feeder = _worst(flat, lambda key: key.endswith("_max") and key.startswith("feeder"))
    print(
        json.dumps(
            {
                "resolution_dpi": DPI,
                "runs": args.runs,
                "load_average_1min": [round(load_before, 1), round(os.getloadavg()[0], 1)],
                **processing,
                "pdf_bytes": sizes,
                "to_browser": browser,
                "to_browser_one_page_seconds_max": round(one_page, 3),
                "to_browser_feeder_batch_seconds_max": round(feeder, 3),
                "target_seconds": TARGET_SECONDS,
                # The target is a page's: a feeder batch is read, then every sheet processed.
                "meets_target": max(processing["ready_seconds_max"], one_page) <= TARGET_SECONDS,
            }
        )
    )


if __name__ == "__main__":
    main()
