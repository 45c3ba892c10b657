"""Evidence videos read with PyAV (its own FFmpeg): container, duration, size, codec, phash.

Safety: the demuxer is chosen from the sniffed type (``format=``), so FFmpeg never probes
the bytes into a playlist or concat format that could open other files or URLs. Every
packet is demuxed (cheap: no decoding) to catch truncation, which FFmpeg otherwise hides:
an MP4 cut short still opens from its index, a cut WebM still reports its full duration.
Only the frames up to the midpoint's key frame are decoded, for the perceptual hash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from os import PathLike

import av
from PIL import Image

from gongyi.errors import Issue

from .phash import phash_bands, phash_hex
from .quality import VideoRules, check_resolution
from .refusals import refusal, refuse

# Sniffed MIME -> the FFmpeg demuxer to use and the container name we report.
DEMUXERS = {
    "video/mp4": ("mov", "mp4"),
    "video/quicktime": ("mov", "mov"),
    "video/webm": ("matroska", "webm"),
}
# A truncated file may lose a little of its end; more than this is treated as truncation.
_MISSING_TOLERANCE = 0.1


@dataclass(frozen=True)
class VideoInfo:
    container: str  # mp4 / mov / webm
    mime: str
    duration_s: float
    width: int  # as displayed, after rotation metadata
    height: int
    codec: str
    frame_rate: float | None
    phash: str
    phash_bands: list[str]
    warnings: list[Issue] = field(default_factory=list)


@dataclass
class _Scan:
    packets: int = 0
    covered_s: float = 0.0


def _scan_packets(container: av.container.InputContainer, video_index: int) -> _Scan:
    scan = _Scan()
    for packet in container.demux():
        if packet.size == 0:  # flush packets carry no data
            continue
        if packet.is_corrupt:
            refuse("corrupt_file", reason="corrupt_packet", stream=packet.stream.index)
        if packet.stream.index == video_index:
            scan.packets += 1
        if packet.pts is not None and packet.time_base is not None:
            end = (packet.pts + (packet.duration or 0)) * packet.time_base
            start = packet.stream.start_time or 0
            scan.covered_s = max(scan.covered_s, float(end - start * packet.stream.time_base))
    return scan


def _declared_duration(container: av.container.InputContainer, stream: av.VideoStream) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return None


def _frame_at(container: av.container.InputContainer, stream: av.VideoStream, target_s: float) -> av.VideoFrame:
    """The first frame at or after ``target_s``, decoded from the key frame before it.

    A fixed relative time (not "the n-th key frame") keeps the hash stable when the same
    footage is re-encoded with a different key-frame interval.
    """
    if target_s > 0 and stream.time_base:
        container.seek(int(target_s / stream.time_base), stream=stream, backward=True, any_frame=False)
    chosen = None
    for frame in container.decode(stream):
        chosen = frame
        if frame.time is None or frame.time >= target_s:
            break
    if chosen is None:
        refuse("corrupt_file", reason="no_decodable_frame")
    return chosen


def _displayed(image: Image.Image, rotation: int) -> Image.Image:
    # Phones store portrait video as landscape plus a display-matrix rotation.
    turn = int(round(rotation)) % 360
    return image.rotate(turn, expand=True) if turn in (90, 180, 270) else image


def inspect_video(
    path: str | PathLike[str],
    expected_mime: str,
    rules: VideoRules | None = None,
    bands: int = 4,
) -> VideoInfo:
    """Describe a spooled video; raises ``corrupt_file``, ``no_video_stream``,
    ``zero_duration``, ``too_long``, ``resolution_too_high`` or ``low_resolution``."""
    rules = rules or VideoRules()
    if expected_mime not in DEMUXERS:
        refuse("type_mismatch", expected=expected_mime)
    demuxer, container_name = DEMUXERS[expected_mime]
    try:
        # MOV external data references could make FFmpeg open other files: keep them off.
        options = {"enable_drefs": "0"} if demuxer == "mov" else {}
        with av.open(str(path), mode="r", format=demuxer, options=options) as container:
            if not container.streams.video:
                refuse("no_video_stream")
            stream = container.streams.video[0]
            codec = stream.codec_context.name
            width, height = stream.codec_context.width, stream.codec_context.height
            if width <= 0 or height <= 0:
                refuse("corrupt_file", reason="no_dimensions")
            if width * height > rules.max_pixels:
                refuse("resolution_too_high", width=width, height=height, max_pixels=rules.max_pixels)
            rate: Fraction | None = stream.average_rate or stream.guessed_rate
            indexed_frames = stream.frames

            scan = _scan_packets(container, stream.index)
            declared = _declared_duration(container, stream)
            if scan.packets == 0 and not declared and not indexed_frames:
                refuse("zero_duration")
            if indexed_frames and scan.packets < indexed_frames:
                refuse("corrupt_file", reason="truncated", packets=scan.packets, indexed=indexed_frames)
            if declared and scan.covered_s < declared * (1 - _MISSING_TOLERANCE):
                refuse("corrupt_file", reason="truncated", covered_s=scan.covered_s, declared_s=declared)
            duration = declared or scan.covered_s
            if duration <= 0:
                refuse("zero_duration")
            if duration > rules.max_duration_s:
                refuse("too_long", duration_s=round(duration, 3), max_duration_s=rules.max_duration_s)

            container.seek(0)
            frame = _frame_at(container, stream, duration / 2)
            rotation = int(getattr(frame, "rotation", 0) or 0)
            image = _displayed(frame.to_image(), rotation)
    except av.error.FFmpegError as exc:
        raise refusal("corrupt_file", reason=type(exc).__name__) from exc
    except (OSError, ValueError, EOFError) as exc:
        raise refusal("corrupt_file", reason=type(exc).__name__) from exc

    shown_w, shown_h = image.size if rotation % 180 else (width, height)
    issues = check_resolution(shown_w, shown_h, rules.resolution)
    digest = phash_hex(image)
    return VideoInfo(
        container=container_name,
        mime=expected_mime,
        duration_s=round(duration, 3),
        width=shown_w,
        height=shown_h,
        codec=codec,
        frame_rate=float(rate) if rate else None,
        phash=digest,
        phash_bands=phash_bands(digest, bands),
        warnings=issues,
    )
