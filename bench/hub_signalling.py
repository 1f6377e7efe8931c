"""Benchmark: how many WebSocket clients one hub process holds, and how fast an agent rings.

Starts a real hub (``cabina hub``, SQLite) in a process of its own and drives it over real
WebSockets from this one:

1. *capacity*: opens ``--connections`` clients (cabins and agents) and reads the hub's
   resident memory before and after: bytes per connection;
2. *ring latency*: with ``--ring-clients`` connected (half agents, half cabins), cabins ask for
   an agent at ``--rate`` requests per second; each agent answers, hangs up and finishes
   wrap-up, so agents free up again. Latency is from sending ``call.request`` to the agent
   receiving ``call.ring`` (both ends in this process, one clock).

For reference, a bare Starlette WebSocket echo server is measured the same way (memory per
connection, round trip at the same rate). The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[1]
ALWAYS_OPEN = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _populate(data_dir: Path, cabins: int, agents: int) -> tuple[list[str], list[str]]:
    """Create a site, cabins and agents directly in the database; their tokens."""
    from hub.db import Database
    from hub.models import Cabin, CabinCredential, CabinStatus, Role, Site, User
    from hub.security import create_session, token_digest

    now = datetime.now(UTC)
    database = Database(f"sqlite:///{data_dir / 'hub.db'}")
    database.upgrade()
    cabin_tokens: list[str] = []
    agent_tokens: list[str] = []
    with database.session() as session:
        site = Site(
            name="Bench",
            address="-",
            timezone="Europe/Madrid",
            opening_hours=ALWAYS_OPEN,
            max_concurrent_calls=None,
            created_at=now,
        )
        session.add(site)
        session.flush()
        for n in range(cabins):
            cabin = Cabin(
                name=f"cabin {n}",
                site_id=site.id,
                serial=None,
                status=CabinStatus.ACTIVE,
                created_at=now,
                last_seen_at=None,
            )
            session.add(cabin)
            session.flush()
            token = secrets.token_urlsafe(32)
            session.add(
                CabinCredential(
                    cabin_id=cabin.id,
                    token_hash=token_digest(token),
                    created_at=now,
                    revoked_at=None,
                )
            )
            cabin_tokens.append(token)
        for n in range(agents):
            user = User(
                username=f"agent{n}",
                display_name=f"Agent {n}",
                password_hash="-",
                role=Role.AGENT,
                active=True,
                languages=["ca"],
                services=["padron"],
                max_calls=1,
                site_id=None,
                created_at=now,
            )
            session.add(user)
            session.flush()
            token, _ = create_session(session, user, now=now, lifetime=timedelta(days=1))
            agent_tokens.append(token)
        session.commit()
    database.dispose()
    return cabin_tokens, agent_tokens


class _Server:
    """A server process on a loopback port."""

    def __init__(self, command: list[str], port: int, env: dict[str, str]) -> None:
        self.port = port
        # The server's log goes to a file: a pipe nobody reads would fill and stall it.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=self._log
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self._log.seek(0)
                    raise RuntimeError(self._log.read().decode(errors="replace")[-2000:]) from None
                time.sleep(0.1)

    def rss(self) -> int:
        return _rss(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self._log.close()


async def _open(url: str, token: str | None) -> ClientConnection:
    headers = {"Authorization": f"Bearer {token}"} if token else None
    return await connect(
        url, additional_headers=headers, ping_interval=None, max_queue=None, open_timeout=120
    )


Target = tuple[str, str | None]


async def _open_many(targets: Sequence[Target], batch: int = 100) -> list[ClientConnection]:
    connections: list[ClientConnection] = []
    for start in range(0, len(targets), batch):
        chunk = targets[start : start + batch]
        connections += await asyncio.gather(*(_open(url, token) for url, token in chunk))
    return connections


async def _capacity(server: _Server, targets: Sequence[Target]) -> dict[str, Any]:
    await asyncio.sleep(0.5)
    before = server.rss()
    connections = await _open_many(targets)
    await asyncio.sleep(1.0)
    after = server.rss()
    held = sum(1 for c in connections if c.state.name == "OPEN")
    await asyncio.gather(*(c.close() for c in connections))
    return {"connections": held, "bytes_per_connection": round((after - before) / max(held, 1))}


async def _ring_latency(
    ws_base: str,
    cabin_tokens: Sequence[str],
    agent_tokens: Sequence[str],
    rate: float,
    duration: float,
) -> dict[str, Any]:
    sent: dict[str, float] = {}
    latencies: list[float] = []
    agents = await _open_many([(f"{ws_base}/ws/agent", t) for t in agent_tokens])
    cabins = await _open_many([(f"{ws_base}/ws/cabin", t) for t in cabin_tokens])

    async def agent_loop(ws: ClientConnection) -> None:
        await ws.send(json.dumps({"type": "presence.set", "state": "available"}))
        async for raw in ws:
            message = json.loads(raw)
            kind = message["type"]
            if kind == "call.ring":
                latencies.append(time.perf_counter() - sent[message["call_id"]])
                await ws.send(json.dumps({"type": "call.accept", "call_id": message["call_id"]}))
            elif kind == "call.connected":
                await ws.send(json.dumps({"type": "call.end", "call_id": message["call_id"]}))
            elif kind == "presence" and message["state"] == "wrap_up":
                await ws.send(json.dumps({"type": "wrapup.done"}))

    async def drain(ws: ClientConnection) -> None:
        async for _ in ws:
            pass

    tasks = [asyncio.create_task(agent_loop(ws)) for ws in agents]
    tasks += [asyncio.create_task(drain(ws)) for ws in cabins]
    await asyncio.sleep(1.0)
    interval = 1.0 / rate
    start = time.perf_counter()
    n = 0
    while time.perf_counter() - start < duration:
        call_id = f"c{n}"
        sent[call_id] = time.perf_counter()
        await cabins[n % len(cabins)].send(
            json.dumps(
                {
                    "type": "call.request",
                    "call_id": call_id,
                    "attention_id": str(uuid.uuid4()),
                    "service": "padron",
                    "language": "ca",
                }
            )
        )
        n += 1
        await asyncio.sleep(max(0.0, start + n * interval - time.perf_counter()))
    await asyncio.sleep(2.0)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*(ws.close() for ws in agents + cabins), return_exceptions=True)
    ms = [v * 1000 for v in latencies]
    return {
        "ring_clients": len(agents) + len(cabins),
        "call_requests": n,
        "rings_received": len(ms),
        "request_rate": rate,
        "ring_p50_ms": round(statistics.median(ms), 2) if ms else None,
        "ring_p99_ms": round(_percentile(ms, 0.99), 2) if ms else None,
    }


async def _echo_latency(url: str, clients: int, rate: float, duration: float) -> dict[str, Any]:
    connections = await _open_many([(url, None)] * clients)
    latencies: list[float] = []
    interval = 1.0 / rate
    start = time.perf_counter()
    n = 0
    while time.perf_counter() - start < duration:
        ws = connections[n % len(connections)]
        t0 = time.perf_counter()
        await ws.send("x" * 120)
        await ws.recv()
        latencies.append((time.perf_counter() - t0) * 1000)
        n += 1
        await asyncio.sleep(max(0.0, start + n * interval - time.perf_counter()))
    await asyncio.gather(*(c.close() for c in connections))
    return {
        "rtt_p50_ms": round(statistics.median(latencies), 2),
        "rtt_p99_ms": round(_percentile(latencies, 0.99), 2),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a shorter run (under two minutes)")
    parser.add_argument("--connections", type=int, default=5000)
    parser.add_argument("--ring-clients", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--duration", type=float, default=None, help="seconds of call requests")
    args = parser.parse_args(argv)
    duration = args.duration or (15.0 if args.quick else 60.0)
    half = args.ring_clients // 2

    with tempfile.TemporaryDirectory(prefix="cabina-bench-") as tmp:
        data_dir = Path(tmp)
        agents_needed = max(half, args.connections // 5)
        cabin_tokens, agent_tokens = _populate(
            data_dir, args.connections - agents_needed, agents_needed
        )
        port = _free_port()
        env = dict(os.environ)
        env.update(
            CABINA_DATA_DIR=str(data_dir),
            CABINA_SECRET_KEY=secrets.token_urlsafe(48),
            CABINA_HEARTBEAT_INTERVAL_S="600",
            CABINA_WRAPUP_S="600",
        )
        hub = _Server([sys.executable, "-m", "cabina", "hub", "--port", str(port)], port, env)
        try:
            ws_base = f"ws://127.0.0.1:{port}"
            targets: list[Target] = [(f"{ws_base}/ws/agent", t) for t in agent_tokens] + [
                (f"{ws_base}/ws/cabin", t) for t in cabin_tokens
            ]

            result = asyncio.run(_capacity(hub, targets))
            result |= asyncio.run(
                _ring_latency(
                    ws_base, cabin_tokens[:half], agent_tokens[:half], args.rate, duration
                )
            )
        finally:
            hub.stop()

        echo_port = _free_port()
        echo = _Server(
            [sys.executable, str(ROOT / "bench" / "echo_server.py"), str(echo_port)],
            echo_port,
            dict(os.environ),
        )
        try:
            echo_url = f"ws://127.0.0.1:{echo_port}/ws"
            baseline = asyncio.run(_capacity(echo, [(echo_url, None)] * args.connections))
            baseline |= asyncio.run(_echo_latency(echo_url, args.ring_clients, args.rate, duration))
        finally:
            echo.stop()

    result["echo_baseline"] = baseline
    result["machine"] = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    result["date"] = datetime.now(UTC).date().isoformat()
    result["targets"] = {"connections": ">= 5000 at <= 50000 bytes each", "ring_p99_ms": "<= 50"}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
