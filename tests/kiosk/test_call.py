"""The call: the cabin's aiortc ↔ an aiortc test agent, with a real hub relaying the signalling.

The agent reads the capture time the simulated camera writes into each frame, so it knows the
frames it decodes are the cabin's; it sends video back, which reaches the cabin's callback.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from contract import signalling as p
from hardware.camera.simulator import SimulatedCamera
from hardware.camera.track import CameraTrack
from kiosk.effects.call import Call, ReceivedFrame
from kiosk.effects.encoding import CabinH264Encoder
from kiosk.effects.hub_client import Backoff, HubClient

ATTENTION = "2b7e61f2-4c0d-4f57-9d7a-51c2a3f8e4b9"


class Cabin:
    """The kiosk's link and call, wired as the app wires them."""

    def __init__(self, hub: Any, *, media_timeout_s: float = 5.0) -> None:
        self.camera = SimulatedCamera(640, 480, 30.0)
        self.frames: list[ReceivedFrame] = []
        self.call: Call | None = None
        self.media_timeout_s = media_timeout_s
        self.ended: list[p.CallEnded] = []
        self.client = HubClient(
            ws_url=hub.ws_url, token=hub.token, on_message=self.on_message,
            backoff=Backoff(0.05, 0.5),
        )  # fmt: skip
        self._tasks: set[asyncio.Task[None]] = set()

    def on_message(self, message: p.Message) -> None:
        if isinstance(message, p.CallConnected):
            welcome = self.client.welcome
            assert welcome is not None
            self.call = Call(
                call_id=message.call_id,
                send=self.client.send,
                ice_servers=welcome.ice_servers,
                video_source=lambda: CameraTrack(self.camera),
                on_frame=self.frames.append,
                media_timeout_s=self.media_timeout_s,
            )
            self._spawn(self.call.start(message.you_offer))
        elif isinstance(message, p.RtcDescription | p.RtcCandidate) and self.call is not None:
            self._spawn(self.call.handle(message))
        elif isinstance(message, p.CallEnded):
            self.ended.append(message)

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        if self.call is not None:
            await self.call.hang_up()
        self.camera.close()


@contextlib.asynccontextmanager
async def cabin_online(hub: Any, eventually: Any, **kwargs: Any) -> AsyncIterator[Cabin]:
    cabin = Cabin(hub, **kwargs)
    task = asyncio.create_task(cabin.client.run())
    try:
        await eventually(lambda: cabin.client.online, "the cabin's welcome")
        yield cabin
    finally:
        await cabin.close()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@pytest.mark.slow
async def test_video_flows_both_ways_through_a_call_set_up_by_the_hub(
    hub: Any, agent: Any, eventually: Any
) -> None:
    async with cabin_online(hub, eventually) as cabin:
        cabin.client.send(
            p.CallRequest(call_id="call-media-1", attention_id=ATTENTION, service="general",
                          language="ca")
        )  # fmt: skip
        await eventually(lambda: cabin.call is not None, "the call to connect")
        await eventually(lambda: len(agent.stamps) >= 30, "the cabin's frames at the agent")
        await eventually(lambda: len(cabin.frames) >= 30, "the agent's frames at the cabin")

        now_ms = time.time() * 1000
        assert all(abs(now_ms - stamp) < 60_000 for stamp in agent.stamps)
        assert agent.stamps == sorted(agent.stamps)
        frame = cabin.frames[-1]
        assert (frame.width, frame.height) == (320, 240) and frame.rgb.shape == (240, 320, 3)
        assert abs(int(frame.rgb[120, 160, 0]) - 128) < 16

        # The cabin asked for H.264 first and encodes it with its own settings.
        assert cabin.call is not None and cabin.call._pc is not None
        video = next(t for t in cabin.call._pc.getTransceivers() if t.kind == "video")
        assert video._codecs[0].mimeType.lower() == "video/h264"
        assert isinstance(video.sender._RTCRtpSender__encoder, CabinH264Encoder)  # type: ignore[attr-defined]

        cabin.call.set_muted(True)
        await cabin.call.hang_up()
        cabin.client.send(p.CallEnd(call_id="call-media-1"))
        await eventually(lambda: agent.of_type(p.CallEnded), "the agent to hear the end")
        assert cabin.call.connection_state == "closed"


@pytest.mark.slow
async def test_a_dead_peer_connection_is_replaced_by_a_new_one(
    hub: Any, agent: Any, eventually: Any
) -> None:
    async with cabin_online(hub, eventually, media_timeout_s=2.0) as cabin:
        cabin.client.send(
            p.CallRequest(call_id="call-media-2", attention_id=ATTENTION, service="general",
                          language="ca")
        )  # fmt: skip
        await eventually(lambda: len(cabin.frames) >= 10, "the agent's first frames")
        assert agent.pc is not None
        # The agent's side dies without a word (a browser tab crashed, a network cut).
        await agent.pc.close()
        agent.stamps.clear()
        received = len(cabin.frames)
        await eventually(lambda: agent.offers == 2, "a new offer from the cabin")
        await eventually(lambda: len(cabin.frames) > received + 10, "video again")
        await eventually(lambda: len(agent.stamps) >= 10, "the cabin's video again")
        assert cabin.call is not None and cabin.call.rebuilds == 1
