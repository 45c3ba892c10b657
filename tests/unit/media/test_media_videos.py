import pytest
from media_support import hostile, spool

from gongyi.errors import UnsupportedMediaType
from services.media.domain.phash import hamming, phash_hex
from services.media.domain.quality import ResolutionRule, VideoRules
from services.media.domain.refusals import MediaRefused
from services.media.domain.videos import inspect_video

SMALL_OK = VideoRules(resolution=())  # small test videos: resolution rules tested apart


@pytest.mark.parametrize(
    ("make", "mime", "container", "codec"),
    [
        (hostile.valid_mp4, "video/mp4", "mp4", "h264"),
        (hostile.valid_mov, "video/quicktime", "mov", "mpeg4"),
        (hostile.valid_webm, "video/webm", "webm", "vp8"),
    ],
)
def test_valid_videos_are_described(tmp_path, make, mime, container, codec):
    info = inspect_video(spool(tmp_path, make(frames=12, width=640, height=360)), mime, SMALL_OK)
    assert (info.container, info.mime, info.codec) == (container, mime, codec)
    assert (info.width, info.height) == (640, 360)
    assert info.duration_s == pytest.approx(1.0, abs=0.1)
    assert info.frame_rate == pytest.approx(12.0)
    # The key frame shows the synthetic scene: its hash is close to the still image's.
    assert hamming(info.phash, phash_hex(hostile.scene(640, 360))) <= 6
    assert len(info.phash_bands) == 4


def test_same_footage_reencoded_hashes_alike_and_other_footage_does_not(tmp_path):
    a = inspect_video(spool(tmp_path, hostile.valid_mp4(12, 640, 360), "a.mp4"), "video/mp4", SMALL_OK)
    b = inspect_video(spool(tmp_path, hostile.valid_webm(24, 320, 180), "b.webm"), "video/webm", SMALL_OK)
    c = inspect_video(spool(tmp_path, hostile.valid_mp4(12, 640, 360, seed=3), "c.mp4"), "video/mp4", SMALL_OK)
    assert hamming(a.phash, b.phash) <= 6
    assert hamming(a.phash, c.phash) >= 16


@pytest.mark.parametrize(
    ("make", "mime"),
    [
        (hostile.truncated_mp4, "video/mp4"),
        (hostile.truncated_mp4_no_index, "video/mp4"),
        (hostile.truncated_webm, "video/webm"),
    ],
)
def test_truncated_videos_are_corrupt(tmp_path, make, mime):
    with pytest.raises(MediaRefused) as info:
        inspect_video(spool(tmp_path, make()), mime, SMALL_OK)
    assert info.value.code == "corrupt_file"


def test_garbage_after_a_valid_header_is_corrupt(tmp_path):
    data = hostile.valid_mp4(4, 320, 240)[:40] + b"\x00\x13\x37" * 500
    with pytest.raises(MediaRefused) as info:
        inspect_video(spool(tmp_path, data), "video/mp4", SMALL_OK)
    assert info.value.code == "corrupt_file"


def test_zero_duration_is_refused(tmp_path):
    with pytest.raises(MediaRefused) as info:
        inspect_video(spool(tmp_path, hostile.zero_duration_mp4()), "video/mp4", SMALL_OK)
    assert info.value.code == "zero_duration"


def test_audio_only_is_refused(tmp_path):
    with pytest.raises(MediaRefused) as info:
        inspect_video(spool(tmp_path, hostile.audio_only_mp4()), "video/mp4", SMALL_OK)
    assert info.value.code == "no_video_stream"


def test_resolution_rules_apply_to_videos(tmp_path):
    path = spool(tmp_path, hostile.valid_webm(4, 320, 180))
    with pytest.raises(MediaRefused) as info:
        inspect_video(path, "video/webm")  # default: short side under 240 px is refused
    assert info.value.code == "low_resolution"
    warned = inspect_video(path, "video/webm", VideoRules(resolution=(ResolutionRule(720, 1280, "warn"),)))
    assert [w.code for w in warned.warnings] == ["low_resolution"]


def test_limits_on_pixels_and_duration(tmp_path):
    path = spool(tmp_path, hostile.valid_mp4(12, 320, 240))
    with pytest.raises(MediaRefused) as info:
        inspect_video(path, "video/mp4", VideoRules(max_pixels=320 * 239, resolution=()))
    assert info.value.code == "resolution_too_high"
    with pytest.raises(MediaRefused) as info:
        inspect_video(path, "video/mp4", VideoRules(max_duration_s=0.5, resolution=()))
    assert info.value.code == "too_long"


def test_demuxer_comes_from_the_sniffed_type(tmp_path):
    path = spool(tmp_path, hostile.valid_webm(4, 320, 240))
    with pytest.raises(MediaRefused) as info:
        inspect_video(path, "video/mp4", SMALL_OK)  # the MP4 demuxer cannot read WebM
    assert info.value.code == "corrupt_file"
    with pytest.raises(UnsupportedMediaType) as info:
        inspect_video(path, "image/jpeg", SMALL_OK)
    assert info.value.code == "type_mismatch"


def test_phone_rotation_metadata_gives_the_displayed_size_and_picture(tmp_path):
    info = inspect_video(spool(tmp_path, hostile.portrait_phone_mp4()), "video/mp4")
    assert (info.width, info.height) == (720, 1280)
    assert info.warnings == []  # portrait 720 x 1280 meets the 720p rule
    displayed = hostile.scene(1280, 720).rotate(90, expand=True)
    assert hamming(info.phash, phash_hex(displayed)) <= 6
