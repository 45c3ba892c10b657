import io

import pytest
from media_support import hostile, spool
from PIL import Image

from gongyi.errors import UnsupportedMediaType
from services.media.domain.images import inspect_image
from services.media.domain.phash import hamming, phash_hex
from services.media.domain.quality import ImageRules, ResolutionRule
from services.media.domain.refusals import MediaRefused


def reopen(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


@pytest.mark.parametrize(
    ("make", "mime"),
    [
        (hostile.valid_jpeg, "image/jpeg"),
        (hostile.valid_png, "image/png"),
        (hostile.valid_webp, "image/webp"),
    ],
)
def test_valid_images_are_described(tmp_path, make, mime):
    info = inspect_image(spool(tmp_path, make()), mime)
    assert (info.mime, info.width, info.height, info.frames) == (mime, 1280, 720, 1)
    assert len(info.phash) == 16 and int(info.phash, 16) >= 0
    assert info.phash_bands == [f"{i}_{info.phash[4 * i : 4 * i + 4]}" for i in range(4)]
    assert info.warnings == []


def test_exif_orientation_gives_displayed_size_and_same_hash(tmp_path):
    picture = hostile.scene(800, 600)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when displayed
    stored = picture.transpose(Image.Transpose.ROTATE_90)  # sideways sensor data
    tagged = hostile.encode_image(stored, "JPEG", quality=95, exif=exif.tobytes())
    info = inspect_image(spool(tmp_path, tagged), "image/jpeg")
    assert (info.width, info.height) == (800, 600)
    assert hamming(info.phash, phash_hex(picture)) <= 4


def test_decompression_bomb_is_refused(tmp_path):
    with pytest.raises(MediaRefused) as info:
        inspect_image(spool(tmp_path, hostile.decompression_bomb_png()), "image/png")
    assert info.value.code == "decompression_bomb"


def test_our_pixel_bound_is_checked_from_the_header_before_decoding(tmp_path):
    # 4000 x 3000 = 12 MP, far below Pillow's own bound: only our explicit limit refuses.
    bomb = hostile.decompression_bomb_png(4000, 3000)
    with pytest.raises(MediaRefused) as info:
        inspect_image(spool(tmp_path, bomb), "image/png", ImageRules(max_pixels=10_000_000))
    assert info.value.code == "decompression_bomb"
    assert (info.value.details["width"], info.value.details["height"]) == (4000, 3000)


def test_pillow_bomb_warning_becomes_a_refusal(tmp_path, monkeypatch):
    # Our own bound set above Pillow's: Pillow's DecompressionBombWarning must still refuse.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    data = hostile.valid_png(200, 100)  # 20 000 px: over Pillow's bound, under 2x
    with pytest.raises(MediaRefused) as info:
        inspect_image(spool(tmp_path, data), "image/png", ImageRules(max_pixels=10**9, resolution=()))
    assert info.value.code == "decompression_bomb"


@pytest.mark.parametrize("make", [hostile.truncated_jpeg, hostile.truncated_png])
def test_truncated_images_are_corrupt(tmp_path, make):
    with pytest.raises(MediaRefused) as info:
        inspect_image(spool(tmp_path, make()))
    assert info.value.code == "corrupt_file"


def test_bad_crc_is_corrupt(tmp_path):
    data = bytearray(hostile.valid_png(64, 64))
    data[40] ^= 0xFF  # inside the first IDAT chunk
    with pytest.raises(MediaRefused) as info:
        inspect_image(spool(tmp_path, bytes(data)), "image/png", ImageRules(resolution=()))
    assert info.value.code == "corrupt_file"


def test_decoder_disagreeing_with_the_sniffer_is_type_mismatch(tmp_path):
    with pytest.raises(UnsupportedMediaType) as info:
        inspect_image(spool(tmp_path, hostile.valid_png(64, 64)), "image/jpeg", ImageRules(resolution=()))
    assert info.value.code == "type_mismatch"


def test_default_rules_reject_tiny_and_warn_below_720p(tmp_path):
    with pytest.raises(MediaRefused) as info:
        inspect_image(spool(tmp_path, hostile.tiny_image()), "image/png")
    assert info.value.code == "low_resolution"
    assert info.value.details["width"] == 100
    info_ok = inspect_image(spool(tmp_path, hostile.valid_jpeg(640, 480), "b.jpg"), "image/jpeg")
    assert [w.code for w in info_ok.warnings] == ["low_resolution"]
    assert info_ok.warnings[0].message_zh.startswith("分辨率过低")


def test_portrait_images_meet_rules_orientation_agnostic(tmp_path):
    info = inspect_image(spool(tmp_path, hostile.valid_jpeg(720, 1280)), "image/jpeg")
    assert info.warnings == []


def test_a_call_may_make_the_resolution_rule_strict(tmp_path):
    strict = ImageRules(resolution=(ResolutionRule(1080, 1920, "reject"),))
    with pytest.raises(MediaRefused) as info:
        inspect_image(spool(tmp_path, hostile.valid_jpeg()), "image/jpeg", strict)
    assert info.value.details["min_short_side"] == 1080


def test_transparent_pixels_do_not_steer_the_hash():
    base = hostile.scene(256, 256).convert("RGBA")
    hidden_a, hidden_b = base.copy(), base.copy()
    for image, colour in ((hidden_a, (255, 0, 0, 0)), (hidden_b, (0, 0, 255, 0))):
        image.paste(colour, (0, 0, 128, 256))  # fully transparent, different hidden colour
    assert phash_hex(hidden_a) == phash_hex(hidden_b)


def test_reencoded_images_stay_close_and_different_images_are_far():
    base = hostile.scene(1280, 720, seed=0)
    reference = phash_hex(base)
    variants = [
        reopen(hostile.encode_image(base, "JPEG", quality=15)),
        reopen(hostile.encode_image(base, "WEBP", quality=30)),
        base.resize((320, 180)),
        reopen(hostile.encode_image(base.resize((640, 360)), "JPEG", quality=40)),
    ]
    for variant in variants:
        assert hamming(reference, phash_hex(variant)) <= 4
    for seed in range(1, 6):
        assert hamming(reference, phash_hex(hostile.scene(1280, 720, seed=seed))) >= 16
