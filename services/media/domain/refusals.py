"""Every refusal and warning the media domain can produce, with its bilingual message.

One catalogue keeps codes, HTTP classes and wording consistent; callers raise with
``refuse("polyglot", found=["zip"])`` instead of spelling messages at each site.
"""

from __future__ import annotations

from typing import Any, NoReturn

from gongyi.errors import (
    BadRequest,
    Conflict,
    DomainError,
    Forbidden,
    Issue,
    NotFound,
    PayloadTooLarge,
    Unavailable,
    UnsupportedMediaType,
)


class MediaRefused(DomainError):
    """The file was read but its content breaks an evidence rule."""

    status = 422


class UploadExpired(DomainError):
    """The presigned upload's time ran out; the client starts again."""

    status = 410


# code -> (exception class, message_zh, message_en)
CATALOGUE: dict[str, tuple[type[DomainError], str, str]] = {
    "empty_file": (MediaRefused, "文件为空", "The file is empty"),
    "too_large": (PayloadTooLarge, "文件超过大小上限", "The file exceeds the size limit"),
    "unknown_type": (
        UnsupportedMediaType,
        "无法识别的文件类型；仅接受 JPEG、PNG、WebP 图片，MP4、MOV、WebM 视频和 PDF 文档",
        "Unrecognised file type; only JPEG, PNG, WebP images, MP4, MOV, WebM videos and PDF documents are accepted",
    ),
    "type_mismatch": (
        UnsupportedMediaType,
        "文件内容与声明的类型不符",
        "The file content does not match its declared type",
    ),
    "polyglot": (
        UnsupportedMediaType,
        "文件同时包含多种格式的内容（疑似伪装文件），已拒收",
        "The file carries content of more than one format (a polyglot) and is refused",
    ),
    "corrupt_file": (
        MediaRefused,
        "文件已损坏或不完整，无法读取",
        "The file is corrupt or truncated and cannot be read",
    ),
    "decompression_bomb": (
        MediaRefused,
        "图片像素数超过上限（疑似解压炸弹）",
        "The image has more pixels than allowed (a possible decompression bomb)",
    ),
    "resolution_too_high": (
        MediaRefused,
        "视频分辨率超过上限",
        "The video resolution exceeds the limit",
    ),
    "low_resolution": (
        MediaRefused,
        "分辨率过低，请提交清晰度高的图片或视频",
        "The resolution is too low; please submit clear, high-quality images or videos",
    ),
    "zero_duration": (MediaRefused, "视频时长为零", "The video has no duration"),
    "too_long": (MediaRefused, "视频时长超过上限", "The video is longer than allowed"),
    "no_video_stream": (
        MediaRefused,
        "文件中没有视频画面",
        "The file contains no video stream",
    ),
    "invalid_link": (
        MediaRefused,
        "媒体报道链接无效；仅接受公开的 http/https 网址",
        "Invalid media-report link; only public http/https addresses are accepted",
    ),
    "invalid_hash": (
        MediaRefused,
        "内容哈希格式不正确",
        "The content hash is not well formed",
    ),
    # refusals of the use cases (uploads, downloads, deletion), not of a file's content
    "evidence_not_found": (NotFound, "证明材料不存在或无权查看", "No such evidence visible to you"),
    "object_store_unavailable": (Unavailable, "文件存储暂不可用，请稍后重试", "Object storage is unavailable"),
    "upload_not_found": (NotFound, "上传任务不存在", "No such upload"),
    "upload_not_pending": (Conflict, "该上传任务已结束", "This upload is already finished"),
    "upload_expired": (UploadExpired, "上传链接已过期，请重新上传", "The upload link has expired; start again"),
    "upload_missing": (Conflict, "尚未收到文件，请先上传", "Nothing was uploaded yet; PUT the file first"),
    "screenshot_not_found": (  # raised as one issue of an InvalidInput, on its field
        MediaRefused,
        "截图须为本人已上传且通过检查的图片",
        "The screenshot must be an image you uploaded that passed the checks",
    ),
    "no_file": (
        Conflict,
        "媒体报道本身没有文件，请下载其截图",
        "A media report has no file of its own; download its screenshot",
    ),
    "evidence_not_owned": (Forbidden, "只能删除本人上传的证明材料", "Only the owner may delete evidence"),
    "evidence_attached": (
        Conflict,
        "该证明材料已随申报报送，不能删除",
        "This evidence is attached to a forwarded application and cannot be deleted",
    ),
    "body_required": (BadRequest, "请在请求体中上传文件", "Send the file as the request body"),
}


def message(code: str) -> tuple[str, str]:
    """(message_zh, message_en) for a catalogued code."""
    _, zh, en = CATALOGUE[code]
    return zh, en


def refusal(code: str, **details: Any) -> DomainError:
    """Build (not raise) the exception for ``code``; handy in ``raise ... from exc``."""
    cls, zh, en = CATALOGUE[code]
    return cls(code, zh, en, details)


def refuse(code: str, **details: Any) -> NoReturn:
    raise refusal(code, **details)


def warning(code: str, path: str = "file", **details: Any) -> Issue:
    """A non-blocking finding (e.g. resolution below the recommended level)."""
    _, zh, en = CATALOGUE[code]
    return Issue(code=code, message_zh=zh, message_en=en, path=path, details=details)
