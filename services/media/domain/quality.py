"""Resolution rules for evidence images and videos, configurable per call.

The 2024 call asks for images and videos "清晰度高、质量好" (clear, high quality) but names no
number, and the evidence is encouraged rather than required. The defaults therefore refuse
only what cannot show anything (short side under 240 px) and warn below 720p, so the
applicant learns why an expert may find the material weak. A call may set its own rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from gongyi.errors import Issue

from .refusals import refuse, warning

Action = Literal["reject", "warn"]


@dataclass(frozen=True)
class ResolutionRule:
    """Short and long side minimums, orientation-agnostic (portrait phone shots count)."""

    min_short_side: int
    min_long_side: int
    action: Action = "warn"

    def __post_init__(self) -> None:
        if self.min_short_side < 0 or self.min_long_side < self.min_short_side:
            raise ValueError("need 0 <= min_short_side <= min_long_side")
        if self.action not in ("reject", "warn"):
            raise ValueError("action must be 'reject' or 'warn'")

    def met_by(self, width: int, height: int) -> bool:
        return min(width, height) >= self.min_short_side and max(width, height) >= self.min_long_side


DEFAULT_RESOLUTION_RULES: tuple[ResolutionRule, ...] = (
    ResolutionRule(240, 320, "reject"),
    ResolutionRule(720, 1280, "warn"),
)


@dataclass(frozen=True)
class ImageRules:
    # Pixel bound checked from the header before any decoding; 50 MP covers 48 MP phones.
    max_pixels: int = 50_000_000
    resolution: tuple[ResolutionRule, ...] = DEFAULT_RESOLUTION_RULES


@dataclass(frozen=True)
class VideoRules:
    max_pixels: int = 7680 * 4320  # 8K UHD
    max_duration_s: float = 4 * 3600.0
    resolution: tuple[ResolutionRule, ...] = field(default=DEFAULT_RESOLUTION_RULES)


def check_resolution(width: int, height: int, rules: tuple[ResolutionRule, ...]) -> list[Issue]:
    """Raise ``low_resolution`` for a failed reject rule; return warnings for warn rules."""
    warnings: list[Issue] = []
    for rule in rules:
        if rule.met_by(width, height):
            continue
        details = {
            "width": width,
            "height": height,
            "min_short_side": rule.min_short_side,
            "min_long_side": rule.min_long_side,
        }
        if rule.action == "reject":
            refuse("low_resolution", **details)
        warnings.append(warning("low_resolution", **details))
    return warnings
