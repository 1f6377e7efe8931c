"""Remote actions carried out at the cabin and reported to a real hub."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from hardware.simulation import SimulatedHardware
from provisioning.pinning import trust_hub
from provisioning.remote import ActionRequest, ActionRunner
from provisioning.selftest import SelfTest, run_selftest


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 36), (0, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


def queue(hub: Any, cabin_id: int, kind: str) -> str:
    with hub.client() as client:
        response = client.post(
            f"/api/fleet/cabins/{cabin_id}/actions",
            headers=hub.headers("technician"),
            json={"kind": kind},
        )
    action_id: str = response.json()["id"]
    return action_id


def action(hub: Any, action_id: str) -> dict[str, Any]:
    with hub.client() as client:
        data: dict[str, Any] = client.get(
            f"/api/fleet/actions/{action_id}", headers=hub.headers("technician")
        ).json()
    return data


def simulated_selftest() -> SelfTest:
    with SimulatedHardware(devices=("camera", "handset"), faults={"handset": "unplugged"}) as sim:
        return run_selftest(sim.config)


def test_each_action_is_done_and_reported(hub: Any) -> None:
    cabin_id, token = hub.enrol("dmi:REMOTE")
    restarted: list[bool] = []
    shot = png()
    runner = ActionRunner(
        trust_hub(hub.url, None),
        token,
        selftest=simulated_selftest,
        screenshot=lambda: shot,
        restart=lambda: restarted.append(True),
    )

    test_id = queue(hub, cabin_id, "self_test")
    assert runner.run(ActionRequest.from_message({"action_id": test_id, "kind": "self_test"}))
    done = action(hub, test_id)
    assert done["status"] == "failed" and done["detail"].startswith("handset: ")

    shot_id = queue(hub, cabin_id, "screenshot")
    assert runner.run(ActionRequest(shot_id, "screenshot"))
    assert action(hub, shot_id)["has_screenshot"]
    with hub.client() as client:
        image = client.get(
            f"/api/fleet/actions/{shot_id}/screenshot", headers=hub.headers("technician")
        )
    assert image.content == shot

    restart_id = queue(hub, cabin_id, "restart_app")
    assert runner.run(ActionRequest(restart_id, "restart_app"))
    assert restarted == [True]
    assert action(hub, restart_id)["status"] == "done"
    with hub.client() as client:
        cabin = client.get(f"/api/fleet/cabins/{cabin_id}", headers=hub.headers("admin")).json()
    assert cabin["selftest_ok"] is False and cabin["pending_actions"] == 0


def test_what_cannot_be_done_is_reported_as_failed(hub: Any) -> None:
    cabin_id, token = hub.enrol("dmi:REMOTE-2")

    def no_display() -> bytes:
        raise OSError("no display")

    def broken() -> SelfTest:
        raise RuntimeError("boom")

    runner = ActionRunner(
        trust_hub(hub.url, None),
        token,
        selftest=broken,
        screenshot=no_display,
        restart=lambda: None,
    )
    shot_id = queue(hub, cabin_id, "screenshot")
    assert runner.run(ActionRequest(shot_id, "screenshot"))
    assert (action(hub, shot_id)["status"], action(hub, shot_id)["detail"]) == (
        "failed",
        "no screenshot: OSError",
    )
    assert runner.run(ActionRequest(shot_id, "screenshot")) is False  # already over: 409
    odd_id = queue(hub, cabin_id, "screenshot")
    assert runner.run(ActionRequest(odd_id, "format_disk"))
    assert action(hub, odd_id)["detail"].startswith("Expected an action among")
    test_id = queue(hub, cabin_id, "self_test")
    assert runner.run(ActionRequest(test_id, "self_test"))
    assert action(hub, test_id)["detail"] == "self-test did not run: RuntimeError"
    hub.served.stop()
    assert runner.run(ActionRequest(test_id, "restart_app")) is False
