"""kill -9 the hub and the kiosk mid-visit: nothing lost or doubled, every attention ends.

The loop is ``bench/kill_loop.py`` (real ``cabina hub`` and ``cabina kiosk --simulate
--headless`` processes, visits through the simulated handset) with a few cycles; the benchmark
runs a hundred.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "kill_loop.py"
#: Three visits: the kiosk killed, the hub killed, a visit that ends as it should.
CYCLES, SEED = 3, 29


def _kill_loop() -> ModuleType:
    spec = importlib.util.spec_from_file_location("kill_loop", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Dataclasses look their module up by name while the module is being run.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_killed_hubs_and_kiosks_lose_nothing_double_nothing_and_leave_nothing_open(
    tmp_path: Path,
) -> None:
    report = _kill_loop().run(tmp_path, cycles=CYCLES, seed=SEED, grace_s=8.0, sweep_s=1.0)
    logs = f"{report}\nsee {tmp_path}/hub.log and {tmp_path}/kiosk.log"
    assert report["actions"] == {
        "hang_up": 1,
        "kill_hub": 1,
        "kill_kiosk": 1,
        "kiosk_gone": 1,
    }, logs
    assert report["attentions"] >= 2, logs
    assert report["lost"] == 0, logs
    assert report["duplicated"] == 0, logs
    assert report["left_open"] == 0, logs
    # The visit whose kiosk stayed away was ended by the hub, and again by the kiosk once back.
    assert report["ended_by"].get("cabin_gone", 0) >= 1, logs
    assert report["ended_by"].get("cabin_restarted", 0) >= 1, logs
    assert report["chain_ok"], logs
