"""How the cabin encodes its camera for the call: which codec it asks for, and with what settings.

aiortc's H.264 encoder runs libx264 with its default ``medium`` preset and opens a new encoder
(so sends a key frame) whenever the receiver's bandwidth estimate moves by a tenth, which a
2-core cabin cannot afford at 720p30. The cabin therefore:

- puts its preferred codec (H.264 unless configured otherwise) first in the video transceiver's
  codec list, so the offer or answer asks for it (:func:`prefer_codec`);
- once the other end has agreed, puts :class:`CabinH264Encoder` in the video sender
  (:func:`install_encoder`): a fast x264 preset with the ``zerolatency`` tune, Constrained
  Baseline (which every browser decodes), and a bitrate capped by picture size inside which
  the receiver's estimate (REMB) moves it, re-opening the encoder at most every
  :data:`REOPEN_INTERVAL_S` seconds.

VP8, the fallback when the other end has no H.264, keeps aiortc's realtime encoder. The
figures behind these choices are in ``docs/benchmarks.md`` (``bench/media.py``).
"""

from __future__ import annotations

import fractions
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import aiortc
import av
from aiortc import RTCPeerConnection, RTCRtpSender
from aiortc.codecs.h264 import H264Encoder

logger = logging.getLogger(__name__)

VideoCodec = Literal["h264", "vp8"]
VIDEO_CODECS: tuple[VideoCodec, ...] = ("h264", "vp8")
X264_PRESETS: tuple[str, ...] = (
    "ultrafast", "superfast", "veryfast", "faster", "fast",
    "medium", "slow", "slower", "veryslow", "placebo",
)  # fmt: skip
X264_TUNES: tuple[str, ...] = (
    "film", "animation", "grain", "stillimage", "psnr", "ssim", "fastdecode", "zerolatency",
)  # fmt: skip
#: A bitrate change smaller than this fraction of the current one is not worth a key frame.
REOPEN_CHANGE = 0.2
#: Seconds of video between two re-openings of the encoder for a new bitrate.
REOPEN_INTERVAL_S = 2.0
#: The largest picture (in pixels) that H.264 level 3.1, the level offered in the SDP, allows.
LEVEL_31_MAX_AREA = 1280 * 720
# aiortc's RTCRtpSender creates its encoder on the first frame, in this private slot, and
# offers no way to choose it; filling the slot first is the only hook.
_ENCODER_SLOT = "_RTCRtpSender__encoder"
_MIME = {"h264": "video/h264", "vp8": "video/vp8"}


@dataclass(frozen=True, slots=True)
class EncoderSettings:
    """The cabin's video codec preference and its H.264 encoder's settings."""

    #: The codec the cabin asks for first; the other stays as a fallback.
    codec: VideoCodec = "h264"
    #: libx264's speed/quality trade-off; ``medium`` is aiortc's (too slow for 720p here).
    x264_preset: str = "superfast"
    #: ``zerolatency`` turns off look-ahead and B-frames: frames leave as soon as encoded.
    x264_tune: str = "zerolatency"
    #: Encoder threads (slices with ``zerolatency``); 0 lets x264 choose by core count.
    x264_threads: int = 1
    #: Largest bitrate (bit/s) by picture area in pixels, smallest area first.
    bitrate_caps: tuple[tuple[int, int], ...] = (
        (640 * 480, 1_200_000),
        (1280 * 720, 2_500_000),
        (1920 * 1080, 4_000_000),
    )
    #: The receiver's estimate never takes the bitrate below this (bit/s).
    min_bitrate: int = 300_000

    def __post_init__(self) -> None:
        if self.codec not in VIDEO_CODECS:
            raise ValueError(
                f"Expected a video codec among {', '.join(VIDEO_CODECS)}, but got {self.codec!r}"
            )
        if self.x264_preset not in X264_PRESETS:
            raise ValueError(
                f"Expected an x264 preset among {', '.join(X264_PRESETS)}, "
                f"but got {self.x264_preset!r}"
            )
        for tune in self.x264_tune.split(","):
            if tune not in X264_TUNES:
                raise ValueError(
                    f"Expected x264 tunes among {', '.join(X264_TUNES)}, but got {tune!r}"
                )
        if self.x264_threads < 0:
            raise ValueError(
                f"Expected a non-negative number of x264 threads, but got {self.x264_threads}"
            )
        if not self.bitrate_caps:
            raise ValueError("Expected at least one bitrate cap, but got none")
        areas = [area for area, _ in self.bitrate_caps]
        rates = [rate for _, rate in self.bitrate_caps]
        if areas != sorted(set(areas)) or min(areas) <= 0:
            raise ValueError(
                f"Expected bitrate caps by strictly growing positive areas, but got {areas}"
            )
        if not 0 < self.min_bitrate <= min(rates):
            raise ValueError(
                f"Expected a minimum bitrate between 1 and the smallest cap ({min(rates)}), "
                f"but got {self.min_bitrate}"
            )

    def bitrate_cap(self, width: int, height: int) -> int:
        """The largest bitrate (bit/s) for pictures of ``width`` × ``height``."""
        area = width * height
        return next((rate for limit, rate in self.bitrate_caps if area <= limit), self.max_bitrate)

    @property
    def max_bitrate(self) -> int:
        """The largest cap, for the largest pictures."""
        return self.bitrate_caps[-1][1]


