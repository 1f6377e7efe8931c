"""The cabin's video encoding: the codec its SDP asks for, the encoder it puts in the sender,
and what that encoder produces (decodable H.264 that keeps the camera's capture time, key
frames when asked, a bitrate that follows the receiver within caps by picture size).
"""

from __future__ import annotations

import asyncio
import fractions
from collections.abc import AsyncIterator
from typing import Any

import av
import numpy as np
import numpy.typing as npt
import pytest
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCRtpSender, VideoStreamTrack
from aiortc.codecs.h264 import h264_depayload

from hardware.camera.clock import ManualClock
from hardware.camera.simulator import SimulatedCamera
from hardware.camera.timestamp import read_timestamp
from hardware.camera.track import CameraTrack
from kiosk.effects.encoding import (
    REOPEN_INTERVAL_S,
    CabinH264Encoder,
    EncoderSettings,
    install_encoder,
    prefer_codec,
)

TIME_BASE = fractions.Fraction(1, 90_000)
IDR, SPS = 5, 7  # H.264 NAL unit types: a key frame's slice, the sequence parameters


class Pictures:
    """Frames from the shipped camera simulator, stamped with a manual clock's time."""

    def __init__(self, width: int = 640, height: int = 480) -> None:
        self.camera = SimulatedCamera(width, height, 30.0, clock=ManualClock())
        self.stamps: list[int] = []

    def at(self, seconds: float) -> av.VideoFrame:
        """The next picture, timed ``seconds`` after the stream's start."""
        image = self.camera.read()
        stamp = read_timestamp(image)
        assert stamp is not None
        self.stamps.append(stamp)
        frame = av.VideoFrame.from_ndarray(image, format="bgr24")
        frame.pts, frame.time_base = round(seconds * 90_000), TIME_BASE
        return frame


def annex_b(payloads: list[bytes]) -> bytes:
    """The H.264 stream carried by one frame's RTP payloads."""
    return b"".join(h264_depayload(payload) for payload in payloads)


def bgr(frame: av.VideoFrame) -> npt.NDArray[np.uint8]:
    """A decoded frame's pixels, as the camera wrote them."""
    return np.asarray(frame.to_ndarray(format="bgr24"), dtype=np.uint8)


def nal_types(stream: bytes) -> set[int]:
    """The NAL unit types in an Annex B stream."""
    return {unit[0] & 0x1F for unit in CabinH264Encoder._split_bitstream(stream) if unit}


def video_codecs(sdp: str) -> list[str]:
    """The video codec names of an SDP, in its order of preference."""
    lines = sdp.splitlines()
    media = next(line for line in lines if line.startswith("m=video"))
    names = {
        line.split()[0].removeprefix("a=rtpmap:"): line.split()[1].split("/")[0]
        for line in lines
        if line.startswith("a=rtpmap:")
    }
    return [names[pt] for pt in media.split()[3:]]


@pytest.fixture
async def peers() -> AsyncIterator[tuple[RTCPeerConnection, RTCPeerConnection]]:
    """A cabin and an agent peer connection, closed afterwards."""
    cabin, agent = RTCPeerConnection(), RTCPeerConnection()
    yield cabin, agent
    await cabin.close()
    await agent.close()


async def negotiate(
    cabin: RTCPeerConnection, agent: RTCPeerConnection, agent_codecs: set[str] | None = None
) -> None:
    """Offer from the cabin, answer from an agent that decodes only ``agent_codecs``."""
    await cabin.setLocalDescription(await cabin.createOffer())
    if agent_codecs is not None:
        allowed = [
            codec
            for codec in RTCRtpSender.getCapabilities("video").codecs
            if codec.mimeType.split("/")[1] in agent_codecs | {"rtx"}
        ]
        agent.addTransceiver("video", direction="recvonly").setCodecPreferences(allowed)
    await agent.setRemoteDescription(cabin.localDescription)
    await agent.setLocalDescription(await agent.createAnswer())
    await cabin.setRemoteDescription(agent.localDescription)


def sender_encoder(pc: RTCPeerConnection) -> Any:
    """What aiortc's video sender will encode with (None until it chooses one itself)."""
    video = next(t for t in pc.getTransceivers() if t.kind == "video")
    return video.sender._RTCRtpSender__encoder  # type: ignore[attr-defined]


@pytest.mark.parametrize(("codec", "first"), [("h264", "H264"), ("vp8", "VP8")])
async def test_the_offer_asks_first_for_the_configured_codec_and_keeps_the_other(
    peers: tuple[RTCPeerConnection, RTCPeerConnection], codec: Any, first: str
) -> None:
    cabin, _ = peers
    cabin.addTrack(VideoStreamTrack())
    prefer_codec(cabin, EncoderSettings(codec=codec))
    names = video_codecs((await cabin.createOffer()).sdp)
    assert names[0] == first
    assert {"H264", "VP8"} <= set(names)


