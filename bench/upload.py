"""Upload benchmark: one large evidence file (1 GiB by default) streamed through the media service's
upload route until it answers 201 (checked, stored in the evidence bucket), against the raw minio
client ``put_object`` of the same bytes to the same S3 endpoint (moto), measured in the same run.
The media service runs in its own process; its peak resident set growth during the upload is read
from /proc/<pid>/status (VmHWM reset through clear_refs, and VmRSS sampled every 10 ms).

    .venv/bin/python bench/upload.py --size-mib 1024 --repeat 3

The file is a video, the only kind whose default limit (1 GiB) allows this size: a small real
H.264 MP4 (moov at the end) followed by a top-level ``free`` box of pseudo-random filler, so the
sniffer, the polyglot windows and the demuxer all accept it. The filler is generated while it is
sent (never held whole) from a random pool at shifting offsets: incompressible, and a new seed per
repetition gives new content, so the "same bytes stored once" shortcut never applies. Sizes above
the default limit raise ``GONGYI_MEDIA_VIDEO_MAX_BYTES`` for the service. What this leaves out: a
real 1 GiB video has 1 GiB of packets for the service to demux; this one has a few.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import struct
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.environment import SERVICE_PIDS, cpu_seconds, environment, print_table, token, write_result  # noqa: E402

MiB = 1024 * 1024
BLOCK = 64 * 1024
POOL = 8 * MiB
RAW_BUCKET = "bench-raw-upload"
DEFAULT_VIDEO_LIMIT = 1024 * MiB  # services.media.domain.limits.SizeLimits.video


def small_mp4(width: int = 1280, height: int = 720, frames: int = 12) -> bytes:
    """A short valid H.264 MP4 with its index (moov) last, so bytes can follow it."""
    import av
    from PIL import Image, ImageDraw

    fd, path = tempfile.mkstemp(suffix=".mp4")
    os.close(fd)
    try:
        with av.open(path, mode="w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=12)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.options = {"preset": "ultrafast"}
            for i in range(frames):
                picture = Image.new("RGB", (width, height), (40, 90, 160))
                draw = ImageDraw.Draw(picture)
                draw.rectangle([100 + i * 20, 100, 400 + i * 20, 400], fill=(240, 200, 40))
                draw.ellipse([700, 200, 1000, 500], fill=(200, 30, 60))
                for packet in stream.encode(av.VideoFrame.from_image(picture)):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        return Path(path).read_bytes()
    finally:
        os.unlink(path)


class VideoBody:
    """A file-like of exactly ``size`` bytes: ``prefix`` (the MP4), then one ``free`` box of filler.

    ``read`` makes bytes on demand, so memory stays at the pool (8 MiB) whatever the size.
    ``__len__`` lets requests send a Content-Length.
    """

    def __init__(self, prefix: bytes, size: int, seed: int) -> None:
        box = size - len(prefix)
        if box < 16:
            raise ValueError("size too small for the prefix")
        # 64-bit box: size field 1, then the real size, so any length fits.
        self._head = prefix + struct.pack(">I4sQ", 1, b"free", box)
        self._size = size
        self._pool = memoryview(random.Random(seed).randbytes(POOL + BLOCK))
        self._pos = 0

    def __len__(self) -> int:
        return self._size - self._pos

    def _filler(self, offset: int, n: int) -> bytes:
        parts = []
        while n:
            block, within = divmod(offset, BLOCK)
            start = (block * 40503 * 97) % POOL + within  # a shifting window: blocks differ
            take = min(n, BLOCK - within)
            parts.append(self._pool[start:start + take])
            offset += take
            n -= take
        return b"".join(parts)

    def read(self, n: int = -1, /) -> bytes:
        left = self._size - self._pos
        n = left if n is None or n < 0 else min(n, left)
        out = b""
        if self._pos < len(self._head):
            out = self._head[self._pos:self._pos + n]
        rest = n - len(out)
        if rest:
            out += self._filler(self._pos + len(out) - len(self._head), rest)
        self._pos += n
        return out

    def chunks(self, size: int = MiB) -> Iterator[bytes]:
        while chunk := self.read(size):
            yield chunk


def sha256_of(body: VideoBody) -> str:
    digest = hashlib.sha256()
    for chunk in body.chunks(4 * MiB):
        digest.update(chunk)
    return digest.hexdigest()


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


class MemoryWatch:
    """Peak RSS of a process while the block runs: VmHWM after a reset, and 10 ms VmRSS samples
    (the samples still work where clear_refs is not allowed)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.samples_peak = 0
        self._stop = threading.Event()

    def __enter__(self) -> MemoryWatch:
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")  # VmHWM := current RSS
            self.reset = True
        except OSError:
            self.reset = False
        self.before = status_kib(self.pid, "VmRSS")
        self.samples_peak = self.before
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.samples_peak = max(self.samples_peak, status_kib(self.pid, "VmRSS"))

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.hwm = status_kib(self.pid, "VmHWM")

    @property
    def growth_mib(self) -> float:
        peak = max(self.samples_peak, self.hwm if self.reset else 0)
        return (peak - self.before) / 1024


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chunked", action="store_true", help="send chunked instead of with Content-Length")
    args = parser.parse_args()
    size = args.size_mib * MiB

    from gongyi.config import load_settings
    from gongyi.objectstore import make_object_client
    from services.media.domain.fingerprints import evidence_object_key

    prefix = small_mp4()
    extra = {"GONGYI_MEDIA_VIDEO_MAX_BYTES": str(size)} if size > DEFAULT_VIDEO_LIMIT else {}
    raw_s: list[float] = []
    service_s: list[float] = []
    growth: list[float] = []
    service_cpu: list[float] = []
    with environment(("media",), extra) as (env, urls):
        base = urls["media"]
        settings = load_settings(env)
        client = make_object_client(settings)  # the raw client: same endpoint and credentials as media
        if not client.bucket_exists(RAW_BUCKET):
            client.make_bucket(RAW_BUCKET)
        pid = SERVICE_PIDS["media"]
        session = requests.Session()
        session.headers["Authorization"] = "Bearer " + token("applicant", sub="bench-upload")

        def upload(body: VideoBody | bytes, timeout: float) -> requests.Response:
            data = body.chunks() if args.chunked and isinstance(body, VideoBody) else body
            return session.post(f"{base}/api/media/evidence", params={"kind": "video", "filename": "bench.mp4"},
                                data=data, headers={"Content-Type": "video/mp4"}, timeout=timeout)

        warm = upload(prefix, 60)  # imports, pools and the decoder load outside the measurement
        if warm.status_code != 201:
            raise RuntimeError(f"warm-up upload refused: {warm.status_code} {warm.text[:300]}")
        for rep in range(args.repeat):
            seed = int.from_bytes(uuid.uuid4().bytes[:4], "big")
            expected = sha256_of(VideoBody(prefix, size, seed))

            def raw(rep: int = rep, seed: int = seed) -> None:
                started = time.perf_counter()
                client.put_object(RAW_BUCKET, f"raw-{rep}", VideoBody(prefix, size, seed), size,
                                  content_type="video/mp4")
                raw_s.append(time.perf_counter() - started)
                client.remove_object(RAW_BUCKET, f"raw-{rep}")

            def service(seed: int = seed, expected: str = expected) -> str:
                cpu_before = cpu_seconds(pid)
                with MemoryWatch(pid) as watch:
                    started = time.perf_counter()
                    resp = upload(VideoBody(prefix, size, seed), 3600)
                    elapsed = time.perf_counter() - started
                if resp.status_code != 201:
                    raise RuntimeError(f"upload refused: {resp.status_code} {resp.text[:300]}")
                row = resp.json()
                if row["size"] != size or row["sha256"] != expected:
                    raise RuntimeError(f"stored {row['size']} bytes, sha256 {row['sha256']}; sent {expected}")
                key = evidence_object_key(expected)
                stored = client.stat_object(settings.s3_evidence_bucket, key).size
                if stored != size:
                    raise RuntimeError(f"evidence object has {stored} bytes")
                service_cpu.append(cpu_seconds(pid) - cpu_before)
                service_s.append(elapsed)
                growth.append(watch.growth_mib)
                return key

            # alternate the order so a load change on the shared machine does not favour one side
            if rep % 2:
                key = service()
                raw()
            else:
                raw()
                key = service()
            client.remove_object(settings.s3_evidence_bucket, key)  # keep moto light between runs
            print(f"rep {rep + 1}: raw {args.size_mib / raw_s[-1]:.1f} MiB/s, service "
                  f"{args.size_mib / service_s[-1]:.1f} MiB/s ({raw_s[-1] / service_s[-1]:.0%}), "
                  f"RSS growth {growth[-1]:.1f} MiB", flush=True)

    raw_rate = args.size_mib / statistics.median(raw_s)
    service_rate = args.size_mib / statistics.median(service_s)
    ratio = service_rate / raw_rate
    paired = statistics.median(r / t for r, t in zip(raw_s, service_s, strict=True))  # same rep, same load
    peak_growth = max(growth)
    mode = "chunked" if args.chunked else "Content-Length"
    rows = [
        ("raw minio put_object", f"{raw_rate:.1f} MiB/s", f"median of {len(raw_s)}, {statistics.median(raw_s):.1f} s"),
        (f"service POST /evidence ({mode})", f"{service_rate:.1f} MiB/s",
         f"median of {len(service_s)}, {statistics.median(service_s):.1f} s to 201"),
        ("service / raw", f"{ratio:.0%}", "of the medians; goal >= 70%"),
        ("service / raw per repetition", f"{paired:.0%}", "median of paired ratios"),
        ("media peak RSS growth", f"{peak_growth:.1f} MiB", f"max of {len(growth)}; goal < 64 MiB"),
        ("media CPU per upload", f"{statistics.median(service_cpu):.1f} s", "median, user + system"),
    ]
    print_table(f"upload: {args.size_mib} MiB video evidence, {args.repeat} repetitions", rows,
                ("measure", "value", "note"))
    path = write_result("upload", {
        "size_mib": args.size_mib, "repeat": args.repeat, "transfer": mode,
        "raw_seconds": raw_s, "service_seconds": service_s, "raw_mib_per_s": raw_rate,
        "service_mib_per_s": service_rate, "ratio_to_raw": ratio, "paired_ratio_median": paired,
        "rss_growth_mib": growth, "peak_rss_growth_mib": peak_growth, "service_cpu_seconds": service_cpu,
    })
    print(f"written {path}")
    return 0  # every upload was verified (size, sha256, stored object); goals are reported, not enforced


if __name__ == "__main__":
    sys.exit(main())
