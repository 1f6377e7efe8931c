"""Benchmark: kill -9 the hub or the kiosk mid-visit, again and again; is the log still right?

A real hub (``cabina hub`` on SQLite) and a real headless kiosk (``cabina kiosk --simulate
--headless``) run as child processes. Each cycle lifts the kiosk's simulated handset (the demo
cabin calls an agent at once, and with no agent on line the citizen waits in the queue), then,
after a random moment (seeded), either SIGKILLs the kiosk (and starts it again), SIGKILLs the
hub (and starts it again; the kiosk presents its call anew, then hangs up), or just hangs up.
A last visit's kiosk is killed and left dead past the hub's grace time, so that the hub ends
it, and then started again.

Once everything has settled, the database says: how many attentions there were, how many lost
an event the kiosk had written (a ``call.queued`` without its ``attention.started``, or events
left in the kiosk's outbox), how many events are doubled (the same content twice), how many
attentions were left open, how each ended, whether the hub and the kiosk then stop cleanly on
SIGTERM, and whether ``cabina audit verify`` passes. The last line of output is one JSON object.

``python bench/kill_loop.py [--cycles 100] [--seed 7] [--quick]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
#: Generous: the kiosk imports Kivy, aiortc and OpenCV on a machine others may share.
START_S = 120.0
#: How long the leftovers may take to reach the hub once everything runs again.
SETTLE_S = 90.0
SUPERVISOR = ("supervisor", "supervisor-demo")
CABINA = (sys.executable, "-m", "cabina")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait(what: str, check: Callable[[], bool], timeout: float = START_S) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} within {timeout:.0f} s")
        time.sleep(0.2)


@dataclass
class Child:
    """One child process, its output appended to ``log``."""

    command: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self, timeout: float = 15.0) -> bool:
        """SIGTERM, as systemd stops it; SIGKILL if it does not end. Whether it ended cleanly."""
        if self.process is None or self.process.poll() is not None:
            return True
        self.process.terminate()
        try:
            return self.process.wait(timeout) == 0
        except subprocess.TimeoutExpired:
            self.kill()
            return False


@dataclass
class KillLoop:
    """A hub and a kiosk in ``root``, and what was done to them."""

    root: Path
    grace_s: float = 8.0
    sweep_s: float = 1.0
    seed: int = 7
    port: int = field(default_factory=_free_port)
    actions: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.hub_dir = self.root / "hub"
        self.cabin_dir = self.root / "cabin"
        self.handset = self.cabin_dir / "handset.sock"
        self.base = f"http://127.0.0.1:{self.port}"
        self.database = self.hub_dir / "hub.db"
        hub_env = {
            **os.environ,
            "CABINA_SECRET_KEY": secrets.token_urlsafe(48),
            "CABINA_COOKIE_SECURE": "false",
            "CABINA_ATTENTION_GRACE_S": str(self.grace_s),
            "CABINA_ATTENTION_SWEEP_S": str(self.sweep_s),
        }
        self.hub_env = hub_env
        self.hub = Child(
            [*CABINA, "hub", "--data-dir", str(self.hub_dir), "--port", str(self.port)],
            hub_env,
            self.root / "hub.log",
        )
        headless = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        self.kiosk = Child(
            [
                *(*CABINA, "kiosk", "--simulate", "--headless", "--size", "1280x720"),
                *("--data-dir", str(self.cabin_dir), "--handset-socket", str(self.handset)),
            ],
            headless | {"CABINA_KIOSK_HUB_URL": self.base, "CABINA_KIOSK_SERVICES": '["general"]'},
            self.root / "kiosk.log",
        )
        self.lifts = 0
        self.stopped_cleanly: dict[str, bool] = {}

    # --- setting up -------------------------------------------------------------------------

    def prepare(self) -> None:
        """A migrated hub database with the demo office (open at all hours) and its cabin."""
        from hub.attention_log import AttentionLog
        from hub.db import Database
        from hub.demo_data import ALWAYS_OPEN, seed_demo
        from hub.security import Passwords
        from provisioning.credential import CabinCredential, write_credential

        self.hub_dir.mkdir(parents=True, exist_ok=True)
        database = Database(f"sqlite:///{self.database}")
        try:
            database.upgrade()
            seed = seed_demo(
                AttentionLog(database),
                Passwords(),
                now=datetime.now(UTC),
                opening_hours=ALWAYS_OPEN,
            )
        finally:
            database.dispose()
        self.cabin_id = seed.cabin_id
        write_credential(
            self.cabin_dir / "cabin-credential.json",
            CabinCredential(seed.cabin_id, seed.cabin_token),
        )

    def start_hub(self) -> None:
        self.hub.start()
        _wait("hub", self._hub_answers)
        with httpx.Client(base_url=self.base, timeout=10) as http:
            response = http.post(
                "/api/auth/login", json={"username": SUPERVISOR[0], "password": SUPERVISOR[1]}
            )
            response.raise_for_status()
            self._token = response.json()["token"]

    def start_kiosk(self) -> None:
        self.kiosk.start()
        self.wait_kiosk_online()

    def wait_kiosk_online(self) -> None:
        def online() -> bool:
            if not self.kiosk.alive:
                raise RuntimeError(f"the kiosk ended; see {self.kiosk.log}")
            return self._cabin_online() and self.handset.exists()

        _wait("kiosk online", online)

    def _hub_answers(self) -> bool:
        if not self.hub.alive:
            raise RuntimeError(f"the hub ended; see {self.hub.log}")
        try:
            return httpx.get(f"{self.base}/api/hub", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def _cabin_online(self) -> bool:
        try:
            response = httpx.get(
                f"{self.base}/api/supervisor/overview",
                headers={"Authorization": f"Bearer {self._token}"},
                timeout=5,
            )
        except httpx.TransportError:
            return False
        cabins = {cabin["id"]: cabin for cabin in response.json().get("cabins", [])}
        return bool(cabins.get(self.cabin_id, {}).get("online"))

    # --- the loop ---------------------------------------------------------------------------

    def _handset(self, command: str) -> None:
        done = subprocess.run(
            [*CABINA, "hardware", "handset", command, "--socket", str(self.handset)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"handset {command} failed: {done.stdout}{done.stderr}")

    def cycle(self) -> str:
        """One visit, cut short by the kill the seeded dice choose; returns what was done."""
        action = self.rng.choice(("kill_kiosk", "kill_kiosk", "kill_hub", "hang_up"))
        self._handset("lift")
        self.lifts += 1
        time.sleep(self.rng.uniform(0.0, 2.5))
        if action == "kill_kiosk":
            self.kiosk.kill()
            self.start_kiosk()
        elif action == "kill_hub":
            self.hub.kill()
            time.sleep(self.rng.uniform(0.0, 1.0))
            self.start_hub()
            self.wait_kiosk_online()
            self._handset("hang-up")
        else:
            self._handset("hang-up")
        self.actions[action] += 1
        return action

    def gone_past_the_grace(self) -> None:
        """A visit whose kiosk dies and stays away until the hub has ended it."""
        self._handset("lift")
        self.lifts += 1
        _wait("the call in the queue", lambda: self._open_attentions() > 0, 30)
        self.kiosk.kill()
        _wait("the hub to end the visit", lambda: self._open_attentions() == 0, 4 * self.grace_s)
        self.actions["kiosk_gone"] += 1
        self.start_kiosk()

    def _open_attentions(self) -> int:
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=10) as db:
            (count,) = db.execute(
                "SELECT count(*) FROM attentions WHERE ended_at IS NULL"
            ).fetchone()
        return int(count)

    def settle(self) -> None:
        """Everything running, every event the kiosk kept sent, every attention ended."""
        if not self.hub.alive:
            self.start_hub()
        if not self.kiosk.alive:
            self.start_kiosk()
        _wait("an empty outbox", lambda: self._outbox_count() == 0, SETTLE_S)
        _wait("every attention ended", lambda: self._open_attentions() == 0, SETTLE_S)

    def _outbox_count(self) -> int:
        path = self.cabin_dir / "outbox.sqlite3"
        if not path.exists():
            return 0
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as db:
            (count,) = db.execute("SELECT count(*) FROM events").fetchone()
        return int(count)

    def stop(self) -> None:
        self.stopped_cleanly = {"kiosk": self.kiosk.stop(), "hub": self.hub.stop()}

    # --- the verdict ------------------------------------------------------------------------

    def report(self) -> dict[str, Any]:
        """What the database and ``cabina audit verify`` say, once everything has stopped."""
        verify = subprocess.run(
            [*CABINA, "audit", "verify", "--data-dir", str(self.hub_dir)],
            cwd=ROOT,
            env=self.hub_env,
            capture_output=True,
            text=True,
            check=False,
        )
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True) as db:
            rows = db.execute(
                "SELECT event_id, attention_id, kind, actor, occurred_at, payload "
                "FROM log_entries WHERE attention_id IS NOT NULL"
            ).fetchall()
            open_count = db.execute(
                "SELECT count(*) FROM attentions WHERE ended_at IS NULL"
            ).fetchone()[0]
        kinds: dict[str, set[str]] = {}
        ends: Counter[str] = Counter()
        for _event_id, attention_id, kind, _actor, _at, payload in rows:
            kinds.setdefault(attention_id, set()).add(kind)
            if kind == "attention.ended":
                ends[json.loads(payload).get("reason", "")] += 1
        contents = Counter(row[1:] for row in rows)
        lost = sum(
            1
            for seen in kinds.values()
            if "call.queued" in seen and "attention.started" not in seen
        )
        return {
            "cycles": sum(self.actions.values()),
            "actions": dict(sorted(self.actions.items())),
            "lifts": self.lifts,
            "attentions": len(kinds),
            "events": len(rows),
            "lost": lost + self._outbox_count(),
            "duplicated": sum(count - 1 for count in contents.values() if count > 1),
            # A lift whose kiosk was killed before it wrote the visit's first event leaves
            # nothing to lose: counted apart from "lost", which is of events once written.
            "lifts_without_attention": max(0, self.lifts - len(kinds)),
            "left_open": int(open_count),
            "ended_by": dict(sorted(ends.items())),
            "stopped_cleanly": self.stopped_cleanly,
            "chain_ok": verify.returncode == 0,
            "chain": verify.stdout.strip(),
        }


def run(root: Path, *, cycles: int, seed: int, grace_s: float, sweep_s: float) -> dict[str, Any]:
    """The whole loop in ``root``: ``cycles`` kills and visits, one cabin gone, the verdict."""
    loop = KillLoop(root, grace_s=grace_s, sweep_s=sweep_s, seed=seed)
    loop.prepare()
    started = time.monotonic()
    try:
        loop.start_hub()
        loop.start_kiosk()
        for _ in range(cycles):
            loop.cycle()
        loop.gone_past_the_grace()
        loop.settle()
    finally:
        loop.stop()
    return loop.report() | {"seconds": round(time.monotonic() - started, 1)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cycles", type=int, default=100, help="visits cut short (default 100)")
    parser.add_argument("--seed", type=int, default=7, help="the dice's seed")
    parser.add_argument("--grace", type=float, default=8.0, help="the hub's grace, in seconds")
    parser.add_argument("--quick", action="store_true", help="10 cycles")
    parser.add_argument("--keep", type=Path, help="run in this folder and keep it (logs)")
    args = parser.parse_args(argv)
    if args.cycles < 1:
        parser.error(f"Expected at least one cycle, but got {args.cycles}")
    cycles = 10 if args.quick else args.cycles
    root = args.keep or Path(tempfile.mkdtemp(prefix="cabina-kill-loop-"))
    try:
        result = run(root, cycles=cycles, seed=args.seed, grace_s=args.grace, sweep_s=1.0)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
