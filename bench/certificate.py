"""Benchmark: a padrón certificate from request to PDF ready at the hub, on one core.

Starts a hub on SQLite with the demo office and residents in a process of its own, pinned to
one CPU core, and asks it for certificates over HTTP from this process, one after another,
as a cabin would (a new attention and identification every ten certificates; individual and
collective, in every language). A certificate is ready when ``POST /api/padron/certificates``
answers: by then its PDF is rendered, sealed, stored and its event is in the log.

Prints one JSON object: latency p50/p95/max in milliseconds, certificates per second (one
core, requests back to back) and the mean PDF size.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
LANGUAGES = ("es", "ca", "eu", "gl", "en")
#: A demo resident whose household has three people.
DEMO_PERSON = {"document": "99990001P", "birth_date": "1984-03-14"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _settings(data_dir: Path, port: int) -> Any:
    from cabina.config import load_settings
    from hub.settings import HubSettings

    secret = (data_dir / "secret").read_text()
    values = {
        "data_dir": data_dir,
        "secret_key": secret,
        "port": port,
        "public_url": f"http://127.0.0.1:{port}",
    }
    return load_settings(HubSettings, None, values)


def _prepare(data_dir: Path) -> tuple[str, int]:
    """Create the database with the demo office and residents; returns the cabin's token and id."""
    from hub.attention_log import AttentionLog
    from hub.db import Database
    from hub.demo_data import seed_demo
    from hub.padron.demo_residents import seed_demo_residents
    from hub.security import Passwords

    (data_dir / "secret").write_text(secrets.token_urlsafe(48))
    database = Database.from_settings(_settings(data_dir, 0))
    database.upgrade()
    seed = seed_demo(AttentionLog(database), Passwords(), now=datetime.now(UTC))
    seed_demo_residents(database, today=date.today())
    database.dispose()
    return seed.cabin_token, seed.cabin_id


def _serve(data_dir: Path, port: int) -> None:
    """The hub, with the padrón routes, pinned to the first CPU this process may use."""
    import uvicorn

    from cabina.config import load_settings
    from hub.app import create_app
    from hub.padron.settings import PadronSettings
    from hub.server import uvicorn_config

    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    settings = _settings(data_dir, port)
    padron = load_settings(PadronSettings, None, {"certificates_per_identification": 10})
    app = create_app(settings.model_copy(update={"padron": padron}))
    uvicorn.Server(uvicorn_config(app, settings)).run()


def _attention(http: httpx.Client, cabin_id: int) -> str:
    attention = str(uuid.uuid4())
    event = {
        "event_id": str(uuid.uuid4()),
        "kind": "attention.started",
        "attention_id": attention,
        "actor": f"cabin:{cabin_id}",
        "occurred_at": datetime.now(UTC).isoformat(),
        "data": {"service": "padron"},
    }
    response = http.post("/api/cabin/events", json={"events": [event]})
    response.raise_for_status()
    return attention


def _measure(url: str, cabin: tuple[str, int], count: int, warmup: int) -> dict[str, Any]:
    latencies: list[float] = []
    sizes: list[int] = []
    token, cabin_id = cabin
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
        identification = ""
        for index in range(warmup + count):
            if index % 10 == 0:
                attention = _attention(http, cabin_id)
                body = {"attention_id": attention, **DEMO_PERSON}
                answer = http.post("/api/padron/identify", json=body)
                answer.raise_for_status()
                identification = answer.json()["identification_id"]
            request = {
                "identification_id": identification,
                "kind": "collective" if index % 2 else "individual",
                "language": LANGUAGES[index % len(LANGUAGES)],
            }
            started = time.perf_counter()
            response = http.post("/api/padron/certificates", json=request)
            elapsed = time.perf_counter() - started
            response.raise_for_status()
            if index >= warmup:
                latencies.append(elapsed)
                if index % 25 == 0:
                    pdf = http.get(response.json()["pdf_url"])
                    pdf.raise_for_status()
                    sizes.append(len(pdf.content))
    return {
        "certificates": count,
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 1),
        "p95_ms": round(_percentile(latencies, 0.95) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
        "certificates_per_second": round(count / sum(latencies), 1),
        "pdf_bytes_mean": round(sum(sizes) / len(sizes)) if sizes else None,
    }


def _wait(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the hub exited with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError("the hub did not start")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="fewer certificates")
    parser.add_argument("--count", type=int, help="certificates to measure")
    parser.add_argument("--serve", type=Path, metavar="DATA_DIR", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve is not None:
        _serve(args.serve, args.port)
        return 0
    count = args.count or (60 if args.quick else 400)
    with tempfile.TemporaryDirectory(prefix="cabina-bench-certificate-") as tmp:
        data_dir = Path(tmp)
        cabin = _prepare(data_dir)
        port = _free_port()
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        hub = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(data_dir), "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait(port, hub)
            result = _measure(f"http://127.0.0.1:{port}", cabin, count, warmup=10)
        finally:
            hub.terminate()
            hub.wait(10)
    result["machine"] = (
        f"{platform.machine()}, {os.cpu_count()} cores (hub pinned to one), "
        f"Python {platform.python_version()}"
    )
    result["date"] = datetime.now(UTC).date().isoformat()
    result["targets"] = {"p95_ms": "<= 300"}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