class CabinH264Encoder(H264Encoder):
    """aiortc's H.264 packetizer around a libx264 the cabin configures (see the module)."""

    def __init__(self, settings: EncoderSettings | None = None) -> None:
        super().__init__()
        self.settings = settings if settings is not None else EncoderSettings()
        self._requested: int | None = None  # the receiver's estimate, clamped
        self._opened_at = 0.0  # media time (s) of the frame the encoder was last opened for
        #: How many times an encoder was opened (each open starts with a key frame).
        self.opens = 0

    @property
    def target_bitrate(self) -> int:
        """The bitrate asked for (bit/s); pictures smaller than the largest cap get less."""
        return self._requested if self._requested is not None else self.settings.max_bitrate

    @target_bitrate.setter
    def target_bitrate(self, bitrate: int) -> None:
        # aiortc's sender sets this from each REMB the receiver sends.
        settings = self.settings
        self._requested = max(settings.min_bitrate, min(int(bitrate), settings.max_bitrate))

    def bitrate_for(self, width: int, height: int) -> int:
        """The bitrate to encode pictures of ``width`` × ``height`` at, now."""
        cap = self.settings.bitrate_cap(width, height)
        return max(self.settings.min_bitrate, min(self.target_bitrate, cap))

    def _encode_frame(self, frame: av.VideoFrame, force_keyframe: bool) -> Iterator[bytes]:
        at = _media_time(frame)
        wanted = self.bitrate_for(frame.width, frame.height)
        codec = self.codec
        if codec is None or (frame.width, frame.height) != (codec.width, codec.height):
            codec = self._open(frame.width, frame.height, wanted, at)
        elif (
            abs(wanted - (current := codec.bit_rate or wanted)) > REOPEN_CHANGE * current
            and abs(at - self._opened_at) >= REOPEN_INTERVAL_S
        ):
            # libx264 cannot change its bitrate in place through PyAV: a new encoder, which
            # starts with a key frame, is the price; hence the threshold and the interval.
            codec = self._open(frame.width, frame.height, wanted, at)
        frame.pict_type = (
            av.video.frame.PictureType.I if force_keyframe else av.video.frame.PictureType.NONE
        )
        data = b"".join(bytes(packet) for packet in codec.encode(frame))
        if data:
            yield from self._split_bitstream(data)

    def _open(self, width: int, height: int, bitrate: int, at: float) -> av.VideoCodecContext:
        settings = self.settings
        codec = av.CodecContext.create("libx264", "w")
        assert isinstance(codec, av.VideoCodecContext)
        codec.width, codec.height = width, height
        codec.bit_rate = bitrate
        codec.pix_fmt = "yuv420p"
        codec.framerate = fractions.Fraction(30, 1)
        codec.time_base = fractions.Fraction(1, 30)
        codec.thread_count = settings.x264_threads
        codec.options = {
            "preset": settings.x264_preset,
            "tune": settings.x264_tune,
            "level": "31" if width * height <= LEVEL_31_MAX_AREA else "40",
            # Constant bitrate with a one-second buffer: no frame bursts far above it.
            "maxrate": str(bitrate),
            "bufsize": str(bitrate),
        }
        codec.profile = "Baseline"
        self.codec = codec
        self._opened_at = at
        self.opens += 1
        logger.debug("H.264 encoder opened: %dx%d at %d bit/s", width, height, bitrate)
        return codec


def _media_time(frame: av.VideoFrame) -> float:
    """Seconds since the stream's origin, from the frame's timestamp."""
    if frame.pts is None or frame.time_base is None:
        return 0.0
    return float(frame.pts * frame.time_base)


def prefer_codec(pc: RTCPeerConnection, settings: EncoderSettings) -> None:
    """Put ``settings.codec`` first for ``pc``'s video transceivers.

    Call it once the camera's track is added and before creating the offer or applying the
    other end's offer: aiortc settles the codecs of an answer when the offer is applied.
    """
    wanted = _MIME[settings.codec]
    codecs = RTCRtpSender.getCapabilities("video").codecs
    # sorted() is stable: within each group aiortc's own order (and RTX last) is kept.
    ordered = sorted(codecs, key=lambda codec: codec.mimeType.lower() != wanted)
    for transceiver in pc.getTransceivers():
        if transceiver.kind == "video":
            transceiver.setCodecPreferences(ordered)


def install_encoder(pc: RTCPeerConnection, settings: EncoderSettings) -> CabinH264Encoder | None:
    """Give ``pc``'s video sender the cabin's encoder for the agreed codec, if it has one.

    Call it after each ``setRemoteDescription`` (before media flows); it returns the encoder
    in place, or None while no codec is agreed or when the agreed codec is not H.264 (aiortc's
    own encoder then runs). A second call keeps the encoder already installed.
    """
    if pc.remoteDescription is None:
        return None  # until then aiortc's codec list is only what the cabin offers
    for transceiver in pc.getTransceivers():
        agreed = transceiver._codecs  # aiortc keeps the agreed codecs here, the one used first
        if transceiver.kind != "video" or not agreed or transceiver.direction == "recvonly":
            continue
        if agreed[0].mimeType.lower() != _MIME["h264"]:
            return None
        sender = transceiver.sender
        if not hasattr(sender, _ENCODER_SLOT):
            raise RuntimeError(
                f"Expected aiortc's RTCRtpSender to keep its encoder in {_ENCODER_SLOT}, "
                f"but aiortc {aiortc.__version__} has no such attribute"
            )
        current = getattr(sender, _ENCODER_SLOT)
        if isinstance(current, CabinH264Encoder):
            return current
        encoder = CabinH264Encoder(settings)
        setattr(sender, _ENCODER_SLOT, encoder)
        return encoder
    return None
