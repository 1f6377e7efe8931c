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
#: The figures of the last run of each benchmark, so that ``--only`` keeps the others'.
RESULTS = ROOT / "docs" / "benchmarks.json"


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
        "Scan A4 300 dpi → the page in the agent's browser",
        {
            "ready_seconds_median": "≤ 2",
            "ready_seconds_max": "≤ 2",
            "pdf_bytes.text_page.bytes": "≤ 409,600 (400 KB)",
            "to_browser.text_page.preview_seconds_max": "≤ 2",
            "to_browser.colour_chart.preview_seconds_max": "≤ 2",
            "to_browser_one_page_seconds_max": "≤ 2",
            "to_browser.feeder_batch.first_page_preview_seconds": "≤ 2",
            "to_browser.feeder_batch.sheet_in_list_seconds_max": "≤ 2",
            "to_browser.feeder_batch.pages_not_listed": "0",
            "to_browser_feeder_page_seconds_max": "≤ 2",
        },
        quick_args=("--runs", "3"),
    ),
    Bench(
        "presence",
        "presence.py",
        "Presence detection, 640×480, one core",
        {"checks_per_second": "≥ 10"},
        quick_args=(),
    ),
    Bench(
        "appointments",
        "appointments.py",
        "Appointments: a month's availability, 1,000 bookings for 100 places",
        {"availability_p95_ms": "≤ 50", "double_bookings": "0"},
    ),
    Bench(
        "kill_loop",
        "kill_loop.py",
        "kill -9 of the hub and the kiosk mid-visit, 100 times",
        {"lost": "0", "duplicated": "0", "left_open": "0", "chain_ok": "true"},
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


def _section(bench: Bench, entry: dict[str, Any]) -> list[str]:
    lines = [
        f"## {bench.title}",
        "",
        f"`bench/{bench.script}` — {entry['status']}"
        + (f", {entry['elapsed_s']} s" if entry.get("elapsed_s") else "")
        + f", {entry['run']} run, {entry['date']}; {entry['machine']}.",
        "",
    ]
    result = entry["result"]
    if result is None:
        return lines
    lines += ["| figure | measured | target |", "|---|---|---|"]
    for key, value in _flatten(result).items():
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
    stored: dict[str, Any] = (
        json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    )
    failed = False
    for bench in chosen:
        print(f"running {bench.script} …", file=sys.stderr, flush=True)
        result, status, elapsed = _run(bench, args.quick)
        failed |= result is None and status != "not written yet"
        stored[bench.name] = {
            "result": result,
            "status": status,
            "elapsed_s": round(elapsed),
            "run": "quick" if args.quick else "full",
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": _machine(),
        }
        print(json.dumps({bench.name: result, "status": status}), flush=True)
    RESULTS.write_text(json.dumps(stored, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    out = [
        "# Benchmarks",
        "",
        "Figures measured by `make bench` (`bench/run.py`), never by timed assertions in tests.",
        "Each section names the machine, the date and the kind of run it was measured in.",
        "",
    ]
    for bench in BENCHES:
        entry = stored.get(bench.name)
        if entry is None:
            continue
        out += _section(bench, entry)
    DOC.write_text("\n".join(out), encoding="utf-8")
    print(f"wrote {DOC.relative_to(ROOT)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