async def test_the_cabin_encoder_goes_in_the_sender_once_h264_is_agreed(
    peers: tuple[RTCPeerConnection, RTCPeerConnection],
) -> None:
    cabin, agent = peers
    cabin.addTrack(VideoStreamTrack())
    settings = EncoderSettings(x264_preset="ultrafast")
    prefer_codec(cabin, settings)
    await cabin.setLocalDescription(await cabin.createOffer())
    assert install_encoder(cabin, settings) is None  # nothing agreed yet

    await agent.setRemoteDescription(cabin.localDescription)
    await agent.setLocalDescription(await agent.createAnswer())
    await cabin.setRemoteDescription(agent.localDescription)
    encoder = install_encoder(cabin, settings)
    assert isinstance(encoder, CabinH264Encoder) and encoder.settings is settings
    assert sender_encoder(cabin) is encoder
    # Applied again (after a later description), it keeps the encoder already running.
    assert install_encoder(cabin, EncoderSettings()) is encoder


async def test_an_answering_cabin_also_gets_h264_and_its_encoder(
    peers: tuple[RTCPeerConnection, RTCPeerConnection],
) -> None:
    cabin, agent = peers
    agent.addTransceiver("video")  # an offer that lists VP8 first, as browsers do
    await agent.setLocalDescription(await agent.createOffer())
    assert video_codecs(agent.localDescription.sdp)[0] == "VP8"
    cabin.addTrack(VideoStreamTrack())
    prefer_codec(cabin, EncoderSettings())
    await cabin.setRemoteDescription(agent.localDescription)
    await cabin.setLocalDescription(await cabin.createAnswer())
    assert video_codecs(cabin.localDescription.sdp)[0] == "H264"
    assert isinstance(install_encoder(cabin, EncoderSettings()), CabinH264Encoder)


async def test_an_aiortc_without_the_encoder_slot_is_refused_loudly(
    peers: tuple[RTCPeerConnection, RTCPeerConnection],
) -> None:
    cabin, agent = peers
    cabin.addTrack(VideoStreamTrack())
    prefer_codec(cabin, EncoderSettings())
    await negotiate(cabin, agent)
    video = next(t for t in cabin.getTransceivers() if t.kind == "video")
    del video.sender._RTCRtpSender__encoder  # type: ignore[attr-defined]  # as a renamed slot
    with pytest.raises(RuntimeError, match="Expected aiortc's RTCRtpSender to keep its encoder"):
        install_encoder(cabin, EncoderSettings())


async def test_vp8_is_left_to_aiortc_when_the_agent_has_no_h264(
    peers: tuple[RTCPeerConnection, RTCPeerConnection],
) -> None:
    cabin, agent = peers
    cabin.addTrack(VideoStreamTrack())
    prefer_codec(cabin, EncoderSettings())
    await negotiate(cabin, agent, agent_codecs={"VP8"})
    assert install_encoder(cabin, EncoderSettings()) is None
    assert sender_encoder(cabin) is None


async def test_a_call_sends_the_cameras_frames_through_the_cabin_encoder(
    peers: tuple[RTCPeerConnection, RTCPeerConnection],
) -> None:
    cabin, agent = peers
    camera = SimulatedCamera(320, 240, 30.0)
    cabin.addTrack(CameraTrack(camera))
    prefer_codec(cabin, EncoderSettings())
    received: asyncio.Queue[MediaStreamTrack] = asyncio.Queue()
    agent.on("track", received.put_nowait)
    try:
        await negotiate(cabin, agent)
        encoder = install_encoder(cabin, EncoderSettings())
        track = await asyncio.wait_for(received.get(), 10)
        stamps: list[int | None] = []
        while len(stamps) < 10:
            frame = await asyncio.wait_for(track.recv(), 10)
            assert isinstance(frame, av.VideoFrame)
            stamps.append(read_timestamp(bgr(frame)))
    finally:
        camera.close()
    # The agent decoded the camera's pictures, capture times intact, from our encoder.
    times = [stamp for stamp in stamps if stamp is not None]
    assert len(times) == len(stamps) and times == sorted(times)
    assert encoder is not None and encoder.opens >= 1
    assert encoder.codec is not None and (encoder.codec.width, encoder.codec.height) == (320, 240)


def test_encoded_frames_decode_to_the_pictures_with_their_capture_times() -> None:
    pictures = Pictures()
    encoder = CabinH264Encoder()
    decoder = av.CodecContext.create("h264", "r")
    decoded: list[int | None] = []
    for index in range(10):
        payloads, _ = encoder.encode(pictures.at(index / 30))
        assert all(len(payload) <= 1300 for payload in payloads)  # fits an RTP packet
        for image in decoder.decode(av.Packet(annex_b(payloads))):
            assert isinstance(image, av.VideoFrame)
            decoded.append(read_timestamp(bgr(image)))
    assert decoded == pictures.stamps


