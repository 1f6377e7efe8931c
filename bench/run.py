"""Run every benchmark; write the figures, the machine and the date to docs/benchmarks.md.

Each benchmark is a script in this folder whose last line of output is one JSON object.
``python bench/run.py [--quick] [--only NAME ...]``; a benchmark that fails is reported as
such in the document, never left out silently.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"


@dataclass(frozen=True)
class Bench:
    """One benchmark script and the targets its figures are read against."""

    name: str
    script: str
    title: str
    targets: dict[str, str]
    quick_args: tuple[str, ...] = ("--quick",)


BENCHES = (
    Bench(
        "hub_signalling",
        "hub_signalling.py",
        "Hub: connections held and ring latency",
        {
            "connections": "≥ 5,000",
            "bytes_per_connection": "≤ 50,000",
            "ring_p99_ms": "≤ 50 (2,000 clients, 100 requests/s)",
        },
    ),
    Bench(
        "media",
        "media.py",
        "Media: cabin (aiortc) → console (Chromium)",
        {
            "480p.setup_p95_ms": "≤ 1,000",
            "480p.fps": "≥ 29",
            "480p.latency_p50_ms": "≤ 60",
            "480p.latency_p95_ms": "≤ 100",
            "480p.cabin_cpu_percent": "≤ 60",
            "720p.fps": "≥ 28",
        },
    ),
    Bench(
        "kiosk", "kiosk_app.py", "Kiosk app", {"cold_start_s": "≤ 5", "touch_to_screen_ms": "≤ 100"}
    ),
    Bench(
        "certificate",
        "certificate.py",
        "Padrón certificate at the hub",
        {"p95_ms": "≤ 300"},
    ),
    Bench(
        "scan",
        "scan.py",
        "Scan A4 300 dpi → document ready",
        {"ready_after_scan_s": "≤ 2"},
        quick_args=(),
    ),
    Bench(
        "presence",
        "presence.py",
        "Presence detection, 640×480, one core",
        {"checks_per_second": "≥ 10"},
        quick_args=(),
    ),
)


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(data, dict):
        return {prefix: data}
    flat: dict[str, Any] = {}
    for key, value in data.items():
        flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def _run(bench: Bench, quick: bool) -> tuple[dict[str, Any] | None, str, float]:
    script = ROOT / "bench" / bench.script
    if not script.exists():
        return None, "not written yet", 0.0
    command = [sys.executable, str(script), *(bench.quick_args if quick else ())]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or not lines:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return None, f"failed (exit {done.returncode}): {' / '.join(tail)}", elapsed
    try:
        return json.loads(lines[-1]), "ok", elapsed
    except json.JSONDecodeError:
        return None, f"its last line is not JSON: {lines[-1][:120]}", elapsed


def _machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory_kb // 1024 // 1024} GiB, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def _section(bench: Bench, result: dict[str, Any] | None, status: str, elapsed: float) -> list[str]:
    lines = [f"## {bench.title}", "", f"`bench/{bench.script}` — {status}, {elapsed:.0f} s.", ""]
    if result is None:
        return lines
    flat = _flatten(result)
    lines += ["| figure | measured | target |", "|---|---|---|"]
    for key, value in flat.items():
        if key in ("machine", "date") or key.startswith("targets"):
            continue
        lines.append(f"| `{key}` | {value} | {bench.targets.get(key, '')} |")
    return [*lines, ""]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the shorter run of each benchmark")
    parser.add_argument("--only", nargs="*", help="names of benchmarks to run")
    args = parser.parse_args(argv)
    chosen = [b for b in BENCHES if not args.only or b.name in args.only]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        "# Benchmarks",
        "",
        "Figures measured by `make bench` (`bench/run.py`), never by timed assertions in tests.",
        "",
        f"- machine: {_machine()}",
        f"- date: {now}",
        f"- run: {'quick' if args.quick else 'full'}",
        "",
    ]
    failed = False
    for bench in chosen:
        print(f"running {bench.script} …", file=sys.stderr, flush=True)
        result, status, elapsed = _run(bench, args.quick)
        failed |= result is None and status != "not written yet"
        out += _section(bench, result, status, elapsed)
        print(json.dumps({bench.name: result, "status": status}), flush=True)
    DOC.write_text("\n".join(out), encoding="utf-8")
    print(f"wrote {DOC.relative_to(ROOT)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