def test_the_first_frame_and_a_requested_one_are_key_frames_the_others_not() -> None:
    pictures = Pictures()
    encoder = CabinH264Encoder()
    first = nal_types(annex_b(encoder.encode(pictures.at(0.0))[0]))
    plain = nal_types(annex_b(encoder.encode(pictures.at(1 / 30))[0]))
    asked = nal_types(annex_b(encoder.encode(pictures.at(2 / 30), force_keyframe=True)[0]))
    assert {IDR, SPS} <= first
    assert IDR not in plain
    assert IDR in asked


def test_x264_runs_with_the_preset_and_tune_configured() -> None:
    # x264 writes its options into the stream: superfast searches with subme=1 and one
    # reference; ultrafast with subme=0; zerolatency leaves out B-frames and look-ahead.
    for preset, subme in (("superfast", b"subme=1"), ("ultrafast", b"subme=0")):
        encoder = CabinH264Encoder(EncoderSettings(x264_preset=preset, x264_threads=1))
        stream = annex_b(encoder.encode(Pictures().at(0.0))[0])
        assert subme in stream and b" ref=1 " in stream
        assert b"bframes=0" in stream and b"rc_lookahead=0" in stream and b" threads=1 " in stream


def test_the_bitrate_follows_the_receiver_within_the_caps_for_the_picture_size() -> None:
    settings = EncoderSettings()
    encoder = CabinH264Encoder(settings)
    encoder.target_bitrate = 50_000_000  # a receiver on a fast network
    assert encoder.bitrate_for(640, 480) == 1_200_000
    assert encoder.bitrate_for(1280, 720) == 2_500_000
    assert encoder.bitrate_for(3840, 2160) == settings.max_bitrate == 4_000_000
    encoder.target_bitrate = 800_000
    assert encoder.bitrate_for(1280, 720) == 800_000
    encoder.target_bitrate = 1_000  # a receiver that can take almost nothing
    assert encoder.bitrate_for(640, 480) == settings.min_bitrate == 300_000
    encoder.target_bitrate = 50_000_000
    encoder.encode(Pictures().at(0.0))
    assert encoder.codec is not None and encoder.codec.bit_rate == 1_200_000


def test_a_new_bitrate_reopens_the_encoder_only_when_large_enough_and_not_too_soon() -> None:
    pictures = Pictures()
    encoder = CabinH264Encoder()
    encoder.encode(pictures.at(0.0))
    assert encoder.opens == 1

    encoder.target_bitrate = 500_000  # a large change, but the encoder has just opened
    encoder.encode(pictures.at(REOPEN_INTERVAL_S / 2))
    assert encoder.opens == 1
    assert encoder.codec is not None and encoder.codec.bit_rate == 1_200_000

    payloads, _ = encoder.encode(pictures.at(REOPEN_INTERVAL_S + 0.1))
    assert encoder.opens == 2 and encoder.codec.bit_rate == 500_000
    assert IDR in nal_types(annex_b(payloads))  # a new encoder starts with a key frame

    encoder.target_bitrate = 550_000  # a tenth more: not worth a key frame
    encoder.encode(pictures.at(3 * REOPEN_INTERVAL_S))
    assert encoder.opens == 2 and encoder.codec.bit_rate == 500_000


def test_a_new_picture_size_reopens_the_encoder_at_once() -> None:
    encoder = CabinH264Encoder()
    encoder.encode(Pictures(640, 480).at(0.0))
    payloads, _ = encoder.encode(Pictures(1280, 720).at(1 / 30))
    assert encoder.opens == 2
    assert encoder.codec is not None and (encoder.codec.width, encoder.codec.height) == (1280, 720)
    assert encoder.codec.bit_rate == 2_500_000
    assert IDR in nal_types(annex_b(payloads))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"codec": "av1"}, "Expected a video codec among h264, vp8, but got 'av1'"),
        ({"x264_preset": "fastest"}, "Expected an x264 preset among ultrafast, superfast"),
        ({"x264_tune": "zerolatency,fast"}, "but got 'fast'"),
        ({"x264_threads": -1}, "Expected a non-negative number of x264 threads, but got -1"),
        ({"bitrate_caps": ()}, "Expected at least one bitrate cap, but got none"),
        (
            {"bitrate_caps": ((1280 * 720, 2_500_000), (640 * 480, 1_200_000))},
            "Expected bitrate caps by strictly growing positive areas",
        ),
        ({"min_bitrate": 0}, "Expected a minimum bitrate between 1 and the smallest cap"),
        ({"min_bitrate": 2_000_000}, "(1200000), but got 2000000"),
    ],
)
def test_settings_refuse_what_the_encoder_cannot_do(overrides: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        EncoderSettings(**overrides)


def test_combined_tunes_are_accepted() -> None:
    assert EncoderSettings(x264_tune="fastdecode,zerolatency").x264_tune == "fastdecode,zerolatency"
